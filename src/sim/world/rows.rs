//! The workload rows of the estate: Kubernetes deployments with their
//! pods, then ECS services with their tasks.

use std::time::{Duration, SystemTime};

use crate::domain::{Health, Workload, WorkloadKind, WorkloadRef, rollout_health};
use crate::sim::ecs::{EcsService, EcsTask, TaskHealth, TaskStatus};
use crate::sim::k8s::{ContainerState, Pod};

use super::World;

const TEN_MINUTES: Duration = Duration::from_secs(600);

impl World {
    /// Deployments with their pods, then ECS services with their tasks.
    pub fn workloads(&self) -> Vec<Workload> {
        let mut out = self.kubernetes_rows();
        out.extend(self.ecs_rows());
        out
    }

    /// Each deployment, then its pods.
    fn kubernetes_rows(&self) -> Vec<Workload> {
        let now = self.now();
        let mut out = Vec::new();
        for d in &self.k8s.deployments {
            let mut pods: Vec<&Pod> = self
                .k8s
                .pods
                .iter()
                .filter(|p| {
                    self.k8s
                        .deployment_of_pod(p)
                        .is_some_and(|pd| pd.meta.uid == d.meta.uid)
                })
                .collect();
            pods.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
            let pod_rows: Vec<Workload> = pods
                .iter()
                .map(|p| self.pod_row(p, &d.meta.name, now))
                .collect();
            let live: Vec<&&Pod> = pods.iter().filter(|p| !p.terminating()).collect();
            let ready = d.status.ready_replicas;
            let desired = d.replicas;
            let rolling = d.status.updated_replicas < desired || d.status.replicas > desired;
            let status = if rolling {
                format!(
                    "Progressing {}/{} updated",
                    d.status.updated_replicas, desired
                )
            } else if ready < desired {
                "Degraded".to_string()
            } else {
                "Available".to_string()
            };
            let mut health = Health::Ok;
            let mut reasons = Vec::new();
            if ready < desired {
                health = rollout_health(ready, desired);
                reasons.push(format!("{ready}/{desired} ready"));
            }
            let bad_pods = pod_rows
                .iter()
                .filter(|r| r.health == Health::Critical)
                .count();
            if bad_pods > 0 {
                health = health.max(Health::Warn);
                let what = pod_rows
                    .iter()
                    .find(|r| r.health == Health::Critical)
                    .and_then(|r| r.reason.clone())
                    .unwrap_or_default();
                let s = if bad_pods == 1 { "" } else { "s" };
                reasons.push(format!("{bad_pods} pod{s} failing ({what})"));
            }
            if rolling {
                reasons.push(format!("rollout to revision {} in progress", d.revision()));
            }
            out.push(Workload {
                id: WorkloadRef::new(WorkloadKind::Deployment, &d.meta.namespace, &d.meta.name),
                status,
                ready,
                desired,
                restarts: live.iter().map(|p| p.container.restart_count).sum(),
                oom_killed: live.iter().any(|p| oom(p)),
                health,
                reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
                owner: None,
                revision: Some(d.revision()),
                created: d.meta.creation,
            });
            out.extend(pod_rows);
        }
        out
    }

