//! Drawing the Workloads pane: one row per workload, worst first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::widgets::{Cell, Row, Table};

use crate::core::Feed;
use crate::core::State;
use crate::domain::Health;
use crate::panes::Pane;
use crate::panes::widgets::{feed_placeholder, health_slot, placeholder, truncate_middle};
use crate::sanitize;
use crate::theme::{Slot, Theme};

/// The pane's title and its state summary.
pub fn title(state: &State) -> (String, String) {
    {
        let w = &state.workloads;
        let mut extra = String::new();
        if let Some(id) = &w.gone {
            // First and short, so a narrow title still shows the word.
            extra.push_str(&format!(
                "gone: {} {} · ",
                id.kind.short(),
                truncate_middle(&sanitize::line(&id.name), 14)
            ));
        }
        extra.push_str(&format!(
            "sort:{}{}",
            w.sort.label(),
            if w.reverse { "↑" } else { "" }
        ));
        if !w.kinds.is_empty() {
            let kinds: Vec<&str> = w.kinds.iter().map(|k| k.short()).collect();
            extra.push_str(&format!(" :{}", kinds.join(",")));
        }
        if !w.filter.is_empty() {
            extra.push_str(&format!(" /{}", sanitize::line(&w.filter)));
        }
        (format!("Workloads ({})", w.visible().len()), extra)
    }
}

/// Draw the pane.
pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let rows = state.workloads.visible();
    if rows.is_empty() {
        if state.workloads.rows.is_empty() {
            feed_placeholder(
                frame,
                area,
                theme,
                state,
                Feed::Workloads,
                "waiting for workloads…",
            );
        } else {
            placeholder(frame, area, theme, "no workload matches the filter");
        }
        return;
    }
    let wide = area.width >= 70;
    let height = area.height.saturating_sub(1) as usize;
    let sel = state.workloads.selected.min(rows.len() - 1);
    let first = sel.saturating_sub(height.saturating_sub(1));
    // Columns other than the name take this much, spacing included.
    let fixed = if wide {
        1 + 6 + 5 + 18 + 8 + 4 + 6
    } else {
        1 + 6 + 5 + 10 + 3 + 3 + 6
    };
    let name_width = (area.width as usize).saturating_sub(fixed).max(4);
    let header_cells: Vec<&str> = if wide {
        vec![
            "",
            "KIND",
            "NAMESPACE/NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
        ]
    } else {
        vec!["", "KIND", "NAME", "READY", "STATUS", "RST", "AGE"]
    };
    let header = Row::new(header_cells).style(theme.style(Slot::Header));
    let body = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, w)| {
            let hs = theme.style(health_slot(w.health));
            let status = if w.oom_killed && !w.status.contains("OOM") {
                format!("{} (OOM)", w.status)
            } else {
                w.status.clone()
            };
            let age =
                crate::fmt::duration_short(state.now.duration_since(w.created).unwrap_or_default());
            let marker = match w.health {
                Health::Ok => "●",
                Health::Warn => "▲",
                Health::Critical => "✖",
                Health::Unknown => "?",
            };
            let mut cells = vec![Cell::from(marker).style(hs), Cell::from(w.id.kind.short())];
            let name = if wide {
                format!("{}/{}", w.id.scope, w.id.name)
            } else {
                w.id.name.clone()
            };
            cells.push(Cell::from(truncate_middle(
                &sanitize::line(&name),
                name_width,
            )));
            cells.push(Cell::from(format!("{}/{}", w.ready, w.desired)));
            cells.push(Cell::from(sanitize::line(&status)).style(hs));
            cells.push(Cell::from(w.restarts.to_string()).style(if w.restarts > 3 {
                hs
            } else {
                Style::new()
            }));
            cells.push(Cell::from(age));
            let row = Row::new(cells);
            if i == sel && state.focus == Pane::WORKLOADS && state.workloads.gone.is_none() {
                row.style(theme.style(Slot::Selection))
            } else {
                row
            }
        });
    let widths: Vec<Constraint> = if wide {
        vec![
            Constraint::Length(1),
            Constraint::Length(6),
            Constraint::Fill(1),
            Constraint::Length(5),
            Constraint::Length(18),
            Constraint::Length(8),
            Constraint::Length(4),
        ]
    } else {
        vec![
            Constraint::Length(1),
            Constraint::Length(6),
            Constraint::Fill(1),
            Constraint::Length(5),
            Constraint::Length(10),
            Constraint::Length(3),
            Constraint::Length(3),
        ]
    };
    frame.render_widget(
        Table::new(body, widths).header(header).column_spacing(1),
        area,
    );
}
