//! The seams between the core and the backends.
//!
//! Each data source is polled (or awaited) by its own background task in the
//! driver; results travel to the core as messages. Backends (the simulator,
//! Kubernetes, AWS, PostgreSQL) implement these traits and never see the UI.

use std::time::Duration;

use async_trait::async_trait;
use thiserror::Error;

use crate::domain::{
    Change, ChangeOutcome, DbSnapshot, LogLine, MetricSeries, Preview, StreamState, Workload,
};

/// Why a source or an action failed. Shown to the user as-is (after sanitising).
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum SourceError {
    /// The backend could not be reached (connection refused, timeout, DNS).
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The backend refused (403, expired credentials).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The backend is throttling us; retry later.
    #[error("throttled: {0}")]
    Throttled(String),
    /// The target does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// Read-only mode, or an action this backend cannot run.
    #[error("blocked: {0}")]
    Blocked(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// Workload rows (deployments, pods, ECS services and tasks).
#[async_trait]
pub trait WorkloadSource: Send + Sync {
    /// A label for the status bar (`sim`, `kube:prod-eks`, `ecs:us-east-1`).
    fn label(&self) -> String;
    /// The current rows. Watch-based backends answer from their cache.
    async fn workloads(&self) -> Result<Vec<Workload>, SourceError>;
    /// When the rows were last confirmed by the server, for a source that
    /// answers from a cache (the console shows that age, not the poll's).
    /// `None`: the answer itself came from the server just now.
    fn heard_at(&self) -> Option<std::time::SystemTime> {
        None
    }
}

/// A stream of log lines. `next_batch` waits until lines arrive or until
/// `max_wait` passes (then it returns an empty batch).
#[async_trait]
pub trait LogSource: Send {
    fn label(&self) -> String;
    async fn next_batch(&mut self, max_wait: Duration) -> Result<Vec<LogLine>, SourceError>;
    /// When the server was last heard from, for a stream whose quiet
    /// cannot tell a calm cluster from a hung one. `None`: just now.
    fn heard_at(&self) -> Option<std::time::SystemTime> {
        None
    }
    /// How far behind the stream is: the age of the newest data it has
    /// delivered while it is still catching up or backing off (a polled
    /// source such as CloudWatch Logs). `None` when it is live or cannot tell.
    fn lag(&self) -> Option<Duration> {
        None
    }
    /// Streams lost or resumed since the last call (one entry per change,
    /// in order), for the one-line-per-source markers in the Logs pane.
    fn stream_states(&mut self) -> Vec<StreamState> {
        Vec::new()
    }
    /// A source asked not to follow has delivered everything it will.
    fn ended(&self) -> bool {
        false
    }
}

/// Metric series with thresholds.
#[async_trait]
pub trait MetricSource: Send + Sync {
    fn label(&self) -> String;
    async fn metrics(&self) -> Result<Vec<MetricSeries>, SourceError>;
}

/// Database sessions against max_connections.
#[async_trait]
pub trait DatabaseSource: Send + Sync {
    fn label(&self) -> String;
    async fn snapshot(&self) -> Result<DbSnapshot, SourceError>;
}

/// Runs confirmed actions. Implementations must re-check what they can at
/// run time (a terminate re-checks each pid's backend start).
#[async_trait]
pub trait ChangeExecutor: Send + Sync {
    async fn execute(&self, request: &Change) -> Result<ChangeOutcome, SourceError>;

    /// What the backend says the action would do, without doing it (the
    /// Kubernetes API's `dryRun=All`), for the confirmation. `Ok(None)` when
    /// the backend offers no dry run.
    async fn preview(&self, _request: &Change) -> Result<Option<Preview>, SourceError> {
        Ok(None)
    }

    /// Whether the current identity may run the action (SelfSubjectAccessReview
    /// on Kubernetes). `Err` carries the reason it is unavailable.
    async fn allowed(&self, _request: &Change) -> Result<(), String> {
        Ok(())
    }

    /// Where `request` runs, for the audit log (`kube:prod`, `aws:default/eu-west-1
    /// cluster shop`); `None` leaves the session's label.
    fn context(&self, _request: &Change) -> Option<String> {
        None
    }
}

/// An executor that refuses everything: what read-only mode installs, so a
/// bug in the UI still cannot change the estate.
pub struct ReadOnlyExecutor {
    /// What made the session read-only (`started with --read-only`,
    /// `read_only = true in <file>:<line>`), for the refusal.
    pub why: String,
}

#[async_trait]
impl ChangeExecutor for ReadOnlyExecutor {
    async fn execute(&self, request: &Change) -> Result<ChangeOutcome, SourceError> {
        Err(SourceError::Blocked(format!(
            "read-only mode: {} was not run ({})",
            request.describe(),
            self.why
        )))
    }
}

/// Reopens the backends for another Kubernetes context or namespace (the
/// in-app switch). The driver stops the old sources and starts the new ones.
#[async_trait]
pub trait Switcher: Send + Sync {
    /// Every context the user can switch to, and the current one.
    fn contexts(&self) -> Vec<String>;
    /// What a context and a namespace are called in this session's backend,
    /// for the picker and the prompt.
    fn nouns(&self) -> (&'static str, &'static str) {
        ("Kubernetes context", "namespace")
    }
    /// Open everything again for `context`, watching `namespace` (None: all namespaces).
    async fn open(&self, context: &str, namespace: Option<&str>) -> Result<Backends, SourceError>;
}

/// Earlier logs on request: a pod's previous (crashed) container.
#[async_trait]
pub trait LogHistory: Send + Sync {
    /// The logs of the pod's last terminated container (`kubectl logs --previous`).
    async fn previous(&self, scope: &str, name: &str) -> Result<Vec<LogLine>, SourceError>;
}

/// CloudWatch Logs Insights over the session's log groups.
#[async_trait]
pub trait QueryRunner: Send + Sync {
    /// The log groups a query runs over.
    fn groups(&self) -> Vec<String>;
    /// Start a query; returns its id.
    async fn start(&self, query: &str) -> Result<String, SourceError>;
    /// The query's status and results so far.
    async fn results(&self, query_id: &str) -> Result<crate::domain::QueryResults, SourceError>;
    /// Stop a running query (StopQuery).
    async fn stop(&self, query_id: &str) -> Result<(), SourceError>;
}

/// What a detail view shows of an object (describe, events, YAML), fetched
/// on request from the backend that owns it.
#[async_trait]
pub trait Describer: Send + Sync {
    async fn describe(
        &self,
        target: &crate::domain::DetailTarget,
    ) -> Result<crate::domain::Detail, SourceError>;
}

/// Sends Kubernetes objects to the Kubernetes describer and everything else
/// (ECS, alarms) to `other`; what has no describer is refused, not guessed.
#[derive(Default)]
pub struct RoutingDescriber {
    pub kubernetes: Option<std::sync::Arc<dyn Describer>>,
    pub other: Option<std::sync::Arc<dyn Describer>>,
}

#[async_trait]
impl Describer for RoutingDescriber {
    async fn describe(
        &self,
        target: &crate::domain::DetailTarget,
    ) -> Result<crate::domain::Detail, SourceError> {
        use crate::domain::{DetailTarget, WorkloadKind};
        let kube = matches!(
            target,
            DetailTarget::Workload(w) if matches!(w.kind, WorkloadKind::Deployment | WorkloadKind::Pod)
        );
        let chosen = if kube { &self.kubernetes } else { &self.other };
        match chosen {
            Some(d) => d.describe(target).await,
            None => Err(SourceError::Blocked(format!(
                "no backend in this session can describe {target}"
            ))),
        }
    }
}

/// Every backend the driver runs, for one session of the console.
pub struct Backends {
    /// What the session is connected to (the header shows its label).
    pub target: crate::domain::Target,
    pub workloads: Vec<Box<dyn WorkloadSource>>,
    pub logs: Vec<Box<dyn LogSource>>,
    pub metrics: Vec<Box<dyn MetricSource>>,
    pub databases: Vec<Box<dyn DatabaseSource>>,
    pub executor: Box<dyn ChangeExecutor>,
    /// Present when contexts/namespaces can be switched in the app.
    pub switcher: Option<std::sync::Arc<dyn Switcher>>,
    /// Present when previous-container logs can be fetched.
    pub history: Option<std::sync::Arc<dyn LogHistory>>,
    /// Present when the session has CloudWatch Logs groups to query.
    pub queries: Option<std::sync::Arc<dyn QueryRunner>>,
    /// Present when objects can be described (detail views).
    pub describer: Option<std::sync::Arc<dyn Describer>>,
}

/// Which backend runs a request: Kubernetes workloads to the Kubernetes
/// executor, database requests to the executor of the database they name,
/// everything else (and whatever has no executor of its own) to `other`. A request
/// with nowhere to go is refused, never sent to the wrong backend.
#[derive(Default)]
pub struct RoutingExecutor {
    pub kubernetes: Option<Box<dyn ChangeExecutor>>,
    /// By database display name.
    pub databases: Vec<(String, Box<dyn ChangeExecutor>)>,
    pub other: Option<Box<dyn ChangeExecutor>>,
}

impl RoutingExecutor {
    fn route(&self, request: &Change) -> Result<&dyn ChangeExecutor, SourceError> {
        use crate::domain::WorkloadKind;
        let chosen = match request {
            Change::Scale { target, .. }
            | Change::RolloutUndo { target, .. }
            | Change::RolloutRestart { target }
            | Change::DeletePod { target, .. }
            | Change::StopTask { target }
            | Change::ForceNewDeployment { target } => {
                if matches!(target.kind, WorkloadKind::Deployment | WorkloadKind::Pod) {
                    self.kubernetes.as_deref().or(self.other.as_deref())
                } else {
                    self.other.as_deref()
                }
            }
            // The driver runs a batch one action at a time.
            Change::Batch { .. } => None,
            Change::TerminateQueries { database, .. }
            | Change::CancelQuery { database, .. }
            | Change::TerminateSession { database, .. } => self
                .databases
                .iter()
                .find(|(n, _)| n == database)
                .map(|(_, e)| &**e)
                .or(self.other.as_deref()),
        };
        chosen.ok_or_else(|| {
            SourceError::Blocked(format!(
                "no backend in this session can {}",
                request.describe()
            ))
        })
    }
}

#[async_trait]
impl ChangeExecutor for RoutingExecutor {
    async fn execute(&self, request: &Change) -> Result<ChangeOutcome, SourceError> {
        self.route(request)?.execute(request).await
    }

    async fn preview(&self, request: &Change) -> Result<Option<Preview>, SourceError> {
        self.route(request)?.preview(request).await
    }

    async fn allowed(&self, request: &Change) -> Result<(), String> {
        match self.route(request) {
            Ok(e) => e.allowed(request).await,
            Err(e) => Err(e.to_string()),
        }
    }

    fn context(&self, request: &Change) -> Option<String> {
        self.route(request).ok()?.context(request)
    }
}

/// Make a backend set read-only for good: its executor refuses everything
/// (saying `why`), and so does the executor of every set its switcher
/// opens later.
pub fn read_only(mut backends: Backends, why: &str) -> Backends {
    backends.executor = Box::new(ReadOnlyExecutor {
        why: why.to_string(),
    });
    backends.switcher = backends.switcher.map(|inner| {
        std::sync::Arc::new(ReadOnlySwitcher(inner, why.to_string()))
            as std::sync::Arc<dyn Switcher>
    });
    backends
}

struct ReadOnlySwitcher(std::sync::Arc<dyn Switcher>, String);

#[async_trait]
impl Switcher for ReadOnlySwitcher {
    fn contexts(&self) -> Vec<String> {
        self.0.contexts()
    }

    fn nouns(&self) -> (&'static str, &'static str) {
        self.0.nouns()
    }

    async fn open(&self, context: &str, namespace: Option<&str>) -> Result<Backends, SourceError> {
        let why = &self.1;
        self.0
            .open(context, namespace)
            .await
            .map(|b| read_only(b, why))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{QueryRule, WorkloadKind, WorkloadRef};

    struct Named(&'static str);

    #[async_trait]
    impl ChangeExecutor for Named {
        async fn execute(&self, _: &Change) -> Result<ChangeOutcome, SourceError> {
            Ok(ChangeOutcome {
                summary: self.0.into(),
                details: Vec::new(),
            })
        }
    }

    #[tokio::test]
    async fn routes_kubernetes_requests_to_the_kube_executor() {
        let r = RoutingExecutor {
            kubernetes: Some(Box::new(Named("kube"))),
            databases: vec![("orders-db".into(), Box::new(Named("pg:orders-db")))],
            other: Some(Box::new(Named("other"))),
        };
        let dep = WorkloadRef::new(WorkloadKind::Deployment, "shop", "api");
        let svc = WorkloadRef::new(WorkloadKind::EcsService, "prod", "checkout");
        let run = |req: Change| {
            let r = &r;
            async move { r.execute(&req).await.map(|o| o.summary).unwrap_or_default() }
        };
        assert_eq!(
            run(Change::Scale {
                target: dep.clone(),
                from: 1,
                to: 2
            })
            .await,
            "kube"
        );
        assert_eq!(
            run(Change::DeletePod {
                target: WorkloadRef::new(WorkloadKind::Pod, "shop", "p"),
                uid: None,
            })
            .await,
            "kube"
        );
        assert_eq!(
            run(Change::Scale {
                target: svc.clone(),
                from: 1,
                to: 2
            })
            .await,
            "other"
        );
        assert_eq!(
            run(Change::StopTask {
                target: WorkloadRef::new(WorkloadKind::EcsTask, "prod", "t")
            })
            .await,
            "other"
        );
        let rule = QueryRule {
            older_than: std::time::Duration::from_secs(600),
            user: None,
            application: None,
        };
        assert_eq!(
            run(Change::TerminateQueries {
                database: "db".into(),
                rule,
                sessions: Vec::new()
            })
            .await,
            "other"
        );
    }

    #[tokio::test]
    async fn databases_route_by_name_and_nothing_goes_astray() {
        let session = crate::domain::SessionTarget {
            pid: 7,
            backend_start: std::time::SystemTime::UNIX_EPOCH,
            query: "select 1".into(),
        };
        let cancel = |db: &str| Change::CancelQuery {
            database: db.into(),
            session: session.clone(),
        };
        let r = RoutingExecutor {
            databases: vec![("orders-db".into(), Box::new(Named("pg:orders-db")))],
            ..RoutingExecutor::default()
        };
        assert_eq!(
            r.execute(&cancel("orders-db"))
                .await
                .map(|o| o.summary)
                .ok(),
            Some("pg:orders-db".to_string())
        );
        let err = r.execute(&cancel("reports")).await;
        assert!(
            matches!(err, Err(SourceError::Blocked(ref m)) if m.contains("no backend in this session")),
            "{err:?}"
        );
        let dep = WorkloadRef::new(WorkloadKind::Deployment, "shop", "api");
        let denied = r.allowed(&Change::RolloutRestart { target: dep }).await;
        assert!(
            denied.is_err(),
            "no Kubernetes executor: unavailable, not sent elsewhere"
        );
    }

    #[tokio::test]
    async fn read_only_executor_refuses_everything() {
        let r = ReadOnlyExecutor {
            why: "read_only = true in c.toml:2".into(),
        };
        let dep = WorkloadRef::new(WorkloadKind::Deployment, "shop", "api");
        let err = r.execute(&Change::RolloutRestart { target: dep }).await;
        assert!(
            matches!(&err, Err(SourceError::Blocked(m)) if m.contains("read-only") && m.ends_with("(read_only = true in c.toml:2)")),
            "{err:?}"
        );
    }
}
