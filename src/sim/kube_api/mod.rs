//! The simulated estate served as a Kubernetes API over HTTP on 127.0.0.1,
//! close enough to the real one for `kubectl` and kube-rs.
//!
//! Every request steps the shared [`SimEstate`] to the wall clock, records
//! the object changes in the world's journal (for watches) and answers from
//! the simulated objects, rendered through k8s-openapi types. Writes go
//! through the simulation's own controllers: a changed deployment template
//! makes (or reuses) a ReplicaSet on the next tick, exactly as a rollout.

mod api;
mod delete;
mod discovery;
mod logs;
mod metrics;
pub(crate) mod objects;
mod patch;
mod rbac;
mod request;
mod rest;
mod scale;
mod select;
mod serve;
mod server;
mod status;
mod stream;
mod table;
mod watch;
mod write;

pub(crate) use api::Api;
pub use objects::Res;
pub use rbac::{ADMIN_TOKEN, VIEWER_TOKEN};
pub(crate) use request::Call;
pub use server::{ApiServer, ServeOptions, kubeconfig_for, normalised_deployment};
