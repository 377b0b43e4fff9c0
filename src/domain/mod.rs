//! Domain model shared by the core, the UI and every backend.
//!
//! Nothing here knows about Kubernetes, AWS or PostgreSQL types: backends
//! convert their API objects into these rows with pure functions.

mod change;
mod database;
mod detail;
mod insights;
mod log_order;
pub mod log_text;
mod target;
mod telemetry;
mod workload;

pub use change::{Change, ChangeOutcome, Preview, PreviewError, RollbackPlan};
pub use database::{
    DbSession, DbSnapshot, QueryRule, SessionState, SessionTarget, nothing_to_cancel,
};
pub use detail::{Detail, DetailRow, DetailSection, DetailTarget, Tone};
pub use insights::{QueryResults, QueryStatus};
pub use log_order::{LogOrder, OrderedStream, Placed, REORDER_WINDOW};
pub use target::Target;
pub use telemetry::{
    ALARM_KEY_PREFIX, Level, LogLine, MetricSeries, Point, StreamState, alarm_state_word,
};
pub use workload::{Health, Workload, WorkloadKind, WorkloadRef, rollout_health};
