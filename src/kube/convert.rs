//! Pure conversions from Kubernetes API objects to opsdeck rows.
//!
//! Nothing here does I/O: the reflector caches feed these functions, and the
//! tests feed them recorded payloads from `tests/fixtures/kube/`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};

use crate::domain::{Health, Level, LogLine, Workload, WorkloadKind, WorkloadRef, rollout_health};

/// `deployment.kubernetes.io/revision`
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
/// `pod-template-hash`
pub const TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
/// `kubectl.kubernetes.io/restartedAt`
pub const RESTARTED_AT_ANNOTATION: &str = "kubectl.kubernetes.io/restartedAt";

/// Restarts and terminations older than this no longer count against health.
pub const RECENT: Duration = Duration::from_secs(600);

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

/// A metav1.Time as a SystemTime.
pub fn system_time(t: &Time) -> SystemTime {
    SystemTime::from(t.0)
}

fn created(meta: &ObjectMeta) -> SystemTime {
    meta.creation_timestamp
        .as_ref()
        .map_or(SystemTime::UNIX_EPOCH, system_time)
}

fn name_of(meta: &ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

fn namespace_of(meta: &ObjectMeta) -> String {
    meta.namespace.clone().unwrap_or_default()
}

/// The `deployment.kubernetes.io/revision` annotation.
pub fn revision_of(meta: &ObjectMeta) -> Option<u64> {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(REVISION_ANNOTATION))
        .and_then(|r| r.trim().parse().ok())
}

/// The controller owner reference, if any.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))
}

/// `2m`, `3h`: how long ago, for reason text.
fn ago(now: SystemTime, then: SystemTime) -> String {
    let d = now.duration_since(then).unwrap_or_default();
    crate::fmt::duration_short(d)
}

fn recent(now: SystemTime, then: Option<SystemTime>) -> bool {
    then.is_some_and(|t| now.duration_since(t).map_or(true, |d| d <= RECENT))
}

/// The ReplicaSets a deployment controls (by owner uid, else by owner name).
pub fn owned_replica_sets<'a>(d: &Deployment, rss: &[&'a ReplicaSet]) -> Vec<&'a ReplicaSet> {
    let uid = d.metadata.uid.as_deref();
    let name = d.metadata.name.as_deref();
    let ns = d.metadata.namespace.as_deref();
    rss.iter()
        .copied()
        .filter(|rs| rs.metadata.namespace.as_deref() == ns)
        .filter(|rs| {
            controller_of(&rs.metadata).is_some_and(|o| {
                o.kind == "Deployment"
                    && match (uid, o.uid.as_str()) {
                        (Some(u), ou) if !ou.is_empty() => u == ou,
                        _ => Some(o.name.as_str()) == name,
                    }
            })
        })
        .collect()
}

/// The name of the workload controlling a pod: its deployment when the
/// controller is a ReplicaSet named `<deployment>-<pod-template-hash>`,
/// else the controller's own name.
pub fn pod_owner_name(pod: &Pod) -> Option<String> {
    let owner = controller_of(&pod.metadata)?;
    if owner.kind == "ReplicaSet" {
        let hash = pod
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(TEMPLATE_HASH_LABEL));
        if let Some(hash) = hash
            && let Some(base) = owner.name.strip_suffix(&format!("-{hash}"))
        {
            return Some(base.to_string());
        }
    }
    Some(owner.name.clone())
}

/// The deployment that owns a pod through its ReplicaSet, looked up in
/// `rss`; falls back to [`pod_owner_name`] when the ReplicaSet is not known.
pub fn pod_deployment(pod: &Pod, rss: &[&ReplicaSet]) -> Option<String> {
    let owner = controller_of(&pod.metadata)?;
    if owner.kind != "ReplicaSet" {
        return None;
    }
    let rs = rss.iter().find(|rs| {
        rs.metadata.namespace == pod.metadata.namespace
            && (rs.metadata.uid.as_deref() == Some(owner.uid.as_str())
                || rs.metadata.name.as_deref() == Some(owner.name.as_str()))
    });
    match rs {
        Some(rs) => controller_of(&rs.metadata)
            .filter(|o| o.kind == "Deployment")
            .map(|o| o.name.clone()),
        None => pod_owner_name(pod),
    }
}

