//! `metrics.k8s.io/v1beta1` PodMetrics, as metrics-server serves them.

use std::sync::Arc;

use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Api;
use super::objects;
use super::status::{ApiError, json_response};

/// `metrics.k8s.io/v1beta1` PodMetrics from the simulated working sets.
pub(crate) fn pod_metrics(api: &Arc<Api>, ns: Option<&str>, name: Option<&str>) -> Response {
    let items: Vec<Value> = api.k8s(|k, _, now| {
        k.pods
            .iter()
            .filter(|p| !p.terminating() && p.container_running())
            .filter(|p| ns.is_none_or(|n| n == p.meta.namespace))
            .filter(|p| name.is_none_or(|n| n == p.meta.name))
            .map(|p| {
                let cpu = k
                    .replica_set_of_pod(p)
                    .map_or(100, |rs| rs.template.cpu_millis)
                    .max(1);
                let used_cpu = (cpu as f64 * (0.25 + p.memory_pct() / 200.0)).round() as u64;
                json!({
                    "metadata": {
                        "name": p.meta.name,
                        "namespace": p.meta.namespace,
                        "creationTimestamp": objects::time(now),
                        "labels": p.meta.labels,
                    },
                    "timestamp": objects::time(now),
                    "window": "10s",
                    "containers": [{
                        "name": p.container.name,
                        "usage": {
                            "cpu": format!("{used_cpu}m"),
                            "memory": format!("{}Ki", (p.memory_mib * 1024.0).round() as u64),
                        },
                    }],
                })
            })
            .collect()
    });
    if let Some(n) = name {
        return match items.into_iter().next() {
            Some(mut v) => {
                v["kind"] = json!("PodMetrics");
                v["apiVersion"] = json!("metrics.k8s.io/v1beta1");
                json_response(200, &v)
            }
            None => ApiError::not_found("metrics.k8s.io", "pods", n).into_response(),
        };
    }
    json_response(
        200,
        &json!({
            "kind": "PodMetricsList",
            "apiVersion": "metrics.k8s.io/v1beta1",
            "metadata": {},
            "items": items,
        }),
    )
}
