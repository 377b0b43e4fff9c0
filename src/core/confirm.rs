//! Text prompts and confirmation dialogs, as data.

use crate::domain::{Change, Preview, PreviewError, WorkloadKind, WorkloadRef};

/// Why a text prompt is open; decides what Submit does with the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputPurpose {
    /// Filter the Workloads pane (applied as you type).
    WorkloadFilter,
    /// Search the logs (applied as you type).
    LogSearch,
    /// Show only log lines containing the text (applied as you type).
    LogFilter,
    /// New replica / desired count for a scale.
    Replicas { target: WorkloadRef, from: u32 },
    /// The Kubernetes namespace to watch (`all` for every namespace).
    Namespace,
    /// Terminate the active queries of a database running longer than the typed duration.
    TerminateOlderThan { database: String },
    /// A CloudWatch Logs Insights query to run.
    Query,
    /// The file to save the shown log lines to.
    SaveLogs,
    /// A `:` command (`:pods`, `:ns shop`, `:q`, ...).
    Command,
    /// Search the open detail view (applied as you type).
    DetailSearch,
}

impl InputPurpose {
    /// Prompts of one kind share a history (up/down recall earlier entries).
    pub fn history_key(&self) -> &'static str {
        match self {
            InputPurpose::WorkloadFilter => "workload_filter",
            InputPurpose::LogSearch => "log_search",
            InputPurpose::LogFilter => "log_filter",
            InputPurpose::Replicas { .. } => "replicas",
            InputPurpose::Namespace => "namespace",
            InputPurpose::TerminateOlderThan { .. } => "terminate_older_than",
            InputPurpose::Query => "query",
            InputPurpose::SaveLogs => "save_logs",
            InputPurpose::Command => "command",
            InputPurpose::DetailSearch => "detail_search",
        }
    }
}

/// An open text prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub purpose: InputPurpose,
    pub prompt: String,
    pub text: String,
    /// The value before the prompt opened, restored on Cancel.
    pub original: String,
    /// Shown under the prompt when Submit was refused.
    pub error: Option<String>,
    /// The text is the current value shown selected (the namespace or
    /// region prompt): the first character typed replaces it, backspace
    /// clears it, enter accepts it. Other prompts add to their text.
    pub selected: bool,
    /// Byte offset of the cursor in `text` (always on a char boundary).
    pub cursor: usize,
    /// While recalling history (up/down): the entry shown, counted from the newest.
    pub recalled: Option<usize>,
    /// What was typed before recalling history, restored by going past the newest entry.
    pub draft: String,
    /// The candidates of the last Tab when it matched more than one.
    pub completions: Vec<String>,
}

/// `text` without its last word (and the spaces after it), as ctrl-w does.
pub fn without_last_word(text: &str) -> String {
    let trimmed = text.trim_end();
    match trimmed.rfind(char::is_whitespace) {
        Some(i) => trimmed[..=i].to_string(),
        None => String::new(),
    }
}

/// Where a confirmation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmStatus {
    /// Waiting for the user's answer.
    Asking,
    /// Confirmed; the driver is running it.
    Running { id: u64 },
    /// It ran and failed; the failure stays in the dialog until dismissed.
    Failed(String),
}

/// What the backend said when asked about an open confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckState {
    /// Not answered yet.
    Pending,
    /// Allowed; the server's dry-run answer if it offers one.
    Allowed(Option<String>),
    /// Not allowed (RBAC); the action cannot be confirmed.
    Denied(String),
    /// The backend's dry run refused the request itself (no earlier
    /// revision, a paused deployment): running it would fail the same way,
    /// so it cannot be confirmed.
    Blocked(String),
    /// Allowed as far as we know, but the dry run could not be had.
    PreviewFailed(String),
}

impl CheckState {
    /// Why the action cannot be confirmed, if it cannot.
    pub fn refusal(&self) -> Option<&str> {
        match self {
            CheckState::Denied(why) | CheckState::Blocked(why) => Some(why),
            _ => None,
        }
    }
}

