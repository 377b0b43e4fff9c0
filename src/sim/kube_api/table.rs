//! `meta.k8s.io/v1` Table responses with the columns `kubectl get` shows.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::objects::Res;

/// Whether the client asked for a Table (`Accept: ...;as=Table;...`).
pub fn wanted(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("as=Table"))
}

/// `kubectl`'s human duration (`5s`, `3m20s`, `2d4h`).
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (m, h) = (s / 60, s / 3600);
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        if s % 60 == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{}s", s % 60)
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        if m % 60 == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{}m", m % 60)
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        if h % 24 == 0 {
            format!("{}d", h / 24)
        } else {
            format!("{}d{}h", h / 24, h % 24)
        }
    } else if h < 24 * 365 * 2 {
        format!("{}d", h / 24)
    } else {
        format!("{}y", h / (24 * 365))
    }
}

fn parse_time(s: &str) -> Option<SystemTime> {
    let ts: k8s_openapi::jiff::Timestamp = s.parse().ok()?;
    let secs = u64::try_from(ts.as_second()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

fn age(v: Option<&Value>, now: SystemTime) -> String {
    match v.and_then(Value::as_str).and_then(parse_time) {
        Some(t) => match now.duration_since(t) {
            Ok(d) => human_duration(d),
            Err(_) => "0s".into(),
        },
        None => "<unknown>".into(),
    }
}

fn col(name: &str, type_: &str, priority: u8, description: &str) -> Value {
    let mut c = json!({
        "name": name,
        "type": type_,
        "format": "",
        "description": description,
        "priority": priority,
    });
    if name == "Name" {
        c["format"] = json!("name");
    }
    c
}

pub fn columns(res: Res) -> Vec<Value> {
    let name = col(
        "Name",
        "string",
        0,
        "Name must be unique within a namespace.",
    );
    let age = col(
        "Age",
        "string",
        0,
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    );
    match res {
        Res::Pods => pod_columns(name, age),
        Res::Deployments => deployment_columns(name, age),
        Res::ReplicaSets => replica_set_columns(name, age),
        Res::Events => event_columns(),
        Res::Namespaces => namespace_columns(name, age),
    }
}

fn pod_columns(name: Value, age: Value) -> Vec<Value> {
    vec![
        name,
        col(
            "Ready",
            "string",
            0,
            "The aggregate readiness state of this pod for accepting traffic.",
        ),
        col(
            "Status",
            "string",
            0,
            "The aggregate status of the containers in this pod.",
        ),
        col(
            "Restarts",
            "string",
            0,
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        ),
        age,
        col(
            "IP",
            "string",
            1,
            "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
        ),
        col(
            "Node",
            "string",
            1,
            "NodeName is a request to schedule this pod onto a specific node.",
        ),
        col(
            "Nominated Node",
            "string",
            1,
            "nominatedNodeName is set only when this pod preempts other pods on the node.",
        ),
        col(
            "Readiness Gates",
            "string",
            1,
            "If specified, all readiness gates will be evaluated for pod readiness.",
        ),
    ]
}

fn deployment_columns(name: Value, age: Value) -> Vec<Value> {
    vec![
        name,
        col("Ready", "string", 0, "Number of the pod with ready state"),
        col(
            "Up-to-date",
            "string",
            0,
            "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
        ),
        col(
            "Available",
            "string",
            0,
            "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
        ),
        age,
        col(
            "Containers",
            "string",
            1,
            "Names of each container in the template.",
        ),
        col(
            "Images",
            "string",
            1,
            "Images referenced by each container in the template.",
        ),
        col(
            "Selector",
            "string",
            1,
            "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
        ),
    ]
}

fn replica_set_columns(name: Value, age: Value) -> Vec<Value> {
    vec![
        name,
        col(
            "Desired",
            "integer",
            0,
            "Replicas is the number of desired replicas.",
        ),
        col(
            "Current",
            "integer",
            0,
            "Replicas is the most recently observed number of replicas.",
        ),
        col(
            "Ready",
            "integer",
            0,
            "The number of ready replicas for this replica set.",
        ),
        age,
        col(
            "Containers",
            "string",
            1,
            "Names of each container in the template.",
        ),
        col(
            "Images",
            "string",
            1,
            "Images referenced by each container in the template.",
        ),
        col(
            "Selector",
            "string",
            1,
            "Selector is a label query over pods that should match the replica count.",
        ),
    ]
}

fn event_columns() -> Vec<Value> {
    vec![
        col(
            "Last Seen",
            "string",
            0,
            "Time when this Event was last observed.",
        ),
        col(
            "Type",
            "string",
            0,
            "Type of this event (Normal, Warning), new types could be added in the future.",
        ),
        col("Reason", "string", 0, "Reason is why the action was taken."),
        col(
            "Object",
            "string",
            0,
            "The object that this event is about.",
        ),
        col(
            "Message",
            "string",
            0,
            "A human-readable description of the status of this operation.",
        ),
    ]
}

fn namespace_columns(name: Value, age: Value) -> Vec<Value> {
    vec![
        name,
        col("Status", "string", 0, "The status of the namespace"),
        age,
    ]
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn n(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

fn pod_status(p: &Value) -> String {
    if p.pointer("/metadata/deletionTimestamp").is_some() {
        return "Terminating".into();
    }
    let mut reason = s(p, "/status/phase").to_string();
    if let Some(cs) = p
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
    {
        for c in cs {
            if let Some(r) = c.pointer("/state/waiting/reason").and_then(Value::as_str) {
                reason = r.into();
            } else if let Some(r) = c
                .pointer("/state/terminated/reason")
                .and_then(Value::as_str)
            {
                reason = r.into();
            }
        }
    }
    reason
}

fn containers(v: &Value, ptr: &str) -> (String, String) {
    let cs = v
        .pointer(ptr)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = cs.iter().map(|c| s(c, "/name")).collect();
    let images: Vec<&str> = cs.iter().map(|c| s(c, "/image")).collect();
    (names.join(","), images.join(","))
}

fn selector(v: &Value) -> String {
    let m = v
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    m.iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect::<Vec<_>>()
        .join(",")
}

/// The cells of one row.
pub fn cells(res: Res, v: &Value, now: SystemTime) -> Vec<Value> {
    let created = v.pointer("/metadata/creationTimestamp");
    let name = s(v, "/metadata/name");
    match res {
        Res::Pods => {
            let cs = v
                .pointer("/status/containerStatuses")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let total = v
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .map_or(cs.len(), Vec::len);
            let ready = cs
                .iter()
                .filter(|c| c.get("ready").and_then(Value::as_bool) == Some(true))
                .count();
            let restarts: i64 = cs.iter().map(|c| n(c, "/restartCount")).sum();
            let last = cs
                .iter()
                .filter_map(|c| c.pointer("/lastState/terminated/finishedAt"))
                .filter_map(|t| t.as_str().and_then(parse_time))
                .max();
            let restarts = match last {
                Some(t) if restarts > 0 => format!(
                    "{restarts} ({} ago)",
                    human_duration(now.duration_since(t).unwrap_or_default())
                ),
                _ => restarts.to_string(),
            };
            let ip = s(v, "/status/podIP");
            let node = s(v, "/spec/nodeName");
            vec![
                json!(name),
                json!(format!("{ready}/{total}")),
                json!(pod_status(v)),
                json!(restarts),
                json!(age(created, now)),
                json!(if ip.is_empty() { "<none>" } else { ip }),
                json!(if node.is_empty() { "<none>" } else { node }),
                json!("<none>"),
                json!("<none>"),
            ]
        }
        Res::Deployments => {
            let (cn, im) = containers(v, "/spec/template/spec/containers");
            vec![
                json!(name),
                json!(format!(
                    "{}/{}",
                    n(v, "/status/readyReplicas"),
                    n(v, "/spec/replicas")
                )),
                json!(n(v, "/status/updatedReplicas")),
                json!(n(v, "/status/availableReplicas")),
                json!(age(created, now)),
                json!(cn),
                json!(im),
                json!(selector(v)),
            ]
        }
        Res::ReplicaSets => {
            let (cn, im) = containers(v, "/spec/template/spec/containers");
            vec![
                json!(name),
                json!(n(v, "/spec/replicas")),
                json!(n(v, "/status/replicas")),
                json!(n(v, "/status/readyReplicas")),
                json!(age(created, now)),
                json!(cn),
                json!(im),
                json!(selector(v)),
            ]
        }
        Res::Events => vec![
            json!(age(v.pointer("/lastTimestamp"), now)),
            json!(s(v, "/type")),
            json!(s(v, "/reason")),
            json!(format!(
                "{}/{}",
                s(v, "/involvedObject/kind").to_lowercase(),
                s(v, "/involvedObject/name")
            )),
            json!(s(v, "/message")),
        ],
        Res::Namespaces => vec![
            json!(name),
            json!(s(v, "/status/phase")),
            json!(age(created, now)),
        ],
    }
}

/// The row's `object`, per `includeObject` (`Metadata` by default).
fn row_object(v: &Value, include: &str) -> Option<Value> {
    match include {
        "None" => None,
        "Object" => Some(v.clone()),
        _ => Some(json!({
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": v.get("metadata").cloned().unwrap_or_else(|| json!({})),
        })),
    }
}

/// A Table of objects.
pub fn table(
    res: Res,
    items: &[Value],
    list_meta: Value,
    include: &str,
    now: SystemTime,
    with_columns: bool,
) -> Value {
    let rows: Vec<Value> = items
        .iter()
        .map(|v| {
            let mut row = json!({"cells": cells(res, v, now)});
            if let Some(o) = row_object(v, include) {
                row["object"] = o;
            }
            row
        })
        .collect();
    let mut t = json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "rows": rows,
    });
    if with_columns {
        t["columnDefinitions"] = json!(columns(res));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_match_kubectl() {
        let d = Duration::from_secs;
        assert_eq!(human_duration(d(5)), "5s");
        assert_eq!(human_duration(d(119)), "119s");
        assert_eq!(human_duration(d(200)), "3m20s");
        assert_eq!(human_duration(d(3600)), "60m");
        assert_eq!(human_duration(d(4 * 3600 + 120)), "4h2m");
        assert_eq!(human_duration(d(20 * 3600)), "20h");
        assert_eq!(human_duration(d(50 * 3600)), "2d2h");
        assert_eq!(human_duration(d(40 * 86400)), "40d");
    }
}
