//! Legacy discovery documents (`/api`, `/apis`, `/api/v1`, ...). Aggregated
//! discovery is not served: `/api` and `/apis` always answer plain
//! `application/json`, so clients fall back to per-group-version documents.

use serde_json::{Value, json};

const WRITE: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

fn resource(
    name: &str,
    singular: &str,
    kind: &str,
    namespaced: bool,
    verbs: &[&str],
    short: &[&str],
    categories: &[&str],
) -> Value {
    let mut r = json!({
        "name": name,
        "singularName": singular,
        "namespaced": namespaced,
        "kind": kind,
        "verbs": verbs,
    });
    if !short.is_empty() {
        r["shortNames"] = json!(short);
    }
    if !categories.is_empty() {
        r["categories"] = json!(categories);
    }
    r
}

fn sub(name: &str, kind: &str, verbs: &[&str]) -> Value {
    json!({"name": name, "singularName": "", "namespaced": true, "kind": kind, "verbs": verbs})
}

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "emulationMajor": "1",
        "emulationMinor": "32",
        "gitVersion": "v1.32.0-opsdeck-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T00:00:00Z",
        "goVersion": "go1.23.3",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

pub fn api_versions(server: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server}],
    })
}

/// (group, version) pairs served under `/apis`.
pub const GROUPS: [(&str, &str); 3] = [
    ("apps", "v1"),
    ("authorization.k8s.io", "v1"),
    ("metrics.k8s.io", "v1beta1"),
];

fn group(name: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{name}/{version}"), "version": version});
    json!({"name": name, "versions": [gv.clone()], "preferredVersion": gv})
}

pub fn api_group_list() -> Value {
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": GROUPS.iter().map(|(g, v)| group(g, v)).collect::<Vec<_>>(),
    })
}

pub fn api_group(name: &str) -> Option<Value> {
    let (g, v) = GROUPS.iter().find(|(g, _)| *g == name)?;
    let mut doc = group(g, v);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

/// The APIResourceList of a group version (`""` is the core group).
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let (gv, resources) = match (group, version) {
        ("", "v1") => (
            "v1".to_string(),
            vec![
                resource("events", "event", "Event", true, &WRITE, &["ev"], &[]),
                resource(
                    "namespaces",
                    "namespace",
                    "Namespace",
                    false,
                    &["get", "list", "watch"],
                    &["ns"],
                    &[],
                ),
                resource("pods", "pod", "Pod", true, &WRITE, &["po"], &["all"]),
                sub("pods/log", "Pod", &["get"]),
                sub("pods/status", "Pod", &["get", "patch", "update"]),
            ],
        ),
        ("apps", "v1") => (
            "apps/v1".to_string(),
            vec![
                resource(
                    "deployments",
                    "deployment",
                    "Deployment",
                    true,
                    &WRITE,
                    &["deploy"],
                    &["all"],
                ),
                {
                    let mut s = sub("deployments/scale", "Scale", &["get", "patch", "update"]);
                    s["group"] = json!("autoscaling");
                    s["version"] = json!("v1");
                    s
                },
                sub(
                    "deployments/status",
                    "Deployment",
                    &["get", "patch", "update"],
                ),
                resource(
                    "replicasets",
                    "replicaset",
                    "ReplicaSet",
                    true,
                    &WRITE,
                    &["rs"],
                    &["all"],
                ),
                sub(
                    "replicasets/status",
                    "ReplicaSet",
                    &["get", "patch", "update"],
                ),
            ],
        ),
        ("authorization.k8s.io", "v1") => (
            "authorization.k8s.io/v1".to_string(),
            vec![resource(
                "selfsubjectaccessreviews",
                "selfsubjectaccessreview",
                "SelfSubjectAccessReview",
                false,
                &["create"],
                &[],
                &[],
            )],
        ),
        ("metrics.k8s.io", "v1beta1") => (
            "metrics.k8s.io/v1beta1".to_string(),
            vec![resource(
                "pods",
                "",
                "PodMetrics",
                true,
                &["get", "list"],
                &[],
                &[],
            )],
        ),
        _ => return None,
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }))
}
