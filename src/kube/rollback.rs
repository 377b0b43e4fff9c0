//! How `kubectl rollout undo` picks and applies a ReplicaSet's template:
//! the revision to go to, the annotations kept, and the JSON patch.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::json;

use super::convert::{REVISION_ANNOTATION, TEMPLATE_HASH_LABEL, revision_of};

/// Deployment annotations a rollback keeps from the deployment instead of
/// copying them from the ReplicaSet (kubectl's `annotationsToSkip`).
const ANNOTATIONS_TO_SKIP: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION_ANNOTATION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// A template without its `pod-template-hash` label, as JSON.
pub(super) fn without_hash(t: &PodTemplateSpec) -> PodTemplateSpec {
    let mut t = t.clone();
    if let Some(meta) = t.metadata.as_mut()
        && let Some(labels) = meta.labels.as_mut()
    {
        labels.remove(TEMPLATE_HASH_LABEL);
        if labels.is_empty() {
            meta.labels = None;
        }
    }
    t
}

/// kubectl's `deploymentRevision`: the ReplicaSet holding `to_revision`, or
/// (for `None`/0) the one with the second-highest revision.
pub fn rollback_target<'a>(
    rss: &[&'a ReplicaSet],
    to_revision: Option<u64>,
) -> Result<&'a ReplicaSet, String> {
    let to = to_revision.unwrap_or(0);
    let mut latest: Option<(u64, &ReplicaSet)> = None;
    let mut previous: Option<(u64, &ReplicaSet)> = None;
    for rs in rss.iter().copied() {
        let Some(v) = revision_of(&rs.metadata) else {
            continue;
        };
        if to == 0 {
            if latest.is_none_or(|(l, _)| l < v) {
                previous = latest;
                latest = Some((v, rs));
            } else if previous.is_none_or(|(p, _)| p < v) {
                previous = Some((v, rs));
            }
        } else if to == v {
            return Ok(rs);
        }
    }
    if to > 0 {
        return Err(format!("unable to find specified revision {to} in history"));
    }
    previous
        .map(|(_, rs)| rs)
        .ok_or_else(|| "no rollout history found".to_string())
}

/// The deployment annotations after rolling back to `rs` (kubectl's rules).
pub fn rollback_annotations(d: &Deployment, rs: &ReplicaSet) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(current) = &d.metadata.annotations {
        for k in ANNOTATIONS_TO_SKIP {
            if let Some(v) = current.get(*k) {
                out.insert((*k).to_string(), v.clone());
            }
        }
    }
    if let Some(from_rs) = &rs.metadata.annotations {
        for (k, v) in from_rs {
            if !ANNOTATIONS_TO_SKIP.contains(&k.as_str()) {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// The JSON patch `kubectl rollout undo` sends: replace the template (minus
/// its hash label) and the annotations.
pub fn rollback_patch(
    template: &PodTemplateSpec,
    annotations: &BTreeMap<String, String>,
) -> serde_json::Value {
    json!([
        { "op": "replace", "path": "/spec/template", "value": without_hash(template) },
        { "op": "replace", "path": "/metadata/annotations", "value": annotations },
    ])
}
