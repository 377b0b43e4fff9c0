//! What can happen to the core ([`Msg`]) and the work it asks the driver to
//! do ([`Effect`]).

use std::time::{Duration, SystemTime};

use super::feeds::Feed;
use crate::domain::{
    Change, ChangeOutcome, DbSnapshot, LogLine, MetricSeries, Preview, PreviewError, StreamState,
    Workload,
};
use crate::keymap::KeyChord;

/// Everything that can happen to the core.
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyChord),
    Resize(u16, u16),
    /// The clock moved (once a second): ages and staleness are recomputed.
    Tick(SystemTime),
    Workloads(Vec<Workload>),
    Logs(Vec<LogLine>),
    Metrics(Vec<MetricSeries>),
    Databases(Vec<DbSnapshot>),
    /// One source of a feed answered for real (its rows, if any, come in
    /// the feed's own message).
    FeedOk {
        feed: Feed,
        source: String,
        /// When the answer was confirmed by the server, if earlier than now
        /// (a cache's last confirmation).
        at: Option<SystemTime>,
    },
    /// One source's latest attempt failed; its data stays, marked stale,
    /// and its last real answer keeps its time.
    FeedFailed {
        feed: Feed,
        source: String,
        error: String,
    },
    /// The backend's answer to "may I, and what would it do" for an open confirmation.
    ChangeChecked {
        id: u64,
        allowed: Result<(), String>,
        preview: Result<Option<Preview>, PreviewError>,
    },
    /// The driver reopened the backends for another context/namespace.
    Switched(crate::domain::Target),
    /// The logs of a pod's previous container arrived (or could not be had).
    PreviousLogs {
        pod: crate::domain::WorkloadRef,
        result: Result<Vec<LogLine>, String>,
    },
    /// The log groups Logs Insights can query in this session (empty: none).
    QueryGroups(Vec<String>),
    /// Status and results so far of Logs Insights query `generation`.
    Query {
        generation: u64,
        update: Result<crate::domain::QueryResults, String>,
    },
    /// How far behind a log stream is (None: live).
    LogLag {
        source: String,
        lag: Option<Duration>,
    },
    /// A followed log stream was lost (and when it is retried) or resumed:
    /// one marker line per source in the Logs pane, updated in place.
    StreamState(StreamState),
    /// Something for the status bar (a failed switch, ...).
    Flash {
        text: String,
        error: bool,
    },
    ChangeFinished {
        id: u64,
        result: Result<ChangeOutcome, String>,
    },
    /// The answer to `Effect::Describe { id, .. }`.
    Described {
        id: u64,
        result: Result<crate::domain::Detail, String>,
    },
    Quit,
    /// A signal asks opsdeck to quit (TERM, HUP, INT); `code` is the exit
    /// status to end with (128 + the signal's number).
    Signal {
        name: &'static str,
        code: i32,
    },
}

/// Work for the driver. The core never performs I/O itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Run a confirmed action (the driver writes the audit log before and after).
    RunChange {
        id: u64,
        change: Change,
    },
    /// Ask the backend whether the action is allowed and for its dry run.
    CheckChange {
        id: u64,
        change: Change,
    },
    /// Reopen the backends for a Kubernetes context and namespace (None = all).
    Switch {
        context: String,
        namespace: Option<String>,
    },
    /// Fetch the logs of a pod's previous container.
    PreviousLogs {
        pod: crate::domain::WorkloadRef,
    },
    /// Start a Logs Insights query (stopping any earlier one) and report on it
    /// as `Msg::Query { generation, .. }` until it is done.
    StartQuery {
        generation: u64,
        query: String,
    },
    /// Stop the running Logs Insights query (StopQuery).
    StopQuery,
    /// Write `text` to a new file at `path` (never over an existing one)
    /// and flash the result.
    SaveLogs {
        path: std::path::PathBuf,
        text: String,
        lines: usize,
    },
    /// Fetch what a detail view shows of `target`; answered by `Msg::Described`.
    Describe {
        id: u64,
        target: crate::domain::DetailTarget,
    },
    /// Ask every poller to refresh now.
    Refresh,
    /// Put this (plain) text on the terminal's clipboard with OSC 52.
    Copy {
        text: String,
    },
    /// Give the terminal back and stop (ctrl-z); on `fg`, take it again and redraw.
    Suspend,
    /// Draw with another theme (one of `State::themes`).
    SetTheme {
        name: String,
    },
    Quit,
    /// Stop waiting for running actions after `after`: each writes a
    /// `finished` record marked interrupted, then the quit goes ahead.
    InterruptAfter {
        after: Duration,
    },
}
