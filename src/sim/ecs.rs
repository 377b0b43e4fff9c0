//! The simulated ECS cluster: services, deployments and tasks, with the
//! service scheduler's rules in miniature (launch to desired count, ELB
//! health checks, replacement throttling, rolling force-new-deployment).

use std::time::{Duration, SystemTime};

use super::rng::Rng;

pub const REGION: &str = "eu-west-1";
pub const ACCOUNT: &str = "123456789012";
const PROVISIONING_FOR: Duration = Duration::from_secs(4);
const PENDING_FOR: Duration = Duration::from_secs(6);
/// healthCheckGracePeriodSeconds.
const HEALTH_GRACE: Duration = Duration::from_secs(20);
/// Three failed checks ten seconds apart.
const UNHEALTHY_FOR: Duration = Duration::from_secs(30);
/// Stopped tasks stay visible this long.
const STOPPED_RETENTION: Duration = Duration::from_secs(900);

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

    fn event(&mut self, now: SystemTime, text: String) {
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

    fn stale(&self, deployment_id: &str) -> bool {
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

    /// One second of the ECS agent, the load balancer's health checks and
    /// the service scheduler.
    pub fn tick(&mut self, rng: &mut Rng, now: SystemTime) {
        self.advance_tasks(rng, now);
        self.stop_unhealthy(now);
        for si in 0..self.services.len() {
            let svc = self.services[si].clone();
            let Some(primary) = svc.primary().cloned() else {
                continue;
            };
            self.run_desired(si, &svc, &primary, rng, now);
            self.drain_old(&svc, &primary, now);
            self.forget_drained(si, &primary, now);
        }
        self.tasks.retain(|t| {
            t.stopped.is_none_or(|s| {
                now.duration_since(s)
                    .map_or(true, |d| d < STOPPED_RETENTION)
            })
        });
    }

    /// Task lifecycle and health: provisioning, pending, running; tasks of a
    /// stale deployment turn unhealthy once they degrade.
    fn advance_tasks(&mut self, rng: &mut Rng, now: SystemTime) {
        for i in 0..self.tasks.len() {
            let stale = self.stale(&self.tasks[i].deployment_id);
            let t = &mut self.tasks[i];
            let since = now.duration_since(t.status_since).unwrap_or_default();
            match t.last_status {
                TaskStatus::Provisioning if since >= PROVISIONING_FOR => {
                    t.last_status = TaskStatus::Pending;
                    t.status_since = now;
                }
                TaskStatus::Pending if since >= PENDING_FOR => {
                    t.last_status = TaskStatus::Running;
                    t.status_since = now;
                    t.started = Some(now);
                    t.cpu_pct = rng.uniform(28.0, 38.0);
                }
                TaskStatus::Running => {
                    let up = t
                        .started
                        .and_then(|s| now.duration_since(s).ok())
                        .unwrap_or_default();
                    let failing = stale && t.degrade_at.is_none_or(|d| now >= d);
                    if up >= HEALTH_GRACE || t.health != TaskHealth::Unknown {
                        if failing {
                            if t.health != TaskHealth::Unhealthy {
                                t.health = TaskHealth::Unhealthy;
                                t.unhealthy_since = Some(now);
                            }
                        } else if up >= HEALTH_GRACE {
                            t.health = TaskHealth::Healthy;
                            t.unhealthy_since = None;
                        }
                    }
                    t.cpu_pct = if failing {
                        (t.cpu_pct + rng.uniform(-4.0, 6.0)).clamp(70.0, 97.0)
                    } else {
                        (t.cpu_pct + rng.uniform(-2.0, 2.0)).clamp(22.0, 45.0)
                    };
                }
                _ => {}
            }
        }
    }

    /// The load balancer reports failing targets; the scheduler stops them
    /// and backs off before launching replacements.
    fn stop_unhealthy(&mut self, now: SystemTime) {
        for i in 0..self.tasks.len() {
            let t = &self.tasks[i];
            if t.last_status == TaskStatus::Running
                && t.health == TaskHealth::Unhealthy
                && t.unhealthy_since
                    .is_some_and(|s| now.duration_since(s).is_ok_and(|d| d >= UNHEALTHY_FOR))
            {
                let service = t.service.clone();
                let id = t.id.clone();
                let tg = self
                    .service(&service)
                    .map(|s| s.target_group.clone())
                    .unwrap_or_default();
                self.stop(
                    i,
                    now,
                    &format!("Task failed ELB health checks in (target-group {tg})"),
                    "ServiceSchedulerInitiated",
                );
                if let Some(svc) = self.service_mut(&service) {
                    svc.failures += 1;
                    let delay = (15u64 << (svc.failures - 1).min(5)).min(300);
                    svc.next_launch = Some(now + Duration::from_secs(delay));
                    svc.event(
                        now,
                        format!("(service {service}) has stopped 1 running tasks: (task {id})."),
                    );
                    svc.event(
                        now,
                        format!("(service {service}) (port 8080) is unhealthy in (target-group {tg}) due to (reason Health checks failed)."),
                    );
                }
            }
        }
    }

    /// The scheduler keeps the desired count of the primary deployment's
    /// tasks: it launches missing ones (after any backoff) and stops surplus.
    fn run_desired(
        &mut self,
        si: usize,
        svc: &EcsService,
        primary: &EcsDeployment,
        rng: &mut Rng,
        now: SystemTime,
    ) {
        let primary_active: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| {
                self.tasks[i].service == svc.name
                    && self.tasks[i].deployment_id == primary.id
                    && self.tasks[i].active()
            })
            .collect();
        let missing = svc.desired as usize;
        if primary_active.len() < missing {
            if svc.next_launch.is_none_or(|n| now >= n) {
                let n = missing - primary_active.len();
                for _ in 0..n {
                    self.launch(rng, &svc.name, now, false, now);
                }
                let s = &mut self.services[si];
                s.next_launch = None;
                s.event(now, format!("(service {}) has started {n} tasks.", s.name));
            }
        } else if primary_active.len() > missing {
            let mut surplus = primary_active.clone();
            surplus.sort_by_key(|&i| std::cmp::Reverse(self.tasks[i].created));
            for &i in surplus.iter().take(primary_active.len() - missing) {
                self.stop(
                    i,
                    now,
                    &format!("Scaling activity initiated by (deployment {})", primary.id),
                    "ServiceSchedulerInitiated",
                );
            }
        }
    }

    /// Drain older deployments as the primary's tasks turn healthy.
    fn drain_old(&mut self, svc: &EcsService, primary: &EcsDeployment, now: SystemTime) {
        let healthy = (0..self.tasks.len())
            .filter(|&i| {
                let t = &self.tasks[i];
                t.service == svc.name
                    && t.deployment_id == primary.id
                    && t.last_status == TaskStatus::Running
                    && t.health == TaskHealth::Healthy
            })
            .count();
        let allowed_old = (svc.desired as usize).saturating_sub(healthy);
        let mut old: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| {
                self.tasks[i].service == svc.name
                    && self.tasks[i].deployment_id != primary.id
                    && self.tasks[i].active()
            })
            .collect();
        old.sort_by_key(|&i| {
            (
                self.tasks[i].health == TaskHealth::Healthy,
                self.tasks[i].created,
            )
        });
        if old.len() > allowed_old {
            for &i in old.iter().take(old.len() - allowed_old) {
                self.stop(
                    i,
                    now,
                    &format!("Scaling activity initiated by (deployment {})", primary.id),
                    "ServiceSchedulerInitiated",
                );
            }
        }
    }

    /// Deployments without active tasks go; the last one leaving completes
    /// the rollout.
    fn forget_drained(&mut self, si: usize, primary: &EcsDeployment, now: SystemTime) {
        let name = self.services[si].name.clone();
        let still_old: Vec<String> = self
            .tasks
            .iter()
            .filter(|t| t.service == name && t.active())
            .map(|t| t.deployment_id.clone())
            .collect();
        let s = &mut self.services[si];
        let before = s.deployments.len();
        s.deployments
            .retain(|d| d.status == "PRIMARY" || still_old.contains(&d.id));
        if s.deployments.len() < before && s.deployments.len() == 1 {
            let text = format!(
                "(service {}) (deployment {}) deployment completed.",
                s.name, primary.id
            );
            s.event(now, text);
        }
    }
}

fn deployment_id(rng: &mut Rng) -> String {
    format!(
        "ecs-svc/{:019}",
        rng.range(1_000_000_000_000_000_000, 9_999_999_999_999_999_999)
    )
}
