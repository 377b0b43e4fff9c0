//! opsdeck: a terminal operations console for incident response.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod action;
pub mod domain;
pub mod fmt;
pub mod sanitize;
pub mod source;
pub mod problem;
pub mod keymap;
pub mod theme;
pub mod config;
pub mod sim;
pub mod runbook;
pub mod app;
pub mod audit;
pub mod core;
pub mod ui;
