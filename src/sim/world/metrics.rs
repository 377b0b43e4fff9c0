//! The metric series: sampled from the signals and the objects every
//! [`SAMPLE_EVERY`], the last [`METRIC_POINTS`] kept.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use crate::domain::{MetricSeries, Point};
use crate::sim::ecs::{EcsState, TaskStatus};
use crate::sim::k8s::K8sState;
use crate::sim::pg::PgDatabase;

use super::signals::{Signals, max_memory_pct};

/// Metrics are sampled this often (sim time).
pub const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// Points kept per series (15 minutes).
pub const METRIC_POINTS: usize = 90;

/// A metric series being recorded.
#[derive(Debug, Clone, PartialEq)]
struct SeriesBuf {
    key: &'static str,
    name: &'static str,
    unit: &'static str,
    warning: Option<f64>,
    critical: Option<f64>,
    lower_is_worse: bool,
    points: VecDeque<Point>,
}

/// The series the estate records.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series(Vec<SeriesBuf>);

impl Series {
    /// The estate's series, with their thresholds, empty.
    pub fn initial() -> Series {
        Series(vec![
            series(
                "orders-db.connections",
                "orders-db connections",
                "conn",
                Some(80.0),
                Some(90.0),
                false,
            ),
            series(
                "api.5xx_rate",
                "api 5xx rate",
                "%",
                Some(1.0),
                Some(5.0),
                false,
            ),
            series(
                "api.latency_p95",
                "api p95 latency",
                "s",
                Some(0.5),
                Some(1.0),
                false,
            ),
            series("api.requests", "api requests", "req/s", None, None, false),
            series(
                "api.memory",
                "api memory (max pod, % of limit)",
                "%",
                Some(80.0),
                Some(90.0),
                false,
            ),
            series(
                "worker.memory",
                "worker memory (max pod, % of limit)",
                "%",
                Some(80.0),
                Some(90.0),
                false,
            ),
            series(
                "checkout.running_tasks",
                "checkout running tasks",
                "tasks",
                Some(3.0),
                Some(2.0),
                true,
            ),
            series(
                "checkout.cpu",
                "checkout CPU (avg task)",
                "%",
                Some(80.0),
                Some(95.0),
                false,
            ),
        ])
    }

    /// Append the values at `now` of the signals and the objects.
    pub fn sample(
        &mut self,
        now: SystemTime,
        s: Signals,
        k8s: &K8sState,
        ecs: &EcsState,
        db: &PgDatabase,
    ) {
        let api_mem = max_memory_pct(k8s, "api");
        let running: Vec<f64> = ecs
            .tasks
            .iter()
            .filter(|t| t.service == "checkout" && t.last_status == TaskStatus::Running)
            .map(|t| t.cpu_pct)
            .collect();
        let cpu = (!running.is_empty()).then(|| running.iter().sum::<f64>() / running.len() as f64);
        let values: [(&str, Option<f64>); 8] = [
            ("orders-db.connections", Some(db.sessions.len() as f64)),
            ("api.5xx_rate", Some(round(s.api_5xx, 2))),
            ("api.latency_p95", Some(round(s.api_p95, 3))),
            ("api.requests", Some(round(s.api_rps, 1))),
            ("api.memory", api_mem.map(|v| round(v, 1))),
            (
                "worker.memory",
                s.worker_peak.map(|v| round(v.min(100.0), 1)),
            ),
            ("checkout.running_tasks", Some(running.len() as f64)),
            ("checkout.cpu", cpu.map(|v| round(v, 1))),
        ];
        for (key, value) in values {
            let Some(value) = value else {
                continue;
            };
            if let Some(buf) = self.0.iter_mut().find(|b| b.key == key) {
                buf.points.push_back(Point { time: now, value });
                while buf.points.len() > METRIC_POINTS {
                    buf.points.pop_front();
                }
            }
        }
    }

    /// Every series with its points.
    pub fn metrics(&self) -> Vec<MetricSeries> {
        self.0
            .iter()
            .map(|b| MetricSeries {
                key: b.key.into(),
                name: b.name.into(),
                unit: b.unit.into(),
                points: b.points.iter().copied().collect(),
                warning: b.warning,
                critical: b.critical,
                lower_is_worse: b.lower_is_worse,
            })
            .collect()
    }
}

fn series(
    key: &'static str,
    name: &'static str,
    unit: &'static str,
    warning: Option<f64>,
    critical: Option<f64>,
    lower_is_worse: bool,
) -> SeriesBuf {
    SeriesBuf {
        key,
        name,
        unit,
        warning,
        critical,
        lower_is_worse,
        points: VecDeque::new(),
    }
}

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}
