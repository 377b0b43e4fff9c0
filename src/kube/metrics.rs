//! Pod metrics from `metrics.k8s.io`, per deployment.
//!
//! When the cluster does not serve the metrics API (no metrics-server), the
//! source answers with no series rather than an error. Each call samples the
//! API once and appends a point to each deployment's series.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use ::kube::Client;
use ::kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use async_trait::async_trait;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::TaskGuard;
use super::config::{api_code, map_kube_error};
use super::convert;
use super::watch::Caches;
use crate::domain::{MetricSeries, Point};
use crate::source::{MetricSource, SourceError};

/// Points kept per series.
const KEEP: usize = 120;
/// How long a "metrics API absent" answer is trusted before asking again.
const RECHECK: Duration = Duration::from_secs(300);

/// Per-deployment CPU and memory series.
pub struct KubeMetrics {
    label: String,
    client: Client,
    namespace: Option<String>,
    cache: Arc<Caches>,
    state: Mutex<MetricsState>,
    _guard: Arc<TaskGuard>,
}

#[derive(Default)]
struct MetricsState {
    /// `Some(false)` once discovery said the API is absent, and when.
    available: Option<(bool, Instant)>,
    series: BTreeMap<String, MetricSeries>,
}

/// Parse a CPU quantity to millicores (`250m`, `1`, `1500000n`).
pub fn cpu_millis(q: &Quantity) -> Option<f64> {
    let s = q.0.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix('n') {
        (n, 1e-6)
    } else if let Some(n) = s.strip_suffix('u') {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 1.0)
    } else {
        (s, 1000.0)
    };
    num.parse::<f64>().ok().map(|v| v * scale)
}

