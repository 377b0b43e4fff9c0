//! What the simulated apps print: JSON and plain-text lines whose content
//! and level follow the situation, with the odd ANSI-coloured line as real
//! apps print (the UI must neutralise those).

use std::time::SystemTime;

use crate::domain::{Level, LogLine};

use super::ecs::{TaskHealth, TaskStatus};
use super::k8s::ContainerState;
use super::world::{BAD_API_IMAGE, World};

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

/// Emit this tick's lines.
pub(super) fn emit(w: &mut World, now: SystemTime) {
    let ts = humantime::format_rfc3339_millis(now).to_string();
    let mut out: Vec<Line> = Vec::new();
    let sig = w.signals;
    // Kubernetes pods.
    let pods: Vec<(String, String, String, bool, f64, bool)> = w
        .k8s
        .pods
        .iter()
        .filter(|p| p.container_running())
        .map(|p| {
            let started_now =
                matches!(p.container.state, ContainerState::Running { started } if started == now);
            (
                p.meta.name.clone(),
                p.app().to_string(),
                p.container.image.clone(),
                started_now,
                p.memory_pct(),
                p.container.restart_count > 0,
            )
        })
        .collect();
    for (pod, app, image, started_now, mem, restarted) in pods {
        let rng = &mut w.rng;
        let tag = image
            .rsplit_once(':')
            .map_or("latest", |(_, t)| t)
            .to_string();
        if started_now {
            let text = match app.as_str() {
                "worker" if restarted => format!(
                    "INFO worker {tag} starting (previous container was killed), concurrency=16, resuming backlog"
                ),
                "worker" => format!("INFO worker {tag} starting, concurrency=16"),
                _ => format!(
                    "{{\"ts\":\"{ts}\",\"level\":\"info\",\"msg\":\"server listening\",\"addr\":\":8080\",\"version\":\"{tag}\"}}"
                ),
            };
            out.push(Line {
                source: pod.clone(),
                level: Level::Info,
                text,
            });
            continue;
        }
        match app.as_str() {
            "api" => {
                if !rng.chance(0.7) {
                    continue;
                }
                let bad = image == BAD_API_IMAGE;
                let rid = rng.hex(8);
                let r = rng.next_f64();
                let line = if bad && r < 0.35 {
                    let (lvl, text) = if rng.chance(0.5) {
                        (
                            Level::Error,
                            format!(
                                "{{\"ts\":\"{ts}\",\"level\":\"error\",\"msg\":\"handler panicked\",\"path\":\"/api/checkout/quote\",\"request_id\":\"{rid}\",\"error\":\"runtime error: invalid memory address or nil pointer dereference\",\"version\":\"{tag}\"}}"
                            ),
                        )
                    } else {
                        (
                            Level::Warn,
                            format!(
                                "WARN pricing client: retrying GET http://pricing.shop.svc:8080/v2/quote after 503 (attempt 3/3, {} ms) request_id={rid}",
                                rng.range(700, 1900)
                            ),
                        )
                    };
                    Line {
                        source: pod.clone(),
                        level: lvl,
                        text,
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
                    Line {
                        source: pod.clone(),
                        level: Level::Error,
                        text,
                    }
                } else if sig.blocked > 0 && r < 0.25 {
                    let waited = 0.2 + sig.blocked as f64 * 0.04 + rng.uniform(0.0, 0.5);
                    let text = format!(
                        "{{\"ts\":\"{ts}\",\"level\":\"warn\",\"msg\":\"slow query\",\"query\":\"UPDATE orders SET status = $1, updated_at = now() WHERE id = $2\",\"duration_ms\":{},\"request_id\":\"{rid}\"}}",
                        (waited * 1000.0) as u64
                    );
                    Line {
                        source: pod.clone(),
                        level: Level::Warn,
                        text,
                    }
                } else if r > 0.985 {
                    let text = format!(
                        "\u{1b}[32mINFO\u{1b}[0m cache: refreshed {} product prices in {}ms",
                        rng.range(900, 1400),
                        rng.range(20, 60)
                    );
                    Line {
                        source: pod.clone(),
                        level: Level::Info,
                        text,
                    }
                } else if r > 0.95 {
                    Line {
                        source: pod.clone(),
                        level: Level::Debug,
                        text: format!("DEBUG GET /healthz 200 {}us", rng.range(80, 400)),
                    }
                } else {
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
                    Line {
                        source: pod.clone(),
                        level: if failing { Level::Error } else { Level::Info },
                        text,
                    }
                };
                out.push(line);
            }
            "worker" => {
                if !rng.chance(0.4) {
                    continue;
                }
                let line = if mem >= 85.0 {
                    Line {
                        source: pod.clone(),
                        level: Level::Warn,
                        text: format!(
                            "WARN heap {:.0}% of limit, backlog {} jobs; loading next batch of 5000 jobs into memory",
                            mem,
                            rng.range(15_000, 25_000)
                        ),
                    }
                } else if rng.chance(0.02) {
                    Line {
                        source: pod.clone(),
                        level: Level::Info,
                        text: format!(
                            "\u{1b}[1;34mINFO\u{1b}[0m gc: freed {} MiB in {}ms",
                            rng.range(20, 90),
                            rng.range(3, 30)
                        ),
                    }
                } else {
                    Line {
                        source: pod.clone(),
                        level: Level::Info,
                        text: format!(
                            "INFO processed batch {} ({} jobs) in {:.2}s",
                            rng.range(1000, 9999),
                            rng.range(50, 250),
                            rng.uniform(0.3, 2.0)
                        ),
                    }
                };
                out.push(line);
            }
            _ => {
                if rng.chance(0.15) {
                    let text = format!(
                        "10.42.0.{} - - \"GET / HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0\"",
                        rng.range(2, 250),
                        rng.range(900, 9000)
                    );
                    out.push(Line {
                        source: pod.clone(),
                        level: Level::Info,
                        text,
                    });
                }
            }
        }
    }
    // ECS tasks.
    let tasks: Vec<(String, TaskStatus, TaskHealth, bool)> = w
        .ecs
        .tasks
        .iter()
        .filter(|t| t.last_status == TaskStatus::Running)
        .map(|t| {
            (
                t.log_stream(),
                t.last_status,
                t.health,
                t.started == Some(now),
            )
        })
        .collect();
    let stale: Vec<bool> = w
        .ecs
        .tasks
        .iter()
        .filter(|t| t.last_status == TaskStatus::Running)
        .map(|t| {
            let stale_dep = w
                .ecs
                .services
                .iter()
                .flat_map(|s| s.deployments.iter())
                .find(|d| d.id == t.deployment_id)
                .is_some_and(|d| d.config_epoch < w.ecs.config_epoch);
            stale_dep && t.degrade_at.is_none_or(|d| now >= d)
        })
        .collect();
    for ((stream, _, health, started), failing) in tasks.into_iter().zip(stale) {
        let rng = &mut w.rng;
        if started {
            out.push(Line {
                source: stream,
                level: Level::Info,
                text: format!("{{\"time\":\"{ts}\",\"severity\":\"INFO\",\"message\":\"checkout-service started\",\"port\":8080}}"),
            });
            continue;
        }
        if !rng.chance(0.45) {
            continue;
        }
        let line = if failing && rng.chance(0.6) {
            if rng.chance(0.5) {
                Line {
                    source: stream,
                    level: Level::Error,
                    text: format!(
                        "{{\"time\":\"{ts}\",\"severity\":\"ERROR\",\"message\":\"payments client: dial tcp 10.0.40.17:8443: i/o timeout\",\"upstream\":\"payments.prod.internal\",\"attempt\":{}}}",
                        rng.range(1, 4)
                    ),
                }
            } else {
                let text = if health == TaskHealth::Unhealthy {
                    "WARN GET /healthz 503: dependency payments unreachable (3 consecutive failures)".to_string()
                } else {
                    "WARN circuit breaker payments: half-open -> open after 5 failures".to_string()
                };
                Line {
                    source: stream,
                    level: Level::Warn,
                    text,
                }
            }
        } else {
            Line {
                source: stream,
                level: Level::Info,
                text: format!(
                    "{{\"time\":\"{ts}\",\"severity\":\"INFO\",\"message\":\"checkout completed\",\"order_id\":{},\"duration_ms\":{}}}",
                    rng.range(40_000, 99_999),
                    rng.range(40, 180)
                ),
            }
        };
        out.push(line);
    }
    for l in out {
        w.push_log(LogLine {
            source: l.source,
            time: now,
            level: l.level,
            text: l.text,
        });
    }
}
