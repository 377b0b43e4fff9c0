//! Logs Insights query results.

/// Where a Logs Insights query is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryStatus {
    /// Sent, no answer yet.
    Starting,
    Scheduled,
    Running,
    Complete,
    Failed,
    /// Stopped (by the user, or by someone else).
    Cancelled,
    /// The service gave up (15 minutes).
    Timeout,
}

impl QueryStatus {
    /// No more results will come.
    pub fn is_done(self) -> bool {
        matches!(
            self,
            QueryStatus::Complete
                | QueryStatus::Failed
                | QueryStatus::Cancelled
                | QueryStatus::Timeout
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            QueryStatus::Starting => "starting",
            QueryStatus::Scheduled => "scheduled",
            QueryStatus::Running => "running",
            QueryStatus::Complete => "complete",
            QueryStatus::Failed => "failed",
            QueryStatus::Cancelled => "cancelled",
            QueryStatus::Timeout => "timed out",
        }
    }
}

/// The results so far of a Logs Insights query, as a table.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResults {
    pub status: QueryStatus,
    /// Field names in first-seen order (`@ptr` left out).
    pub columns: Vec<String>,
    /// One value per column ("" where a row lacks the field).
    pub rows: Vec<Vec<String>>,
    pub records_matched: f64,
    pub records_scanned: f64,
    pub bytes_scanned: f64,
}
