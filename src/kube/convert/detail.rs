//! A pod's or a deployment's detail view (what `kubectl describe` and
//! `kubectl rollout history` tell), and its YAML without `managedFields`.
//! Pure: the describer fetches the objects and the events.

use std::time::SystemTime;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{
    Container, ContainerState, ContainerStatus, Event, Pod, PodSpec, Probe,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::meta::{
    ago, controller_of, name_of, namespace_of, owned_replica_sets, pod_deployment, revision_of,
    system_time,
};
use super::pods::{images, pod_status_text};
use crate::domain::{
    Detail, DetailRow, DetailSection, DetailTarget, Tone, WorkloadKind, WorkloadRef,
};

/// Events shown at most (the newest).
const MAX_EVENTS: usize = 20;

/// The object as YAML, `metadata.managedFields` removed (as `kubectl get -o yaml`
/// shows it since 1.21).
pub fn yaml_of<T: serde::Serialize>(object: &T) -> Option<String> {
    let mut value = serde_json::to_value(object).ok()?;
    if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.remove("managedFields");
    }
    serde_norway::to_string(&value).ok()
}

fn when(now: SystemTime, t: Option<SystemTime>) -> String {
    t.map_or_else(|| "-".into(), |t| format!("{} ago", ago(now, t)))
}

/// The events of one object, oldest first, as `kubectl describe` lists them.
pub fn events_section(events: &[Event], now: SystemTime) -> DetailSection {
    let mut section = DetailSection::new("Events");
    let mut sorted: Vec<&Event> = events.iter().collect();
    let last = |e: &Event| {
        e.last_timestamp
            .as_ref()
            .or(e.first_timestamp.as_ref())
            .map(system_time)
            .or_else(|| e.event_time.as_ref().map(|t| SystemTime::from(t.0)))
    };
    sorted.sort_by_key(|e| last(e));
    let skip = sorted.len().saturating_sub(MAX_EVENTS);
    for e in sorted.into_iter().skip(skip) {
        let warning = e.type_.as_deref() == Some("Warning");
        let count = e
            .count
            .filter(|c| *c > 1)
            .map_or(String::new(), |c| format!(" ×{c}"));
        let text = format!(
            "{} {} {}{count}: {}",
            when(now, last(e)),
            e.type_.as_deref().unwrap_or("Normal"),
            e.reason.as_deref().unwrap_or("-"),
            e.message.as_deref().unwrap_or("").trim()
        );
        section.push(DetailRow::text_toned(
            text,
            if warning { Tone::Warn } else { Tone::Plain },
        ));
    }
    if section.rows.is_empty() {
        section.push(DetailRow::text("none (events expire after an hour)"));
    }
    section
}

fn conditions_section<'a>(
    conditions: impl Iterator<Item = (&'a str, &'a str, Option<&'a str>, Option<&'a str>)>,
    good: impl Fn(&str, &str) -> bool,
) -> DetailSection {
    let mut section = DetailSection::new("Conditions");
    for (kind, status, reason, message) in conditions {
        let mut value = status.to_string();
        if let Some(r) = reason.filter(|r| !r.is_empty()) {
            value.push_str(&format!(" ({r})"));
        }
        if let Some(m) = message.filter(|m| !m.is_empty()) {
            value.push_str(&format!(": {m}"));
        }
        let tone = if good(kind, status) {
            Tone::Ok
        } else {
            Tone::Bad
        };
        section.push(DetailRow::toned(kind, value, tone));
    }
    if section.rows.is_empty() {
        section.push(DetailRow::text("none reported"));
    }
    section
}

