//! Kubernetes objects of the simulated estate, modelled closely enough to be
//! served over the Kubernetes REST API: uids, a resourceVersion counter,
//! labels, owner references, revision annotations, generations, events and
//! a change journal for watches. The controllers here (deployment,
//! ReplicaSet, kubelet) follow the real ones' rules in miniature.

mod deployment;
mod events;
mod journal;
mod kubelet;
mod memory;
mod objects;
mod replicaset;
mod state;

pub use events::{EVENT_CAPACITY, EventText};
pub use journal::{Change, ChangeType, JOURNAL_CAPACITY, Journal, Object};
pub use memory::MemoryModel;
pub use objects::{
    ContainerState, ContainerStatus, Deployment, DeploymentStatus, Event, InvolvedObject,
    ObjectMeta, OwnerRef, Pod, PodPhase, PodTemplate, RESTARTED_AT_ANNOTATION, REVISION_ANNOTATION,
    ReplicaSet, TEMPLATE_HASH_LABEL, Termination,
};
pub use state::K8sState;
