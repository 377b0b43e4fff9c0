//! Pod templates: a simulated template as a `PodTemplateSpec`, and one
//! written through the API read back.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::{Value, json};

use crate::sim::k8s::{PodTemplate, TEMPLATE_HASH_LABEL};

use super::metadata::{opt_map, to_value};

fn mem_quantity(mib: u64) -> Quantity {
    Quantity(format!("{mib}Mi"))
}

fn cpu_quantity(millis: u64) -> Quantity {
    if millis % 1000 == 0 {
        Quantity(format!("{}", millis / 1000))
    } else {
        Quantity(format!("{millis}m"))
    }
}

/// A Kubernetes quantity in MiB (`768Mi`, `1Gi`, `805306368`).
fn parse_mib(q: &str) -> Option<u64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let bytes = match unit {
        "" => n,
        "Ki" => n * 1024.0,
        "Mi" => n * 1024.0 * 1024.0,
        "Gi" => n * 1024.0 * 1024.0 * 1024.0,
        "Ti" => n * 1024f64.powi(4),
        "k" => n * 1e3,
        "M" => n * 1e6,
        "G" => n * 1e9,
        _ => return None,
    };
    Some((bytes / (1024.0 * 1024.0)).round() as u64)
}

/// A CPU quantity in millicores (`500m`, `1`, `0.5`).
fn parse_millis(q: &str) -> Option<u64> {
    let q = q.trim();
    if let Some(m) = q.strip_suffix('m') {
        return m.parse().ok();
    }
    let n: f64 = q.parse().ok()?;
    Some((n * 1000.0).round() as u64)
}

/// The `PodTemplateSpec` JSON of a simulated template, with the
/// pod-template-hash label when given.
pub fn template_json(t: &PodTemplate, hash: Option<&str>) -> Value {
    let mut v = t.extra.clone().unwrap_or_else(|| {
        json!({
            "metadata": {},
            "spec": {
                "containers": [{
                    "name": t.container,
                    "image": t.image,
                    "resources": {},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent",
                }],
                "restartPolicy": "Always",
                "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst",
                "securityContext": {},
                "schedulerName": "default-scheduler",
            }
        })
    });
    let mut labels = t.labels.clone();
    if let Some(h) = hash {
        labels.insert(TEMPLATE_HASH_LABEL.into(), h.into());
    }
    if !v.get("metadata").is_some_and(Value::is_object) {
        v["metadata"] = json!({});
    }
    v["metadata"]["labels"] = to_value(&labels);
    match opt_map(&t.annotations) {
        Some(a) => v["metadata"]["annotations"] = to_value(&a),
        None => {
            if let Some(m) = v["metadata"].as_object_mut() {
                m.remove("annotations");
            }
        }
    }
    if let Some(containers) = v
        .pointer_mut("/spec/containers")
        .and_then(Value::as_array_mut)
    {
        let i = containers
            .iter()
            .position(|c| c.get("name").and_then(Value::as_str) == Some(t.container.as_str()))
            .unwrap_or(0);
        if let Some(c) = containers.get_mut(i) {
            c["name"] = json!(t.container);
            c["image"] = json!(t.image);
            if !c.get("resources").is_some_and(Value::is_object) {
                c["resources"] = json!({});
            }
            let r = &mut c["resources"];
            if t.memory_limit_mib > 0 {
                r["limits"]["memory"] = to_value(&mem_quantity(t.memory_limit_mib));
                r["requests"]["memory"] = to_value(&mem_quantity(t.memory_limit_mib));
            }
            if t.cpu_millis > 0 {
                r["requests"]["cpu"] = to_value(&cpu_quantity(t.cpu_millis));
            }
        }
    }
    normalise_template(&v).unwrap_or(v)
}

/// Round-trip a template through the typed `PodTemplateSpec` (drops nulls
/// such as `creationTimestamp: null`, unknown fields, and orders keys).
pub fn normalise_template(v: &Value) -> Result<Value, String> {
    let spec: core::PodTemplateSpec =
        serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    Ok(to_value(&spec))
}

/// Read a template written through the API. `Err` is a field and a message.
pub fn parse_template(v: &Value) -> Result<PodTemplate, (String, String)> {
    let norm = normalise_template(v).map_err(|e| ("spec.template".to_string(), e))?;
    let spec: core::PodTemplateSpec = serde_json::from_value(norm.clone())
        .map_err(|e| ("spec.template".to_string(), e.to_string()))?;
    let meta = spec.metadata.unwrap_or_default();
    let pod = spec.spec.unwrap_or_default();
    let c = pod.containers.first().ok_or_else(|| {
        (
            "spec.template.spec.containers".to_string(),
            "Required value".to_string(),
        )
    })?;
    let image = c.image.clone().unwrap_or_default();
    if image.is_empty() {
        return Err((
            "spec.template.spec.containers[0].image".into(),
            "Required value".into(),
        ));
    }
    let res = c.resources.clone().unwrap_or_default();
    let q = |m: &Option<BTreeMap<String, Quantity>>, k: &str| {
        m.as_ref().and_then(|m| m.get(k)).map(|q| q.0.clone())
    };
    let memory = q(&res.limits, "memory")
        .or_else(|| q(&res.requests, "memory"))
        .and_then(|s| parse_mib(&s))
        .unwrap_or(0);
    let cpu = q(&res.requests, "cpu")
        .or_else(|| q(&res.limits, "cpu"))
        .and_then(|s| parse_millis(&s))
        .unwrap_or(0);
    let mut t = PodTemplate {
        labels: meta.labels.unwrap_or_default(),
        annotations: meta.annotations.unwrap_or_default(),
        container: c.name.clone(),
        image,
        memory_limit_mib: memory,
        cpu_millis: cpu,
        extra: None,
    };
    if template_json(&t, None) != norm {
        t.extra = Some(norm);
    }
    Ok(t)
}
