//! opsdeck: a terminal operations console for incident response.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod action;
pub mod domain;
pub mod fmt;
pub mod sanitize;
pub mod source;
pub mod problem;
