//! The sans-IO core: [`State`], the [`Msg`]s that change it and the
//! [`Effect`]s it asks the driver to run. `update` is a plain function.

mod confirm;
mod insights;
mod logs;
mod update;

use std::time::{Duration, SystemTime};

pub use confirm::{CheckState, Confirm, ConfirmStatus, Input, InputPurpose};
pub use insights::{DEFAULT_QUERY, InsightsView};
pub use logs::{LogsView, MAX_LOG_LINES};
pub use update::{offered_actions, update};

use crate::domain::{ActionOutcome, ActionRequest, DbSnapshot, LogLine, MetricSeries, Workload};
use crate::keymap::{KeyChord, Keymap};
use crate::problem::Problem;
use crate::runbook::Runbook;

/// The four panes of the screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Workloads,
    Logs,
    Metrics,
    Runbook,
    Database,
}

impl Pane {
    pub const ALL: [Pane; 5] = [
        Pane::Workloads,
        Pane::Logs,
        Pane::Metrics,
        Pane::Runbook,
        Pane::Database,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Workloads => "Workloads",
            Pane::Logs => "Logs",
            Pane::Metrics => "Metrics",
            Pane::Database => "Database",
            Pane::Runbook => "Runbook",
        }
    }

    pub fn mode(self) -> crate::action::Mode {
        use crate::action::Mode;
        match self {
            Pane::Workloads => Mode::Workloads,
            Pane::Logs => Mode::Logs,
            Pane::Metrics => Mode::Metrics,
            Pane::Database => Mode::Database,
            Pane::Runbook => Mode::Runbook,
        }
    }
}

/// The data feeds whose freshness the status bar reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feed {
    Workloads,
    Logs,
    Metrics,
    Database,
}

impl Feed {
    pub const ALL: [Feed; 4] = [Feed::Workloads, Feed::Logs, Feed::Metrics, Feed::Database];

    pub fn name(self) -> &'static str {
        match self {
            Feed::Workloads => "workloads",
            Feed::Logs => "logs",
            Feed::Metrics => "metrics",
            Feed::Database => "database",
        }
    }
}

/// Freshness of one feed: when it last delivered, and its last error if the
/// latest attempt failed (the data stays on screen, marked stale).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedStatus {
    pub last_ok: Option<SystemTime>,
    pub error: Option<String>,
    pub failures: u32,
}

/// A feed older than this is shown as stale even without an error.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// Sort column of the Workloads pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Worst health first.
    Health,
    Name,
    Restarts,
    Age,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Health => SortKey::Name,
            SortKey::Name => SortKey::Restarts,
            SortKey::Restarts => SortKey::Age,
            SortKey::Age => SortKey::Health,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Health => "health",
            SortKey::Name => "name",
            SortKey::Restarts => "restarts",
            SortKey::Age => "age",
        }
    }
}

/// The Workloads pane: rows as delivered plus filter, sort and selection.
#[derive(Debug, Clone)]
pub struct WorkloadsView {
    pub rows: Vec<Workload>,
    pub filter: String,
    pub sort: SortKey,
    pub reverse: bool,
    /// Index into [`WorkloadsView::visible`].
    pub selected: usize,
}

impl Default for WorkloadsView {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            filter: String::new(),
            sort: SortKey::Health,
            reverse: false,
            selected: 0,
        }
    }
}

