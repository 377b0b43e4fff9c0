//! The Kubernetes backend: kube-rs clients behind opsdeck's source traits.
//!
//! One [`KubeBackend`] holds a client for one kubeconfig context and the
//! reflectors (watch-fed caches) of pods, deployments and ReplicaSets in one
//! namespace (or all of them). The trait objects it hands out share those
//! caches; when the last of them is dropped, every background task stops.
//!
//! - [`config`]: kubeconfig, contexts, client, error mapping.
//! - [`convert`]: pure conversions from API objects to [`crate::domain`] rows.
//! - [`watch`]: the reflector tasks and the workload source.
//! - [`logs`]: following the logs of many pods at once.
//! - [`actions`]: the executor (scale, rollout undo/restart, delete pod),
//!   its server-side dry run and its access review.
//! - [`metrics`]: pod metrics from `metrics.k8s.io` when the cluster serves it.

pub mod actions;
mod backend;
pub mod config;
pub mod convert;
mod describe;
pub mod events;
mod liveness;
mod log_follow;
mod log_options;
mod log_retry;
pub mod logs;
pub mod metrics;
mod options;
mod rollback;
pub mod watch;

pub use actions::KubeExecutor;
pub use backend::{KubeBackend, KubeSwitcher, backends, connect};
pub use config::{connect_client, contexts, map_kube_error};
pub use logs::{KubeLogs, LogOptions, LogSelector};
pub use metrics::KubeMetrics;
pub use options::KubeOptions;
pub(crate) use options::TaskGuard;
pub use watch::{KubeWorkloads, WatchPhase};
