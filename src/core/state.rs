//! [`State`]: everything the UI shows, and nothing it doesn't.

use std::time::SystemTime;

use super::confirm::{Confirm, Input};
use super::detail_view::DetailView;
use super::insights::InsightsView;
use super::readline::History;
use crate::domain::Target;
use crate::keymap::{KeyChord, Keymap};
use crate::panes::Pane;
use crate::panes::database::DatabaseView;
use crate::panes::logs::LogsView;
use crate::panes::metrics::MetricsView;
use crate::panes::runbook::RunbookView;
use crate::panes::workloads::WorkloadsView;
use crate::problem::Problem;

use super::feeds::{Feed, Feeds, Stale};
use crate::runbook::Runbook;

/// What the top layer is, if any. It gets keys before the panes.
#[derive(Debug, Clone)]
pub enum Layer {
    Help {
        scroll: u16,
    },
    /// Every current problem (failing sources, configuration), in full.
    Problems {
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
    /// One log line in full: wrapped, JSON pretty-printed.
    LogLine {
        line: Box<crate::domain::LogLine>,
        scroll: u16,
    },
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
    /// An action's result: it stays until dismissed or replaced.
    pub sticky: bool,
}

/// Everything the UI shows, and nothing it doesn't.
#[derive(Debug, Clone)]
pub struct State {
    pub keymap: Keymap,
    pub read_only: bool,
    /// Why read-only was forced on (a problem in a safety setting); shown
    /// in full in a banner.
    pub read_only_reason: Option<String>,
    /// What made the session read-only (`started with --read-only`,
    /// `read_only = true in <file>:<line>`), for the blocked-action notice.
    pub read_only_origin: Option<String>,
    /// What the session is connected to (its label is in the header).
    pub target: Target,
    /// The contexts (or AWS profiles) the user can switch to.
    pub contexts: Vec<String>,
    /// What a context and a namespace are called here: `Kubernetes context`
    /// and `namespace`, or `AWS profile` and `AWS region`.
    pub switch_nouns: (String, String),
    pub problems: Vec<Problem>,
    /// The runbooks `:runbook NAME` can open (shipped and the user's).
    pub runbooks: Vec<Runbook>,
    /// The theme names `:theme NAME` can switch to.
    pub themes: Vec<String>,
    /// Earlier entries of each kind of prompt.
    pub history: History,
    pub now: SystemTime,
    pub focus: Pane,
    pub zoom: bool,
    pub workloads: WorkloadsView,
    pub logs: LogsView,
    pub metrics: MetricsView,
    pub runbook: Option<RunbookView>,
    pub database: DatabaseView,
    pub insights: InsightsView,
    /// The open detail views (describe, events, YAML), drawn over the panes.
    pub detail: DetailView,
    /// Which of Metrics and Database the lower-right quadrant shows on small screens.
    pub lower_right: Pane,
    /// Freshness of every source behind the panes.
    pub feeds: Feeds,
    pub layer: Option<Layer>,
    pub pending_keys: Vec<KeyChord>,
    /// ctrl-c was pressed while an action runs: the next one quits.
    pub interrupt_armed: bool,
    pub flash: Option<Flash>,
    pub next_action_id: u64,
    /// Terminal size, for page-wise scrolling.
    pub size: (u16, u16),
    pub quit: bool,
    /// The exit status a signal asked for (128 + its number).
    pub exit_code: Option<i32>,
}

impl State {
    pub fn new(keymap: Keymap, target: Target, now: SystemTime) -> Self {
        Self {
            keymap,
            read_only: false,
            read_only_reason: None,
            read_only_origin: None,
            target,
            contexts: Vec::new(),
            switch_nouns: ("Kubernetes context".into(), "namespace".into()),
            problems: Vec::new(),
            runbooks: Vec::new(),
            themes: Vec::new(),
            history: History::default(),
            now,
            focus: Pane::WORKLOADS,
            zoom: false,
            workloads: WorkloadsView::default(),
            logs: LogsView::default(),
            metrics: MetricsView::default(),
            runbook: None,
            database: DatabaseView::default(),
            insights: InsightsView::default(),
            detail: DetailView::default(),
            lower_right: Pane::METRICS,
            feeds: Feeds::default(),
            layer: None,
            pending_keys: Vec::new(),
            interrupt_armed: false,
            flash: None,
            next_action_id: 1,
            size: (80, 24),
            quit: false,
            exit_code: None,
        }
    }

    /// Load a runbook into the Runbook pane.
    pub fn with_runbook(mut self, book: Runbook) -> Self {
        self.runbook = Some(RunbookView::new(book));
        self
    }

    /// Whether `feed` is stale, and how (None: fresh, or nothing heard yet).
    pub fn stale(&self, feed: Feed) -> Option<Stale> {
        self.feeds.stale(feed, self.now)
    }

    /// A view of the estate for runbook checks.
    pub fn estate(&self) -> crate::runbook::EstateView<'_> {
        crate::runbook::EstateView {
            workloads: &self.workloads.rows,
            metrics: &self.metrics.series,
            databases: &self.metrics.databases,
        }
    }

    /// Where the incident stands: open, holding, or resolved (the checks
    /// pass, the runbook's workloads are settled, and both have held for the
    /// runbook's hold period). None without a runbook.
    pub fn resolution(&self) -> Option<crate::panes::runbook::Resolution> {
        self.runbook
            .as_ref()
            .map(|r| r.resolution(&self.estate(), self.now))
    }

    /// Start or break the resolution's hold with the latest data.
    pub fn track_resolution(&mut self) {
        let now = self.now;
        let view = crate::runbook::EstateView {
            workloads: &self.workloads.rows,
            metrics: &self.metrics.series,
            databases: &self.metrics.databases,
        };
        if let Some(r) = self.runbook.as_mut() {
            r.track(&view, now);
        }
    }
}
