//! AWS backends: ECS services and tasks through aws-sdk-ecs.
//!
//! [`config::sdk_config`] builds the SDK configuration from the default
//! credential chain; [`ecs::ecs_backends`] opens the workload source and the
//! executor for a set of clusters.

pub mod config;
pub mod ecs;
pub mod insights;
pub mod logs;
pub mod metrics;
pub mod session;

pub use config::{AwsOptions, AwsSettings, sdk_config};
pub use ecs::{
    EcsExecutor, EcsWorkloads, STOP_REASON, ecs_backends, map_sdk_error, service_to_workload,
    task_to_workload,
};
pub use insights::CloudWatchQueries;
pub use logs::{CloudWatchTail, TailOptions, cloudwatch_tail, logs_client};
pub use metrics::{
    AlarmFilter, AlarmSeries, AlarmState, AlarmStateValue, CloudWatchMetricSpec, CloudWatchMetrics,
    Stat, cloudwatch_metrics, parse_metric_specs, preset_alb, preset_ecs_service, preset_rds,
    preset_rds_with,
};
