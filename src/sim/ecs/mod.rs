//! The simulated ECS cluster: services, deployments and tasks, with the
//! service scheduler's rules in miniature (launch to desired count, ELB
//! health checks, replacement throttling, rolling force-new-deployment).

mod objects;
mod scheduler;
mod state;

pub use objects::{EcsDeployment, EcsService, EcsTask, TaskHealth, TaskStatus};
pub use state::{ACCOUNT, EcsState, REGION};
