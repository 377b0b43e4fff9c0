//! The simulated objects as Kubernetes JSON (through k8s-openapi types, so
//! the field names are exact), and templates read back from JSON.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use crate::sim::k8s::{
    ContainerState, Deployment, Event, K8sState, Object, ObjectMeta, Pod, PodTemplate, ReplicaSet,
    TEMPLATE_HASH_LABEL,
};
use crate::sim::rng::fnv1a;

use super::status::ApiError;

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

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn opt_map(m: &BTreeMap<String, String>) -> Option<BTreeMap<String, String>> {
    (!m.is_empty()).then(|| m.clone())
}

fn object_meta(m: &ObjectMeta, kind_owner: Option<&str>) -> meta::ObjectMeta {
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

/// The node's IP from its name (`ip-10-0-1-23.eu-west-1...` -> `10.0.1.23`).
fn node_ip(node: &str) -> String {
    node.split('.')
        .next()
        .and_then(|h| h.strip_prefix("ip-"))
        .map_or_else(|| "10.0.0.1".to_string(), |h| h.replace('-', "."))
}

fn container_id(p: &Pod, restart: u32) -> String {
    format!(
        "containerd://{:016x}{:016x}",
        fnv1a(&format!("{}/{restart}", p.meta.uid)),
        fnv1a(&format!("{}#{restart}", p.meta.uid))
    )
}

fn image_id(image: &str) -> String {
    let repo = image.rsplit_once(':').map_or(image, |(r, _)| r);
    format!(
        "{repo}@sha256:{:016x}{:016x}{:016x}{:016x}",
        fnv1a(image),
        fnv1a(&format!("{image}1")),
        fnv1a(&format!("{image}2")),
        fnv1a(&format!("{image}3"))
    )
}

fn condition(type_: &str, ok: bool, at: SystemTime) -> core::PodCondition {
    core::PodCondition {
        type_: type_.into(),
        status: if ok { "True" } else { "False" }.into(),
        last_transition_time: Some(time(at)),
        ..Default::default()
    }
}

/// The backoff of a waiting crash-looping container, for its message.
fn backoff_text(p: &Pod, now: SystemTime) -> String {
    let secs = match (p.backoff_until, p.restart_times.last()) {
        (Some(until), Some(at)) => until.duration_since(*at).map_or(10, |d| d.as_secs()),
        (Some(until), None) => until.duration_since(now).map_or(10, |d| d.as_secs()),
        _ => 10,
    };
    let h = if secs >= 60 {
        format!("{}m{}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    };
    format!(
        "back-off {h} restarting failed container={} pod={}_{}({})",
        p.container.name, p.meta.name, p.meta.namespace, p.meta.uid
    )
}

pub fn pod(k: &K8sState, p: &Pod, now: SystemTime) -> core::Pod {
    let rs = k.replica_set_of_pod(p);
    let mut template = rs
        .map(|rs| rs.template.clone())
        .unwrap_or_else(|| PodTemplate {
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            container: p.container.name.clone(),
            image: p.container.image.clone(),
            memory_limit_mib: p.memory_limit_mib,
            cpu_millis: 0,
            extra: None,
        });
    template.image = p.container.image.clone();
    let tj = template_json(&template, None);
    let mut spec: core::PodSpec = tj
        .get("spec")
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or_default();
    spec.node_name = Some(p.node.clone());
    spec.service_account_name = Some("default".into());
    spec.enable_service_links = Some(true);
    spec.priority = Some(0);
    spec.preemption_policy = Some("PreemptLowerPriority".into());
    spec.tolerations = Some(vec![
        core::Toleration {
            key: Some("node.kubernetes.io/not-ready".into()),
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            toleration_seconds: Some(300),
            ..Default::default()
        },
        core::Toleration {
            key: Some("node.kubernetes.io/unreachable".into()),
            operator: Some("Exists".into()),
            effect: Some("NoExecute".into()),
            toleration_seconds: Some(300),
            ..Default::default()
        },
    ]);
    let mut metadata = object_meta(&p.meta, Some("apps/v1"));
    if let Some(rs) = rs {
        metadata.generate_name = Some(format!("{}-", rs.meta.name));
    }
    let restarts = p.container.restart_count;
    let started_at = p.restart_times.last().copied().unwrap_or(p.meta.creation);
    let state = match &p.container.state {
        ContainerState::Waiting { reason } => core::ContainerState {
            waiting: Some(core::ContainerStateWaiting {
                reason: Some(reason.clone()),
                message: (reason == "CrashLoopBackOff").then(|| backoff_text(p, now)),
            }),
            ..Default::default()
        },
        ContainerState::Running { started } => core::ContainerState {
            running: Some(core::ContainerStateRunning {
                started_at: Some(time(*started)),
            }),
            ..Default::default()
        },
        ContainerState::Terminated {
            reason,
            exit_code,
            finished,
        } => core::ContainerState {
            terminated: Some(core::ContainerStateTerminated {
                reason: Some(reason.clone()),
                exit_code: *exit_code,
                finished_at: Some(time(*finished)),
                started_at: Some(time(
                    p.restart_times
                        .iter()
                        .rev()
                        .nth(1)
                        .copied()
                        .unwrap_or(p.meta.creation),
                )),
                container_id: Some(container_id(p, restarts.saturating_sub(1))),
                ..Default::default()
            }),
            ..Default::default()
        },
    };
    let last_state = p.container.last_termination.as_ref().map(|t| {
        let prev_start = p
            .restart_times
            .iter()
            .rev()
            .nth(1)
            .copied()
            .unwrap_or(p.meta.creation);
        core::ContainerState {
            terminated: Some(core::ContainerStateTerminated {
                reason: Some(t.reason.clone()),
                exit_code: t.exit_code,
                finished_at: Some(time(t.finished)),
                started_at: Some(time(prev_start)),
                container_id: Some(container_id(p, restarts.saturating_sub(1))),
                ..Default::default()
            }),
            ..Default::default()
        }
    });
    let running = matches!(p.container.state, ContainerState::Running { .. });
    let ready = p.ready();
    let cs = core::ContainerStatus {
        name: p.container.name.clone(),
        image: p.container.image.clone(),
        image_id: if running || restarts > 0 {
            image_id(&p.container.image)
        } else {
            String::new()
        },
        container_id: (running || restarts > 0).then(|| container_id(p, restarts)),
        ready,
        restart_count: restarts as i32,
        started: Some(running && !p.terminating()),
        state: Some(state),
        last_state: Some(last_state.unwrap_or_default()),
        ..Default::default()
    };
    let scheduled_at = p.meta.creation;
    let ready_at = p.ready_at.unwrap_or(started_at);
    let status = core::PodStatus {
        phase: Some(p.phase.as_str().into()),
        conditions: Some(vec![
            condition(
                "PodReadyToStartContainers",
                running || restarts > 0,
                scheduled_at,
            ),
            condition("Initialized", true, scheduled_at),
            condition("Ready", ready, ready_at),
            condition("ContainersReady", ready, ready_at),
            condition("PodScheduled", true, scheduled_at),
        ]),
        host_ip: Some(node_ip(&p.node)),
        host_ips: Some(vec![core::HostIP {
            ip: node_ip(&p.node),
        }]),
        pod_ip: Some(p.ip.clone()),
        pod_ips: Some(vec![core::PodIP { ip: p.ip.clone() }]),
        start_time: Some(time(p.meta.creation)),
        qos_class: Some("Burstable".into()),
        container_statuses: Some(vec![cs]),
        ..Default::default()
    };
    core::Pod {
        metadata,
        spec: Some(spec),
        status: Some(status),
    }
}

/// The ReplicaSet that runs a deployment's current template.
pub fn new_replica_set<'a>(k: &'a K8sState, d: &Deployment) -> Option<&'a ReplicaSet> {
    let hash = d.template.hash();
    k.replica_sets_of(&d.meta.uid)
        .find(|rs| rs.template_hash() == hash)
}

pub fn deployment(k: &K8sState, d: &Deployment) -> apps::Deployment {
    let tj = template_json(&d.template, None);
    let template: core::PodTemplateSpec = serde_json::from_value(tj).unwrap_or_default();
    let s = &d.status;
    let nz = |n: u32| (n > 0).then_some(n as i32);
    let unavailable = s.replicas.saturating_sub(s.available_replicas);
    let min_available = d.replicas.saturating_sub(d.max_unavailable());
    let available = s.available_replicas >= min_available;
    let new_rs = new_replica_set(k, d);
    let complete = s.updated_replicas == d.replicas
        && s.replicas == d.replicas
        && s.available_replicas == d.replicas
        && s.observed_generation >= d.meta.generation;
    let rs_name = new_rs.map_or_else(|| d.meta.name.clone(), |rs| rs.meta.name.clone());
    let progressed_at = new_rs.map_or(d.meta.creation, |rs| rs.meta.creation);
    let conditions = vec![
        apps::DeploymentCondition {
            type_: "Available".into(),
            status: if available { "True" } else { "False" }.into(),
            reason: Some(
                if available {
                    "MinimumReplicasAvailable"
                } else {
                    "MinimumReplicasUnavailable"
                }
                .into(),
            ),
            message: Some(
                if available {
                    "Deployment has minimum availability."
                } else {
                    "Deployment does not have minimum availability."
                }
                .into(),
            ),
            last_update_time: Some(time(d.meta.creation)),
            last_transition_time: Some(time(d.meta.creation)),
        },
        apps::DeploymentCondition {
            type_: "Progressing".into(),
            status: "True".into(),
            reason: Some(
                if complete {
                    "NewReplicaSetAvailable"
                } else {
                    "ReplicaSetUpdated"
                }
                .into(),
            ),
            message: Some(if complete {
                format!("ReplicaSet \"{rs_name}\" has successfully progressed.")
            } else {
                format!("ReplicaSet \"{rs_name}\" is progressing.")
            }),
            last_update_time: Some(time(progressed_at)),
            last_transition_time: Some(time(d.meta.creation)),
        },
    ];
    let mut metadata = object_meta(&d.meta, None);
    metadata.generation = Some(d.meta.generation as i64);
    apps::Deployment {
        metadata,
        spec: Some(apps::DeploymentSpec {
            replicas: Some(d.replicas as i32),
            selector: meta::LabelSelector {
                match_labels: Some(d.selector.clone()),
                ..Default::default()
            },
            template,
            strategy: Some(apps::DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(apps::RollingUpdateDeployment {
                    max_surge: Some(IntOrString::String("25%".into())),
                    max_unavailable: Some(IntOrString::String("25%".into())),
                }),
            }),
            revision_history_limit: Some(10),
            progress_deadline_seconds: Some(600),
            ..Default::default()
        }),
        status: Some(apps::DeploymentStatus {
            observed_generation: Some(s.observed_generation as i64),
            replicas: nz(s.replicas),
            updated_replicas: nz(s.updated_replicas),
            ready_replicas: nz(s.ready_replicas),
            available_replicas: nz(s.available_replicas),
            unavailable_replicas: nz(unavailable),
            conditions: Some(conditions),
            ..Default::default()
        }),
    }
}

