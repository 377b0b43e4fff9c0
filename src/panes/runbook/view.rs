//! The Runbook pane's state: the runbook and which step and action are selected.

use crate::runbook::Runbook;

/// The Runbook pane: the runbook plus which step and action are selected.
#[derive(Debug, Clone)]
pub struct RunbookView {
    pub book: Runbook,
    pub step: usize,
    pub action: usize,
}
