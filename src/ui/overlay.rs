//! Layers drawn over the panes: help, prompts, confirmations, notices.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::dialog::{centered, dialog, key_of};
use crate::action::{Action, Mode};
use crate::core::{Input, Layer, State};
use crate::sanitize;
use crate::theme::{Slot, Theme};

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    match &state.layer {
        None => {}
        Some(Layer::Help { scroll }) => help(frame, area, state, theme, *scroll),
        Some(Layer::Problems { scroll }) => problems(frame, area, state, theme, *scroll),
        Some(Layer::Input(input)) => prompt(frame, area, theme, input),
        Some(Layer::Confirm(c)) => super::confirm::render(frame, area, state, theme, c),
        Some(Layer::Notice { title, text }) => notice(frame, area, state, theme, title, text),
        Some(Layer::Picker {
            title,
            items,
            selected,
        }) => picker(frame, area, state, theme, title, items, *selected),
        Some(Layer::Insights) => insights(frame, area, state, theme),
        // Drawn by `ui::log_line`.
        Some(Layer::LogLine { .. }) => {}
    }
}

/// Every current problem, newest first, each in full (wrapped) with when
/// it began.
fn problems(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, scroll: u16) {
    let rect = centered(
        area,
        area.width.saturating_sub(4).max(20),
        area.height.saturating_sub(2).max(8),
    );
    let mut lines: Vec<Line> = Vec::new();
    let all = state.problem_lines();
    if all.is_empty() {
        lines.push(Line::styled(
            "no problems: every source answers and the configuration is clean",
            theme.style(Slot::HealthOk),
        ));
    }
    for p in &all {
        let when =
            p.at.map_or_else(|| "config  ".to_string(), |t| crate::fmt::clock(t) + " ");
        lines.push(Line::from(vec![
            Span::styled(when, theme.style(Slot::Hint)),
            Span::styled(sanitize::line(&p.text), theme.style(Slot::StatusProblem)),
        ]));
        if !p.detail.is_empty() {
            lines.push(Line::styled(
                format!("         {}", p.detail),
                theme.style(Slot::Hint),
            ));
        }
    }
    let close = key_of(state, Mode::Help, Action::Cancel);
    let block = dialog(
        theme,
        &format!("Problems ({}) — {close} to close, j/k to scroll", all.len()),
        false,
    );
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        rect,
    );
}

/// The Logs Insights table: status, the query, then one row per result.
fn insights(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    use ratatui::layout::Constraint;
    use ratatui::widgets::{Row, Table};
    use unicode_width::UnicodeWidthStr;

    let v = &state.insights;
    let rect = centered(
        area,
        area.width.saturating_sub(4).max(20),
        area.height.saturating_sub(2).max(8),
    );
    let inner_width = rect.width.saturating_sub(2);
    let mut status = v.status.label().to_string();
    if let Some(started) = v.started {
        let age = state.now.duration_since(started).unwrap_or_default();
        status.push_str(&format!(" {}", crate::fmt::duration_short(age)));
    }
    if let Some(r) = &v.results {
        status.push_str(&format!(
            " · {} rows · {:.0} of {:.0} records matched · {} scanned",
            r.rows.len(),
            r.records_matched,
            r.records_scanned,
            crate::fmt::bytes(r.bytes_scanned)
        ));
    }
    let status_slot = match v.status {
        crate::domain::QueryStatus::Failed | crate::domain::QueryStatus::Timeout => {
            Slot::HealthCritical
        }
        crate::domain::QueryStatus::Cancelled => Slot::HealthWarn,
        _ => Slot::Dialog,
    };
    let mut head = vec![
        Line::styled(status, theme.style(status_slot)),
        Line::styled(sanitize::line(&v.query), theme.style(Slot::Hint)),
    ];
    if let Some(e) = &v.error {
        head.push(Line::styled(
            sanitize::line(e),
            theme.style(Slot::HealthCritical),
        ));
    }
    let cancel = key_of(state, Mode::Help, Action::Cancel);
    let hint = if v.is_running() {
        format!("{cancel} stop the query · ↑↓ scroll")
    } else {
        format!("{cancel} close · ↑↓ scroll")
    };

    frame.render_widget(Clear, rect);
    let block = dialog(theme, "Logs Insights", false);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let head_h = head.len() as u16;
    frame.render_widget(
        Paragraph::new(head),
        Rect::new(inner.x, inner.y, inner.width, head_h.min(inner.height)),
    );
    let hint_y = inner.y + inner.height.saturating_sub(1);
    frame.render_widget(
        Paragraph::new(Line::styled(hint, theme.style(Slot::Hint))),
        Rect::new(inner.x, hint_y, inner.width, 1),
    );
    let table_area = Rect::new(
        inner.x,
        inner.y + head_h.min(inner.height),
        inner.width,
        inner.height.saturating_sub(head_h + 1),
    );
    let Some(results) = &v.results else {
        return;
    };
    if results.rows.is_empty() {
        let text = if v.is_running() {
            "no results yet"
        } else {
            "no results"
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, theme.style(Slot::Hint))),
            table_area,
        );
        return;
    }
    // Columns as wide as their widest cell, the last one taking the rest.
    let cells: Vec<Vec<String>> = results
        .rows
        .iter()
        .map(|r| r.iter().map(|c| sanitize::line(c)).collect())
        .collect();
    let n = results.columns.len();
    let widths: Vec<Constraint> = (0..n)
        .map(|i| {
            let w = cells
                .iter()
                .map(|r| r.get(i).map_or(0, |c| c.width()))
                .chain(std::iter::once(results.columns[i].width()))
                .max()
                .unwrap_or(0);
            if i + 1 == n {
                Constraint::Min(1)
            } else {
                Constraint::Length(u16::try_from(w).unwrap_or(u16::MAX).min(inner_width / 2))
            }
        })
        .collect();
    let header = Row::new(
        results
            .columns
            .iter()
            .map(|c| sanitize::line(c))
            .collect::<Vec<_>>(),
    )
    .style(theme.style(Slot::TitleFocused));
    let rows = cells
        .into_iter()
        .skip(v.scroll)
        .map(|r| Row::new(r).style(theme.style(Slot::Dialog)));
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(2),
        table_area,
    );
}

