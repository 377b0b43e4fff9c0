//! Detail views of the simulated ECS cluster: a service with its
//! deployments, events and target health, and a task with its stop reason,
//! as DescribeServices, DescribeTasks and DescribeTargetHealth would answer.

use std::time::SystemTime;

use crate::domain::{
    Detail, DetailRow, DetailSection, DetailTarget, Tone, WorkloadKind, WorkloadRef,
};
use crate::source::SourceError;

use super::World;
use super::apply::not_found;
use crate::sim::ecs::{EcsTask, TaskHealth, TaskStatus};

/// How long ago `t` was, as `3m12s ago`.
fn ago(now: SystemTime, t: SystemTime) -> String {
    format!(
        "{} ago",
        crate::fmt::duration_short(now.duration_since(t).unwrap_or_default())
    )
}

impl World {
    /// The detail of an ECS service or task of the simulated cluster.
    pub fn describe_ecs(&self, target: &DetailTarget) -> Result<Detail, SourceError> {
        let DetailTarget::Workload(w) = target else {
            return Err(SourceError::Blocked(format!(
                "the simulator cannot describe {target}"
            )));
        };
        match w.kind {
            WorkloadKind::EcsService => self.describe_service(w),
            WorkloadKind::EcsTask => self.describe_task(w),
            _ => Err(SourceError::Blocked(format!(
                "the simulator's ECS side cannot describe {w}"
            ))),
        }
    }

    fn describe_service(&self, w: &WorkloadRef) -> Result<Detail, SourceError> {
        let now = self.now();
        let svc = self
            .ecs
            .services
            .iter()
            .find(|s| s.name == w.name && s.cluster == w.scope)
            .ok_or_else(|| not_found(w))?;
        let tasks: Vec<&EcsTask> = self
            .ecs
            .tasks
            .iter()
            .filter(|t| t.service == svc.name && t.active())
            .collect();
        let running = tasks
            .iter()
            .filter(|t| t.last_status == TaskStatus::Running)
            .count();
        let mut main = DetailSection::new("Service");
        main.field("cluster", &svc.cluster);
        main.field("arn", &svc.arn);
        main.field(
            "task definition",
            format!("{}:{}", svc.task_family, svc.task_revision),
        );
        main.push(DetailRow::toned(
            "tasks",
            format!(
                "{running} running, {} pending, {} desired",
                tasks.len() - running,
                svc.desired
            ),
            if running as u32 >= svc.desired {
                Tone::Ok
            } else {
                Tone::Bad
            },
        ));
        // The simulated account has no Application Auto Scaling targets.
        main.field("autoscaling", "none (no scalable target)");
        let mut deployments = DetailSection::new("Deployments");
        for d in &svc.deployments {
            let of_it: Vec<&&EcsTask> = tasks.iter().filter(|t| t.deployment_id == d.id).collect();
            let up = of_it
                .iter()
                .filter(|t| t.last_status == TaskStatus::Running)
                .count();
            let state = if d.status == "PRIMARY" && up as u32 >= svc.desired {
                "COMPLETED"
            } else {
                "IN_PROGRESS"
            };
            deployments.push(DetailRow::toned(
                format!("{} {}", d.status, d.id),
                format!(
                    "{}:{} · {up} running, {} pending · {state} · created {}",
                    svc.task_family,
                    d.task_revision,
                    of_it.len() - up,
                    ago(now, d.created)
                ),
                if state == "COMPLETED" {
                    Tone::Ok
                } else {
                    Tone::Warn
                },
            ));
        }
        let mut targets = DetailSection::new(format!("Target health ({}-tg)", svc.name));
        for t in &tasks {
            let (state, reason, tone) = match (t.last_status, t.health) {
                (TaskStatus::Running, TaskHealth::Healthy) => ("healthy", "", Tone::Ok),
                (TaskStatus::Running, TaskHealth::Unhealthy) => (
                    "unhealthy",
                    " · Target.ResponseCodeMismatch: health checks failed",
                    Tone::Bad,
                ),
                (TaskStatus::Running, TaskHealth::Unknown) => (
                    "initial",
                    " · Elb.RegistrationInProgress: target registration is in progress",
                    Tone::Warn,
                ),
                _ => ("unused", " · Target.NotRegistered", Tone::Plain),
            };
            targets.push(DetailRow::toned(
                format!("{}:8080", t.ip),
                format!("{state}{reason} (task {})", t.id),
                tone,
            ));
        }
        if targets.rows.is_empty() {
            targets.push(DetailRow::text_toned("no targets registered", Tone::Warn));
        }
        // Stopped tasks stay describable for a while, with why they stopped.
        let mut stopped: Vec<&EcsTask> = self
            .ecs
            .tasks
            .iter()
            .filter(|t| t.service == svc.name && !t.active())
            .collect();
        stopped.sort_by_key(|t| std::cmp::Reverse(t.stopped));
        stopped.truncate(5);
        let mut stops = DetailSection::new("Stopped tasks (newest first)");
        for t in &stopped {
            stops.push(DetailRow::toned(
                &t.id,
                format!(
                    "{}{}",
                    t.stopped_reason.as_deref().unwrap_or("no reason recorded"),
                    t.stopped
                        .map(|s| format!(" · {}", ago(now, s)))
                        .unwrap_or_default()
                ),
                Tone::Bad,
            ));
        }
        let mut events = DetailSection::new("Events (newest first)");
        for (at, text) in svc.events.iter().rev().take(20) {
            events.push(DetailRow::text(format!("{} {text}", ago(now, *at))));
        }
        let links = tasks
            .iter()
            .chain(stopped.iter())
            .map(|t| {
                DetailTarget::Workload(WorkloadRef::new(WorkloadKind::EcsTask, &t.cluster, &t.id))
            })
            .collect();
        Ok(Detail {
            sections: vec![main, deployments, targets, stops, events],
            yaml: None,
            links,
        })
    }

