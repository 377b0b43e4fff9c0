//! The Metrics pane's state: the series and the database summaries.

use crate::domain::{DbSnapshot, MetricSeries};

/// The Metrics pane.
#[derive(Debug, Clone, Default)]
pub struct MetricsView {
    /// Whether the metric sources have answered at all (an empty answer
    /// is not "waiting").
    pub answered: bool,
    pub series: Vec<MetricSeries>,
    pub databases: Vec<DbSnapshot>,
    pub selected: usize,
}
