//! The simulated objects as Kubernetes JSON (through k8s-openapi types, so
//! the field names are exact), and templates read back from JSON.

mod metadata;
mod pods;
mod template;
mod workloads;

pub use metadata::{rfc3339_nanos, time};
pub use pods::pod;
pub use template::parse_template;
pub use workloads::{deployment, replica_set};

use std::time::SystemTime;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use serde_json::Value;

use crate::sim::k8s::{Event, K8sState, Object, ObjectMeta};
use crate::sim::rng::fnv1a;

use super::status::ApiError;

use metadata::{object_meta, to_value};

/// The namespaces the server knows; objects live in the sim's namespace.
pub const NAMESPACES: [&str; 4] = ["default", "kube-public", "kube-system", "shop"];

/// A served resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Res {
    Namespaces,
    Pods,
    Events,
    Deployments,
    ReplicaSets,
}

impl Res {
    pub const ALL: [Res; 5] = [
        Res::Namespaces,
        Res::Pods,
        Res::Events,
        Res::Deployments,
        Res::ReplicaSets,
    ];

    pub fn plural(self) -> &'static str {
        match self {
            Res::Namespaces => "namespaces",
            Res::Pods => "pods",
            Res::Events => "events",
            Res::Deployments => "deployments",
            Res::ReplicaSets => "replicasets",
        }
    }

    pub fn kind(self) -> &'static str {
        match self {
            Res::Namespaces => "Namespace",
            Res::Pods => "Pod",
            Res::Events => "Event",
            Res::Deployments => "Deployment",
            Res::ReplicaSets => "ReplicaSet",
        }
    }

    pub fn group(self) -> &'static str {
        match self {
            Res::Deployments | Res::ReplicaSets => "apps",
            _ => "",
        }
    }

    pub fn api_version(self) -> &'static str {
        match self {
            Res::Deployments | Res::ReplicaSets => "apps/v1",
            _ => "v1",
        }
    }

    pub fn namespaced(self) -> bool {
        self != Res::Namespaces
    }

    pub fn from_path(group: &str, plural: &str) -> Option<Res> {
        Res::ALL
            .into_iter()
            .find(|r| r.group() == group && r.plural() == plural)
    }

    pub fn of(object: &Object) -> Res {
        match object {
            Object::Deployment(_) => Res::Deployments,
            Object::ReplicaSet(_) => Res::ReplicaSets,
            Object::Pod(_) => Res::Pods,
            Object::Event(_) => Res::Events,
        }
    }
}

pub fn event(e: &Event) -> core::Event {
    let mut metadata = object_meta(&e.meta, None);
    metadata.labels = None;
    core::Event {
        metadata,
        involved_object: core::ObjectReference {
            api_version: Some(e.involved.api_version.clone()),
            kind: Some(e.involved.kind.clone()),
            name: Some(e.involved.name.clone()),
            namespace: Some(e.involved.namespace.clone()),
            uid: Some(e.involved.uid.clone()),
            field_path: e.involved.field_path.clone(),
            ..Default::default()
        },
        reason: Some(e.reason.clone()),
        message: Some(e.message.clone()),
        source: Some(core::EventSource {
            component: Some(e.component.clone()),
            host: e.host.clone(),
        }),
        first_timestamp: Some(time(e.first)),
        last_timestamp: Some(time(e.last)),
        count: Some(e.count as i32),
        type_: Some(if e.warning { "Warning" } else { "Normal" }.into()),
        reporting_component: Some(e.component.clone()),
        reporting_instance: Some(e.host.clone().unwrap_or_default()),
        ..Default::default()
    }
}

pub fn namespace(name: &str, created: SystemTime) -> core::Namespace {
    core::Namespace {
        metadata: meta::ObjectMeta {
            name: Some(name.into()),
            uid: Some(format!(
                "{:08x}-0000-4000-a000-{:012x}",
                fnv1a(name) as u32,
                fnv1a(name) & 0xffff_ffff_ffff
            )),
            resource_version: Some("1".into()),
            creation_timestamp: Some(time(created)),
            labels: Some([("kubernetes.io/metadata.name".to_string(), name.to_string())].into()),
            ..Default::default()
        },
        spec: Some(core::NamespaceSpec {
            finalizers: Some(vec!["kubernetes".into()]),
        }),
        status: Some(core::NamespaceStatus {
            phase: Some("Active".into()),
            ..Default::default()
        }),
    }
}

