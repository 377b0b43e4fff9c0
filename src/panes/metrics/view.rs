//! The Metrics pane's state: the series and the database summaries.

use crate::domain::{DbSnapshot, MetricSeries};

/// The Metrics pane.
#[derive(Debug, Clone, Default)]
pub struct MetricsView {
    pub series: Vec<MetricSeries>,
    pub databases: Vec<DbSnapshot>,
    pub selected: usize,
}