/// Parse a memory quantity to MiB (`128Mi`, `1Gi`, `524288Ki`, `1000000`).
pub fn memory_mib(q: &Quantity) -> Option<f64> {
    let s = q.0.trim();
    const MIB: f64 = 1024.0 * 1024.0;
    let units: [(&str, f64); 12] = [
        ("Ki", 1024.0),
        ("Mi", MIB),
        ("Gi", MIB * 1024.0),
        ("Ti", MIB * 1024.0 * 1024.0),
        ("Pi", MIB * 1024.0 * 1024.0 * 1024.0),
        ("Ei", MIB * 1024.0 * 1024.0 * 1024.0 * 1024.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    for (suffix, factor) in units {
        if let Some(n) = s.strip_suffix(suffix) {
            return n.parse::<f64>().ok().map(|v| v * factor / MIB);
        }
    }
    if let Some((m, e)) = s.split_once(['e', 'E']) {
        let v = m.parse::<f64>().ok()? * 10f64.powi(e.parse::<i32>().ok()?);
        return Some(v / MIB);
    }
    s.parse::<f64>().ok().map(|v| v / MIB)
}

/// Summed usage of one pod from a PodMetrics object: (cpu millicores, memory MiB).
fn pod_usage(obj: &DynamicObject) -> (f64, f64) {
    let mut cpu = 0.0;
    let mut mem = 0.0;
    if let Some(containers) = obj.data.get("containers").and_then(|c| c.as_array()) {
        for c in containers {
            let usage = c.get("usage");
            let q = |k: &str| {
                usage
                    .and_then(|u| u.get(k))
                    .and_then(|v| v.as_str())
                    .map(|s| Quantity(s.to_string()))
            };
            cpu += q("cpu").as_ref().and_then(cpu_millis).unwrap_or(0.0);
            mem += q("memory").as_ref().and_then(memory_mib).unwrap_or(0.0);
        }
    }
    (cpu, mem)
}

/// A pod's summed limits: (cpu millicores, memory MiB), when every container has one.
fn pod_limits(pod: &Pod) -> (Option<f64>, Option<f64>) {
    let Some(spec) = &pod.spec else {
        return (None, None);
    };
    let mut cpu = Some(0.0);
    let mut mem = Some(0.0);
    for c in &spec.containers {
        let limits = c.resources.as_ref().and_then(|r| r.limits.as_ref());
        let l_cpu = limits.and_then(|l| l.get("cpu")).and_then(cpu_millis);
        let l_mem = limits.and_then(|l| l.get("memory")).and_then(memory_mib);
        cpu = cpu.zip(l_cpu).map(|(a, b)| a + b);
        mem = mem.zip(l_mem).map(|(a, b)| a + b);
    }
    (cpu.filter(|v| *v > 0.0), mem.filter(|v| *v > 0.0))
}

/// One sample of one deployment: CPU and memory, each either a % of limit or an absolute value.
struct Sample {
    cpu: f64,
    cpu_pct: bool,
    mem: f64,
    mem_pct: bool,
}

impl KubeMetrics {
    pub(crate) fn new(
        label: String,
        client: Client,
        namespace: Option<String>,
        cache: Arc<Caches>,
        guard: Arc<TaskGuard>,
    ) -> Self {
        Self {
            label,
            client,
            namespace,
            cache,
            state: Mutex::new(MetricsState::default()),
            _guard: guard,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, MetricsState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn available(&self) -> Result<bool, SourceError> {
        if let Some((known, at)) = self.state().available
            && (known || at.elapsed() < RECHECK)
        {
            return Ok(known);
        }
        let found = match ::kube::discovery::group(&self.client, "metrics.k8s.io").await {
            Ok(g) => g.recommended_kind("PodMetrics").is_some(),
            Err(::kube::Error::Discovery(_)) => false,
            Err(e) if matches!(api_code(&e), Some(404 | 403 | 503)) => false,
            Err(e) => return Err(map_kube_error("metrics.k8s.io discovery", &e)),
        };
        self.state().available = Some((found, Instant::now()));
        Ok(found)
    }

    async fn sample(&self) -> Result<BTreeMap<String, Sample>, SourceError> {
        let gvk = GroupVersionKind::gvk("metrics.k8s.io", "v1beta1", "PodMetrics");
        let ar = ApiResource::from_gvk_with_plural(&gvk, "pods");
        let api: Api<DynamicObject> = match &self.namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &ar),
            None => Api::all_with(self.client.clone(), &ar),
        };
        let list = api
            .list(&ListParams::default())
            .await
            .map_err(|e| map_kube_error("listing pod metrics", &e))?;
        let pods = self.cache.pods.store.state();
        // One index, not a search of every pod per metrics item.
        let by_name: std::collections::HashMap<(Option<&str>, &str), &Pod> = pods
            .iter()
            .filter_map(|p| {
                let name = p.metadata.name.as_deref()?;
                Some(((p.metadata.namespace.as_deref(), name), p.as_ref()))
            })
            .collect();
        let rss_arc = self.cache.replica_sets.store.state();
        let rss: Vec<&ReplicaSet> = rss_arc.iter().map(|r| r.as_ref()).collect();

        // Per deployment: total cpu/mem, and the max per-pod % of limit.
        #[derive(Default)]
        struct Acc {
            cpu: f64,
            mem: f64,
            cpu_pct: Option<f64>,
            mem_pct: Option<f64>,
        }
        let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
        for obj in &list.items {
            let (Some(name), ns) = (obj.metadata.name.as_deref(), obj.metadata.namespace.clone())
            else {
                continue;
            };
            let Some(&pod) = by_name.get(&(ns.as_deref(), name)) else {
                continue;
            };
            let Some(dep) = convert::pod_deployment(pod, &rss) else {
                continue;
            };
            let (cpu, mem) = pod_usage(obj);
            let (l_cpu, l_mem) = pod_limits(pod);
            let a = acc.entry(dep).or_default();
            a.cpu += cpu;
            a.mem += mem;
            if let Some(l) = l_cpu {
                a.cpu_pct = Some(a.cpu_pct.unwrap_or(0.0).max(cpu / l * 100.0));
            }
            if let Some(l) = l_mem {
                a.mem_pct = Some(a.mem_pct.unwrap_or(0.0).max(mem / l * 100.0));
            }
        }
        Ok(acc
            .into_iter()
            .map(|(dep, a)| {
                (
                    dep,
                    Sample {
                        cpu: a.cpu_pct.unwrap_or(a.cpu),
                        cpu_pct: a.cpu_pct.is_some(),
                        mem: a.mem_pct.unwrap_or(a.mem),
                        mem_pct: a.mem_pct.is_some(),
                    },
                )
            })
            .collect())
    }
}

fn push(
    series: &mut BTreeMap<String, MetricSeries>,
    key: String,
    name: String,
    unit: &str,
    pct: bool,
    point: Point,
) {
    let s = series.entry(key.clone()).or_insert_with(|| MetricSeries {
        key,
        name,
        unit: unit.to_string(),
        points: Vec::new(),
        warning: pct.then_some(80.0),
        critical: pct.then_some(90.0),
        lower_is_worse: false,
    });
    s.points.push(point);
    if s.points.len() > KEEP {
        let extra = s.points.len() - KEEP;
        s.points.drain(..extra);
    }
}

#[async_trait]
impl MetricSource for KubeMetrics {
    fn label(&self) -> String {
        self.label.clone()
    }

    async fn metrics(&self) -> Result<Vec<MetricSeries>, SourceError> {
        if !self.available().await? {
            return Ok(Vec::new());
        }
        let samples = self.sample().await?;
        let now = SystemTime::now();
        let mut state = self.state();
        for (dep, s) in samples {
            let (mem_name, mem_unit) = if s.mem_pct {
                (format!("{dep} memory (max pod, % of limit)"), "%")
            } else {
                (format!("{dep} memory (all pods)"), "MiB")
            };
            push(
                &mut state.series,
                format!("{dep}.memory"),
                mem_name,
                mem_unit,
                s.mem_pct,
                Point {
                    time: now,
                    value: s.mem,
                },
            );
            let (cpu_name, cpu_unit) = if s.cpu_pct {
                (format!("{dep} CPU (max pod, % of limit)"), "%")
            } else {
                (format!("{dep} CPU (all pods)"), "mCPU")
            };
            push(
                &mut state.series,
                format!("{dep}.cpu"),
                cpu_name,
                cpu_unit,
                s.cpu_pct,
                Point {
                    time: now,
                    value: s.cpu,
                },
            );
        }
        Ok(state.series.values().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse() {
        let q = |s: &str| Quantity(s.to_string());
        assert_eq!(cpu_millis(&q("250m")), Some(250.0));
        assert_eq!(cpu_millis(&q("2")), Some(2000.0));
        assert_eq!(cpu_millis(&q("1500000n")), Some(1.5));
        assert_eq!(memory_mib(&q("512Mi")), Some(512.0));
        assert_eq!(memory_mib(&q("1Gi")), Some(1024.0));
        assert_eq!(memory_mib(&q("524288Ki")), Some(512.0));
        assert_eq!(memory_mib(&q("1048576")), Some(1.0));
    }
}
