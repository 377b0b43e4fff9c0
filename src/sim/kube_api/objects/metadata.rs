//! Metadata and times as Kubernetes writes them.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde_json::Value;

use crate::sim::k8s::ObjectMeta;

/// `metav1.Time` of a simulated instant (whole seconds).
pub fn time(t: SystemTime) -> meta::Time {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let ts = k8s_openapi::jiff::Timestamp::from_second(secs as i64).unwrap_or_default();
    meta::Time(ts)
}

/// RFC 3339 with nanoseconds, as log timestamps are printed.
pub fn rfc3339_nanos(t: SystemTime) -> String {
    let d = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let ts = k8s_openapi::jiff::Timestamp::from_second(d.as_secs() as i64).unwrap_or_default();
    let base = k8s_openapi::jiff::fmt::strtime::format("%Y-%m-%dT%H:%M:%S", ts)
        .unwrap_or_else(|_| "1970-01-01T00:00:00".into());
    format!("{base}.{:09}Z", d.subsec_nanos())
}

pub fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

pub fn opt_map(m: &BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    (!m.is_empty()).then(|| m.clone())
}

pub fn object_meta(m: &ObjectMeta, kind_owner: Option<&str>) -> meta::ObjectMeta {
    meta::ObjectMeta {
        name: Some(m.name.clone()),
        namespace: Some(m.namespace.clone()),
        uid: Some(m.uid.clone()),
        resource_version: Some(m.resource_version.to_string()),
        creation_timestamp: Some(time(m.creation)),
        deletion_timestamp: m.deletion.map(time),
        deletion_grace_period_seconds: m.deletion.map(|_| 30),
        labels: opt_map(&m.labels),
        annotations: opt_map(&m.annotations),
        owner_references: m.owner.as_ref().map(|o| {
            vec![meta::OwnerReference {
                api_version: kind_owner.unwrap_or("apps/v1").into(),
                kind: o.kind.clone(),
                name: o.name.clone(),
                uid: o.uid.clone(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]
        }),
        ..Default::default()
    }
}
