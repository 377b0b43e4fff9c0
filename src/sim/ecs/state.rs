//! The cluster's state: services and tasks, and launching, stopping and
//! deploying them.

use std::time::SystemTime;

use crate::sim::rng::Rng;

use super::objects::{EcsDeployment, EcsService, EcsTask, TaskHealth, TaskStatus};

pub const REGION: &str = "eu-west-1";
pub const ACCOUNT: &str = "123456789012";

/// One cluster's services and tasks.
#[derive(Debug, Clone, PartialEq)]
pub struct EcsState {
    pub cluster: String,
    pub services: Vec<EcsService>,
    pub tasks: Vec<EcsTask>,
    /// Bumped when the environment a deployment captured changes.
    pub config_epoch: u64,
}

impl EcsState {
    pub fn new(cluster: &str) -> Self {
        Self {
            cluster: cluster.into(),
            services: Vec::new(),
            tasks: Vec::new(),
            config_epoch: 1,
        }
    }

    pub fn service(&self, name: &str) -> Option<&EcsService> {
        self.services.iter().find(|s| s.name == name)
    }

    pub fn service_mut(&mut self, name: &str) -> Option<&mut EcsService> {
        self.services.iter_mut().find(|s| s.name == name)
    }

    pub fn add_service(
        &mut self,
        rng: &mut Rng,
        name: &str,
        desired: u32,
        task_revision: u64,
        created: SystemTime,
    ) {
        let dep = EcsDeployment {
            id: deployment_id(rng),
            status: "PRIMARY".into(),
            task_revision,
            created,
            config_epoch: self.config_epoch,
        };
        let svc = EcsService {
            cluster: self.cluster.clone(),
            name: name.into(),
            arn: format!(
                "arn:aws:ecs:{REGION}:{ACCOUNT}:service/{}/{name}",
                self.cluster
            ),
            desired,
            task_family: name.into(),
            task_revision,
            deployments: vec![dep],
            events: Vec::new(),
            target_group: format!(
                "arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}-tg/{}",
                rng.hex(16)
            ),
            failures: 0,
            next_launch: None,
        };
        self.services.push(svc);
    }

    /// Launch a task of a service's primary deployment. `running` starts it
    /// already healthy (initial state).
    pub fn launch(
        &mut self,
        rng: &mut Rng,
        service: &str,
        now: SystemTime,
        running: bool,
        created: SystemTime,
    ) {
        let Some(svc) = self.service(service) else {
            return;
        };
        let Some(dep) = svc.primary() else {
            return;
        };
        let id = rng.hex(32);
        let task = EcsTask {
            arn: format!("arn:aws:ecs:{REGION}:{ACCOUNT}:task/{}/{id}", self.cluster),
            id,
            cluster: self.cluster.clone(),
            service: service.into(),
            deployment_id: dep.id.clone(),
            task_revision: dep.task_revision,
            last_status: if running {
                TaskStatus::Running
            } else {
                TaskStatus::Provisioning
            },
            desired_status: TaskStatus::Running,
            health: if running {
                TaskHealth::Healthy
            } else {
                TaskHealth::Unknown
            },
            created,
            started: running.then_some(created),
            stopped: None,
            stopped_reason: None,
            stop_code: None,
            ip: format!("10.0.{}.{}", rng.range(32, 48), rng.range(2, 250)),
            cpu_pct: if running {
                rng.uniform(28.0, 38.0)
            } else {
                0.0
            },
            status_since: if running { created } else { now },
            unhealthy_since: None,
            degrade_at: None,
        };
        self.tasks.push(task);
    }

    /// Stop a task with a reason.
    pub fn stop(&mut self, i: usize, now: SystemTime, reason: &str, code: &str) {
        if let Some(t) = self.tasks.get_mut(i) {
            if t.last_status != TaskStatus::Stopped {
                t.last_status = TaskStatus::Stopped;
                t.desired_status = TaskStatus::Stopped;
                t.stopped = Some(now);
                t.stopped_reason = Some(reason.into());
                t.stop_code = Some(code.into());
                t.status_since = now;
                t.cpu_pct = 0.0;
            }
        }
    }

    pub(super) fn stale(&self, deployment_id: &str) -> bool {
        self.services
            .iter()
            .flat_map(|s| s.deployments.iter())
            .find(|d| d.id == deployment_id)
            .is_some_and(|d| d.config_epoch < self.config_epoch)
    }

    /// Start a new PRIMARY deployment (UpdateService forceNewDeployment).
    pub fn force_new_deployment(
        &mut self,
        rng: &mut Rng,
        service: &str,
        now: SystemTime,
    ) -> Option<String> {
        self.deploy(rng, service, None, now)
    }

    /// Start a new PRIMARY deployment, of `revision` if given (UpdateService
    /// taskDefinition), else of the current one.
    pub fn deploy(
        &mut self,
        rng: &mut Rng,
        service: &str,
        revision: Option<u64>,
        now: SystemTime,
    ) -> Option<String> {
        let epoch = self.config_epoch;
        let svc = self.service_mut(service)?;
        if let Some(r) = revision {
            svc.task_revision = r;
        }
        for d in &mut svc.deployments {
            d.status = "ACTIVE".into();
        }
        let id = deployment_id(rng);
        svc.deployments.push(EcsDeployment {
            id: id.clone(),
            status: "PRIMARY".into(),
            task_revision: svc.task_revision,
            created: now,
            config_epoch: epoch,
        });
        svc.failures = 0;
        svc.next_launch = None;
        let text = format!("(service {}) has started a new deployment {id}.", svc.name);
        svc.event(now, text);
        Some(id)
    }
}

fn deployment_id(rng: &mut Rng) -> String {
    format!(
        "ecs-svc/{:019}",
        rng.range(1_000_000_000_000_000_000, 9_999_999_999_999_999_999)
    )
}
