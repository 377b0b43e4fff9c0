//! Drawing the Database pane.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::view::db_rows;
use crate::core::State;
use crate::domain::Health;
use crate::panes::Pane;
use crate::panes::widgets::{SPARK, feed_placeholder, health_slot};
use crate::sanitize;
use crate::theme::{Slot, Theme};

/// The pane's title and its state summary.
pub fn title(state: &State) -> (String, String) {
    let n = db_rows(&state.metrics.databases).len();
    let mut extra = match &state.database.gone {
        Some(k) => format!("pid {} ended · {n} sessions", k.pid),
        None => format!("{n} sessions"),
    };
    let skipped = state
        .metrics
        .databases
        .iter()
        .fold(0u32, |n, d| n.saturating_add(d.unreadable));
    if skipped > 0 {
        extra.push_str(&format!(" · {}", unreadable(skipped)));
    }
    if !state.database.marked.is_empty() {
        extra.push_str(&format!(" · {} marked", state.database.marked.len()));
    }
    ("Database".into(), extra)
}

/// `1 row unreadable`: sessions the backend skipped because it could not
/// read them (they still hold connections).
fn unreadable(n: u32) -> String {
    if n == 1 {
        "1 row unreadable".into()
    } else {
        format!("{n} rows unreadable")
    }
}

