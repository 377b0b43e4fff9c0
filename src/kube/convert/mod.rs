//! Pure conversions from Kubernetes API objects to opsdeck rows.
//!
//! Nothing here does I/O: the reflector caches feed these functions, and the
//! tests feed them recorded payloads from `tests/fixtures/kube/`.
//!
//! The parts: [`meta`] (object metadata, annotations and ownership),
//! [`pods`] (a pod as a row, and its `kubectl get pods` status), [`rows`]
//! (deployment rows, and every row in the Workloads pane's order) and
//! [`log_line`] (a `kubectl logs --timestamps` line).

pub mod detail;
mod log_line;
mod meta;
mod pods;
mod rows;

pub use log_line::parse_log_line;
pub use meta::{
    RECENT, RESTARTED_AT_ANNOTATION, REVISION_ANNOTATION, TEMPLATE_HASH_LABEL, controller_of,
    owned_replica_sets, pod_deployment, pod_owner_name, revision_of, system_time,
};
pub use pods::{images, pod_status_text, pod_to_workload};
pub use rows::{deployment_to_workload, workload_rows};
