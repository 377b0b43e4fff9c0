//! Resource verbs: list, get, create, update, patch, delete, the scale
//! subresource, pod metrics.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::sim::k8s::{Deployment, K8sState, Object, ObjectMeta};

use super::objects::{self, NAMESPACES, Res};
use super::patch;
use super::select::{FieldSelector, LabelSelector, Selectors};
use super::status::{self, ApiError, json_response};
use super::{Api, Call, logs, table, watch};

pub(crate) async fn dispatch(api: &Arc<Api>, call: Call) -> Response {
    match dispatch_inner(api, call).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn dispatch_inner(api: &Arc<Api>, call: Call) -> Result<Response, ApiError> {
    let t = call.target.clone();
    let res = t.res;
    if let Some(ns) = &t.namespace {
        if !NAMESPACES.contains(&ns.as_str()) && call.method != Method::GET {
            return Err(ApiError::not_found("", "namespaces", ns));
        }
    }
    match (&call.method, t.name.as_deref(), t.sub.as_deref()) {
        (&Method::GET, None, None) => {
            let sel = selectors(&call)?;
            if call.params.flag("watch") {
                Ok(watch::serve(api.clone(), call, sel))
            } else {
                list(api, &call, &sel)
            }
        }
        (&Method::GET, Some(name), None | Some("status")) => get(api, &call, name),
        (&Method::GET, Some(name), Some("log")) if res == Res::Pods => {
            logs::serve(api.clone(), &call, name)
        }
        (_, Some(name), Some("scale")) if res == Res::Deployments => scale(api, &call, name),
        (&Method::PUT, Some(name), None) => write(api, &call, name, Write::Replace),
        (&Method::PATCH, Some(name), None) => {
            let kind = patch::kind_of(call.header("content-type"))?;
            write(api, &call, name, Write::Patch(kind))
        }
        (&Method::DELETE, Some(name), None) => delete(api, &call, name),
        (&Method::POST, None, None) => create(api, &call),
        _ => Err(ApiError::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({} {})",
            call.method,
            res.plural()
        ))),
    }
}

fn selectors(call: &Call) -> Result<Selectors, ApiError> {
    Ok(Selectors {
        labels: LabelSelector::parse(call.params.get("labelSelector").unwrap_or(""))?,
        fields: FieldSelector::parse(call.params.get("fieldSelector").unwrap_or(""))?,
    })
}

/// Items of a list request: the target's namespace, matching the selectors.
pub(crate) fn matching(
    k: &K8sState,
    res: Res,
    ns: Option<&str>,
    sel: &Selectors,
    now: std::time::SystemTime,
) -> Vec<Value> {
    objects::all(k, res, now)
        .into_iter()
        .filter(|v| in_namespace(v, ns) && sel.matches(v))
        .collect()
}

pub(crate) fn in_namespace(v: &Value, ns: Option<&str>) -> bool {
    ns.is_none_or(|ns| v.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns))
}

fn strip_type(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.remove("kind");
        m.remove("apiVersion");
    }
    v
}

fn list(api: &Arc<Api>, call: &Call, sel: &Selectors) -> Result<Response, ApiError> {
    let res = call.target.res;
    let ns = call.target.namespace.clone();
    let want_rv = call
        .params
        .get("resourceVersion")
        .filter(|v| *v != "0")
        .map(|v| {
            v.parse::<u64>().map_err(|_| {
                ApiError::bad_request(format!("resourceVersion: Invalid value: {v:?}"))
            })
        })
        .transpose()?;
    let exact = call.params.get("resourceVersionMatch") == Some("Exact");
    let (rv, items, now) = api.k8s(|k, _, now| {
        if let Some(want) = want_rv {
            if exact && want < k.journal.floor {
                return Err(ApiError::gone(format!(
                    "The resourceVersion for the provided list is too old (requested {want}, oldest kept {})",
                    k.journal.floor
                )));
            }
        }
        Ok((k.resource_version, matching(k, res, ns.as_deref(), sel, now), now))
    })?;
    let offset: usize = call
        .params
        .get("continue")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let limit = call.params.number("limit").map(|l| l as usize);
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .collect();
    let next = offset + page.len();
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if next < total {
        meta["continue"] = json!(next.to_string());
        meta["remainingItemCount"] = json!(total - next);
    }
    if table::wanted(call.header("accept")) {
        let include = call.params.get("includeObject").unwrap_or("Metadata");
        return Ok(json_response(
            200,
            &table::table(res, &page, meta, include, now, true),
        ));
    }
    let body = json!({
        "kind": format!("{}List", res.kind()),
        "apiVersion": res.api_version(),
        "metadata": meta,
        "items": page.into_iter().map(strip_type).collect::<Vec<_>>(),
    });
    Ok(json_response(200, &body))
}

