//! The service scheduler and the load balancer, tick by tick: tasks go
//! from provisioning to running, fail health checks, are stopped and
//! replaced; deployments roll.

use std::time::{Duration, SystemTime};

use crate::sim::rng::Rng;

use super::objects::{EcsDeployment, EcsService, TaskHealth, TaskStatus};
use super::state::EcsState;

const PROVISIONING_FOR: Duration = Duration::from_secs(4);
const PENDING_FOR: Duration = Duration::from_secs(6);
/// healthCheckGracePeriodSeconds.
const HEALTH_GRACE: Duration = Duration::from_secs(20);
/// Three failed checks ten seconds apart.
const UNHEALTHY_FOR: Duration = Duration::from_secs(30);
/// Stopped tasks stay visible this long.
const STOPPED_RETENTION: Duration = Duration::from_secs(900);

impl EcsState {
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
