//! A simulated pod as a `core/v1` Pod: spec from its ReplicaSet's template,
//! status from its container's state.

use std::collections::BTreeMap;
use std::time::SystemTime;

use k8s_openapi::api::core::v1 as core;

use crate::sim::k8s::{ContainerState, K8sState, Pod, PodTemplate};
use crate::sim::rng::fnv1a;

use super::metadata::{object_meta, time};
use super::template::template_json;

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

/// A simulated pod as a `core/v1` Pod, as the API serves it at `now`.
pub fn pod(k: &K8sState, p: &Pod, now: SystemTime) -> core::Pod {
    let rs = k.replica_set_of_pod(p);
    let mut metadata = object_meta(&p.meta, Some("apps/v1"));
    if let Some(rs) = rs {
        metadata.generate_name = Some(format!("{}-", rs.meta.name));
    }
    core::Pod {
        metadata,
        spec: Some(pod_spec(rs.map(|rs| &rs.template), p)),
        status: Some(pod_status(p, now)),
    }
}

/// The spec: the ReplicaSet's template with the pod's image, scheduled.
fn pod_spec(template: Option<&PodTemplate>, p: &Pod) -> core::PodSpec {
    let mut template = template.cloned().unwrap_or_else(|| PodTemplate {
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
    let toleration = |key: &str| core::Toleration {
        key: Some(key.into()),
        operator: Some("Exists".into()),
        effect: Some("NoExecute".into()),
        toleration_seconds: Some(300),
        ..Default::default()
    };
    spec.tolerations = Some(vec![
        toleration("node.kubernetes.io/not-ready"),
        toleration("node.kubernetes.io/unreachable"),
    ]);
    spec
}

/// When the container before the current one started.
fn previous_start(p: &Pod) -> SystemTime {
    p.restart_times
        .iter()
        .rev()
        .nth(1)
        .copied()
        .unwrap_or(p.meta.creation)
}

/// The container's current state.
fn container_state(p: &Pod, now: SystemTime) -> core::ContainerState {
    let restarts = p.container.restart_count;
    match &p.container.state {
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
                started_at: Some(time(previous_start(p))),
                container_id: Some(container_id(p, restarts.saturating_sub(1))),
                ..Default::default()
            }),
            ..Default::default()
        },
    }
}

/// The container's status: state, last state, restarts, readiness.
fn container_status(p: &Pod, now: SystemTime) -> core::ContainerStatus {
    let restarts = p.container.restart_count;
    let last_state = p
        .container
        .last_termination
        .as_ref()
        .map(|t| core::ContainerState {
            terminated: Some(core::ContainerStateTerminated {
                reason: Some(t.reason.clone()),
                exit_code: t.exit_code,
                finished_at: Some(time(t.finished)),
                started_at: Some(time(previous_start(p))),
                container_id: Some(container_id(p, restarts.saturating_sub(1))),
                ..Default::default()
            }),
            ..Default::default()
        });
    let running = matches!(p.container.state, ContainerState::Running { .. });
    core::ContainerStatus {
        name: p.container.name.clone(),
        image: p.container.image.clone(),
        image_id: if running || restarts > 0 {
            image_id(&p.container.image)
        } else {
            String::new()
        },
        container_id: (running || restarts > 0).then(|| container_id(p, restarts)),
        ready: p.ready(),
        restart_count: restarts as i32,
        started: Some(running && !p.terminating()),
        state: Some(container_state(p, now)),
        last_state: Some(last_state.unwrap_or_default()),
        ..Default::default()
    }
}

/// The pod's status: phase, conditions, addresses, its container.
fn pod_status(p: &Pod, now: SystemTime) -> core::PodStatus {
    let restarts = p.container.restart_count;
    let running = matches!(p.container.state, ContainerState::Running { .. });
    let ready = p.ready();
    let started_at = p.restart_times.last().copied().unwrap_or(p.meta.creation);
    let scheduled_at = p.meta.creation;
    let ready_at = p.ready_at.unwrap_or(started_at);
    core::PodStatus {
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
        container_statuses: Some(vec![container_status(p, now)]),
        ..Default::default()
    }
}
