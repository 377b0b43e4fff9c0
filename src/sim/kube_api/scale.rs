//! The `deployments/{name}/scale` subresource (an `autoscaling/v1` Scale).

use std::sync::Arc;

use axum::http::Method;
use axum::response::Response;
use serde_json::{Value, json};

use crate::sim::k8s::Deployment;

use super::objects;
use super::patch;
use super::status::{ApiError, json_response};
use super::write::{body_json, meta_index, replicas_value};
use super::{Api, Call};

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
pub(crate) fn scale(api: &Arc<Api>, call: &Call, name: &str) -> Result<Response, ApiError> {
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