impl WorkloadsView {
    /// Rows after filter and sort, as displayed.
    pub fn visible(&self) -> Vec<&Workload> {
        // Every word of the filter must appear in `kind scope/name status`.
        let terms: Vec<String> = self
            .filter
            .split_whitespace()
            .map(str::to_lowercase)
            .collect();
        let mut rows: Vec<&Workload> = self
            .rows
            .iter()
            .filter(|w| {
                terms.is_empty() || {
                    let hay = format!(
                        "{} {}/{} {}",
                        w.id.kind.noun(),
                        w.id.scope,
                        w.id.name,
                        w.status
                    )
                    .to_lowercase();
                    terms.iter().all(|t| hay.contains(t.as_str()))
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            let ord = match self.sort {
                SortKey::Health => b.health.cmp(&a.health),
                SortKey::Name => std::cmp::Ordering::Equal,
                SortKey::Restarts => b.restarts.cmp(&a.restarts),
                SortKey::Age => b.created.cmp(&a.created),
            };
            ord.then_with(|| a.id.kind.cmp(&b.id.kind))
                .then_with(|| a.id.scope.cmp(&b.id.scope))
                .then_with(|| a.id.name.cmp(&b.id.name))
        });
        if self.reverse {
            rows.reverse();
        }
        rows
    }

    pub fn selected_row(&self) -> Option<&Workload> {
        self.visible().get(self.selected).copied()
    }
}

/// The Metrics pane.
#[derive(Debug, Clone, Default)]
pub struct MetricsView {
    pub series: Vec<MetricSeries>,
    pub databases: Vec<DbSnapshot>,
    pub selected: usize,
}

/// Connection counts kept per database for the Database pane's sparkline.
pub const DB_HISTORY: usize = 120;

/// The Database pane: selection in the session table and connection history.
#[derive(Debug, Clone, Default)]
pub struct DatabaseView {
    pub selected: usize,
    /// Per database: connections in use at each snapshot, oldest first.
    pub history: Vec<(String, std::collections::VecDeque<u32>)>,
}

impl DatabaseView {
    pub fn record(&mut self, snapshots: &[DbSnapshot]) {
        for db in snapshots {
            let used = db.sessions.len() as u32;
            match self.history.iter_mut().find(|(n, _)| *n == db.name) {
                Some((_, h)) => {
                    if h.len() == DB_HISTORY {
                        h.pop_front();
                    }
                    h.push_back(used);
                }
                None => self
                    .history
                    .push((db.name.clone(), std::iter::once(used).collect())),
            }
        }
    }

    pub fn history_of(&self, name: &str) -> Option<&std::collections::VecDeque<u32>> {
        self.history.iter().find(|(n, _)| n == name).map(|(_, h)| h)
    }
}

/// Database sessions as the Database pane lists them: active first, longest
/// running first, with their database.
pub fn db_rows(dbs: &[DbSnapshot]) -> Vec<(&str, &crate::domain::DbSession)> {
    use crate::domain::SessionState;
    let mut rows: Vec<(&str, &crate::domain::DbSession)> = dbs
        .iter()
        .flat_map(|d| d.sessions.iter().map(move |s| (d.name.as_str(), s)))
        .collect();
    rows.sort_by(|a, b| {
        (b.1.state == SessionState::Active)
            .cmp(&(a.1.state == SessionState::Active))
            .then(b.1.running.cmp(&a.1.running))
            .then(a.1.pid.cmp(&b.1.pid))
    });
    rows
}

/// The Runbook pane: the runbook plus which step and action are selected.
#[derive(Debug, Clone)]
pub struct RunbookView {
    pub book: Runbook,
    pub step: usize,
    pub action: usize,
}

/// What the top layer is, if any. It gets keys before the panes.
#[derive(Debug, Clone)]
pub enum Layer {
    Help {
        scroll: u16,
    },
    Input(Input),
    Confirm(Confirm),
    /// A message that must be acknowledged (e.g. an action blocked by read-only mode).
    Notice {
        title: String,
        text: String,
    },
    /// The Logs Insights result table (`State::insights`).
    Insights,
    /// Choose one of a list (Kubernetes contexts).
    Picker {
        title: String,
        items: Vec<String>,
        selected: usize,
    },
}

/// A transient message in the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
    pub at: SystemTime,
}

/// Everything the UI shows, and nothing it doesn't.
#[derive(Debug, Clone)]
pub struct State {
    pub keymap: Keymap,
    pub read_only: bool,
    /// `sim:db-connections`, `kube:prod-eks`.
    pub context: String,
    /// Kubernetes contexts the user can switch to, and the current one.
    pub contexts: Vec<String>,
    pub kube_context: Option<String>,
    /// What a context and a namespace are called here: `Kubernetes context`
    /// and `namespace`, or `AWS profile` and `AWS region`.
    pub switch_nouns: (String, String),
    /// The watched namespace; None = all namespaces.
    pub namespace: Option<String>,
    pub problems: Vec<Problem>,
    pub now: SystemTime,
    pub focus: Pane,
    pub zoom: bool,
    pub workloads: WorkloadsView,
    pub logs: LogsView,
    pub metrics: MetricsView,
    pub runbook: Option<RunbookView>,
    pub database: DatabaseView,
    pub insights: InsightsView,
    /// Which of Metrics and Database the lower-right quadrant shows on small screens.
    pub lower_right: Pane,
    pub feeds: Vec<(Feed, FeedStatus)>,
    pub layer: Option<Layer>,
    pub pending_keys: Vec<KeyChord>,
    pub flash: Option<Flash>,
    pub next_action_id: u64,
    /// Terminal size, for page-wise scrolling.
    pub size: (u16, u16),
    pub quit: bool,
}