/// Help lines for one mode: one line per action, in the order actions are
/// declared, with every key bound to it.
pub fn help_lines(state: &State, mode: Mode) -> Vec<(String, &'static str)> {
    Action::ALL
        .iter()
        .filter_map(|&a| {
            let mut keys = state.keymap.keys_for(mode, a);
            if mode == Mode::Global {
                keys.extend(digit_key(state, a));
            }
            (!keys.is_empty()).then(|| (keys.join(", "), a.help()))
        })
        .collect()
}

/// The digit that focuses a pane (from the registry's order), unless the
/// keymap binds that digit to something else.
fn digit_key(state: &State, action: Action) -> Option<String> {
    let n = crate::panes::REGISTRY
        .iter()
        .position(|s| s.focus == action)?
        + 1;
    let key = n.to_string();
    let chord = crate::keymap::KeyChord::parse(&key).ok()?;
    let bound = matches!(
        state.keymap.resolve(Mode::Global, &[chord]),
        crate::keymap::Resolved::Actions(_) | crate::keymap::Resolved::Pending
    );
    (!bound).then_some(key)
}

/// The help overlay, generated from the keymap and the actions' doc comments:
/// the focused pane's keys first, then the global ones and the dialogs'.
fn help(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, scroll: u16) {
    let rect = centered(area, 76, area.height.saturating_sub(2).max(10));
    let mut lines: Vec<Line> = Vec::new();
    let pane = crate::panes::spec(state.focus).mode;
    for (mode, heading) in [
        (
            pane,
            format!("{} pane", crate::panes::spec(state.focus).title),
        ),
        (Mode::Global, "everywhere".to_string()),
        (Mode::Confirm, "in a confirmation".to_string()),
        (Mode::Input, "in a prompt".to_string()),
    ] {
        let entries = help_lines(state, mode);
        if entries.is_empty() {
            continue;
        }
        lines.push(Line::styled(heading, theme.style(Slot::Header)));
        for (keys, help) in entries {
            lines.push(Line::from(vec![
                Span::styled(format!("  {keys:<12} "), theme.style(Slot::HelpKey)),
                Span::raw(help),
            ]));
        }
        lines.push(Line::raw(""));
    }
    // The commands, from the same table the command line reads.
    lines.push(Line::styled(
        "commands (after :, tab completes)",
        theme.style(Slot::Header),
    ));
    for c in crate::core::COMMANDS {
        let name = match c.arg {
            crate::core::Arg::No => c.names[0].to_string(),
            crate::core::Arg::Optional => format!("{} [NAME]", c.names[0]),
            crate::core::Arg::Required => format!("{} NAME", c.names[0]),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("  :{name:<11} "), theme.style(Slot::HelpKey)),
            Span::raw(c.help),
        ]));
    }
    let close = key_of(state, Mode::Help, Action::Cancel);
    let block = dialog(
        theme,
        &format!("Help — {close} to close, j/k to scroll"),
        false,
    );
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), rect);
}

fn prompt(frame: &mut Frame, area: Rect, theme: &Theme, input: &Input) {
    let h = if input.error.is_some() { 4 } else { 3 };
    let rect = centered(area, 60, h);
    let mut lines = vec![Line::from(super::prompt::input_spans(input, theme))];
    if let Some(e) = &input.error {
        lines.push(Line::styled(
            sanitize::line(e),
            theme.style(Slot::StatusProblem),
        ));
    }
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(dialog(theme, &sanitize::line(&input.prompt), false)),
        rect,
    );
}

fn notice(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, title: &str, text: &str) {
    let mut lines: Vec<Line> = text.lines().map(|l| Line::raw(sanitize::line(l))).collect();
    let close = key_of(state, Mode::Help, Action::Cancel);
    lines.push(Line::styled(
        format!("{close} close"),
        theme.style(Slot::Hint),
    ));
    let rect = centered(area, 66, lines.len() as u16 + 4);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(dialog(theme, &sanitize::line(title), true)),
        rect,
    );
}

fn picker(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    theme: &Theme,
    title: &str,
    items: &[String],
    selected: usize,
) {
    let height = (items.len() as u16 + 3).min(area.height);
    let rect = centered(area, 50, height);
    let visible = height.saturating_sub(3) as usize;
    let first = (selected + 1).saturating_sub(visible.max(1));
    let mut lines: Vec<Line> = items
        .iter()
        .enumerate()
        .skip(first)
        .take(visible)
        .map(|(i, item)| {
            let style = if i == selected {
                theme.style(Slot::Selection)
            } else {
                theme.style(Slot::Dialog)
            };
            let current = if state.target.context() == Some(item.as_str()) {
                " (current)"
            } else {
                ""
            };
            Line::styled(format!(" {}{current}", sanitize::line(item)), style)
        })
        .collect();
    let submit = key_of(state, Mode::Input, Action::Submit);
    let cancel = key_of(state, Mode::Input, Action::Cancel);
    lines.push(Line::styled(
        format!("{submit} switch · {cancel} cancel"),
        theme.style(Slot::Hint),
    ));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(dialog(theme, &sanitize::line(title), false)),
        rect,
    );
}
