//! Domain model shared by the core, the UI and every backend.
//!
//! Nothing here knows about Kubernetes, AWS or PostgreSQL types: backends
//! convert their API objects into these rows with pure functions.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// What kind of workload a row describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkloadKind {
    Deployment,
    Pod,
    EcsService,
    EcsTask,
}

impl WorkloadKind {
    /// The word used in prompts and the audit log (`deployment`, `ecs-service`).
    pub fn noun(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::Pod => "pod",
            WorkloadKind::EcsService => "ecs-service",
            WorkloadKind::EcsTask => "ecs-task",
        }
    }

    /// Short label for table cells.
    pub fn short(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deploy",
            WorkloadKind::Pod => "pod",
            WorkloadKind::EcsService => "svc",
            WorkloadKind::EcsTask => "task",
        }
    }
}

/// A reference to one workload: kind, scope (namespace or ECS cluster) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WorkloadRef {
    pub kind: WorkloadKind,
    /// Kubernetes namespace or ECS cluster.
    pub scope: String,
    pub name: String,
}

impl WorkloadRef {
    pub fn new(kind: WorkloadKind, scope: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            kind,
            scope: scope.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for WorkloadRef {
    /// `deployment shop/api`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind.noun(), self.scope, self.name)
    }
}

/// Overall health, ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Ok,
    Unknown,
    Warn,
    Critical,
}

/// The health of a rollout from the replicas ready (Kubernetes) or tasks
/// running (ECS) against those desired, the one rule for both: all there is
/// ok; none, or half or fewer, is critical; fewer is a warning.
pub fn rollout_health(ready: u32, desired: u32) -> Health {
    if ready >= desired {
        Health::Ok
    } else if ready == 0 || ready.saturating_mul(2) <= desired {
        Health::Critical
    } else {
        Health::Warn
    }
}

/// One row of the Workloads pane: a deployment, pod, ECS service or ECS task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workload {
    pub id: WorkloadRef,
    /// Pod phase, ECS last status, or a rollout summary (`Running`, `CrashLoopBackOff`, `PENDING`).
    pub status: String,
    /// Ready (pods/containers) or running (deployments/services/tasks).
    pub ready: u32,
    /// Desired replicas / containers.
    pub desired: u32,
    pub restarts: u32,
    /// The last termination was OOMKilled.
    pub oom_killed: bool,
    pub health: Health,
    /// Why the health is not Ok, for the detail line.
    pub reason: Option<String>,
    /// Owner (the deployment of a pod, the service of a task).
    pub owner: Option<String>,
    /// Revision for deployments (ReplicaSet revision) or task definition revision.
    pub revision: Option<u64>,
    pub created: SystemTime,
}

/// Log severity, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }

    /// Guess a level from the text of a line: a JSON `level`/`severity`
    /// field, or a level word among the first few words.
    pub fn sniff(text: &str) -> Level {
        let head: String = text
            .chars()
            .take(160)
            .collect::<String>()
            .to_ascii_lowercase();
        for (word, level) in [
            ("error", Level::Error),
            ("fatal", Level::Error),
            ("panic", Level::Error),
            ("warn", Level::Warn),
            ("debug", Level::Debug),
            ("trace", Level::Trace),
            ("info", Level::Info),
        ] {
            for key in ["\"level\":\"", "\"severity\":\"", "\"lvl\":\"", "level="] {
                if head.contains(&format!("{key}{word}")) {
                    return level;
                }
            }
        }
        let first: Vec<&str> = head
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .take(4)
            .collect();
        for (words, level) in [
            (
                &["error", "err", "fatal", "panic", "crit", "critical"][..],
                Level::Error,
            ),
            (&["warn", "warning"][..], Level::Warn),
            (&["debug"][..], Level::Debug),
            (&["trace"][..], Level::Trace),
        ] {
            if first.iter().any(|w| words.contains(w)) {
                return level;
            }
        }
        Level::Info
    }
}

/// One log line from any source. `text` is raw and untrusted: it is sanitised
/// when it is rendered, never before (search and JSON formatting see the original).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Pod/container, ECS task or log group/stream.
    pub source: String,
    pub time: SystemTime,
    pub level: Level,
    pub text: String,
}

/// One point of a metric series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub time: SystemTime,
    pub value: f64,
}

/// A metric series with its thresholds. A threshold is crossed when the value
/// is at or above it (or at or below it when `lower_is_worse`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSeries {
    /// Stable key used by runbook checks, e.g. `orders-db.connections`.
    pub key: String,
    /// Display name.
    pub name: String,
    pub unit: String,
    pub points: Vec<Point>,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
    pub lower_is_worse: bool,
}

