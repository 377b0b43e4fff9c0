//! DELETE of one object: pods terminate (or go at once with a zero grace
//! period), deployments take their ReplicaSets along unless orphaned.

use std::sync::Arc;
use std::time::SystemTime;

use axum::response::Response;
use serde_json::{Value, json};

use crate::sim::k8s::{K8sState, Object};

use super::objects::{self, Res};
use super::status::{self, ApiError, json_response};
use super::write::{body_json, meta_index};
use super::{Api, Call};

/// What a DeleteOptions body and the query say.
struct DeleteOptions {
    dry: bool,
    grace: Option<i64>,
    policy: String,
    /// `preconditions.uid` and `preconditions.resourceVersion`.
    uid: Option<String>,
    resource_version: Option<String>,
}

impl DeleteOptions {
    fn of(call: &Call) -> Result<DeleteOptions, ApiError> {
        let opts: Value = if call.body.is_empty() {
            json!({})
        } else {
            body_json(call)?
        };
        let dry = call.dry_run()
            || opts
                .get("dryRun")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|v| v == "All"));
        let grace = opts
            .get("gracePeriodSeconds")
            .and_then(Value::as_i64)
            .or_else(|| call.params.number("gracePeriodSeconds").map(|n| n as i64));
        let policy = opts
            .get("propagationPolicy")
            .and_then(Value::as_str)
            .or(call.params.get("propagationPolicy"))
            .unwrap_or("Background")
            .to_string();
        let pre = |k: &str| {
            opts.pointer(&format!("/preconditions/{k}"))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Ok(DeleteOptions {
            dry,
            grace,
            policy,
            uid: pre("uid"),
            resource_version: pre("resourceVersion"),
        })
    }
}

pub(crate) fn delete(api: &Arc<Api>, call: &Call, name: &str) -> Result<Response, ApiError> {
    let res = call.target.res;
    let ns = call.target.namespace.clone().unwrap_or_default();
    let opts = DeleteOptions::of(call)?;
    let out = api.k8s(|k, _, now| {
        let current = objects::one(k, res, Some(&ns), name, now)
            .ok_or_else(|| ApiError::not_found(res.group(), res.plural(), name))?;
        // As the API server: a precondition the object does not meet is a 409.
        let meta = |k: &str| {
            current
                .pointer(&format!("/metadata/{k}"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        if let Some(want) = &opts.uid {
            let have = meta("uid");
            if *want != have {
                return Err(ApiError::precondition_failed(
                    res.group(),
                    res.plural(),
                    name,
                    &format!("UID in precondition: {want}, UID in object meta: {have}"),
                ));
            }
        }
        if let Some(want) = &opts.resource_version {
            let have = meta("resourceVersion");
            if *want != have {
                return Err(ApiError::precondition_failed(
                    res.group(),
                    res.plural(),
                    name,
                    &format!(
                        "ResourceVersion in precondition: {want}, ResourceVersion in object meta: {have}"
                    ),
                ));
            }
        }
        if opts.dry {
            return Ok(current);
        }
        let uid = current
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        match res {
            Res::Pods => delete_pod(k, &ns, name, opts.grace, now).map(|v| v.unwrap_or(current)),
            Res::Deployments => {
                delete_deployment(k, &ns, name, &opts.policy, now)?;
                Ok(status::success("apps", "deployments", name, &uid))
            }
            Res::ReplicaSets => {
                let i = meta_index(k.replica_sets.iter().map(|r| r.meta.clone()), &ns, name)
                    .ok_or_else(|| ApiError::not_found("apps", "replicasets", name))?;
                remove_replica_set(k, i, now);
                Ok(status::success("apps", "replicasets", name, &uid))
            }
            Res::Events => {
                let i = meta_index(k.events.iter().map(|e| e.meta.clone()), &ns, name)
                    .ok_or_else(|| ApiError::not_found("", "events", name))?;
                let e = k.events.remove(i);
                k.note_removed(Object::Event(Box::new(e)));
                Ok(status::success("", "events", name, &uid))
            }
            Res::Namespaces => Err(ApiError::method_not_allowed(
                "namespaces cannot be deleted on this server",
            )),
        }
    })?;
    Ok(json_response(200, &out))
}

/// A pod goes Terminating, or at once with a zero grace period (then
/// `None`: the answer is the pod as it was).
fn delete_pod(
    k: &mut K8sState,
    ns: &str,
    name: &str,
    grace: Option<i64>,
    now: SystemTime,
) -> Result<Option<Value>, ApiError> {
    let i = meta_index(k.pods.iter().map(|p| p.meta.clone()), ns, name)
        .ok_or_else(|| ApiError::not_found("", "pods", name))?;
    if grace == Some(0) {
        let p = k.pods.remove(i);
        k.note_removed(Object::Pod(Box::new(p)));
        return Ok(None);
    }
    k.delete_pod_at(i, now);
    Ok(objects::one(k, Res::Pods, Some(ns), name, now))
}

/// A deployment goes; its ReplicaSets go too, or stay without an owner
/// with the `Orphan` propagation policy.
fn delete_deployment(
    k: &mut K8sState,
    ns: &str,
    name: &str,
    policy: &str,
    now: SystemTime,
) -> Result<(), ApiError> {
    let i = meta_index(k.deployments.iter().map(|d| d.meta.clone()), ns, name)
        .ok_or_else(|| ApiError::not_found("apps", "deployments", name))?;
    let d = k.deployments.remove(i);
    let owned: Vec<usize> = (0..k.replica_sets.len())
        .filter(|&j| {
            k.replica_sets[j]
                .meta
                .owner
                .as_ref()
                .is_some_and(|o| o.uid == d.meta.uid)
        })
        .collect();
    k.note_removed(Object::Deployment(Box::new(d)));
    if policy == "Orphan" {
        for j in owned {
            let rv = k.next_rv();
            let rs = &mut k.replica_sets[j];
            rs.meta.owner = None;
            rs.meta.resource_version = rv;
        }
    } else {
        for j in owned.into_iter().rev() {
            remove_replica_set(k, j, now);
        }
    }
    Ok(())
}

/// Remove a ReplicaSet; its pods terminate.
fn remove_replica_set(k: &mut K8sState, i: usize, now: SystemTime) {
    let rs = k.replica_sets.remove(i);
    let pods: Vec<usize> = (0..k.pods.len())
        .filter(|&p| {
            k.pods[p]
                .meta
                .owner
                .as_ref()
                .is_some_and(|o| o.uid == rs.meta.uid)
        })
        .collect();
    for p in pods {
        k.delete_pod_at(p, now);
    }
    k.note_removed(Object::ReplicaSet(Box::new(rs)));
}
