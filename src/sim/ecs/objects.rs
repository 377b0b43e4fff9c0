//! The ECS objects: services with their deployments, and tasks.

use std::time::SystemTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Provisioning,
    Pending,
    Running,
    Stopped,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Provisioning => "PROVISIONING",
            TaskStatus::Pending => "PENDING",
            TaskStatus::Running => "RUNNING",
            TaskStatus::Stopped => "STOPPED",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskHealth {
    Healthy,
    Unhealthy,
    Unknown,
}

impl TaskHealth {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskHealth::Healthy => "HEALTHY",
            TaskHealth::Unhealthy => "UNHEALTHY",
            TaskHealth::Unknown => "UNKNOWN",
        }
    }
}

/// One ECS deployment of a service (PRIMARY or ACTIVE).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsDeployment {
    pub id: String,
    pub status: String,
    pub task_revision: u64,
    pub created: SystemTime,
    /// The environment configuration this deployment was created with
    /// (Service Connect endpoints); stale once the estate's epoch moves on.
    pub config_epoch: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsService {
    pub cluster: String,
    pub name: String,
    pub arn: String,
    pub desired: u32,
    pub task_family: String,
    pub task_revision: u64,
    pub deployments: Vec<EcsDeployment>,
    /// Service events, newest last.
    pub events: Vec<(SystemTime, String)>,
    pub target_group: String,
    /// Consecutive tasks that failed; drives launch throttling.
    pub failures: u32,
    pub next_launch: Option<SystemTime>,
}

impl EcsService {
    pub fn primary(&self) -> Option<&EcsDeployment> {
        self.deployments.iter().find(|d| d.status == "PRIMARY")
    }

    pub(super) fn event(&mut self, now: SystemTime, text: String) {
        self.events.push((now, text));
        if self.events.len() > 100 {
            self.events.remove(0);
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EcsTask {
    pub id: String,
    pub arn: String,
    pub cluster: String,
    pub service: String,
    pub deployment_id: String,
    pub task_revision: u64,
    pub last_status: TaskStatus,
    pub desired_status: TaskStatus,
    pub health: TaskHealth,
    pub created: SystemTime,
    pub started: Option<SystemTime>,
    pub stopped: Option<SystemTime>,
    pub stopped_reason: Option<String>,
    pub stop_code: Option<String>,
    pub ip: String,
    pub cpu_pct: f64,
    /// Simulation bookkeeping.
    pub status_since: SystemTime,
    pub unhealthy_since: Option<SystemTime>,
    /// For tasks of a stale deployment: when they start failing checks.
    pub degrade_at: Option<SystemTime>,
}

impl EcsTask {
    pub fn active(&self) -> bool {
        self.last_status != TaskStatus::Stopped
    }

    /// The awslogs stream (`checkout/checkout/<task id>`).
    pub fn log_stream(&self) -> String {
        format!("{}/{}/{}", self.service, self.service, self.id)
    }
}
