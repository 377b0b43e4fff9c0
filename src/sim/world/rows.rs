//! The workload rows of the estate: Kubernetes deployments with their
//! pods, converted from the simulated API objects by the same code that
//! converts a real cluster's, then ECS services with their tasks.

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;

use crate::domain::{Health, Workload, WorkloadKind, WorkloadRef, rollout_health};
use crate::kube::convert::workload_rows;
use crate::sim::ecs::{EcsService, EcsTask, TaskHealth, TaskStatus};
use crate::sim::kube_api::objects;

use super::World;

impl World {
    /// Deployments with their pods, then ECS services with their tasks.
    pub fn workloads(&self) -> Vec<Workload> {
        let mut out = self.kubernetes_rows();
        out.extend(self.ecs_workloads());
        out
    }

    /// The Kubernetes rows exactly as a real cluster's would be: the
    /// simulated objects as the API server serves them, converted by
    /// [`workload_rows`] (each deployment, then its pods).
    fn kubernetes_rows(&self) -> Vec<Workload> {
        let now = self.now();
        let k = &self.k8s;
        let deployments: Vec<apps::Deployment> = k
            .deployments
            .iter()
            .map(|d| objects::deployment(k, d))
            .collect();
        let replica_sets: Vec<apps::ReplicaSet> = k
            .replica_sets
            .iter()
            .map(|rs| objects::replica_set(k, rs))
            .collect();
        let pods: Vec<core::Pod> = k.pods.iter().map(|p| objects::pod(k, p, now)).collect();
        workload_rows(
            &deployments.iter().collect::<Vec<_>>(),
            &replica_sets.iter().collect::<Vec<_>>(),
            &pods.iter().collect::<Vec<_>>(),
            now,
        )
    }

    /// Each ECS service, then its tasks (running first, then the most
    /// recently stopped).
    pub fn ecs_workloads(&self) -> Vec<Workload> {
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
            uid: Some(svc.arn.clone()),
            image: None,
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
        uid: Some(t.arn.clone()),
        image: None,
    }
}