impl State {
    pub fn new(keymap: Keymap, context: impl Into<String>, now: SystemTime) -> Self {
        Self {
            keymap,
            read_only: false,
            context: context.into(),
            contexts: Vec::new(),
            kube_context: None,
            switch_nouns: ("Kubernetes context".into(), "namespace".into()),
            namespace: None,
            problems: Vec::new(),
            now,
            focus: Pane::Workloads,
            zoom: false,
            workloads: WorkloadsView::default(),
            logs: LogsView::default(),
            metrics: MetricsView::default(),
            runbook: None,
            database: DatabaseView::default(),
            insights: InsightsView::default(),
            lower_right: Pane::Metrics,
            feeds: Feed::ALL
                .iter()
                .map(|&f| (f, FeedStatus::default()))
                .collect(),
            layer: None,
            pending_keys: Vec::new(),
            flash: None,
            next_action_id: 1,
            size: (80, 24),
            quit: false,
        }
    }

    /// Load a runbook into the Runbook pane.
    pub fn with_runbook(mut self, book: Runbook) -> Self {
        self.runbook = Some(RunbookView {
            book,
            step: 0,
            action: 0,
        });
        self
    }

    pub fn feed(&self, feed: Feed) -> &FeedStatus {
        static EMPTY: FeedStatus = FeedStatus {
            last_ok: None,
            error: None,
            failures: 0,
        };
        self.feeds
            .iter()
            .find(|(f, _)| *f == feed)
            .map_or(&EMPTY, |(_, s)| s)
    }

    fn feed_mut(&mut self, feed: Feed) -> &mut FeedStatus {
        if let Some(i) = self.feeds.iter().position(|(f, _)| *f == feed) {
            &mut self.feeds[i].1
        } else {
            self.feeds.push((feed, FeedStatus::default()));
            let last = self.feeds.len() - 1;
            &mut self.feeds[last].1
        }
    }

    /// A view of the estate for runbook checks.
    pub fn estate(&self) -> crate::runbook::EstateView<'_> {
        crate::runbook::EstateView {
            workloads: &self.workloads.rows,
            metrics: &self.metrics.series,
            databases: &self.metrics.databases,
        }
    }

    /// True once the runbook's resolved-when checks all pass.
    pub fn resolved(&self) -> Option<bool> {
        self.runbook
            .as_ref()
            .map(|r| r.book.is_resolved(&self.estate()))
    }
}

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
    /// A feed's latest attempt failed; its data stays, marked stale.
    FeedFailed {
        feed: Feed,
        error: String,
    },
    /// The backend's answer to "may I, and what would it do" for an open confirmation.
    ActionChecked {
        id: u64,
        allowed: Result<(), String>,
        preview: Result<Option<String>, String>,
    },
    /// The driver reopened the backends for another context/namespace.
    Switched {
        context: String,
        namespace: Option<String>,
        label: String,
    },
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
    /// Something for the status bar (a failed switch, ...).
    Flash {
        text: String,
        error: bool,
    },
    ActionFinished {
        id: u64,
        result: Result<ActionOutcome, String>,
    },
    Quit,
}

/// Work for the driver. The core never performs I/O itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Run a confirmed action (the driver writes the audit log before and after).
    RunAction {
        id: u64,
        request: ActionRequest,
    },
    /// Ask the backend whether the action is allowed and for its dry run.
    CheckAction {
        id: u64,
        request: ActionRequest,
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
    /// Ask every poller to refresh now.
    Refresh,
    Quit,
}
