//! The Logs pane: every source's lines merged, with follow, search,
//! filters, levels, sources, JSON and Logs Insights.

mod markers;
mod render;
mod update;
mod view;

use super::Pane;
pub use markers::{MARKER_PREFIX, marker_text};
pub use render::{display_rows, pretty_json, render, title};
pub use update::{copy_text, no_match, save_submitted, search_submitted};
pub use update::{navigate, on_action};
pub use view::{LogsView, MAX_LOG_LINES, StreamMarker};

impl Pane {
    /// Live logs of every source, merged in time order.
    pub const LOGS: Pane = Pane("logs");
}
