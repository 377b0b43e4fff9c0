//! The Workloads pane: Kubernetes deployments and pods, ECS services and
//! tasks, with health; the workload changes act on the selected row.

mod render;
mod update;
mod view;

use super::Pane;
pub use render::{render, title};
pub use update::{copy_text, detail_target, offered, parse_count, set_filter, show_kinds};
pub use update::{navigate, on_action};
pub use view::{SortKey, WorkloadsView};

impl Pane {
    /// Deployments, pods, ECS services and tasks with their health.
    pub const WORKLOADS: Pane = Pane("workloads");
}
