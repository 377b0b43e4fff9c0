//! The seams between the core and the backends.
//!
//! Each data source is polled (or awaited) by its own background task in the
//! driver; results travel to the core as messages. Backends (the simulator,
//! Kubernetes, AWS, PostgreSQL) implement these traits and never see the UI.

use std::time::Duration;

use async_trait::async_trait;
use thiserror::Error;

use crate::domain::{ActionOutcome, ActionRequest, DbSnapshot, LogLine, MetricSeries, Workload};

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
}

/// A stream of log lines. `next_batch` waits until lines arrive or until
/// `max_wait` passes (then it returns an empty batch).
#[async_trait]
pub trait LogSource: Send {
    fn label(&self) -> String;
    async fn next_batch(&mut self, max_wait: Duration) -> Result<Vec<LogLine>, SourceError>;
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
pub trait ActionExecutor: Send + Sync {
    async fn execute(&self, request: &ActionRequest) -> Result<ActionOutcome, SourceError>;
}

/// An executor that refuses everything: what `--read-only` installs, so a
/// bug in the UI still cannot change the estate.
pub struct ReadOnlyExecutor;

#[async_trait]
impl ActionExecutor for ReadOnlyExecutor {
    async fn execute(&self, request: &ActionRequest) -> Result<ActionOutcome, SourceError> {
        Err(SourceError::Blocked(format!(
            "read-only mode: {} was not run (opsdeck was started with --read-only)",
            request.describe()
        )))
    }
}

/// Every backend the driver runs, for one session of the console.
pub struct Backends {
    /// Shown in the status bar as the context.
    pub context: String,
    pub workloads: Vec<Box<dyn WorkloadSource>>,
    pub logs: Vec<Box<dyn LogSource>>,
    pub metrics: Vec<Box<dyn MetricSource>>,
    pub databases: Vec<Box<dyn DatabaseSource>>,
    pub executor: Box<dyn ActionExecutor>,
}
