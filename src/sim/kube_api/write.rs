//! Writes of whole objects: create (POST), update (PUT) and patch (PATCH),
//! validated and written onto the simulated objects, and the request-body
//! helpers the other writes share.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::response::Response;
use serde_json::{Value, json};

use crate::sim::k8s::{Deployment, K8sState, ObjectMeta};

use super::objects::{self, Res};
use super::patch;
use super::status::{ApiError, json_response};
use super::{Api, Call};

/// How a write gives the new object.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Write {
    Replace,
    Patch(patch::PatchKind),
}

pub(crate) fn body_json(call: &Call) -> Result<Value, ApiError> {
    serde_json::from_slice(&call.body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

pub(crate) fn labels_of(v: &Value, ptr: &str) -> BTreeMap<String, String> {
    v.pointer(ptr)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// PUT or PATCH of a whole object.
pub(crate) fn write(
    api: &Arc<Api>,
    call: &Call,
    name: &str,
    how: Write,
) -> Result<Response, ApiError> {
    let res = call.target.res;
    let ns = call.target.namespace.clone();
    let dry = call.dry_run();
    let body = match how {
        Write::Replace => Some(body_json(call)?),
        Write::Patch(_) => None,
    };
    let out = api.k8s(|k, _, now| {
        let current = objects::one(k, res, ns.as_deref(), name, now)
            .ok_or_else(|| ApiError::not_found(res.group(), res.plural(), name))?;
        let new = match (how, body) {
            (Write::Patch(kind), _) => patch::apply(kind, &current, &call.body)?,
            (Write::Replace, Some(b)) => b,
            (Write::Replace, None) => return Err(ApiError::bad_request("no body")),
        };
        if let Some(want) = objects::rv_of(&new) {
            if Some(want) != objects::rv_of(&current) {
                return Err(ApiError::conflict(res.group(), res.plural(), name));
            }
        }
        let body_name = new.pointer("/metadata/name").and_then(Value::as_str);
        if body_name.is_some_and(|n| n != name) {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                body_name.unwrap_or("")
            )));
        }
        update(k, res, ns.as_deref().unwrap_or(""), name, &new, dry, now)
    })?;
    Ok(json_response(200, &out))
}

pub(crate) fn meta_index(
    metas: impl Iterator<Item = ObjectMeta>,
    ns: &str,
    name: &str,
) -> Option<usize> {
    metas
        .enumerate()
        .find(|(_, m)| m.name == name && m.namespace == ns)
        .map(|(i, _)| i)
}

/// Write `new` (a full object) onto the simulated one; the rendered result.
fn update(
    k: &mut K8sState,
    res: Res,
    ns: &str,
    name: &str,
    new: &Value,
    dry: bool,
    now: SystemTime,
) -> Result<Value, ApiError> {
    let render = |k: &K8sState| {
        objects::one(k, res, Some(ns), name, now)
            .ok_or_else(|| ApiError::not_found(res.group(), res.plural(), name))
    };
    match res {
        Res::Deployments => {
            let i = meta_index(k.deployments.iter().map(|d| d.meta.clone()), ns, name)
                .ok_or_else(|| ApiError::not_found(res.group(), res.plural(), name))?;
            let cur = k.deployments[i].clone();
            let d = deployment_from(&cur, new)?;
            if d == cur {
                return render(k);
            }
            if dry {
                return Ok(serde_json::to_value(objects::deployment(k, &d)).unwrap_or(Value::Null));
            }
            let rv = k.next_rv();
            k.deployments[i] = d;
            k.deployments[i].meta.resource_version = rv;
            render(k)
        }
        Res::ReplicaSets => {
            let i = meta_index(k.replica_sets.iter().map(|r| r.meta.clone()), ns, name)
                .ok_or_else(|| ApiError::not_found(res.group(), res.plural(), name))?;
            let mut rs = k.replica_sets[i].clone();
            rs.meta.labels = labels_of(new, "/metadata/labels");
            rs.meta.annotations = labels_of(new, "/metadata/annotations");
            if let Some(n) = new.pointer("/spec/replicas").and_then(Value::as_i64) {
                rs.replicas = replicas_value("ReplicaSet", "apps", name, n)?;
            }
            if rs == k.replica_sets[i] || dry {
                let mut out = render(k)?;
                if dry {
                    out = serde_json::to_value(objects::replica_set(k, &rs)).unwrap_or(out);
                }
                return Ok(out);
            }
            let rv = k.next_rv();
            rs.meta.resource_version = rv;
            k.replica_sets[i] = rs;
            render(k)
        }
        Res::Pods => {
            let i = meta_index(k.pods.iter().map(|p| p.meta.clone()), ns, name)
                .ok_or_else(|| ApiError::not_found(res.group(), res.plural(), name))?;
            let mut p = k.pods[i].clone();
            p.meta.labels = labels_of(new, "/metadata/labels");
            p.meta.annotations = labels_of(new, "/metadata/annotations");
            if p == k.pods[i] {
                return render(k);
            }
            if dry {
                return Ok(serde_json::to_value(objects::pod(k, &p, now)).unwrap_or(Value::Null));
            }
            let rv = k.next_rv();
            p.meta.resource_version = rv;
            k.pods[i] = p;
            render(k)
        }
        Res::Events | Res::Namespaces => Err(ApiError::method_not_allowed(format!(
            "{} cannot be changed on this server",
            res.plural()
        ))),
    }
}

