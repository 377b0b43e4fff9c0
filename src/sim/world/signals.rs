//! The service signals the scenarios drive: api error rate, latency and
//! traffic, database pressure, worker memory. Recomputed every tick from
//! the objects; the logs and the sampled metrics follow them.

use crate::sim::k8s::{K8sState, Pod};
use crate::sim::pg::{PgDatabase, SessionRole};
use crate::sim::rng::Rng;

/// The api release the estate runs.
pub(crate) const GOOD_API_IMAGE: &str = "registry.example.com/shop/api:1.8.2";
/// The release of the bad-deploy scenario: its pods fail a good share of
/// requests.
pub(crate) const BAD_API_IMAGE: &str = "registry.example.com/shop/api:1.9.0";

/// Instantaneous service signals, recomputed every tick.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Signals {
    pub api_5xx: f64,
    pub api_p95: f64,
    pub api_rps: f64,
    pub blocked: usize,
    pub saturated: bool,
    pub refused_this_tick: u64,
    pub bad_fraction: f64,
    pub worker_peak: Option<f64>,
}

impl Signals {
    /// This tick's signals, from the previous ones (the connections refused
    /// this tick and the worker memory peak carry over) and the objects.
    pub fn compute(
        prev: Signals,
        k8s: &K8sState,
        db: &PgDatabase,
        rng: &mut Rng,
        ticks: u64,
    ) -> Signals {
        let api: Vec<&Pod> = k8s
            .pods
            .iter()
            .filter(|p| p.app() == "api" && p.ready())
            .collect();
        let bad = api
            .iter()
            .filter(|p| p.container.image == BAD_API_IMAGE)
            .count();
        let bad_fraction = if api.is_empty() {
            0.0
        } else {
            bad as f64 / api.len() as f64
        };
        let blocked = db.count(&SessionRole::Blocked);
        let saturated = db.full();
        let mut e =
            0.12 + rng.uniform(0.0, 0.12) + bad_fraction * 11.5 + (blocked as f64 * 0.045).min(3.0);
        if saturated {
            e += 5.5;
        }
        if api.is_empty() {
            e = 100.0;
        }
        let mut p95 =
            0.15 + rng.uniform(0.0, 0.05) + bad_fraction * 1.3 + blocked.min(60) as f64 * 0.02;
        if saturated {
            p95 += 0.5;
        }
        let minute = ticks as f64 / 60.0;
        let rps =
            118.0 + 14.0 * (minute / 9.0 * std::f64::consts::TAU).sin() + rng.uniform(-6.0, 6.0);
        let worker_now = max_memory_pct(k8s, "worker");
        let worker_peak = match (prev.worker_peak, worker_now) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        Signals {
            api_5xx: e.min(100.0),
            api_p95: p95,
            api_rps: rps,
            blocked,
            saturated,
            refused_this_tick: prev.refused_this_tick,
            bad_fraction,
            worker_peak,
        }
    }
}

/// The highest memory use (% of limit) of an app's running containers.
pub(crate) fn max_memory_pct(k8s: &K8sState, app: &str) -> Option<f64> {
    k8s.pods
        .iter()
        .filter(|p| p.app() == app && p.container_running())
        .map(Pod::memory_pct)
        .fold(None, |acc: Option<f64>, v| {
            Some(acc.map_or(v, |a| a.max(v)))
        })
}
