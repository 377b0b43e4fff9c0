//! One ECS service or task, as the SDK describes it, as a workload row.

use std::time::SystemTime;

use aws_sdk_ecs::primitives::DateTime;
use aws_sdk_ecs::types::{DeploymentRolloutState, HealthStatus, Service, ServiceEvent, Task};

use crate::domain::{Health, Workload, WorkloadKind, WorkloadRef, rollout_health};

/// One ECS service as a workload row: running/desired, the PRIMARY
/// deployment's rollout state, the latest service event as the reason.
pub fn service_to_workload(cluster: &str, svc: &Service) -> Workload {
    let name = svc
        .service_name()
        .map(str::to_string)
        .or_else(|| svc.service_arn().map(|a| last_segment(a).to_string()))
        .unwrap_or_default();
    let desired = count(svc.desired_count());
    let running = count(svc.running_count());
    let pending = count(svc.pending_count());
    let primary = svc
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"));
    let rollout = primary.and_then(|d| d.rollout_state());
    let failed = matches!(rollout, Some(DeploymentRolloutState::Failed));

    let mut health = Health::Ok;
    let mut reasons = Vec::new();
    if failed {
        health = Health::Critical;
        let why = primary
            .and_then(|d| d.rollout_state_reason())
            .filter(|r| !r.is_empty());
        reasons.push(match why {
            Some(r) => format!("rollout FAILED: {r}"),
            None => "rollout FAILED".to_string(),
        });
    }
    if running < desired {
        health = health.max(rollout_health(running, desired));
        reasons.push(format!("{running}/{desired} running"));
    }
    if pending > 0 {
        reasons.push(format!("{pending} pending"));
    }
    if let Some(ev) = latest_event(svc.events()).and_then(ServiceEvent::message) {
        reasons.push(ev.to_string());
    }

    let base = svc.status().unwrap_or("UNKNOWN");
    let status = if failed {
        format!("{base} (rollout failed)")
    } else if matches!(rollout, Some(DeploymentRolloutState::InProgress))
        || svc.deployments().len() > 1
    {
        format!("{base} (deploying)")
    } else {
        base.to_string()
    };
    let task_def = primary
        .and_then(|d| d.task_definition())
        .or_else(|| svc.task_definition());

    Workload {
        id: WorkloadRef::new(WorkloadKind::EcsService, cluster, name),
        status,
        ready: running,
        desired,
        restarts: 0,
        oom_killed: false,
        health,
        reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        owner: None,
        revision: task_def.and_then(revision_of),
        created: time_of(svc.created_at()),
        uid: svc.service_arn().map(str::to_string),
        image: None,
    }
}

/// One ECS task as a workload row: last status and health, the stopped
/// reason, its service (from the `service:NAME` group) and task definition revision.
pub fn task_to_workload(cluster: &str, task: &Task) -> Workload {
    let id = task.task_arn().map(last_segment).unwrap_or_default();
    let last = task.last_status().unwrap_or("UNKNOWN");
    let hs = task.health_status().unwrap_or(&HealthStatus::UnknownValue);
    let running = last == "RUNNING";
    let stopping = matches!(last, "DEACTIVATING" | "STOPPING" | "DEPROVISIONING");
    let (health, reason) = if stopping && task.stopped_reason().is_none() {
        (Health::Unknown, Some(format!("stopping ({last})")))
    } else if last == "STOPPED" || stopping {
        let reason = task.stopped_reason().map(str::to_string).or_else(|| {
            task.stop_code()
                .map(|c| format!("stop code {}", c.as_str()))
        });
        (Health::Unknown, reason)
    } else if running {
        match hs {
            HealthStatus::Unhealthy => (
                Health::Critical,
                Some("container health check failing (UNHEALTHY)".to_string()),
            ),
            // UNKNOWN: no health check configured, or still in its grace period.
            _ => (Health::Ok, None),
        }
    } else {
        (Health::Warn, Some(format!("starting ({last})")))
    };
    let status = if running {
        format!("RUNNING {}", hs.as_str())
    } else {
        last.to_string()
    };
    Workload {
        id: WorkloadRef::new(WorkloadKind::EcsTask, cluster, id),
        status,
        ready: u32::from(running && *hs != HealthStatus::Unhealthy),
        desired: 1,
        restarts: 0,
        oom_killed: false,
        health,
        reason,
        owner: task
            .group()
            .and_then(|g| g.strip_prefix("service:"))
            .map(str::to_string),
        revision: task.task_definition_arn().and_then(revision_of),
        created: time_of(task.created_at()),
        uid: task.task_arn().map(str::to_string),
        image: None,
    }
}

