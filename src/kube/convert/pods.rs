//! A pod as a workload row, and its STATUS as `kubectl get pods` shows it.

use std::time::SystemTime;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

use super::meta::{ago, created, name_of, namespace_of, pod_owner_name, recent, system_time};
use crate::domain::{Health, Workload, WorkloadKind, WorkloadRef};

/// Container waiting reasons that mean the container cannot run.
const FATAL_WAITING: &[&str] = &[
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "ErrImageNeverPull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

/// The STATUS column of `kubectl get pods`.
pub fn pod_status_text(pod: &Pod) -> String {
    let status = pod.status.as_ref();
    let mut reason = status
        .and_then(|s| s.reason.clone())
        .or_else(|| status.and_then(|s| s.phase.clone()))
        .unwrap_or_else(|| "Unknown".to_string());

    let inits = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or_default();
    let total_inits = inits.len();
    let mut initializing = false;
    for (i, c) in inits.iter().enumerate() {
        let state = c.state.as_ref();
        if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
            if t.exit_code == 0 {
                continue;
            }
            reason = match &t.reason {
                Some(r) if !r.is_empty() => format!("Init:{r}"),
                _ => format!("Init:ExitCode:{}", t.exit_code),
            };
        } else if let Some(w) = state
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_ref())
            .filter(|r| !r.is_empty() && r.as_str() != "PodInitializing")
        {
            reason = format!("Init:{w}");
        } else {
            reason = format!("Init:{i}/{total_inits}");
        }
        initializing = true;
        break;
    }

    if !initializing {
        let mut has_running = false;
        let containers = status
            .and_then(|s| s.container_statuses.as_deref())
            .unwrap_or_default();
        for c in containers.iter().rev() {
            let state = c.state.as_ref();
            if let Some(w) = state
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_ref())
                .filter(|r| !r.is_empty())
            {
                reason = w.clone();
            } else if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
                reason = match &t.reason {
                    Some(r) if !r.is_empty() => r.clone(),
                    _ => match t.signal {
                        Some(sig) if sig != 0 => format!("Signal:{sig}"),
                        _ => format!("ExitCode:{}", t.exit_code),
                    },
                };
            } else if state.is_some_and(|s| s.running.is_some()) && c.ready {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            reason = "Running".to_string();
        }
    }

    if pod.metadata.deletion_timestamp.is_some() {
        if status.and_then(|s| s.reason.as_deref()) == Some("NodeLost") {
            return "Unknown".to_string();
        }
        return "Terminating".to_string();
    }
    reason
}

fn last_termination(c: &ContainerStatus) -> Option<(String, i32, Option<SystemTime>)> {
    let t = c.last_state.as_ref()?.terminated.as_ref()?;
    Some((
        t.reason.clone().unwrap_or_else(|| "Error".to_string()),
        t.exit_code,
        t.finished_at.as_ref().map(system_time),
    ))
}