fn state_text(state: Option<&ContainerState>, now: SystemTime) -> (String, Tone) {
    let Some(s) = state else {
        return ("unknown".into(), Tone::Warn);
    };
    if let Some(r) = &s.running {
        return (
            format!(
                "Running, started {}",
                when(now, r.started_at.as_ref().map(system_time))
            ),
            Tone::Ok,
        );
    }
    if let Some(w) = &s.waiting {
        let mut text = format!("Waiting: {}", w.reason.as_deref().unwrap_or("-"));
        if let Some(m) = w.message.as_deref().filter(|m| !m.is_empty()) {
            text.push_str(&format!(" ({m})"));
        }
        return (text, Tone::Bad);
    }
    if let Some(t) = &s.terminated {
        return (terminated_text(t, now), Tone::Bad);
    }
    ("unknown".into(), Tone::Warn)
}

fn terminated_text(
    t: &k8s_openapi::api::core::v1::ContainerStateTerminated,
    now: SystemTime,
) -> String {
    let mut text = format!(
        "Terminated: {}, exit code {}",
        t.reason.as_deref().unwrap_or("Error"),
        t.exit_code
    );
    if let Some(sig) = t.signal {
        text.push_str(&format!(", signal {sig}"));
    }
    text.push_str(&format!(
        ", finished {}",
        when(now, t.finished_at.as_ref().map(system_time))
    ));
    if let Some(m) = t.message.as_deref().filter(|m| !m.is_empty()) {
        text.push_str(&format!(": {m}"));
    }
    text
}

fn int_or_string(v: &IntOrString) -> String {
    match v {
        IntOrString::Int(i) => i.to_string(),
        IntOrString::String(s) => s.clone(),
    }
}

fn probe_text(p: &Probe) -> String {
    let how = if let Some(h) = &p.http_get {
        let port = int_or_string(&h.port);
        format!("http-get :{port}{}", h.path.as_deref().unwrap_or("/"))
    } else if let Some(t) = &p.tcp_socket {
        format!("tcp-socket :{}", int_or_string(&t.port))
    } else if let Some(e) = &p.exec {
        format!("exec {}", e.command.clone().unwrap_or_default().join(" "))
    } else if p.grpc.is_some() {
        "grpc".into()
    } else {
        "?".into()
    };
    format!(
        "{how} delay={}s timeout={}s period={}s #failure={}",
        p.initial_delay_seconds.unwrap_or(0),
        p.timeout_seconds.unwrap_or(1),
        p.period_seconds.unwrap_or(10),
        p.failure_threshold.unwrap_or(3)
    )
}

fn resources_text(c: &Container) -> Option<String> {
    let r = c.resources.as_ref()?;
    let fmt = |m: &Option<
        std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
    >| {
        m.as_ref().map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.0))
                .collect::<Vec<_>>()
                .join(" ")
        })
    };
    let mut parts = Vec::new();
    if let Some(req) = fmt(&r.requests).filter(|s| !s.is_empty()) {
        parts.push(format!("requests {req}"));
    }
    if let Some(lim) = fmt(&r.limits).filter(|s| !s.is_empty()) {
        parts.push(format!("limits {lim}"));
    }
    (!parts.is_empty()).then(|| parts.join(" · "))
}

fn container_section(
    c: &Container,
    status: Option<&ContainerStatus>,
    now: SystemTime,
) -> DetailSection {
    let mut s = DetailSection::new(format!("Container {}", c.name));
    s.field("image", c.image.as_deref().unwrap_or("-"));
    if let Some(st) = status {
        let (text, tone) = state_text(st.state.as_ref(), now);
        s.push(DetailRow::toned("state", text, tone));
        s.push(DetailRow::toned(
            "ready",
            st.ready.to_string(),
            if st.ready { Tone::Ok } else { Tone::Bad },
        ));
        s.push(DetailRow::toned(
            "restarts",
            st.restart_count.to_string(),
            if st.restart_count > 0 {
                Tone::Warn
            } else {
                Tone::Plain
            },
        ));
        if let Some(t) = st.last_state.as_ref().and_then(|l| l.terminated.as_ref()) {
            s.push(DetailRow::toned(
                "last termination",
                terminated_text(t, now),
                Tone::Bad,
            ));
        }
    } else {
        s.push(DetailRow::toned("state", "no status yet", Tone::Warn));
    }
    if let Some(r) = resources_text(c) {
        s.field("resources", r);
    }
    for (name, probe) in [
        ("liveness", &c.liveness_probe),
        ("readiness", &c.readiness_probe),
        ("startup", &c.startup_probe),
    ] {
        if let Some(p) = probe {
            s.field(name, probe_text(p));
        }
    }
    s
}

