//! Deployment rows, and every row in the order the Workloads pane lists them.

use std::collections::BTreeMap;
use std::time::SystemTime;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;

use super::meta::{
    created, name_of, namespace_of, owned_replica_sets, pod_deployment, pod_revision, revision_of,
};
use super::pods::pod_to_workload;
use crate::domain::{Health, Workload, WorkloadKind, WorkloadRef, rollout_health};

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
        uid: meta.uid.clone(),
        image: Some(super::pods::images(
            spec.and_then(|s| s.template.spec.as_ref()),
        ))
        .filter(|i| !i.is_empty()),
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
