//! Workload rows: a deployment, pod, ECS service or task, with its health.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// What kind of workload a row describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkloadKind {
    Deployment,
    Pod,
    EcsService,
    EcsTask,
}

impl WorkloadKind {
    /// The word used in prompts and the audit log (`deployment`, `ecs-service`).
    pub fn noun(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::Pod => "pod",
            WorkloadKind::EcsService => "ecs-service",
            WorkloadKind::EcsTask => "ecs-task",
        }
    }

    /// Short label for table cells.
    pub fn short(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deploy",
            WorkloadKind::Pod => "pod",
            WorkloadKind::EcsService => "svc",
            WorkloadKind::EcsTask => "task",
        }
    }
}

/// A reference to one workload: kind, scope (namespace or ECS cluster) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct WorkloadRef {
    pub kind: WorkloadKind,
    /// Kubernetes namespace or ECS cluster.
    pub scope: String,
    pub name: String,
}

impl WorkloadRef {
    pub fn new(kind: WorkloadKind, scope: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            kind,
            scope: scope.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for WorkloadRef {
    /// `deployment shop/api`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind.noun(), self.scope, self.name)
    }
}

/// Overall health, ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Ok,
    Unknown,
    Warn,
    Critical,
}

/// The health of a rollout from the replicas ready (Kubernetes) or tasks
/// running (ECS) against those desired, the one rule for both: all there is
/// ok; none, or half or fewer, is critical; fewer is a warning.
pub fn rollout_health(ready: u32, desired: u32) -> Health {
    if ready >= desired {
        Health::Ok
    } else if ready == 0 || ready.saturating_mul(2) <= desired {
        Health::Critical
    } else {
        Health::Warn
    }
}

/// One row of the Workloads pane: a deployment, pod, ECS service or ECS task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workload {
    pub id: WorkloadRef,
    /// Pod phase, ECS last status, or a rollout summary (`Running`, `CrashLoopBackOff`, `PENDING`).
    pub status: String,
    /// Ready (pods/containers) or running (deployments/services/tasks).
    pub ready: u32,
    /// Desired replicas / containers.
    pub desired: u32,
    pub restarts: u32,
    /// The last termination was OOMKilled.
    pub oom_killed: bool,
    pub health: Health,
    /// Why the health is not Ok, for the detail line.
    pub reason: Option<String>,
    /// Owner (the deployment of a pod, the service of a task).
    pub owner: Option<String>,
    /// Revision for deployments (ReplicaSet revision) or task definition revision.
    pub revision: Option<u64>,
    pub created: SystemTime,
    /// The object's identity where the backend has one (Kubernetes
    /// metadata.uid, the ECS ARN): a new object under the same name has
    /// another, so a selection pinned to the old one is not moved onto it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The container images it runs (`api:1.8.3, envoy:1.30`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

impl Workload {
    /// The deployment of a pod, or the ECS service of a task, when it has one.
    pub fn owner_ref(&self) -> Option<WorkloadRef> {
        let kind = match self.id.kind {
            WorkloadKind::Pod => WorkloadKind::Deployment,
            WorkloadKind::EcsTask => WorkloadKind::EcsService,
            WorkloadKind::Deployment | WorkloadKind::EcsService => return None,
        };
        Some(WorkloadRef::new(
            kind,
            self.id.scope.clone(),
            self.owner.clone()?,
        ))
    }

    /// On its way out: a stopped or stopping task, a terminating or
    /// finished pod.
    pub fn is_ending(&self) -> bool {
        matches!(
            self.status.as_str(),
            "STOPPED" | "DEPROVISIONING" | "STOPPING" | "Terminating" | "Succeeded"
        )
    }
}