/// The revision of the ReplicaSet that created a pod.
fn pod_revision(pod: &Pod, rss: &[&ReplicaSet]) -> Option<u64> {
    let owner = controller_of(&pod.metadata)?;
    rss.iter()
        .find(|rs| {
            rs.metadata.namespace == pod.metadata.namespace
                && (rs.metadata.uid.as_deref() == Some(owner.uid.as_str())
                    || rs.metadata.name.as_deref() == Some(owner.name.as_str()))
        })
        .and_then(|rs| revision_of(&rs.metadata))
}

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
    }
}

/// One deployment as a workload row, its revision from its annotation or,
/// failing that, the newest of its ReplicaSets. Pod-level facts (restarts,
/// OOM kills, failing pods) are added by [`workload_rows`].
pub fn deployment_to_workload(d: &Deployment, rss: &[&ReplicaSet], _now: SystemTime) -> Workload {
    let meta = &d.metadata;
    let spec = d.spec.as_ref();
    let st = d.status.clone().unwrap_or_default();
    let desired = u32::try_from(spec.and_then(|s| s.replicas).unwrap_or(1)).unwrap_or(0);
    let as_u32 = |v: Option<i32>| u32::try_from(v.unwrap_or(0)).unwrap_or(0);
    let ready = as_u32(st.ready_replicas);
    let updated = as_u32(st.updated_replicas);
    let replicas = as_u32(st.replicas);
    let paused = spec.and_then(|s| s.paused).unwrap_or(false);
    let generation = meta.generation.unwrap_or(0);
    let observed = st.observed_generation.unwrap_or(0);

    let revision = revision_of(meta).or_else(|| {
        owned_replica_sets(d, rss)
            .iter()
            .filter_map(|rs| revision_of(&rs.metadata))
            .max()
    });

    let conditions = st.conditions.unwrap_or_default();
    let progressing = conditions.iter().find(|c| c.type_ == "Progressing");
    let deadline = progressing
        .filter(|c| c.status == "False" || c.reason.as_deref() == Some("ProgressDeadlineExceeded"));
    let unavailable = conditions
        .iter()
        .find(|c| c.type_ == "Available" && c.status == "False");

    let rolling = observed < generation || updated < desired || replicas > updated;

    let status = if paused {
        "Paused".to_string()
    } else if let Some(c) = deadline {
        c.reason
            .clone()
            .unwrap_or_else(|| "ProgressDeadlineExceeded".to_string())
    } else if rolling && desired > 0 {
        format!("Progressing {updated}/{desired} updated")
    } else if ready < desired {
        "Degraded".to_string()
    } else if desired == 0 {
        "ScaledDown".to_string()
    } else {
        "Available".to_string()
    };

    let mut health = Health::Ok;
    let mut reasons = Vec::new();
    if ready < desired {
        health = rollout_health(ready, desired);
        reasons.push(format!("{ready}/{desired} ready"));
    }
    if let Some(c) = deadline {
        health = Health::Critical;
        let r = c
            .reason
            .clone()
            .unwrap_or_else(|| "ProgressDeadlineExceeded".to_string());
        match c.message.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => reasons.push(format!("{r}: {m}")),
            None => reasons.push(r),
        }
    } else if rolling && desired > 0 && !paused {
        match revision {
            Some(r) => reasons.push(format!("rollout to revision {r} in progress")),
            None => reasons.push("rollout in progress".to_string()),
        }
    }
    // Available=False says what "n/m ready" already said, unless the
    // counts look fine (minReadySeconds, a stale status).
    if let Some(c) = unavailable
        && deadline.is_none()
    {
        health = health.max(Health::Warn);
        if ready >= desired
            && let Some(m) = c.message.as_deref().filter(|m| !m.is_empty())
        {
            reasons.push(m.to_string());
        }
    }
    if paused {
        reasons.push("rollout paused".to_string());
    }

    Workload {
        id: WorkloadRef::new(WorkloadKind::Deployment, namespace_of(meta), name_of(meta)),
        status,
        ready,
        desired,
        restarts: 0,
        oom_killed: false,
        health,
        reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        owner: None,
        revision,
        created: created(meta),
    }
}

