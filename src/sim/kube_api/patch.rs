//! PATCH bodies: JSON patch, JSON merge patch and an approximation of
//! strategic merge patch (merge patch, plus lists of named things merged by
//! their key). Server-side apply is not supported (415).

use serde_json::{Map, Value};

use super::status::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Json,
    Merge,
    Strategic,
}

/// The patch kind of a `Content-Type`.
pub fn kind_of(content_type: Option<&str>) -> Result<PatchKind, ApiError> {
    let ct = content_type.unwrap_or("");
    let base = ct.split(';').next().unwrap_or("").trim();
    match base {
        "application/json-patch+json" => Ok(PatchKind::Json),
        "application/merge-patch+json" => Ok(PatchKind::Merge),
        "application/strategic-merge-patch+json" => Ok(PatchKind::Strategic),
        _ => Err(ApiError::unsupported_media(format!(
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json (not {ct:?})"
        ))),
    }
}

/// Apply a patch body to a document.
pub fn apply(kind: PatchKind, doc: &Value, body: &[u8]) -> Result<Value, ApiError> {
    let mut out = doc.clone();
    match kind {
        PatchKind::Json => {
            let ops: json_patch::Patch = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(&mut out, &ops.0).map_err(|e| {
                ApiError::unprocessable(format!("the JSON patch does not apply: {e}"))
            })?;
        }
        PatchKind::Merge => {
            let p: Value = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("invalid merge patch: {e}")))?;
            json_patch::merge(&mut out, &p);
        }
        PatchKind::Strategic => {
            let p: Value = serde_json::from_slice(body).map_err(|e| {
                ApiError::bad_request(format!("invalid strategic merge patch: {e}"))
            })?;
            strategic_merge(&mut out, &p);
        }
    }
    Ok(out)
}

/// The merge key of a list field, as in the Kubernetes types' patch strategy.
fn merge_key(field: &str) -> Option<&'static str> {
    match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "ownerReferences" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "ports" => Some("containerPort"),
        "conditions" => Some("type"),
        _ => None,
    }
}

fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, v)| !k.starts_with('$') && !v.is_null())
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

/// Strategic merge patch (the parts kubectl uses).
pub fn strategic_merge(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if p.get("$patch").and_then(Value::as_str) == Some("replace") {
        *target = strip_directives(patch);
        return;
    }
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(t) = target.as_object_mut() else {
        return;
    };
    for (k, v) in p {
        if k.starts_with('$') {
            continue;
        }
        if v.is_null() {
            t.remove(k);
            continue;
        }
        match (t.get_mut(k), v, merge_key(k)) {
            (Some(Value::Array(have)), Value::Array(items), Some(key)) => {
                for item in items {
                    let id = item.get(key).cloned();
                    let pos = id
                        .as_ref()
                        .and_then(|id| have.iter().position(|h| h.get(key) == Some(id)));
                    let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                    match (pos, delete) {
                        (Some(i), true) => {
                            have.remove(i);
                        }
                        (None, true) => {}
                        (Some(i), false) => strategic_merge(&mut have[i], item),
                        (None, false) => have.push(strip_directives(item)),
                    }
                }
            }
            (Some(existing @ Value::Object(_)), Value::Object(_), _) => {
                strategic_merge(existing, v);
            }
            _ => {
                t.insert(k.clone(), strip_directives(v));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strategic_merges_containers_by_name() {
        let mut doc = json!({"spec": {"containers": [
            {"name": "api", "image": "a:1", "env": [{"name": "X", "value": "1"}]},
            {"name": "sidecar", "image": "s:1"}
        ]}});
        let patch = json!({"spec": {"containers": [
            {"name": "api", "image": "a:2", "env": [{"name": "Y", "value": "2"}]}
        ]}});
        strategic_merge(&mut doc, &patch);
        assert_eq!(doc.pointer("/spec/containers/0/image"), Some(&json!("a:2")));
        assert_eq!(doc.pointer("/spec/containers/1/image"), Some(&json!("s:1")));
        assert_eq!(
            doc.pointer("/spec/containers/0/env"),
            Some(&json!([{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}]))
        );
    }

    #[test]
    fn merge_patch_replaces_lists() {
        let doc = json!({"spec": {"containers": [{"name": "api"}, {"name": "b"}]}});
        let out = apply(
            PatchKind::Merge,
            &doc,
            br#"{"spec":{"containers":[{"name":"c"}]}}"#,
        );
        assert_eq!(
            out.ok()
                .and_then(|v| v.pointer("/spec/containers").cloned()),
            Some(json!([{"name": "c"}]))
        );
        assert!(kind_of(Some("application/apply-patch+yaml")).is_err());
    }
}