/// One pod as a workload row. The owner is the deployment named by the
/// ReplicaSet owner (see [`pod_owner_name`]); the revision is left to
/// [`workload_rows`], which knows the ReplicaSets.
pub fn pod_to_workload(pod: &Pod, now: SystemTime) -> Workload {
    let meta = &pod.metadata;
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Unknown");
    let containers: &[ContainerStatus] = status
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    let spec_containers = pod.spec.as_ref().map_or(0, |s| s.containers.len());
    let desired = spec_containers.max(containers.len()) as u32;
    let terminating = meta.deletion_timestamp.is_some();
    let ready = if terminating {
        0
    } else {
        containers.iter().filter(|c| c.ready).count() as u32
    };
    let restarts: u32 = containers
        .iter()
        .map(|c| u32::try_from(c.restart_count).unwrap_or(0))
        .sum();
    let oom_killed = containers.iter().any(|c| {
        last_termination(c).is_some_and(|(r, _, _)| r == "OOMKilled")
            || c.state
                .as_ref()
                .and_then(|s| s.terminated.as_ref())
                .is_some_and(|t| t.reason.as_deref() == Some("OOMKilled"))
    });
    let status_text = pod_status_text(pod);

    // The most recent last termination across containers.
    let last = containers
        .iter()
        .filter_map(last_termination)
        .max_by_key(|(_, _, t)| *t);
    let last_text = |prefix: &str| -> String {
        match &last {
            Some((r, code, Some(at))) => {
                format!("{prefix}{r} (exit {code}) {} ago", ago(now, *at))
            }
            Some((r, code, None)) => format!("{prefix}{r} (exit {code})"),
            None => String::new(),
        }
    };
    let plural = |n: u32| if n == 1 { "restart" } else { "restarts" };

    let fatal_waiting = containers.iter().find_map(|c| {
        let w = c.state.as_ref()?.waiting.as_ref()?;
        let r = w.reason.as_deref()?;
        FATAL_WAITING
            .contains(&r)
            .then(|| (c.name.clone(), r.to_string(), w.message.clone()))
    });
    let failed_running = containers.iter().find_map(|c| {
        let t = c.state.as_ref()?.terminated.as_ref()?;
        (t.exit_code != 0).then(|| {
            (
                c.name.clone(),
                t.reason.clone().unwrap_or_else(|| "Error".to_string()),
                t.exit_code,
            )
        })
    });

    let (health, reason) = if terminating {
        (Health::Ok, Some("terminating".to_string()))
    } else if phase == "Failed" {
        let why = status
            .and_then(|s| s.message.clone().or_else(|| s.reason.clone()))
            .unwrap_or_else(|| "pod failed".to_string());
        (Health::Critical, Some(why))
    } else if phase == "Succeeded" {
        (Health::Ok, None)
    } else if let Some((container, r, message)) = fatal_waiting {
        let mut text = format!("{r} ({container})");
        if r.contains("Image") || r.contains("Config") || r.contains("Create") {
            if let Some(m) = message.filter(|m| !m.is_empty()) {
                text.push_str(&format!(": {m}"));
            }
        } else if last.is_some() {
            text.push_str(&last_text("; last: "));
        }
        text.push_str(&format!("; {restarts} {}", plural(restarts)));
        (Health::Critical, Some(text))
    } else if let Some((container, r, code)) = failed_running {
        (
            Health::Critical,
            Some(format!(
                "{r} (exit {code}) ({container}); {restarts} {}",
                plural(restarts)
            )),
        )
    } else if phase == "Unknown" {
        (
            Health::Unknown,
            Some("pod state unknown (node unreachable?)".to_string()),
        )
    } else if recent(now, last.as_ref().and_then(|(_, _, t)| *t))
        && last.as_ref().is_some_and(|(r, _, _)| r == "OOMKilled")
    {
        (
            if restarts >= 3 {
                Health::Critical
            } else {
                Health::Warn
            },
            Some(format!(
                "{}; {restarts} {}",
                last_text("last: "),
                plural(restarts)
            )),
        )
    } else if ready < desired {
        let cond = status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready" && c.status != "True"))
            .and_then(|c| c.message.clone().or_else(|| c.reason.clone()));
        let text = match cond {
            Some(c) if !c.is_empty() => format!("not ready ({status_text}): {c}"),
            _ => format!("not ready ({status_text})"),
        };
        (Health::Warn, Some(text))
    } else if restarts > 0 && recent(now, last.as_ref().and_then(|(_, _, t)| *t)) {
        (
            Health::Warn,
            Some(format!(
                "{restarts} {}, {}",
                plural(restarts),
                last_text("last: ")
            )),
        )
    } else {
        (Health::Ok, None)
    };

    Workload {
        id: WorkloadRef::new(WorkloadKind::Pod, namespace_of(meta), name_of(meta)),
        status: status_text,
        ready,
        desired,
        restarts,
        oom_killed,
        health,
        reason,
        owner: pod_owner_name(pod),
        revision: None,
        created: created(meta),
        uid: meta.uid.clone(),
        image: Some(images(pod.spec.as_ref())).filter(|i| !i.is_empty()),
    }
}

/// The images of a pod spec's containers, joined: `api:1.8.3, envoy:1.30`
/// (empty without a spec).
pub fn images(spec: Option<&k8s_openapi::api::core::v1::PodSpec>) -> String {
    spec.map(|s| {
        s.containers
            .iter()
            .filter_map(|c| c.image.as_deref())
            .collect::<Vec<_>>()
            .join(", ")
    })
    .unwrap_or_default()
}
