//! CloudWatch Logs Insights: the query the user typed, its status and the
//! results so far, shown as a table over the screen.

use std::time::SystemTime;

use crate::domain::{QueryResults, QueryStatus};

/// The query the Insights prompt starts with: errors by operation over the
/// session's log groups, the query of the users' guide.
pub const DEFAULT_QUERY: &str = "fields @timestamp, @message | filter @message like /ERROR/ | stats count(*) as errors by operation | sort errors desc | limit 20";

/// The Logs Insights state: which groups can be queried, the last query, and
/// the open result table.
#[derive(Debug, Clone, PartialEq)]
pub struct InsightsView {
    /// The session's log groups; empty when it has none to query.
    pub groups: Vec<String>,
    /// The last query typed (the prompt starts with it).
    pub query: String,
    /// Bumped for every query started, so late answers of an earlier one are ignored.
    pub generation: u64,
    pub status: QueryStatus,
    /// Why the query failed or could not be stopped.
    pub error: Option<String>,
    pub results: Option<QueryResults>,
    pub started: Option<SystemTime>,
    /// First result row shown.
    pub scroll: usize,
}

impl Default for InsightsView {
    fn default() -> Self {
        Self {
            groups: Vec::new(),
            query: DEFAULT_QUERY.to_string(),
            generation: 0,
            status: QueryStatus::Complete,
            error: None,
            results: None,
            started: None,
            scroll: 0,
        }
    }
}

impl InsightsView {
    /// Start tracking a new query; returns its generation.
    pub fn begin(&mut self, query: String, now: SystemTime) -> u64 {
        self.generation += 1;
        self.query = query;
        self.status = QueryStatus::Starting;
        self.error = None;
        self.results = None;
        self.started = Some(now);
        self.scroll = 0;
        self.generation
    }

    /// The user stopped the query: no more results are fetched.
    pub fn cancel(&mut self) {
        self.status = QueryStatus::Cancelled;
    }

    /// An answer from the driver for query `generation`; stale ones (and
    /// any after the user cancelled) are dropped.
    pub fn apply(&mut self, generation: u64, update: Result<QueryResults, String>) {
        if generation != self.generation || self.status == QueryStatus::Cancelled {
            return;
        }
        match update {
            Ok(r) => {
                self.status = r.status;
                let rows = r.rows.len();
                self.results = Some(r);
                self.scroll = self.scroll.min(rows.saturating_sub(1));
            }
            Err(e) => {
                self.status = QueryStatus::Failed;
                self.error = Some(e);
            }
        }
    }

    pub fn rows(&self) -> usize {
        self.results.as_ref().map_or(0, |r| r.rows.len())
    }

    pub fn is_running(&self) -> bool {
        self.started.is_some() && !self.status.is_done()
    }
}
