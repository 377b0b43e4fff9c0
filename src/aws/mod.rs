//! AWS backends: ECS services and tasks (with their load balancer target
//! health), CloudWatch Logs tailing and Logs Insights queries, CloudWatch
//! metrics and alarms, and the ECS actions.
//!
//! [`sdk::sdk_config`] builds the SDK configuration from the default
//! credential chain; [`session::open`] opens every backend of an `opsdeck aws`
//! session as `[aws]` of `config.toml` ([`config::settings_from_toml`]) says.
//! [`error::map_sdk_error`] turns the errors of every SDK client into
//! [`SourceError`](crate::source::SourceError)s.

pub mod config;
pub mod describe;
pub mod ecs;
pub mod error;
pub mod insights;
pub mod logs;
pub mod metrics;
pub mod region;
pub mod sdk;
pub mod session;

pub use config::AwsSettings;
pub use ecs::{
    EcsExecutor, EcsWorkloads, STOP_REASON, ecs_backends, service_to_workload, task_to_workload,
};
pub use error::map_sdk_error;
pub use insights::CloudWatchQueries;
pub use logs::{CloudWatchTail, TailOptions, cloudwatch_tail, logs_client};
pub use metrics::{
    AlarmFilter, AlarmSeries, AlarmState, AlarmStateValue, CloudWatchMetricSpec, CloudWatchMetrics,
    Stat, cloudwatch_metrics, parse_metric_specs, preset_alb, preset_ecs_service, preset_rds,
    preset_rds_with,
};
pub use sdk::{AwsOptions, sdk_config};