/// Every row, as the Workloads pane lists them: each deployment followed by
/// its pods (by name), then pods no deployment owns. A deployment row sums
/// its pods' restarts and OOM kills and warns about its failing pods.
pub fn workload_rows(
    deployments: &[&Deployment],
    rss: &[&ReplicaSet],
    pods: &[&Pod],
    now: SystemTime,
) -> Vec<Workload> {
    let mut deployments: Vec<&Deployment> = deployments.to_vec();
    deployments.sort_by_key(|d| (d.metadata.namespace.clone(), d.metadata.name.clone()));
    let mut pods: Vec<&Pod> = pods.to_vec();
    pods.sort_by_key(|p| (p.metadata.namespace.clone(), p.metadata.name.clone()));

    // Pod rows grouped by (namespace, deployment).
    let mut by_deployment: BTreeMap<(String, String), Vec<Workload>> = BTreeMap::new();
    let mut orphans = Vec::new();
    for pod in pods {
        let mut row = pod_to_workload(pod, now);
        row.revision = pod_revision(pod, rss);
        match pod_deployment(pod, rss) {
            Some(dep) => {
                row.owner = Some(dep.clone());
                by_deployment
                    .entry((row.id.scope.clone(), dep))
                    .or_default()
                    .push(row);
            }
            None => orphans.push(row),
        }
    }

    let mut out = Vec::new();
    for d in deployments {
        let mut row = deployment_to_workload(d, rss, now);
        let key = (row.id.scope.clone(), row.id.name.clone());
        let pod_rows = by_deployment.remove(&key).unwrap_or_default();
        let live: Vec<&Workload> = pod_rows
            .iter()
            .filter(|r| r.status != "Terminating")
            .collect();
        row.restarts = live.iter().map(|r| r.restarts).sum();
        row.oom_killed = live.iter().any(|r| r.oom_killed);
        let failing: Vec<&&Workload> = live
            .iter()
            .filter(|r| r.health == Health::Critical)
            .collect();
        if let Some(first) = failing.first() {
            row.health = row.health.max(Health::Warn);
            let what = first.reason.clone().unwrap_or_else(|| first.status.clone());
            let n = failing.len();
            let s = if n == 1 { "" } else { "s" };
            let text = format!("{n} pod{s} failing ({what})");
            row.reason = Some(match row.reason.take() {
                Some(r) => format!("{r}; {text}"),
                None => text,
            });
        }
        out.push(row);
        out.extend(pod_rows);
    }
    // Pods whose deployment is not (yet) in the cache, then bare pods.
    for (_, rows) in by_deployment {
        out.extend(rows);
    }
    out.extend(orphans);
    out
}

/// One line of `kubectl logs --timestamps` output: an RFC 3339 timestamp,
/// a space, the text. Lines without a timestamp keep `fallback` as time.
pub fn parse_log_line(source: &str, raw: &str, fallback: SystemTime) -> LogLine {
    let raw = raw.strip_suffix('\r').unwrap_or(raw);
    let (time, text) = match raw.split_once(' ') {
        Some((ts, rest)) => match ts.parse::<k8s_openapi::jiff::Timestamp>() {
            Ok(t) => (SystemTime::from(t), rest),
            Err(_) => (fallback, raw),
        },
        None => match raw.parse::<k8s_openapi::jiff::Timestamp>() {
            Ok(t) => (SystemTime::from(t), ""),
            Err(_) => (fallback, raw),
        },
    };
    LogLine {
        source: source.to_string(),
        time,
        level: Level::sniff(text),
        text: text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_parse_timestamp_and_level() {
        let now = SystemTime::UNIX_EPOCH;
        let l = parse_log_line(
            "api-1",
            "2026-11-23T10:00:01.123456789Z ERROR pool timeout",
            now,
        );
        assert_eq!(l.level, Level::Error);
        assert_eq!(l.text, "ERROR pool timeout");
        assert_eq!(
            l.time,
            humantime::parse_rfc3339("2026-11-23T10:00:01.123456789Z").unwrap()
        );
        let l = parse_log_line("api-1", "no timestamp here", now);
        assert_eq!(l.time, now);
        assert_eq!(l.text, "no timestamp here");
    }
}