/// Put `text` in front of the row's reason.
pub(super) fn push_reason(row: &mut Workload, text: String) {
    row.reason = Some(match row.reason.take() {
        Some(r) => format!("{text}; {r}"),
        None => text,
    });
}

/// A count from the API (never negative in practice) as a `u32`.
pub(super) fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

/// `arn:aws:ecs:us-east-1:123:task/prod/abc` -> `abc`; a plain name stays.
pub fn last_segment(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// The revision of a task definition ARN or `family:revision`.
fn revision_of(task_def: &str) -> Option<u64> {
    task_def.rsplit_once(':').and_then(|(_, r)| r.parse().ok())
}

fn time_of(t: Option<&DateTime>) -> SystemTime {
    t.and_then(|t| SystemTime::try_from(*t).ok())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn latest_event(events: &[ServiceEvent]) -> Option<&ServiceEvent> {
    // The API lists events newest first; pick by time in case it does not.
    events
        .iter()
        .enumerate()
        .max_by(|(ia, a), (ib, b)| {
            let ta = a.created_at().map(|t| (t.secs(), t.subsec_nanos()));
            let tb = b.created_at().map(|t| (t.secs(), t.subsec_nanos()));
            // Same time: the earlier in the list is the newer.
            ta.cmp(&tb).then(ib.cmp(ia))
        })
        .map(|(_, e)| e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{Deployment, TaskStopCode};

    fn dt(secs: i64) -> DateTime {
        DateTime::from_secs(secs)
    }

    fn service(desired: i32, running: i32, rollout: DeploymentRolloutState) -> Service {
        Service::builder()
            .service_name("checkout")
            .service_arn("arn:aws:ecs:us-east-1:123456789012:service/prod/checkout")
            .status("ACTIVE")
            .desired_count(desired)
            .running_count(running)
            .pending_count(0)
            .task_definition("arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:7")
            .deployments(
                Deployment::builder()
                    .id("ecs-svc/1")
                    .status("PRIMARY")
                    .task_definition(
                        "arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:8",
                    )
                    .rollout_state(rollout)
                    .rollout_state_reason("tasks failed to start")
                    .build(),
            )
            .events(
                ServiceEvent::builder()
                    .id("2")
                    .created_at(dt(2_000))
                    .message("(service checkout) has reached a steady state.")
                    .build(),
            )
            .events(
                ServiceEvent::builder()
                    .id("1")
                    .created_at(dt(1_000))
                    .message("(service checkout) has started 2 tasks.")
                    .build(),
            )
            .created_at(dt(500))
            .build()
    }

    #[test]
    fn a_healthy_service_is_ok_with_the_latest_event_and_primary_revision() {
        let w = service_to_workload("prod", &service(2, 2, DeploymentRolloutState::Completed));
        assert_eq!(
            w.id,
            WorkloadRef::new(WorkloadKind::EcsService, "prod", "checkout")
        );
        assert_eq!(w.status, "ACTIVE");
        assert_eq!((w.ready, w.desired), (2, 2));
        assert_eq!(w.health, Health::Ok);
        assert_eq!(
            w.reason.as_deref(),
            Some("(service checkout) has reached a steady state.")
        );
        assert_eq!(w.revision, Some(8));
        assert_eq!(w.created, time_of(Some(&dt(500))));
    }

    #[test]
    fn service_health_follows_running_against_desired_and_rollout() {
        let warn = service_to_workload("prod", &service(3, 2, DeploymentRolloutState::InProgress));
        assert_eq!(warn.health, Health::Warn);
        assert_eq!(warn.status, "ACTIVE (deploying)");
        assert!(
            warn.reason
                .as_deref()
                .is_some_and(|r| r.starts_with("2/3 running"))
        );

        let none = service_to_workload("prod", &service(2, 0, DeploymentRolloutState::Completed));
        assert_eq!(none.health, Health::Critical);

        let failed = service_to_workload("prod", &service(2, 2, DeploymentRolloutState::Failed));
        assert_eq!(failed.health, Health::Critical);
        assert_eq!(failed.status, "ACTIVE (rollout failed)");
        assert!(
            failed
                .reason
                .as_deref()
                .is_some_and(|r| r.starts_with("rollout FAILED: tasks failed to start"))
        );

        let idle = service_to_workload("prod", &service(0, 0, DeploymentRolloutState::Completed));
        assert_eq!(idle.health, Health::Ok);
    }

    fn task(last: &str, health: HealthStatus) -> Task {
        task_builder(last, health).build()
    }

    fn task_builder(last: &str, health: HealthStatus) -> aws_sdk_ecs::types::builders::TaskBuilder {
        Task::builder()
            .task_arn("arn:aws:ecs:us-east-1:123456789012:task/prod/0123abcd")
            .cluster_arn("arn:aws:ecs:us-east-1:123456789012:cluster/prod")
            .task_definition_arn("arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:2")
            .group("service:checkout")
            .last_status(last)
            .desired_status("RUNNING")
            .health_status(health)
            .created_at(dt(100))
    }

    #[test]
    fn running_tasks_show_status_health_owner_and_revision() {
        let w = task_to_workload("prod", &task("RUNNING", HealthStatus::Healthy));
        assert_eq!(
            w.id,
            WorkloadRef::new(WorkloadKind::EcsTask, "prod", "0123abcd")
        );
        assert_eq!(w.status, "RUNNING HEALTHY");
        assert_eq!((w.ready, w.desired), (1, 1));
        assert_eq!(w.health, Health::Ok);
        assert_eq!(w.owner.as_deref(), Some("checkout"));
        assert_eq!(w.revision, Some(2));

        let sick = task_to_workload("prod", &task("RUNNING", HealthStatus::Unhealthy));
        assert_eq!(sick.status, "RUNNING UNHEALTHY");
        assert_eq!(sick.health, Health::Critical);
        assert_eq!(sick.ready, 0);

        let pending = task_to_workload("prod", &task("PENDING", HealthStatus::UnknownValue));
        assert_eq!(pending.status, "PENDING");
        assert_eq!(pending.health, Health::Warn);
        assert_eq!(pending.reason.as_deref(), Some("starting (PENDING)"));
    }

    #[test]
    fn stopped_tasks_carry_the_stopped_reason() {
        let t = task_builder("STOPPED", HealthStatus::UnknownValue)
            .stopped_reason("Essential container in task exited")
            .stop_code(TaskStopCode::EssentialContainerExited)
            .build();
        let w = task_to_workload("prod", &t);
        assert_eq!(w.status, "STOPPED");
        assert_eq!(w.health, Health::Unknown);
        assert_eq!(
            w.reason.as_deref(),
            Some("Essential container in task exited")
        );

        let run_task = Task::builder()
            .task_arn("arn:x:task/prod/ff")
            .group("family:batch")
            .build();
        assert_eq!(task_to_workload("prod", &run_task).owner, None);
    }

    #[test]
    fn revisions_and_names_parse_from_arns() {
        assert_eq!(
            revision_of("arn:aws:ecs:r:1:task-definition/web:12"),
            Some(12)
        );
        assert_eq!(revision_of("web:3"), Some(3));
        assert_eq!(revision_of("web"), None);
        assert_eq!(last_segment("arn:aws:ecs:r:1:cluster/prod"), "prod");
        assert_eq!(last_segment("prod"), "prod");
    }
}
