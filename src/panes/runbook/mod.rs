//! The Runbook pane: the steps with live checks; each action opens the
//! confirmation of its change.

mod render;
mod update;
mod view;

use super::Pane;
pub use render::{render, title};
pub use update::offered;
pub use update::{navigate, on_action};
pub use view::{ActionResult, Resolution, RunbookView};

impl Pane {
    /// The incident's runbook.
    pub const RUNBOOK: Pane = Pane("runbook");
}