    fn describe_task(&self, w: &WorkloadRef) -> Result<Detail, SourceError> {
        let now = self.now();
        let t = self
            .ecs
            .tasks
            .iter()
            .find(|t| t.id == w.name && t.cluster == w.scope)
            .ok_or_else(|| not_found(w))?;
        let family = self
            .ecs
            .services
            .iter()
            .find(|s| s.name == t.service)
            .map_or_else(|| t.service.clone(), |s| s.task_family.clone());
        let mut main = DetailSection::new("Task");
        main.field("arn", &t.arn);
        main.field("service", &t.service);
        main.field("task definition", format!("{family}:{}", t.task_revision));
        main.field("deployment", &t.deployment_id);
        main.push(DetailRow::toned(
            "last status",
            t.last_status.as_str(),
            if t.last_status == TaskStatus::Running {
                Tone::Ok
            } else {
                Tone::Warn
            },
        ));
        main.field("desired status", t.desired_status.as_str());
        main.push(DetailRow::toned(
            "health",
            t.health.as_str(),
            match t.health {
                TaskHealth::Healthy => Tone::Ok,
                TaskHealth::Unhealthy => Tone::Bad,
                TaskHealth::Unknown => Tone::Warn,
            },
        ));
        main.field("ip", &t.ip);
        main.field("created", ago(now, t.created));
        if let Some(s) = t.started {
            main.field("started", ago(now, s));
        }
        if let Some(s) = t.stopped {
            main.field("stopped", ago(now, s));
        }
        if let Some(code) = &t.stop_code {
            main.push(DetailRow::toned("stop code", code, Tone::Bad));
        }
        if let Some(reason) = &t.stopped_reason {
            main.push(DetailRow::toned("stopped reason", reason, Tone::Bad));
        }
        let mut container = DetailSection::new(format!("Container {}", t.service));
        container.field("last status", t.last_status.as_str());
        container.field("health", t.health.as_str());
        Ok(Detail {
            sections: vec![main, container],
            yaml: None,
            links: vec![DetailTarget::Workload(WorkloadRef::new(
                WorkloadKind::EcsService,
                &t.cluster,
                &t.service,
            ))],
        })
    }
}
