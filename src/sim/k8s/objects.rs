//! The Kubernetes objects of the simulation: metadata, deployments,
//! ReplicaSets, pods and events, with what the controllers and the API
//! server read off them.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use crate::sim::rng::k8s_hash;

pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
pub const RESTARTED_AT_ANNOTATION: &str = "kubectl.kubernetes.io/restartedAt";
pub const TEMPLATE_HASH_LABEL: &str = "pod-template-hash";

/// `metadata` of any object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectMeta {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub resource_version: u64,
    pub generation: u64,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub owner: Option<OwnerRef>,
    pub creation: SystemTime,
    pub deletion: Option<SystemTime>,
}

/// `metadata.ownerReferences[0]` (controller = true).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRef {
    pub kind: String,
    pub name: String,
    pub uid: String,
}

/// The part of a pod spec the simulation cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodTemplate {
    pub labels: BTreeMap<String, String>,
    /// Annotations on the template (`kubectl.kubernetes.io/restartedAt`).
    pub annotations: BTreeMap<String, String>,
    pub container: String,
    pub image: String,
    pub memory_limit_mib: u64,
    pub cpu_millis: u64,
    /// The rest of the template as Kubernetes JSON (a `PodTemplateSpec`), when
    /// it was written through the API with fields the simulation does not
    /// model (env, ports, probes, ...). `None` for templates the simulation
    /// made itself. The fields above win over the same fields in here.
    pub extra: Option<serde_json::Value>,
}

impl PodTemplate {
    /// The image tag (`1.9.0`).
    pub fn tag(&self) -> &str {
        self.image.rsplit_once(':').map_or("latest", |(_, t)| t)
    }

    /// The pod-template-hash of this template.
    pub fn hash(&self) -> String {
        let mut canon = format!(
            "{}|{}|{}|{}",
            self.container, self.image, self.memory_limit_mib, self.cpu_millis
        );
        for (k, v) in self.labels.iter().chain(self.annotations.iter()) {
            canon.push_str(&format!("|{k}={v}"));
        }
        if let Some(extra) = &self.extra {
            canon.push_str(&format!("|{extra}"));
        }
        k8s_hash(&canon, 10)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeploymentStatus {
    pub observed_generation: u64,
    pub replicas: u32,
    pub updated_replicas: u32,
    pub ready_replicas: u32,
    pub available_replicas: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub meta: ObjectMeta,
    pub replicas: u32,
    pub selector: BTreeMap<String, String>,
    pub template: PodTemplate,
    pub status: DeploymentStatus,
}

impl Deployment {
    pub fn revision(&self) -> u64 {
        revision_of(&self.meta)
    }

    /// RollingUpdate defaults: maxSurge 25% rounded up, maxUnavailable 25% rounded down.
    pub fn max_surge(&self) -> u32 {
        self.replicas.div_ceil(4)
    }

    pub fn max_unavailable(&self) -> u32 {
        let u = self.replicas / 4;
        if u == 0 && self.max_surge() == 0 {
            1
        } else {
            u
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaSet {
    pub meta: ObjectMeta,
    pub replicas: u32,
    pub template: PodTemplate,
    pub status_ready: u32,
}

impl ReplicaSet {
    pub fn revision(&self) -> u64 {
        revision_of(&self.meta)
    }

    pub fn template_hash(&self) -> &str {
        self.meta
            .labels
            .get(TEMPLATE_HASH_LABEL)
            .map_or("", String::as_str)
    }
}

fn revision_of(meta: &ObjectMeta) -> u64 {
    meta.annotations
        .get(REVISION_ANNOTATION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl PodPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            PodPhase::Pending => "Pending",
            PodPhase::Running => "Running",
            PodPhase::Succeeded => "Succeeded",
            PodPhase::Failed => "Failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerState {
    Waiting {
        reason: String,
    },
    Running {
        started: SystemTime,
    },
    Terminated {
        reason: String,
        exit_code: i32,
        finished: SystemTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Termination {
    pub reason: String,
    pub exit_code: i32,
    pub finished: SystemTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerStatus {
    pub name: String,
    pub image: String,
    pub state: ContainerState,
    pub ready: bool,
    pub restart_count: u32,
    pub last_termination: Option<Termination>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pod {
    pub meta: ObjectMeta,
    pub phase: PodPhase,
    pub ip: String,
    pub node: String,
    pub memory_limit_mib: u64,
    pub container: ContainerStatus,
    /// When each restart happened (for "restarts in the last 10 minutes").
    pub restart_times: Vec<SystemTime>,
    /// Working set of the container.
    pub memory_mib: f64,
    /// Simulation bookkeeping: when the container starts / becomes ready /
    /// leaves backoff, and the current crash streak.
    pub start_at: SystemTime,
    pub ready_at: Option<SystemTime>,
    pub backoff_until: Option<SystemTime>,
    pub crash_streak: u32,
}

impl Pod {
    pub fn app(&self) -> &str {
        self.meta.labels.get("app").map_or("", String::as_str)
    }

    pub fn terminating(&self) -> bool {
        self.meta.deletion.is_some()
    }

    pub fn container_running(&self) -> bool {
        !self.terminating() && matches!(self.container.state, ContainerState::Running { .. })
    }

    pub fn ready(&self) -> bool {
        !self.terminating() && self.container.ready
    }

    /// The STATUS column of `kubectl get pods`.
    pub fn status_text(&self) -> String {
        if self.terminating() {
            return "Terminating".into();
        }
        match &self.container.state {
            ContainerState::Waiting { reason } => reason.clone(),
            ContainerState::Terminated { reason, .. } => reason.clone(),
            ContainerState::Running { .. } => self.phase.as_str().into(),
        }
    }

    pub fn restarts_within(&self, now: SystemTime, window: Duration) -> usize {
        self.restart_times
            .iter()
            .filter(|t| now.duration_since(**t).map_or(true, |d| d <= window))
            .count()
    }

    pub fn memory_pct(&self) -> f64 {
        if self.memory_limit_mib == 0 {
            0.0
        } else {
            self.memory_mib / self.memory_limit_mib as f64 * 100.0
        }
    }
}

/// The object an [`Event`] is about (`involvedObject`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvolvedObject {
    pub kind: String,
    pub api_version: String,
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub field_path: Option<String>,
}

/// A `core/v1` Event. Repeats of the same reason and message about the same
/// object are counted on one event, as the event recorder does.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub meta: ObjectMeta,
    pub involved: InvolvedObject,
    pub reason: String,
    pub message: String,
    pub warning: bool,
    /// `source.component` (`kubelet`, `deployment-controller`, ...).
    pub component: String,
    /// `source.host` (the node, for kubelet events).
    pub host: Option<String>,
    pub first: SystemTime,
    pub last: SystemTime,
    pub count: u32,
}

impl ObjectMeta {
    /// This object as an event's `involvedObject`.
    pub fn involved(&self, kind: &str, api_version: &str) -> InvolvedObject {
        InvolvedObject {
            kind: kind.into(),
            api_version: api_version.into(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            uid: self.uid.clone(),
            field_path: None,
        }
    }
}
