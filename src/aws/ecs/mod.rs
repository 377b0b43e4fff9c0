//! ECS services and tasks through aws-sdk-ecs: a
//! [`WorkloadSource`](crate::source::WorkloadSource) that lists them as
//! workload rows (with their load balancer target health from ELBv2) and a
//! [`ChangeExecutor`](crate::source::ChangeExecutor) that scales,
//! force-deploys, stops tasks and rolls a service back to its previous task
//! definition revision.
//!
//! The rows have the same shape as the simulator's (`src/sim/world/rows.rs`):
//! a service row (`ACTIVE`, running/desired) followed by its tasks
//! (`RUNNING HEALTHY`, `STOPPED` with the stopped reason).
//!
//! The parts: [`workloads`] (listing clusters, services and tasks),
//! [`rows`] (an SDK service or task as a row), [`target_health`] (ELBv2
//! target health folded into a service row), [`executor`] (the actions) and
//! [`paging`] (the next-token loops).

mod executor;
mod paging;
mod rows;
mod target_health;
mod workloads;

pub use executor::{EcsExecutor, STOP_REASON, active_service};
pub use rows::{last_segment, service_to_workload, task_to_workload};
pub use target_health::TargetHealth;
pub use workloads::{EcsWorkloads, ecs_backends};
