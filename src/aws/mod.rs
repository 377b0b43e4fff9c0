//! AWS backends: ECS services and tasks through aws-sdk-ecs.
//!
//! [`config::sdk_config`] builds the SDK configuration from the default
//! credential chain; [`ecs::ecs_backends`] opens the workload source and the
//! executor for a set of clusters.

pub mod config;
pub mod ecs;

pub use config::{AwsOptions, sdk_config};
pub use ecs::{
    EcsExecutor, EcsWorkloads, STOP_REASON, ecs_backends, map_sdk_error, service_to_workload,
    task_to_workload,
};
