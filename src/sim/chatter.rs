//! What the simulated apps print: JSON and plain-text lines whose content
//! and level follow the situation, with the odd ANSI-coloured line as real
//! apps print (the UI must neutralise those).

use std::time::SystemTime;

use crate::domain::{Level, LogLine};

use super::ecs::{EcsState, TaskHealth, TaskStatus};
use super::k8s::{ContainerState, K8sState};
use super::rng::Rng;
use super::world::signals::{BAD_API_IMAGE, Signals};

const PATHS: &[&str] = &[
    "/api/orders",
    "/api/orders/{id}",
    "/api/cart",
    "/api/checkout/quote",
    "/api/products",
    "/healthz",
];

struct Line {
    source: String,
    level: Level,
    text: String,
}

impl Line {
    fn new(source: &str, level: Level, text: String) -> Line {
        Line {
            source: source.to_string(),
            level,
            text,
        }
    }
}

/// A running container as the chatter sees it.
struct Container {
    pod: String,
    app: String,
    image: String,
    started_now: bool,
    memory_pct: f64,
    restarted: bool,
}

/// This tick's lines: the pods' first, then the ECS tasks'.
pub(super) fn lines(
    k8s: &K8sState,
    ecs: &EcsState,
    sig: Signals,
    rng: &mut Rng,
    now: SystemTime,
) -> Vec<LogLine> {
    let ts = humantime::format_rfc3339_millis(now).to_string();
    let mut out: Vec<Line> = Vec::new();
    pod_lines(k8s, sig, rng, now, &ts, &mut out);
    task_lines(ecs, rng, now, &ts, &mut out);
    out.into_iter()
        .map(|l| LogLine {
            source: l.source,
            time: now,
            level: l.level,
            text: l.text,
        })
        .collect()
}

fn pod_lines(
    k8s: &K8sState,
    sig: Signals,
    rng: &mut Rng,
    now: SystemTime,
    ts: &str,
    out: &mut Vec<Line>,
) {
    let containers: Vec<Container> = k8s
        .pods
        .iter()
        .filter(|p| p.container_running())
        .map(|p| Container {
            pod: p.meta.name.clone(),
            app: p.app().to_string(),
            image: p.container.image.clone(),
            started_now: matches!(
                p.container.state,
                ContainerState::Running { started } if started == now
            ),
            memory_pct: p.memory_pct(),
            restarted: p.container.restart_count > 0,
        })
        .collect();
    for c in containers {
        let tag = c
            .image
            .rsplit_once(':')
            .map_or("latest", |(_, t)| t)
            .to_string();
        let line = if c.started_now {
            Some(start_line(&c, &tag, ts))
        } else {
            match c.app.as_str() {
                "api" => api_line(&c, &tag, sig, rng, ts),
                "worker" => worker_line(&c, rng),
                _ => web_line(&c, rng),
            }
        };
        out.extend(line);
    }
}

fn start_line(c: &Container, tag: &str, ts: &str) -> Line {
    let text = match c.app.as_str() {
        "worker" if c.restarted => format!(
            "INFO worker {tag} starting (previous container was killed), concurrency=16, resuming backlog"
        ),
        "worker" => format!("INFO worker {tag} starting, concurrency=16"),
        _ => format!(
            "{{\"ts\":\"{ts}\",\"level\":\"info\",\"msg\":\"server listening\",\"addr\":\":8080\",\"version\":\"{tag}\"}}"
        ),
    };
    Line::new(&c.pod, Level::Info, text)
}

/// An api line, most ticks: failures of the bad release, connection
/// trouble when the database is saturated or locked, else requests.
fn api_line(c: &Container, tag: &str, sig: Signals, rng: &mut Rng, ts: &str) -> Option<Line> {
    if !rng.chance(0.7) {
        return None;
    }
    let pod = c.pod.as_str();
    let bad = c.image == BAD_API_IMAGE;
    let rid = rng.hex(8);
    let r = rng.next_f64();
    let line = if bad && r < 0.35 {
        if rng.chance(0.5) {
            Line::new(
                pod,
                Level::Error,
                format!(
                    "{{\"ts\":\"{ts}\",\"level\":\"error\",\"msg\":\"handler panicked\",\"path\":\"/api/checkout/quote\",\"request_id\":\"{rid}\",\"error\":\"runtime error: invalid memory address or nil pointer dereference\",\"version\":\"{tag}\"}}"
                ),
            )
        } else {
            Line::new(
                pod,
                Level::Warn,
                format!(
                    "WARN pricing client: retrying GET http://pricing.shop.svc:8080/v2/quote after 503 (attempt 3/3, {} ms) request_id={rid}",
                    rng.range(700, 1900)
                ),
            )
        }
    } else if sig.saturated && r < 0.3 {
        let text = if rng.chance(0.5) {
            format!(
                "{{\"ts\":\"{ts}\",\"level\":\"error\",\"msg\":\"db connect failed\",\"db\":\"orders-db:5432\",\"error\":\"FATAL: remaining connection slots are reserved for non-replication superuser connections\",\"request_id\":\"{rid}\"}}"
            )
        } else {
            format!(
                "ERROR pool: timeout after 5s acquiring connection to orders-db:5432 (in use 8/8, waiting {}) request_id={rid}",
                rng.range(12, 40)
            )
        };
        Line::new(pod, Level::Error, text)
    } else if sig.blocked > 0 && r < 0.25 {
        let waited = 0.2 + sig.blocked as f64 * 0.04 + rng.uniform(0.0, 0.5);
        let text = format!(
            "{{\"ts\":\"{ts}\",\"level\":\"warn\",\"msg\":\"slow query\",\"query\":\"UPDATE orders SET status = $1, updated_at = now() WHERE id = $2\",\"duration_ms\":{},\"request_id\":\"{rid}\"}}",
            (waited * 1000.0) as u64
        );
        Line::new(pod, Level::Warn, text)
    } else if r > 0.985 {
        let text = format!(
            "\u{1b}[32mINFO\u{1b}[0m cache: refreshed {} product prices in {}ms",
            rng.range(900, 1400),
            rng.range(20, 60)
        );
        Line::new(pod, Level::Info, text)
    } else if r > 0.95 {
        Line::new(
            pod,
            Level::Debug,
            format!("DEBUG GET /healthz 200 {}us", rng.range(80, 400)),
        )
    } else {
        request_line(pod, bad, &rid, sig, rng, ts)
    };
    Some(line)
}