fn containers(
    spec: Option<&PodSpec>,
    statuses: &[ContainerStatus],
    now: SystemTime,
) -> Vec<DetailSection> {
    spec.map(|s| s.containers.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|c| container_section(c, statuses.iter().find(|s| s.name == c.name), now))
        .collect()
}

fn owner_chain(meta: &ObjectMeta, deployment: Option<&str>) -> String {
    let mut chain = Vec::new();
    if let Some(o) = controller_of(meta) {
        chain.push(format!("{} {}", o.kind, o.name));
        if o.kind == "ReplicaSet"
            && let Some(d) = deployment
        {
            chain.push(format!("Deployment {d}"));
        }
    }
    if chain.is_empty() {
        "none".into()
    } else {
        chain.join(" ← ")
    }
}

/// A pod, as `kubectl describe pod` shows it; `rss` are the ReplicaSets of
/// its namespace (to find its deployment), `events` its own.
pub fn pod_detail(pod: &Pod, rss: &[ReplicaSet], events: &[Event], now: SystemTime) -> Detail {
    let meta = &pod.metadata;
    let status = pod.status.as_ref();
    let rs_refs: Vec<&ReplicaSet> = rss.iter().collect();
    let deployment = pod_deployment(pod, &rs_refs);
    let mut summary = DetailSection::new(format!("Pod {}/{}", namespace_of(meta), name_of(meta)));
    let text = pod_status_text(pod);
    let tone = match text.as_str() {
        "Running" | "Completed" => Tone::Ok,
        "Pending" | "ContainerCreating" | "Terminating" => Tone::Warn,
        _ => Tone::Bad,
    };
    summary.push(DetailRow::toned("status", text, tone));
    summary.field(
        "node",
        pod.spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .unwrap_or_else(|| "(not scheduled)".into()),
    );
    summary.field(
        "pod IP",
        status
            .and_then(|s| s.pod_ip.clone())
            .unwrap_or_else(|| "-".into()),
    );
    summary.field("owner", owner_chain(meta, deployment.as_deref()));
    summary.field(
        "created",
        when(now, meta.creation_timestamp.as_ref().map(system_time)),
    );
    if let Some(q) = status.and_then(|s| s.qos_class.clone()) {
        summary.field("QoS class", q);
    }
    let mut sections = vec![summary];
    let statuses = status
        .and_then(|s| s.container_statuses.clone())
        .unwrap_or_default();
    sections.extend(containers(pod.spec.as_ref(), &statuses, now));
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    sections.push(conditions_section(
        conditions.iter().map(|c| {
            (
                c.type_.as_str(),
                c.status.as_str(),
                c.reason.as_deref(),
                c.message.as_deref(),
            )
        }),
        |_, status| status == "True",
    ));
    sections.push(events_section(events, now));
    Detail {
        sections,
        yaml: yaml_of(pod),
        links: deployment
            .map(|d| {
                DetailTarget::Workload(WorkloadRef::new(
                    WorkloadKind::Deployment,
                    namespace_of(meta),
                    d,
                ))
            })
            .into_iter()
            .collect(),
    }
}

