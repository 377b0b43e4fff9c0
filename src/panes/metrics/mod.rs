//! The Metrics pane: a sparkline per series with warning and critical
//! thresholds, and each database's connections.

mod render;
mod update;
mod view;

use super::Pane;
pub use render::{render, title};
pub use update::{detail_target, navigate, on_action};
pub use view::MetricsView;

impl Pane {
    /// Sparklines with thresholds.
    pub const METRICS: Pane = Pane("metrics");
}