/// When the cluster "was created" (the namespaces' age).
pub fn cluster_created(k: &K8sState) -> SystemTime {
    k.deployments
        .iter()
        .map(|d| d.meta.creation)
        .min()
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// The resource of a journal object.
pub fn res_of(o: &Object) -> Res {
    Res::of(o)
}

/// Any journal object as JSON.
pub fn object_json(k: &K8sState, o: &Object, now: SystemTime) -> (Res, Value) {
    let v = match o {
        Object::Deployment(d) => to_value(&deployment(k, d)),
        Object::ReplicaSet(rs) => to_value(&replica_set(k, rs)),
        Object::Pod(p) => to_value(&pod(k, p, now)),
        Object::Event(e) => to_value(&event(e)),
    };
    (Res::of(o), v)
}

/// Every object of a resource (all namespaces), as JSON, in name order.
pub fn all(k: &K8sState, res: Res, now: SystemTime) -> Vec<Value> {
    let mut out: Vec<Value> = match res {
        Res::Namespaces => {
            let created = cluster_created(k);
            let mut names: Vec<&str> = NAMESPACES.to_vec();
            if !names.contains(&k.namespace.as_str()) {
                names.push(k.namespace.as_str());
            }
            names
                .into_iter()
                .map(|n| to_value(&namespace(n, created)))
                .collect()
        }
        Res::Pods => k.pods.iter().map(|p| to_value(&pod(k, p, now))).collect(),
        Res::Events => k.events.iter().map(|e| to_value(&event(e))).collect(),
        Res::Deployments => k
            .deployments
            .iter()
            .map(|d| to_value(&deployment(k, d)))
            .collect(),
        Res::ReplicaSets => k
            .replica_sets
            .iter()
            .map(|rs| to_value(&replica_set(k, rs)))
            .collect(),
    };
    out.sort_by(|a, b| {
        let key = |v: &Value| {
            (
                v.pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                v.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )
        };
        key(a).cmp(&key(b))
    });
    out
}

/// One object by namespace and name.
pub fn one(k: &K8sState, res: Res, ns: Option<&str>, name: &str, now: SystemTime) -> Option<Value> {
    let in_ns = |m: &ObjectMeta| m.name == name && ns.is_none_or(|n| n == m.namespace);
    match res {
        Res::Namespaces => all(k, res, now)
            .into_iter()
            .find(|v| v.pointer("/metadata/name").and_then(Value::as_str) == Some(name)),
        Res::Pods => k
            .pods
            .iter()
            .find(|p| in_ns(&p.meta))
            .map(|p| to_value(&pod(k, p, now))),
        Res::Events => k
            .events
            .iter()
            .find(|e| in_ns(&e.meta))
            .map(|e| to_value(&event(e))),
        Res::Deployments => k
            .deployments
            .iter()
            .find(|d| in_ns(&d.meta))
            .map(|d| to_value(&deployment(k, d))),
        Res::ReplicaSets => k
            .replica_sets
            .iter()
            .find(|rs| in_ns(&rs.meta))
            .map(|rs| to_value(&replica_set(k, rs))),
    }
}

/// The object's resourceVersion.
pub fn rv_of(v: &Value) -> Option<&str> {
    v.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
}

/// A deployment JSON with what differs between two equivalent servers
/// removed: uid, resourceVersion, managedFields, timestamps, status.
pub fn normalise_deployment(mut v: Value) -> Value {
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "uid",
            "resourceVersion",
            "managedFields",
            "creationTimestamp",
            "deletionTimestamp",
            "selfLink",
        ] {
            m.remove(k);
        }
    }
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
    }
    v
}

/// An `ApiError` for a bad template.
pub fn invalid_template(kind: &str, group: &str, name: &str, e: (String, String)) -> ApiError {
    ApiError::invalid(kind, group, name, &e.0, &e.1)
}