/// A deployment with its rollout history (one line per ReplicaSet revision,
/// with its images), conditions and events; `pods` are its namespace's pods
/// (its own become links).
pub fn deployment_detail(
    d: &Deployment,
    rss: &[ReplicaSet],
    pods: &[Pod],
    events: &[Event],
    now: SystemTime,
) -> Detail {
    let meta = &d.metadata;
    let spec = d.spec.as_ref();
    let status = d.status.as_ref();
    let revision = revision_of(meta);
    let mut summary = DetailSection::new(format!(
        "Deployment {}/{}",
        namespace_of(meta),
        name_of(meta)
    ));
    summary.field("revision", revision.map_or("-".into(), |r| r.to_string()));
    summary.field("image", images(spec.and_then(|s| s.template.spec.as_ref())));
    let desired = spec.and_then(|s| s.replicas).unwrap_or(1);
    let ready = status.and_then(|s| s.ready_replicas).unwrap_or(0);
    summary.push(DetailRow::toned(
        "replicas",
        format!(
            "{desired} desired · {} updated · {ready} ready · {} available · {} unavailable",
            status.and_then(|s| s.updated_replicas).unwrap_or(0),
            status.and_then(|s| s.available_replicas).unwrap_or(0),
            status.and_then(|s| s.unavailable_replicas).unwrap_or(0),
        ),
        if ready >= desired {
            Tone::Ok
        } else {
            Tone::Warn
        },
    ));
    if let Some(strategy) = spec.and_then(|s| s.strategy.as_ref()) {
        let mut text = strategy
            .type_
            .clone()
            .unwrap_or_else(|| "RollingUpdate".into());
        if let Some(r) = &strategy.rolling_update {
            let show = |v: &Option<IntOrString>| v.as_ref().map_or("25%".into(), int_or_string);
            text.push_str(&format!(
                " (max surge {}, max unavailable {})",
                show(&r.max_surge),
                show(&r.max_unavailable)
            ));
        }
        summary.field("strategy", text);
    }
    summary.field(
        "created",
        when(now, meta.creation_timestamp.as_ref().map(system_time)),
    );
    let rs_refs: Vec<&ReplicaSet> = rss.iter().collect();
    let mut owned = owned_replica_sets(d, &rs_refs);
    owned.sort_by_key(|rs| std::cmp::Reverse(revision_of(&rs.metadata)));
    let mut history = DetailSection::new("Rollout history (ReplicaSets, newest first)");
    for rs in &owned {
        let rev = revision_of(&rs.metadata);
        let current = rev.is_some() && rev == revision;
        let want = rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
        let have = rs
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0);
        let key = format!(
            "rev {}{}",
            rev.map_or("?".into(), |r| r.to_string()),
            if current { " (current)" } else { "" }
        );
        let value = format!(
            "{} · {have}/{want} ready · {} · {}",
            images(
                rs.spec
                    .as_ref()
                    .and_then(|s| s.template.as_ref())
                    .and_then(|t| t.spec.as_ref())
            ),
            name_of(&rs.metadata),
            when(
                now,
                rs.metadata.creation_timestamp.as_ref().map(system_time)
            ),
        );
        history.push(DetailRow::toned(
            key,
            value,
            if current { Tone::Ok } else { Tone::Plain },
        ));
    }
    if history.rows.is_empty() {
        history.push(DetailRow::text("no ReplicaSets"));
    }
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let conditions = conditions_section(
        conditions.iter().map(|c| {
            (
                c.type_.as_str(),
                c.status.as_str(),
                c.reason.as_deref(),
                c.message.as_deref(),
            )
        }),
        |kind, status| (kind == "ReplicaFailure") != (status == "True"),
    );
    let ns = namespace_of(meta);
    let mut links: Vec<DetailTarget> = pods
        .iter()
        .filter(|p| pod_deployment(p, &rs_refs).as_deref() == meta.name.as_deref())
        .filter(|p| p.metadata.namespace.as_deref() == Some(ns.as_str()))
        .map(|p| {
            DetailTarget::Workload(WorkloadRef::new(
                WorkloadKind::Pod,
                ns.clone(),
                name_of(&p.metadata),
            ))
        })
        .collect();
    links.sort_by_key(|l| l.to_string());
    Detail {
        sections: vec![summary, history, conditions, events_section(events, now)],
        yaml: yaml_of(d),
        links,
    }
}