pub(crate) fn replicas_value(kind: &str, group: &str, name: &str, n: i64) -> Result<u32, ApiError> {
    u32::try_from(n).map_err(|_| {
        ApiError::invalid(
            kind,
            group,
            name,
            "spec.replicas",
            &format!("Invalid value: {n}: must be greater than or equal to 0"),
        )
    })
}

/// A deployment as `new` describes it (validated), from the current one.
fn deployment_from(cur: &Deployment, new: &Value) -> Result<Deployment, ApiError> {
    let name = cur.meta.name.as_str();
    let invalid =
        |field: &str, msg: &str| ApiError::invalid("Deployment", "apps", name, field, msg);
    let mut d = cur.clone();
    let replicas = new
        .pointer("/spec/replicas")
        .map_or(Some(1), Value::as_i64)
        .ok_or_else(|| invalid("spec.replicas", "Invalid value: must be an integer"))?;
    d.replicas = replicas_value("Deployment", "apps", name, replicas)?;
    let selector = labels_of(new, "/spec/selector/matchLabels");
    if selector != cur.selector {
        return Err(invalid(
            "spec.selector",
            &format!(
                "Invalid value: {}: field is immutable",
                serde_json::to_string(&json!({"matchLabels": selector})).unwrap_or_default()
            ),
        ));
    }
    let tj = new
        .pointer("/spec/template")
        .ok_or_else(|| invalid("spec.template", "Required value"))?;
    let template = objects::parse_template(tj)
        .map_err(|e| objects::invalid_template("Deployment", "apps", name, e))?;
    if !selector
        .iter()
        .all(|(k, v)| template.labels.get(k) == Some(v))
    {
        return Err(invalid(
            "spec.template.metadata.labels",
            &format!(
                "Invalid value: {}: `selector` does not match template `labels`",
                serde_json::to_string(&template.labels).unwrap_or_default()
            ),
        ));
    }
    let spec_changed = d.replicas != cur.replicas || template != cur.template;
    d.template = template;
    d.meta.labels = labels_of(new, "/metadata/labels");
    d.meta.annotations = labels_of(new, "/metadata/annotations");
    if spec_changed {
        d.meta.generation += 1;
    }
    Ok(d)
}

pub(crate) fn create(api: &Arc<Api>, call: &Call) -> Result<Response, ApiError> {
    let res = call.target.res;
    if res != Res::Deployments {
        return Err(ApiError::method_not_allowed(format!(
            "this server creates deployments only, not {}",
            res.plural()
        )));
    }
    let ns = call
        .target
        .namespace
        .clone()
        .unwrap_or_else(|| "shop".into());
    let body = body_json(call)?;
    let dry = call.dry_run();
    let out = api.k8s(|k, rng, now| {
        if ns != k.namespace {
            return Err(ApiError::forbidden(
                "apps",
                "deployments",
                "",
                format!(
                    "this server keeps workloads in namespace \"{}\" only",
                    k.namespace
                ),
            ));
        }
        let name = body
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                body.pointer("/metadata/generateName")
                    .and_then(Value::as_str)
                    .map(|g| format!("{g}{}", rng.k8s_suffix(5)))
            })
            .ok_or_else(|| {
                ApiError::invalid(
                    "Deployment",
                    "apps",
                    "",
                    "metadata.name",
                    "Required value: name or generateName is required",
                )
            })?;
        if k.deployment(&name).is_some() {
            return Err(ApiError::already_exists("apps", "deployments", &name));
        }
        let selector = labels_of(&body, "/spec/selector/matchLabels");
        if selector.is_empty() {
            return Err(ApiError::invalid(
                "Deployment",
                "apps",
                &name,
                "spec.selector",
                "Required value",
            ));
        }
        let labels = labels_of(&body, "/metadata/labels");
        let mut meta = k.meta(rng, name.clone(), labels, now);
        meta.annotations = labels_of(&body, "/metadata/annotations");
        let template_stub = Deployment {
            meta,
            replicas: 0,
            selector,
            template: objects::parse_template(
                &json!({"spec": {"containers": [{"name": "x", "image": "x"}]}}),
            )
            .map_err(|e| objects::invalid_template("Deployment", "apps", &name, e))?,
            status: Default::default(),
        };
        let mut d = deployment_from(&template_stub, &body)?;
        d.meta.generation = 1;
        if dry {
            return Ok(serde_json::to_value(objects::deployment(k, &d)).unwrap_or(Value::Null));
        }
        k.deployments.push(d);
        objects::one(k, Res::Deployments, Some(&ns), &name, now)
            .ok_or_else(|| ApiError::internal("the new deployment vanished"))
    })?;
    Ok(json_response(201, &out))
}
