//! The Runbook pane's state: the runbook and which step and action are selected.

use std::time::{Duration, SystemTime};

use crate::runbook::{EstateView, Runbook};

/// The Runbook pane: the runbook plus which step and action are selected.
#[derive(Debug, Clone)]
pub struct RunbookView {
    pub book: Runbook,
    pub step: usize,
    pub action: usize,
    /// Since when the resolution has held without a break (None: it does not now).
    pub passing_since: Option<SystemTime>,
    /// The last result of each action run from the runbook, by (step, action).
    pub results: std::collections::BTreeMap<(usize, usize), ActionResult>,
}

/// What came of an action run from a runbook step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionResult {
    pub ok: bool,
    /// The executor's summary, or the error.
    pub summary: String,
    pub at: SystemTime,
}

/// Where the incident stands, as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Not over: what is still wrong.
    Open(String),
    /// Everything passes, but not yet for the runbook's hold period.
    Holding { left: Duration },
    /// Everything has passed for the whole hold period.
    Resolved,
}

impl RunbookView {
    pub fn new(book: Runbook) -> Self {
        Self {
            book,
            step: 0,
            action: 0,
            passing_since: None,
            results: std::collections::BTreeMap::new(),
        }
    }

    /// Note whether the resolution passes at `now`; a single failure
    /// restarts the hold.
    pub fn track(&mut self, view: &EstateView<'_>, now: SystemTime) {
        if self.book.resolution(view).is_ok() {
            self.passing_since.get_or_insert(now);
        } else {
            self.passing_since = None;
        }
    }

    /// The incident's state at `now`.
    pub fn resolution(&self, view: &EstateView<'_>, now: SystemTime) -> Resolution {
        if let Err(why) = self.book.resolution(view) {
            return Resolution::Open(why);
        }
        let held = self
            .passing_since
            .map(|since| now.duration_since(since).unwrap_or_default())
            .unwrap_or_default();
        if held >= self.book.resolved_hold {
            Resolution::Resolved
        } else {
            Resolution::Holding {
                left: self.book.resolved_hold - held,
            }
        }
    }
}
