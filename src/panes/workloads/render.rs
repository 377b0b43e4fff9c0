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
        if !w.marked.is_empty() {
            extra.push_str(&format!(" · {} marked", w.marked.len()));
        }
        (format!("Workloads ({})", w.visible().len()), extra)
    }
}

/// Draw the pane.
pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let rows = state.workloads.shown();
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
    // Room for revision and reason columns.
    let extra = area.width >= 100;
    let height = area.height.saturating_sub(1) as usize;
    let sel = state.workloads.selected.min(rows.len() - 1);
    let first = sel.saturating_sub(height.saturating_sub(1));
    // READY is as wide as its widest value (20000/20000 is never cut).
    let ready_w = rows
        .iter()
        .map(|s| format!("{}/{}", s.row.ready, s.row.desired).len())
        .max()
        .unwrap_or(5)
        .max(5);
    let (mut status_w, restarts_w, age_w) = if wide { (18, 8, 4) } else { (10, 3, 3) };
    let (rev_w, reason_w) = if extra { (4, 22) } else { (0, 0) };
    // Wider still (a zoomed pane), the images.
    let with_image = area.width >= 150;
    // As wide as the widest image, up to 48 columns.
    let image_w = if with_image {
        rows.iter()
            .filter_map(|s| s.row.image.as_deref())
            .map(unicode_width::UnicodeWidthStr::width)
            .max()
            .unwrap_or(5)
            .clamp(5, 48)
    } else {
        0
    };
    // Columns other than the name take this much, with the one-column
    // spacing between every two columns.
    let fixed = |status_w: usize| {
        let mut f = 1 + 1 + 6 + 1 + 1 + ready_w + 1 + status_w + 1 + restarts_w + 1 + age_w;
        if extra {
            f += 1 + rev_w + 1 + reason_w;
        }
        if with_image {
            f += 1 + image_w;
        }
        f
    };
    // The name keeps at least 8 columns; STATUS gives them up first.
    const MIN_NAME: usize = 8;
    let deficit = (fixed(status_w) + MIN_NAME).saturating_sub(area.width as usize);
    status_w = status_w.saturating_sub(deficit).max(7);
    let name_width = (area.width as usize).saturating_sub(fixed(status_w)).max(4);
    let mut header_cells: Vec<&str> = if wide {
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
    if extra {
        header_cells.extend(["REV", "LAST REASON"]);
    }
    if with_image {
        header_cells.push("IMAGE");
    }
    let header = Row::new(header_cells).style(theme.style(Slot::Header));
    let body = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, shown)| {
            let w = shown.row;
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
            // Members sit under their group (`└ pod`); a folded group says
            // how many it holds.
            let kind = if shown.child {
                format!("└ {}", w.id.kind.short())
            } else {
                w.id.kind.short().to_string()
            };
            let mut cells = vec![Cell::from(marker).style(hs), Cell::from(kind)];
            let (lead, tail) = if state.workloads.marked.contains(&w.id) {
                ("▣ ", String::new())
            } else if shown.collapsed {
                ("▸ ", format!(" (+{})", shown.members))
            } else if shown.members > 0 && wide {
                ("▾ ", String::new())
            } else {
                ("", String::new())
            };
            let name = if wide && !shown.child {
                format!("{}/{}", w.id.scope, w.id.name)
            } else {
                w.id.name.clone()
            };
            let room = name_width.saturating_sub(lead.chars().count() + tail.chars().count());
            cells.push(Cell::from(format!(
                "{lead}{}{tail}",
                truncate_middle(&sanitize::line(&name), room.max(4))
            )));
            cells.push(Cell::from(format!("{}/{}", w.ready, w.desired)));
            cells.push(Cell::from(sanitize::line(&status)).style(hs));
            cells.push(Cell::from(w.restarts.to_string()).style(if w.restarts > 3 {
                hs
            } else {
                Style::new()
            }));
            cells.push(Cell::from(age));
            if extra {
                cells.push(Cell::from(
                    w.revision.map(|r| r.to_string()).unwrap_or_default(),
                ));
                cells.push(
                    Cell::from(crate::panes::widgets::truncate(
                        &sanitize::line(w.reason.as_deref().unwrap_or("")),
                        reason_w,
                    ))
                    .style(hs),
                );
            }
            if with_image {
                cells.push(Cell::from(truncate_middle(
                    &sanitize::line(w.image.as_deref().unwrap_or("")),
                    image_w,
                )));
            }
            let row = Row::new(cells);
            if i == sel && state.focus == Pane::WORKLOADS && state.workloads.gone.is_none() {
                row.style(theme.style(Slot::Selection))
            } else {
                row
            }
        });
    let mut widths: Vec<Constraint> = vec![
        Constraint::Length(1),
        Constraint::Length(6),
        Constraint::Fill(1),
        Constraint::Length(ready_w as u16),
        Constraint::Length(status_w as u16),
        Constraint::Length(restarts_w as u16),
        Constraint::Length(age_w as u16),
    ];
    if extra {
        widths.push(Constraint::Length(rev_w as u16));
        widths.push(Constraint::Length(reason_w as u16));
    }
    if with_image {
        widths.push(Constraint::Length(image_w as u16));
    }
    frame.render_widget(
        Table::new(body, widths).header(header).column_spacing(1),
        area,
    );
}