    fn pod_row(&self, p: &Pod, deployment: &str, now: SystemTime) -> Workload {
        let recent = p.restarts_within(now, TEN_MINUTES);
        let last = p
            .container
            .last_termination
            .as_ref()
            .map(|t| t.reason.as_str());
        let status = p.status_text();
        let (health, reason) = if p.terminating() {
            (Health::Ok, Some("terminating".to_string()))
        } else if matches!(&p.container.state, ContainerState::Terminated { .. })
            || status == "CrashLoopBackOff"
        {
            let why = last.unwrap_or("Error");
            (
                Health::Critical,
                Some(format!(
                    "{why} (exit 137), back-off restarting; {recent} restarts in 10m"
                )),
            )
        } else if recent > 3 {
            (
                Health::Critical,
                Some(format!(
                    "{recent} restarts in 10m (last: {})",
                    last.unwrap_or("Error")
                )),
            )
        } else if !p.ready() {
            (Health::Warn, Some(format!("not ready ({status})")))
        } else if recent > 0 {
            (
                Health::Warn,
                Some(format!(
                    "{recent} restarts in 10m (last: {})",
                    last.unwrap_or("Error")
                )),
            )
        } else {
            (Health::Ok, None)
        };
        Workload {
            id: WorkloadRef::new(WorkloadKind::Pod, &p.meta.namespace, &p.meta.name),
            status,
            ready: u32::from(p.ready()),
            desired: 1,
            restarts: p.container.restart_count,
            oom_killed: oom(p),
            health,
            reason,
            owner: Some(deployment.to_string()),
            revision: self.k8s.replica_set_of_pod(p).map(|rs| rs.revision()),
            created: p.meta.creation,
        }
    }
    /// Each ECS service, then its tasks (running first, then the most
    /// recently stopped).
    fn ecs_rows(&self) -> Vec<Workload> {
        let mut out = Vec::new();
        for svc in &self.ecs.services {
            let mut tasks: Vec<&EcsTask> = self
                .ecs
                .tasks
                .iter()
                .filter(|t| t.service == svc.name)
                .collect();
            out.push(self.service_row(svc, &tasks));
            tasks.sort_by_key(|t| {
                (
                    t.last_status == TaskStatus::Stopped,
                    std::cmp::Reverse(t.stopped),
                    t.created,
                    t.id.clone(),
                )
            });
            out.extend(tasks.into_iter().map(|t| task_row(svc, t)));
        }
        out
    }

    fn service_row(&self, svc: &EcsService, tasks: &[&EcsTask]) -> Workload {
        let running = tasks
            .iter()
            .filter(|t| t.last_status == TaskStatus::Running)
            .count() as u32;
        let unhealthy = tasks
            .iter()
            .filter(|t| t.last_status == TaskStatus::Running && t.health == TaskHealth::Unhealthy)
            .count();
        let mut health = Health::Ok;
        let mut reasons = Vec::new();
        if running < svc.desired {
            health = rollout_health(running, svc.desired);
            reasons.push(format!("{running}/{} running", svc.desired));
        }
        if unhealthy > 0 {
            health = health.max(Health::Warn);
            reasons.push(format!("{unhealthy} task(s) UNHEALTHY"));
        }
        if health != Health::Ok {
            if let Some(reason) = tasks
                .iter()
                .filter_map(|t| t.stopped.zip(t.stopped_reason.as_ref()))
                .max_by_key(|(at, _)| *at)
                .map(|(_, r)| r)
            {
                reasons.push(format!("last stop: {reason}"));
            }
        }
        let status = if svc.deployments.len() > 1 {
            "ACTIVE (deploying)"
        } else {
            "ACTIVE"
        };
        Workload {
            id: WorkloadRef::new(WorkloadKind::EcsService, &svc.cluster, &svc.name),
            status: status.into(),
            ready: running,
            desired: svc.desired,
            restarts: 0,
            oom_killed: false,
            health,
            reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
            owner: None,
            revision: Some(svc.task_revision),
            created: svc.deployments.first().map_or(self.start, |d| d.created),
        }
    }
}

fn task_row(svc: &EcsService, t: &EcsTask) -> Workload {
    let (health, reason) = match (t.last_status, t.health) {
        (TaskStatus::Stopped, _) => (Health::Unknown, t.stopped_reason.clone()),
        (TaskStatus::Running, TaskHealth::Unhealthy) => (
            Health::Critical,
            Some(format!(
                "failing ELB health checks (target-group {}-tg)",
                svc.name
            )),
        ),
        (TaskStatus::Running, TaskHealth::Healthy) => (Health::Ok, None),
        (TaskStatus::Running, TaskHealth::Unknown) => {
            (Health::Unknown, Some("health check grace period".into()))
        }
        (s, _) => (Health::Warn, Some(format!("starting ({})", s.as_str()))),
    };
    Workload {
        id: WorkloadRef::new(WorkloadKind::EcsTask, &t.cluster, &t.id),
        status: if t.last_status == TaskStatus::Running {
            format!("RUNNING {}", t.health.as_str())
        } else {
            t.last_status.as_str().into()
        },
        ready: u32::from(t.last_status == TaskStatus::Running && t.health == TaskHealth::Healthy),
        desired: 1,
        restarts: 0,
        oom_killed: false,
        health,
        reason,
        owner: Some(svc.name.clone()),
        revision: Some(t.task_revision),
        created: t.created,
    }
}

fn oom(p: &Pod) -> bool {
    p.container
        .last_termination
        .as_ref()
        .is_some_and(|t| t.reason == "OOMKilled")
}
