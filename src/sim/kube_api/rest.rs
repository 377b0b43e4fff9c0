//! Resource requests: routed by verb to list, get, watch, logs, create,
//! update, patch, delete and the scale subresource.

use std::sync::Arc;

use axum::http::Method;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::delete::delete;
use super::objects::{self, NAMESPACES, Res};
use super::patch;
use super::scale::scale;
use super::select::{FieldSelector, LabelSelector, Selectors, matching};
use super::status::{ApiError, json_response};
use super::write::{Write, create, write};
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
