//! The panes of the screen, one module each: its view state, what it does
//! with its actions (its part of `update`) and how it is drawn.
//!
//! A pane is named by a [`Pane`] constant its module defines, and listed
//! once in [`REGISTRY`]: title, keymap mode, focus action, place in the
//! grid and its functions. The digit keys, the grid, the hints and the
//! help all come from the registry. To add a pane: a module here, its line
//! in the registry, its mode and focus action in `crate::action` with its
//! bindings in `keymaps/`, and theme slots if it needs new ones.

pub mod database;
pub mod layout;
pub mod logs;
pub mod metrics;
mod registry;
pub mod runbook;
pub mod widgets;
pub mod workloads;

pub use registry::{Column, PaneSpec, Place, REGISTRY, digit, spec};

/// One pane, by name. Each pane module defines its constant
/// (`Pane::WORKLOADS`, `Pane::LOGS`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pane(&'static str);

impl Pane {
    /// The pane's name (`workloads`).
    pub fn name(self) -> &'static str {
        self.0
    }
}
