//! What drives the pods' memory.

use super::objects::PodTemplate;

/// What drives the pods' memory: per-app demand shared by running containers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryModel {
    /// Worker backlog memory (MiB) shared by the running worker containers.
    pub worker_demand_mib: f64,
}

/// Steady-state working set of an app's container.
pub fn base_memory_for(app: &str, limit: u64) -> f64 {
    match app {
        "worker" => 170.0,
        "api" => limit as f64 * 0.46,
        _ => limit as f64 * 0.35,
    }
}

/// The working set a pod of a template starts with.
pub fn base_memory(t: &PodTemplate) -> f64 {
    let app = t.labels.get("app").map_or("", String::as_str);
    match app {
        "worker" => 320.0,
        _ => base_memory_for(app, t.memory_limit_mib),
    }
}