/// An api access log line; it fails as often as the 5xx rate says.
fn request_line(pod: &str, bad: bool, rid: &str, sig: Signals, rng: &mut Rng, ts: &str) -> Line {
    let path = rng
        .pick(PATHS)
        .copied()
        .unwrap_or("/api/orders")
        .replace("{id}", &rng.range(40_000, 99_999).to_string());
    let failing = rng.next_f64() * 100.0 < sig.api_5xx;
    let status = if failing {
        if bad { 500 } else { 503 }
    } else {
        200
    };
    let dur = (sig.api_p95 * 1000.0 * rng.uniform(0.2, 1.05)) as u64;
    let level = if failing { "error" } else { "info" };
    let method = if path.contains("checkout") || rng.chance(0.2) {
        "POST"
    } else {
        "GET"
    };
    let text = format!(
        "{{\"ts\":\"{ts}\",\"level\":\"{level}\",\"msg\":\"request completed\",\"method\":\"{method}\",\"path\":\"{path}\",\"status\":{status},\"duration_ms\":{dur},\"request_id\":\"{rid}\"}}"
    );
    Line::new(pod, if failing { Level::Error } else { Level::Info }, text)
}

/// A worker line, some ticks: heap warnings near the limit, else batches.
fn worker_line(c: &Container, rng: &mut Rng) -> Option<Line> {
    if !rng.chance(0.4) {
        return None;
    }
    let pod = c.pod.as_str();
    let line = if c.memory_pct >= 85.0 {
        Line::new(
            pod,
            Level::Warn,
            format!(
                "WARN heap {:.0}% of limit, backlog {} jobs; loading next batch of 5000 jobs into memory",
                c.memory_pct,
                rng.range(15_000, 25_000)
            ),
        )
    } else if rng.chance(0.02) {
        Line::new(
            pod,
            Level::Info,
            format!(
                "\u{1b}[1;34mINFO\u{1b}[0m gc: freed {} MiB in {}ms",
                rng.range(20, 90),
                rng.range(3, 30)
            ),
        )
    } else {
        Line::new(
            pod,
            Level::Info,
            format!(
                "INFO processed batch {} ({} jobs) in {:.2}s",
                rng.range(1000, 9999),
                rng.range(50, 250),
                rng.uniform(0.3, 2.0)
            ),
        )
    };
    Some(line)
}

/// A web server access log line, now and then.
fn web_line(c: &Container, rng: &mut Rng) -> Option<Line> {
    if !rng.chance(0.15) {
        return None;
    }
    let text = format!(
        "10.42.0.{} - - \"GET / HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0\"",
        rng.range(2, 250),
        rng.range(900, 9000)
    );
    Some(Line::new(&c.pod, Level::Info, text))
}

/// The running ECS tasks' lines: payments timeouts from tasks of a
/// deployment that still points at the old endpoint, else checkouts.
fn task_lines(ecs: &EcsState, rng: &mut Rng, now: SystemTime, ts: &str, out: &mut Vec<Line>) {
    let running = ecs
        .tasks
        .iter()
        .filter(|t| t.last_status == TaskStatus::Running);
    for t in running {
        let stale_dep = ecs
            .services
            .iter()
            .flat_map(|s| s.deployments.iter())
            .find(|d| d.id == t.deployment_id)
            .is_some_and(|d| d.config_epoch < ecs.config_epoch);
        let failing = stale_dep && t.degrade_at.is_none_or(|d| now >= d);
        let stream = t.log_stream();
        if t.started == Some(now) {
            out.push(Line::new(
                &stream,
                Level::Info,
                format!("{{\"time\":\"{ts}\",\"severity\":\"INFO\",\"message\":\"checkout-service started\",\"port\":8080}}"),
            ));
            continue;
        }
        if !rng.chance(0.45) {
            continue;
        }
        let line = if failing && rng.chance(0.6) {
            if rng.chance(0.5) {
                Line::new(
                    &stream,
                    Level::Error,
                    format!(
                        "{{\"time\":\"{ts}\",\"severity\":\"ERROR\",\"message\":\"payments client: dial tcp 10.0.40.17:8443: i/o timeout\",\"upstream\":\"payments.prod.internal\",\"attempt\":{}}}",
                        rng.range(1, 4)
                    ),
                )
            } else {
                let text = if t.health == TaskHealth::Unhealthy {
                    "WARN GET /healthz 503: dependency payments unreachable (3 consecutive failures)".to_string()
                } else {
                    "WARN circuit breaker payments: half-open -> open after 5 failures".to_string()
                };
                Line::new(&stream, Level::Warn, text)
            }
        } else {
            Line::new(
                &stream,
                Level::Info,
                format!(
                    "{{\"time\":\"{ts}\",\"severity\":\"INFO\",\"message\":\"checkout completed\",\"order_id\":{},\"duration_ms\":{}}}",
                    rng.range(40_000, 99_999),
                    rng.range(40, 180)
                ),
            )
        };
        out.push(line);
    }
}