fn get(api: &Arc<Api>, call: &Call, name: &str) -> Result<Response, ApiError> {
    let res = call.target.res;
    let ns = call.target.namespace.clone();
    let (found, now) = api.k8s(|k, _, now| (objects::one(k, res, ns.as_deref(), name, now), now));
    let v = found.ok_or_else(|| ApiError::not_found(res.group(), res.plural(), name))?;
    if table::wanted(call.header("accept")) {
        let include = call.params.get("includeObject").unwrap_or("Metadata");
        let meta = json!({"resourceVersion": objects::rv_of(&v).unwrap_or("")});
        return Ok(json_response(
            200,
            &table::table(res, &[v], meta, include, now, true),
        ));
    }
    Ok(json_response(200, &v))
}

#[derive(Debug, Clone, Copy)]
enum Write {
    Replace,
    Patch(patch::PatchKind),
}

fn body_json(call: &Call) -> Result<Value, ApiError> {
    serde_json::from_slice(&call.body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

fn labels_of(v: &Value, ptr: &str) -> BTreeMap<String, String> {
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
fn write(api: &Arc<Api>, call: &Call, name: &str, how: Write) -> Result<Response, ApiError> {
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

fn meta_index(metas: impl Iterator<Item = ObjectMeta>, ns: &str, name: &str) -> Option<usize> {
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
    now: std::time::SystemTime,
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

fn replicas_value(kind: &str, group: &str, name: &str, n: i64) -> Result<u32, ApiError> {
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

fn create(api: &Arc<Api>, call: &Call) -> Result<Response, ApiError> {
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

fn delete(api: &Arc<Api>, call: &Call, name: &str) -> Result<Response, ApiError> {
    let res = call.target.res;
    let ns = call.target.namespace.clone().unwrap_or_default();
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
    let (code, out) = api.k8s(|k, _, now| {
        let current = objects::one(k, res, Some(&ns), name, now)
            .ok_or_else(|| ApiError::not_found(res.group(), res.plural(), name))?;
        let uid = current
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if dry {
            return Ok((200, current));
        }
        match res {
            Res::Pods => {
                let i = meta_index(k.pods.iter().map(|p| p.meta.clone()), &ns, name)
                    .ok_or_else(|| ApiError::not_found("", "pods", name))?;
                if grace == Some(0) {
                    let p = k.pods.remove(i);
                    k.note_removed(Object::Pod(Box::new(p)));
                    return Ok((200, current));
                }
                k.delete_pod_at(i, now);
                let v = objects::one(k, res, Some(&ns), name, now).unwrap_or(current);
                Ok((200, v))
            }
            Res::Deployments => {
                let i = meta_index(k.deployments.iter().map(|d| d.meta.clone()), &ns, name)
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
                Ok((200, status::success("apps", "deployments", name, &uid)))
            }
            Res::ReplicaSets => {
                let i = meta_index(k.replica_sets.iter().map(|r| r.meta.clone()), &ns, name)
                    .ok_or_else(|| ApiError::not_found("apps", "replicasets", name))?;
                remove_replica_set(k, i, now);
                Ok((200, status::success("apps", "replicasets", name, &uid)))
            }
            Res::Events => {
                let i = meta_index(k.events.iter().map(|e| e.meta.clone()), &ns, name)
                    .ok_or_else(|| ApiError::not_found("", "events", name))?;
                let e = k.events.remove(i);
                k.note_removed(Object::Event(Box::new(e)));
                Ok((200, status::success("", "events", name, &uid)))
            }
            Res::Namespaces => Err(ApiError::method_not_allowed(
                "namespaces cannot be deleted on this server",
            )),
        }
    })?;
    Ok(json_response(code, &out))
}

/// Remove a ReplicaSet; its pods terminate.
fn remove_replica_set(k: &mut K8sState, i: usize, now: std::time::SystemTime) {
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

fn scale_json(d: &Deployment) -> Value {
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": d.meta.name,
            "namespace": d.meta.namespace,
            "uid": d.meta.uid,
            "resourceVersion": d.meta.resource_version.to_string(),
            "creationTimestamp": objects::time(d.meta.creation),
        },
        "spec": {"replicas": d.replicas},
        "status": {
            "replicas": d.status.replicas,
            "selector": d.selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","),
        },
    })
}

/// `deployments/{name}/scale`.
fn scale(api: &Arc<Api>, call: &Call, name: &str) -> Result<Response, ApiError> {
    let ns = call.target.namespace.clone().unwrap_or_default();
    let dry = call.dry_run();
    let method = call.method.clone();
    let kind = if method == Method::PATCH {
        Some(patch::kind_of(call.header("content-type"))?)
    } else {
        None
    };
    let body = if method == Method::PUT {
        Some(body_json(call)?)
    } else {
        None
    };
    let out = api.k8s(|k, _, _| {
        let i = meta_index(k.deployments.iter().map(|d| d.meta.clone()), &ns, name)
            .ok_or_else(|| ApiError::not_found("apps", "deployments", name))?;
        let current = scale_json(&k.deployments[i]);
        let new = match (&method, kind, body) {
            (&Method::GET, _, _) => return Ok(current),
            (&Method::PATCH, Some(kind), _) => patch::apply(kind, &current, &call.body)?,
            (&Method::PUT, _, Some(b)) => b,
            _ => {
                return Err(ApiError::method_not_allowed(
                    "scale supports get, update and patch",
                ));
            }
        };
        if let Some(want) = objects::rv_of(&new) {
            if Some(want) != objects::rv_of(&current) {
                return Err(ApiError::conflict("apps", "deployments", name));
            }
        }
        let n = new
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let n = replicas_value("Scale", "autoscaling", name, n)?;
        let mut d = k.deployments[i].clone();
        if d.replicas == n {
            return Ok(current);
        }
        d.replicas = n;
        d.meta.generation += 1;
        if dry {
            return Ok(scale_json(&d));
        }
        d.meta.resource_version = k.next_rv();
        k.deployments[i] = d;
        Ok(scale_json(&k.deployments[i]))
    })?;
    Ok(json_response(200, &out))
}

/// `metrics.k8s.io/v1beta1` PodMetrics from the simulated working sets.
pub(crate) fn pod_metrics(api: &Arc<Api>, ns: Option<&str>, name: Option<&str>) -> Response {
    let items: Vec<Value> = api.k8s(|k, _, now| {
        k.pods
            .iter()
            .filter(|p| !p.terminating() && p.container_running())
            .filter(|p| ns.is_none_or(|n| n == p.meta.namespace))
            .filter(|p| name.is_none_or(|n| n == p.meta.name))
            .map(|p| {
                let cpu = k
                    .replica_set_of_pod(p)
                    .map_or(100, |rs| rs.template.cpu_millis)
                    .max(1);
                let used_cpu = (cpu as f64 * (0.25 + p.memory_pct() / 200.0)).round() as u64;
                json!({
                    "metadata": {
                        "name": p.meta.name,
                        "namespace": p.meta.namespace,
                        "creationTimestamp": objects::time(now),
                        "labels": p.meta.labels,
                    },
                    "timestamp": objects::time(now),
                    "window": "10s",
                    "containers": [{
                        "name": p.container.name,
                        "usage": {
                            "cpu": format!("{used_cpu}m"),
                            "memory": format!("{}Ki", (p.memory_mib * 1024.0).round() as u64),
                        },
                    }],
                })
            })
            .collect()
    });
    if let Some(n) = name {
        return match items.into_iter().next() {
            Some(mut v) => {
                v["kind"] = json!("PodMetrics");
                v["apiVersion"] = json!("metrics.k8s.io/v1beta1");
                json_response(200, &v)
            }
            None => ApiError::not_found("metrics.k8s.io", "pods", n).into_response(),
        };
    }
    json_response(
        200,
        &json!({
            "kind": "PodMetricsList",
            "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": {},
            "items": items,
        }),
    )
}