/// The Database pane: connections against max_connections (sparkline,
/// warning 80% / critical 90%), sessions by state, blocked/blocking pairs,
/// then the sessions with the longest-running active queries first.
pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    use crate::domain::SessionState;
    let dbs = &state.metrics.databases;
    if dbs.is_empty() {
        // A database that failed from the start (unreachable, or a
        // connection string that cannot be used) says why here.
        feed_placeholder(
            frame,
            area,
            theme,
            state,
            crate::core::Feed::Database,
            "no database in this session",
        );
        return;
    }
    let mut lines: Vec<Line> = Vec::new();
    for db in dbs {
        let used = db.connections();
        let max = db.max_connections.max(1);
        let pct = |n: u32| n as f64 * 100.0 / max as f64;
        let health_of = |n: u32| {
            let p = pct(n);
            if p >= 90.0 {
                Health::Critical
            } else if p >= 80.0 {
                Health::Warn
            } else {
                Health::Ok
            }
        };
        let mut spans = vec![
            Span::styled(
                format!("{} ", sanitize::line(&db.name)),
                theme.style(Slot::Header),
            ),
            Span::styled(
                format!(
                    "{used}/{} connections ({:.0}%{}) ",
                    db.max_connections,
                    pct(used),
                    match db.other_databases {
                        0 => String::new(),
                        n => format!(", {n} on other databases"),
                    }
                ),
                theme.style(health_slot(health_of(used))),
            ),
        ];
        let width =
            (area.width as usize).saturating_sub(spans.iter().map(|s| s.width()).sum::<usize>());
        if let Some(h) = state.database.history_of(&db.name) {
            let pts: Vec<u32> = h.iter().rev().take(width).rev().copied().collect();
            for n in pts {
                let idx = ((pct(n) / 100.0) * 7.0).round().clamp(0.0, 7.0) as usize;
                let slot = match health_of(n) {
                    Health::Critical => Slot::SparkCritical,
                    Health::Warn => Slot::SparkWarn,
                    _ => Slot::SparkLine,
                };
                spans.push(Span::styled(SPARK[idx].to_string(), theme.style(slot)));
            }
        }
        lines.push(Line::from(spans));
        let count = |st: SessionState| db.sessions.iter().filter(|s| s.state == st).count();
        // Unreadable rows first: a narrow pane cuts the end of the line.
        let mut states = Vec::new();
        if db.unreadable > 0 {
            states.push(Span::styled(
                unreadable(db.unreadable),
                theme.style(Slot::HealthWarn),
            ));
            states.push(Span::styled(" · ", theme.style(Slot::Hint)));
        }
        states.push(Span::styled(
            format!(
                "active {} · idle {} · idle in transaction {} · other {}",
                count(SessionState::Active),
                count(SessionState::Idle),
                count(SessionState::IdleInTransaction),
                count(SessionState::Other)
            ),
            theme.style(Slot::Hint),
        ));
        lines.push(Line::from(states));
        // Grouped by blocker: the sessions worth looking at first.
        let mut blockers: Vec<(i32, Vec<i32>)> = Vec::new();
        for waiter in db.sessions.iter().filter(|s| !s.blocked_by.is_empty()) {
            for &b in &waiter.blocked_by {
                match blockers.iter_mut().find(|(p, _)| *p == b) {
                    Some((_, w)) => w.push(waiter.pid),
                    None => blockers.push((b, vec![waiter.pid])),
                }
            }
        }
        blockers.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        let pairs: Vec<String> = blockers
            .iter()
            .map(|(b, waiters)| {
                let w: Vec<String> = waiters.iter().map(|p| p.to_string()).collect();
                format!("{b} blocks {} ({})", waiters.len(), w.join(", "))
            })
            .collect();
        if !pairs.is_empty() {
            lines.push(Line::styled(
                format!("locks: {}", pairs.join("; ")),
                theme.style(Slot::HealthWarn),
            ));
        }
    }
    let rows = db_rows(dbs);
    let head = lines.len() as u16;
    let [top, table_area] =
        ratatui::layout::Layout::vertical([Constraint::Length(head), Constraint::Fill(1)])
            .areas(area);
    frame.render_widget(Paragraph::new(lines), top);
    if rows.is_empty() || table_area.height < 2 {
        return;
    }
    let wide = area.width >= 100;
    let height = table_area.height.saturating_sub(1) as usize;
    let sel = state.database.selected.min(rows.len() - 1);
    let first = sel.saturating_sub(height.saturating_sub(1));
    let header: Vec<&str> = if wide {
        vec![
            "PID",
            "USER",
            "APPLICATION",
            "CLIENT",
            "STATE",
            "WAIT",
            "RUNNING",
            "QUERY",
        ]
    } else {
        vec!["PID", "STATE", "RUNNING", "QUERY"]
    };
    let body = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, (d, s))| {
            let long = s.state == SessionState::Active && s.running.as_secs() >= 600;
            let marked = state
                .database
                .marked
                .contains(&crate::panes::database::SessionKey::of(d, s));
            let state_style = if long {
                theme.style(Slot::HealthCritical)
            } else if !s.blocked_by.is_empty() || s.state == SessionState::IdleInTransaction {
                theme.style(Slot::HealthWarn)
            } else {
                Style::new()
            };
            let running = if s.state == SessionState::Active {
                crate::fmt::duration_ms(s.running)
            } else {
                String::new()
            };
            let query = sanitize::line(&s.query);
            let mut cells = vec![Cell::from(if marked {
                format!("▣{}", s.pid)
            } else {
                s.pid.to_string()
            })];
            if wide {
                cells.push(Cell::from(sanitize::line(&s.user)));
                cells.push(Cell::from(sanitize::line(&s.application)));
                cells.push(Cell::from(sanitize::line(&s.client)));
            }
            cells.push(Cell::from(s.state.label()).style(state_style));
            if wide {
                cells.push(Cell::from(sanitize::line(
                    s.wait_event.as_deref().unwrap_or(""),
                )));
            }
            cells.push(Cell::from(running).style(state_style));
            cells.push(Cell::from(query));
            let row = Row::new(cells);
            if i == sel && state.focus == Pane::DATABASE && state.database.gone.is_none() {
                row.style(theme.style(Slot::Selection))
            } else {
                row
            }
        });
    let widths: Vec<Constraint> = if wide {
        vec![
            Constraint::Length(6),
            Constraint::Length(10),
            Constraint::Length(12),
            Constraint::Length(15),
            Constraint::Length(19),
            Constraint::Length(12),
            Constraint::Length(8),
            Constraint::Fill(1),
        ]
    } else {
        vec![
            Constraint::Length(6),
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Fill(1),
        ]
    };
    frame.render_widget(
        Table::new(body, widths)
            .header(Row::new(header).style(theme.style(Slot::Header)))
            .column_spacing(1),
        table_area,
    );
}
