//! Object metadata: names, times, annotations, and who owns what (a pod's
//! ReplicaSet and deployment, a deployment's ReplicaSets).

use std::time::{Duration, SystemTime};

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};

/// `deployment.kubernetes.io/revision`
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
/// `pod-template-hash`
pub const TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
/// `kubectl.kubernetes.io/restartedAt`
pub const RESTARTED_AT_ANNOTATION: &str = "kubectl.kubernetes.io/restartedAt";

/// Restarts and terminations older than this no longer count against health.
pub const RECENT: Duration = Duration::from_secs(600);

/// A metav1.Time as a SystemTime.
pub fn system_time(t: &Time) -> SystemTime {
    SystemTime::from(t.0)
}

/// When the object was created (the epoch when unknown).
pub(super) fn created(meta: &ObjectMeta) -> SystemTime {
    meta.creation_timestamp
        .as_ref()
        .map_or(SystemTime::UNIX_EPOCH, system_time)
}

pub(super) fn name_of(meta: &ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

pub(super) fn namespace_of(meta: &ObjectMeta) -> String {
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
pub(super) fn ago(now: SystemTime, then: SystemTime) -> String {
    let d = now.duration_since(then).unwrap_or_default();
    crate::fmt::duration_short(d)
}

/// Whether `then` is within [`RECENT`] of `now`.
pub(super) fn recent(now: SystemTime, then: Option<SystemTime>) -> bool {
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
pub(super) fn pod_revision(pod: &Pod, rss: &[&ReplicaSet]) -> Option<u64> {
    let owner = controller_of(&pod.metadata)?;
    rss.iter()
        .find(|rs| {
            rs.metadata.namespace == pod.metadata.namespace
                && (rs.metadata.uid.as_deref() == Some(owner.uid.as_str())
                    || rs.metadata.name.as_deref() == Some(owner.name.as_str()))
        })
        .and_then(|rs| revision_of(&rs.metadata))
}