impl MetricSeries {
    pub fn current(&self) -> Option<f64> {
        self.points.last().map(|p| p.value)
    }

    /// Health of a value against this series' thresholds.
    pub fn health_of(&self, v: f64) -> Health {
        let crossed = |t: f64| {
            if self.lower_is_worse { v <= t } else { v >= t }
        };
        match (self.critical, self.warning) {
            (Some(c), _) if crossed(c) => Health::Critical,
            (_, Some(w)) if crossed(w) => Health::Warn,
            _ => Health::Ok,
        }
    }

    pub fn health(&self) -> Health {
        self.current()
            .map_or(Health::Unknown, |v| self.health_of(v))
    }
}

/// State of a database session (pg_stat_activity.state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Active,
    Idle,
    IdleInTransaction,
    Other,
}

impl SessionState {
    pub fn label(self) -> &'static str {
        match self {
            SessionState::Active => "active",
            SessionState::Idle => "idle",
            SessionState::IdleInTransaction => "idle in transaction",
            SessionState::Other => "other",
        }
    }
}

/// One database session. `(pid, backend_start)` identifies it: a pid alone can be reused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSession {
    pub pid: i32,
    pub backend_start: SystemTime,
    pub user: String,
    pub application: String,
    pub client: String,
    pub state: SessionState,
    pub wait_event: Option<String>,
    /// Time since the current query started.
    pub running: Duration,
    /// Untrusted text, sanitised on render.
    pub query: String,
    /// Sessions holding locks this one waits for (pg_blocking_pids).
    pub blocked_by: Vec<i32>,
}

/// A database's connection picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSnapshot {
    pub name: String,
    pub max_connections: u32,
    pub sessions: Vec<DbSession>,
}

/// What a console session is connected to, typed: the header shows its
/// label, and the context/namespace switcher starts from its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The simulated estate behind the source traits.
    Sim { scenario: String },
    /// The embedded demo: a scenario whose cluster is reached through the
    /// Kubernetes API at `context`.
    Demo {
        scenario: String,
        context: String,
        namespace: Option<String>,
    },
    /// A Kubernetes context; `namespace` None watches every namespace.
    Kube {
        context: String,
        namespace: Option<String>,
    },
    /// An AWS profile in a region.
    Aws { profile: String, region: String },
    /// Databases only (`opsdeck db`).
    Databases { name: String },
}

impl Target {
    /// `sim:db-connections`, `kube:prod-eks`, `aws:default@eu-west-1`.
    pub fn label(&self) -> String {
        match self {
            Target::Sim { scenario } => format!("sim:{scenario}"),
            Target::Demo {
                scenario, context, ..
            } => format!("demo:{scenario} kube:{context}"),
            Target::Kube { context, .. } => format!("kube:{context}"),
            Target::Aws { profile, region } => format!("aws:{profile}@{region}"),
            Target::Databases { name } => name.clone(),
        }
    }

    /// What the context switcher switches: a Kubernetes context or an AWS profile.
    pub fn context(&self) -> Option<&str> {
        match self {
            Target::Demo { context, .. } | Target::Kube { context, .. } => Some(context),
            Target::Aws { profile, .. } => Some(profile),
            Target::Sim { .. } | Target::Databases { .. } => None,
        }
    }

    /// What the namespace prompt changes: a namespace (None = all) or an AWS region.
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Target::Demo { namespace, .. } | Target::Kube { namespace, .. } => namespace.as_deref(),
            Target::Aws { region, .. } => Some(region),
            Target::Sim { .. } | Target::Databases { .. } => None,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// A session chosen for termination, pinned by pid and backend start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTarget {
    pub pid: i32,
    #[serde(with = "humantime_serde_compat")]
    pub backend_start: SystemTime,
    pub query: String,
}

/// Which sessions a rule-based terminate hits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryRule {
    /// Only sessions whose query has been running at least this long.
    #[serde(with = "humantime_serde_duration")]
    pub older_than: Duration,
    pub user: Option<String>,
    pub application: Option<String>,
}

impl QueryRule {
    pub fn matches(&self, s: &DbSession) -> bool {
        s.state == SessionState::Active
            && s.running >= self.older_than
            && self.user.as_ref().is_none_or(|u| &s.user == u)
            && self
                .application
                .as_ref()
                .is_none_or(|a| &s.application == a)
    }
}

impl fmt::Display for QueryRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "running > {}",
            crate::fmt::duration_short(self.older_than)
        )?;
        if let Some(u) = &self.user {
            write!(f, " user={u}")?;
        }
        if let Some(a) = &self.application {
            write!(f, " application={a}")?;
        }
        Ok(())
    }
}