pub fn replica_set(k: &K8sState, rs: &ReplicaSet) -> apps::ReplicaSet {
    let hash = rs.template_hash().to_string();
    let tj = template_json(&rs.template, Some(&hash));
    let template: core::PodTemplateSpec = serde_json::from_value(tj).unwrap_or_default();
    let owner = rs
        .meta
        .owner
        .as_ref()
        .and_then(|o| k.deployments.iter().find(|d| d.meta.uid == o.uid));
    let mut metadata = object_meta(&rs.meta, None);
    metadata.generation = Some(rs.meta.generation as i64);
    let mut annotations = rs.meta.annotations.clone();
    if let Some(d) = owner {
        annotations.insert(
            "deployment.kubernetes.io/desired-replicas".into(),
            d.replicas.to_string(),
        );
        annotations.insert(
            "deployment.kubernetes.io/max-replicas".into(),
            (d.replicas + d.max_surge()).to_string(),
        );
    }
    metadata.annotations = opt_map(&annotations);
    let pods: Vec<&Pod> = k
        .pods_of(&rs.meta.uid)
        .filter(|p| !p.terminating())
        .collect();
    let ready = pods.iter().filter(|p| p.ready()).count() as i32;
    let mut selector = rs.template.labels.clone();
    selector.insert(TEMPLATE_HASH_LABEL.into(), hash);
    apps::ReplicaSet {
        metadata,
        spec: Some(apps::ReplicaSetSpec {
            replicas: Some(rs.replicas as i32),
            selector: meta::LabelSelector {
                match_labels: Some(selector),
                ..Default::default()
            },
            template: Some(template),
            ..Default::default()
        }),
        status: Some(apps::ReplicaSetStatus {
            replicas: pods.len() as i32,
            fully_labeled_replicas: (!pods.is_empty()).then_some(pods.len() as i32),
            ready_replicas: (ready > 0).then_some(ready),
            available_replicas: (ready > 0).then_some(ready),
            observed_generation: Some(rs.meta.generation as i64),
            ..Default::default()
        }),
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