/// A confirmation: built when the prompt opens, it holds the exact change
/// that confirming will run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    pub change: Change,
    /// The exact change, e.g. `scale deployment shop/api 3 -> 6`.
    pub headline: String,
    /// Further lines (the sessions a terminate hits, ...).
    pub details: Vec<String>,
    /// The highlighted answer; starts at No.
    pub yes: bool,
    /// For destructive actions: what has been typed so far.
    pub typed: String,
    /// Shown when the typed name did not match.
    pub hint: Option<String>,
    pub status: ConfirmStatus,
    /// Correlates the backend's permission/dry-run answer.
    pub check_id: u64,
    pub check: CheckState,
    /// The runbook step and action it was opened from, if any: its result
    /// is marked there.
    pub origin: Option<(usize, usize)>,
}

impl Confirm {
    pub fn new(change: Change) -> Self {
        let headline = change.describe();
        let details = details_of(&change);
        Self {
            change,
            headline,
            details,
            yes: false,
            typed: String::new(),
            hint: None,
            status: ConfirmStatus::Asking,
            check_id: 0,
            check: CheckState::Pending,
            origin: None,
        }
    }

    /// The name that must be typed, for destructive actions.
    pub fn required_name(&self) -> Option<&str> {
        self.change.confirm_name()
    }

    pub fn is_destructive(&self) -> bool {
        self.required_name().is_some()
    }

    /// Take the backend's answer. A dry run that resolved the request (the
    /// revision a rollback goes to, both ends' images) replaces it, so what
    /// is confirmed, run and audited is what the dialog shows; an answer for
    /// another action or target is ignored.
    pub fn checked(
        &mut self,
        allowed: Result<(), String>,
        preview: Result<Option<Preview>, PreviewError>,
    ) {
        self.check = match (allowed, preview) {
            (Err(why), _) => CheckState::Denied(why),
            (Ok(()), Ok(None)) => CheckState::Allowed(None),
            (Ok(()), Ok(Some(p))) => {
                if let Some(resolved) = p.resolved.filter(|r| {
                    r.verb() == self.change.verb() && r.target() == self.change.target()
                }) {
                    self.headline = resolved.describe();
                    self.details = details_of(&resolved);
                    self.change = resolved;
                }
                CheckState::Allowed(Some(p.summary))
            }
            (Ok(()), Err(PreviewError::Refused(e))) => CheckState::Blocked(e),
            (Ok(()), Err(PreviewError::Unavailable(e))) => CheckState::PreviewFailed(e),
        };
    }
}

fn details_of(request: &Change) -> Vec<String> {
    match request {
        Change::CancelQuery { session, .. } | Change::TerminateSession { session, .. } => {
            vec![format!(
                "pid {}: {}",
                session.pid,
                crate::sanitize::line(&session.query)
            )]
        }
        Change::TerminateQueries { sessions, .. } => sessions
            .iter()
            .map(|s| format!("pid {}: {}", s.pid, crate::sanitize::line(&s.query)))
            .collect(),
        Change::RolloutUndo { target, .. } if target.kind == WorkloadKind::EcsService => {
            vec![format!(
                "{target} is deployed again with its previous task definition revision; its tasks are replaced"
            )]
        }
        Change::RolloutUndo {
            target,
            to_revision: Some(r),
            ..
        } => {
            vec![format!(
                "the pods of {target} are replaced by revision {r}'s"
            )]
        }
        Change::RolloutUndo { target, .. } => {
            vec![format!(
                "the pods of {target} are replaced by the previous revision's"
            )]
        }
        Change::RolloutRestart { target } => {
            vec![format!("every pod of {target} is replaced, one by one")]
        }
        Change::DeletePod { .. } => vec!["its controller will create a replacement".into()],
        Change::StopTask { .. } => {
            vec!["the service scheduler will start a replacement".into()]
        }
        Change::Scale { .. } | Change::ForceNewDeployment { .. } => Vec::new(),
        // Each object the batch acts on, by name.
        Change::Batch { changes } => changes
            .iter()
            .map(|c| match c {
                Change::TerminateSession { session, .. } => format!(
                    "pid {}: {}",
                    session.pid,
                    crate::sanitize::line(&session.query)
                ),
                Change::DeletePod { target, .. } | Change::StopTask { target } => {
                    crate::sanitize::line(&target.name)
                }
                other => other.describe(),
            })
            .collect(),
    }
}
