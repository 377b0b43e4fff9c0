//! Drawing the Metrics pane: a sparkline per series coloured by its
//! thresholds, then each database's connections.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::core::Feed;
use crate::core::State;
use crate::domain::Health;
use crate::panes::Pane;
use crate::panes::widgets::{feed_placeholder, health_slot, sparkline, truncate};
use crate::sanitize;
use crate::theme::{Slot, Theme};

/// The pane's title and its state summary.
pub fn title(_state: &State) -> (String, String) {
    ("Metrics".into(), String::new())
}

/// What an empty pane says: still waiting, or answered with nothing (a
/// Kubernetes cluster without metrics-server serves no `metrics.k8s.io`).
fn empty_text(state: &State) -> &'static str {
    use crate::domain::Target;
    if !state.metrics.answered {
        return "waiting for metrics…";
    }
    match state.target {
        Target::Kube { .. } | Target::Demo { .. } => {
            "no pod metrics: the cluster serves no metrics.k8s.io (is metrics-server installed?), \
             or no pod here reports any"
        }
        _ => "no metrics: the sources report none",
    }
}

/// Draw the pane.
pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let m = &state.metrics;
    if m.series.is_empty() && m.databases.is_empty() {
        feed_placeholder(frame, area, theme, state, Feed::Metrics, empty_text(state));
        return;
    }
    let name_w = if area.width >= 60 { 22 } else { 13 };
    let value_w = 9usize;
    let spark_w = (area.width as usize)
        .saturating_sub(name_w + value_w + 2)
        .max(1);
    let mut lines: Vec<Line> = Vec::new();
    for (i, s) in m.series.iter().enumerate() {
        let name = truncate(&sanitize::line(&s.name), name_w);
        let selected = state.focus == Pane::METRICS && i == m.selected;
        let name_style = if selected {
            theme.style(Slot::Selection)
        } else {
            Style::new()
        };
        let mut spans = vec![Span::styled(format!("{name:<name_w$} "), name_style)];
        let alarm = s.key.starts_with(crate::domain::ALARM_KEY_PREFIX);
        let (value, slot) = match s.current() {
            // An alarm's series is its state: say the word, not its number.
            Some(v) if alarm => (
                crate::domain::alarm_state_word(v).to_string(),
                health_slot(s.health_of(v)),
            ),
            Some(v) => (crate::fmt::value(v, &s.unit), health_slot(s.health_of(v))),
            None => ("–".into(), Slot::HealthUnknown),
        };
        // A long state word takes its room from the sparkline.
        let extra = value.chars().count().saturating_sub(value_w);
        spans.extend(sparkline(s, spark_w.saturating_sub(extra).max(1), theme));
        spans.push(Span::styled(
            format!(" {value:>value_w$}"),
            theme.style(slot),
        ));
        lines.push(Line::from(spans));
    }
    for db in &m.databases {
        let used = db.connections() as usize;
        let pct = if db.max_connections > 0 {
            used as f64 * 100.0 / db.max_connections as f64
        } else {
            0.0
        };
        let health = if pct >= 90.0 {
            Health::Critical
        } else if pct >= 80.0 {
            Health::Warn
        } else {
            Health::Ok
        };
        let long = db
            .sessions
            .iter()
            .filter(|s| {
                s.state == crate::domain::SessionState::Active && s.running.as_secs() >= 600
            })
            .count();
        lines.push(Line::from(vec![
            Span::styled(
                format!("{} ", sanitize::line(&db.name)),
                theme.style(Slot::Header),
            ),
            Span::styled(
                format!("{used}/{} connections", db.max_connections),
                theme.style(health_slot(health)),
            ),
            Span::styled(
                format!(" · {long} active > 10m"),
                theme.style(if long > 0 {
                    Slot::HealthWarn
                } else {
                    Slot::Hint
                }),
            ),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), area);
}
