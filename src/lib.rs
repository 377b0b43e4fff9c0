//! opsdeck: a terminal operations console for incident response.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod action;
pub mod app;
pub mod audit;
pub mod aws;
pub mod backoff;
pub mod config;
pub mod core;
pub mod demo;
pub mod domain;
pub mod fmt;
pub mod keymap;
pub mod kube;
pub mod library;
pub mod panes;
pub mod paths;
pub mod pg;
pub mod problem;
pub mod runbook;
pub mod sanitize;
pub mod session;
pub mod sim;
pub mod source;
pub mod theme;
pub mod toml_doc;
pub mod ui;