/// A change to the estate. Built by the core when a confirmation opens and
/// run, unchanged, by an [`crate::source::ChangeExecutor`] once it is confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    /// Set replicas (deployment) or desired count (ECS service).
    Scale {
        target: WorkloadRef,
        from: u32,
        to: u32,
    },
    /// Roll a deployment back to its previous revision (or a chosen one).
    RolloutUndo {
        target: WorkloadRef,
        to_revision: Option<u64>,
    },
    /// Restart every pod of a deployment.
    RolloutRestart { target: WorkloadRef },
    /// Delete one pod (its controller recreates it).
    DeletePod { target: WorkloadRef },
    /// Stop one ECS task.
    StopTask { target: WorkloadRef },
    /// Force a new deployment of an ECS service.
    ForceNewDeployment { target: WorkloadRef },
    /// Cancel one session's running query (pg_cancel_backend); the connection stays.
    CancelQuery {
        database: String,
        session: SessionTarget,
    },
    /// Terminate one session (pg_terminate_backend).
    TerminateSession {
        database: String,
        session: SessionTarget,
    },
    /// Terminate the listed sessions on a database (pg_terminate_backend).
    TerminateQueries {
        database: String,
        rule: QueryRule,
        sessions: Vec<SessionTarget>,
    },
}

impl Change {
    /// The action's name in the audit log.
    pub fn verb(&self) -> &'static str {
        match self {
            Change::Scale { .. } => "scale",
            Change::RolloutUndo { .. } => "rollout_undo",
            Change::RolloutRestart { .. } => "rollout_restart",
            Change::DeletePod { .. } => "delete_pod",
            Change::StopTask { .. } => "stop_task",
            Change::ForceNewDeployment { .. } => "force_new_deployment",
            Change::TerminateQueries { .. } => "terminate_queries",
            Change::CancelQuery { .. } => "cancel_query",
            Change::TerminateSession { .. } => "terminate_session",
        }
    }

    /// The target's display form (`deployment shop/api`, `database orders-db`).
    pub fn target(&self) -> String {
        match self {
            Change::Scale { target, .. }
            | Change::RolloutUndo { target, .. }
            | Change::RolloutRestart { target }
            | Change::DeletePod { target }
            | Change::StopTask { target }
            | Change::ForceNewDeployment { target } => target.to_string(),
            Change::TerminateQueries { database, .. }
            | Change::CancelQuery { database, .. }
            | Change::TerminateSession { database, .. } => format!("database {database}"),
        }
    }

    /// The name a user must type to confirm a destructive action, if it is one.
    pub fn confirm_name(&self) -> Option<&str> {
        match self {
            Change::Scale { .. }
            | Change::ForceNewDeployment { .. }
            | Change::RolloutRestart { .. } => None,
            Change::RolloutUndo { target, .. }
            | Change::DeletePod { target }
            | Change::StopTask { target } => Some(&target.name),
            Change::TerminateQueries { database, .. }
            | Change::TerminateSession { database, .. } => Some(database),
            Change::CancelQuery { .. } => None,
        }
    }

    /// One line naming the exact change, as the confirmation states it.
    pub fn describe(&self) -> String {
        match self {
            Change::Scale { target, from, to } => {
                format!(
                    "scale {} {}/{} {from} -> {to}",
                    target.kind.noun(),
                    target.scope,
                    target.name
                )
            }
            Change::RolloutUndo {
                target,
                to_revision,
            } => match to_revision {
                Some(r) => format!(
                    "rollout undo {} {}/{} to revision {r}",
                    target.kind.noun(),
                    target.scope,
                    target.name
                ),
                None => format!(
                    "rollout undo {} {}/{} to its previous revision",
                    target.kind.noun(),
                    target.scope,
                    target.name
                ),
            },
            Change::RolloutRestart { target } => format!("rollout restart {target}"),
            Change::DeletePod { target } => format!("delete {target}"),
            Change::StopTask { target } => format!("stop {target}"),
            Change::ForceNewDeployment { target } => {
                format!("force new deployment of {target}")
            }
            Change::CancelQuery { database, session } => {
                format!("cancel the query of pid {} on {database}", session.pid)
            }
            Change::TerminateSession { database, session } => {
                format!("terminate session pid {} on {database}", session.pid)
            }
            Change::TerminateQueries {
                database,
                rule,
                sessions,
            } => {
                let n = sessions.len();
                let q = if n == 1 { "query" } else { "queries" };
                format!("terminate {n} {q} {rule} on {database}")
            }
        }
    }
}

/// What an executor reports after running an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeOutcome {
    /// One line for the UI and the audit log.
    pub summary: String,
    /// Per-item results (per pid for terminate), for the audit log.
    pub details: Vec<String>,
}

mod humantime_serde_compat {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_rfc3339_micros(*t).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

mod humantime_serde_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

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
