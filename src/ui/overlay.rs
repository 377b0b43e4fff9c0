//! Layers drawn over the panes: help, prompts, confirmations, notices.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::centered;
use crate::action::{Action, Mode};
use crate::core::{CheckState, Confirm, ConfirmStatus, Input, Layer, State};
use crate::sanitize;
use crate::theme::{Slot, Theme};

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    match &state.layer {
        None => {}
        Some(Layer::Help { scroll }) => help(frame, area, state, theme, *scroll),
        Some(Layer::Input(input)) => prompt(frame, area, theme, input),
        Some(Layer::Confirm(c)) => confirm(frame, area, state, theme, c),
        Some(Layer::Notice { title, text }) => notice(frame, area, state, theme, title, text),
        Some(Layer::Picker {
            title,
            items,
            selected,
        }) => picker(frame, area, state, theme, title, items, *selected),
    }
}

fn dialog<'a>(theme: &Theme, title: &str, danger: bool) -> Block<'a> {
    Block::new()
        .borders(Borders::ALL)
        .border_style(theme.style(if danger {
            Slot::Danger
        } else {
            Slot::DialogBorder
        }))
        .title(Span::styled(
            format!(" {title} "),
            theme.style(if danger {
                Slot::Danger
            } else {
                Slot::TitleFocused
            }),
        ))
        .style(theme.style(Slot::Dialog))
}

/// The key to show for an action: `esc`/`enter` where bound for cancel/submit
/// (what users expect), else the shortest.
fn key_of(state: &State, mode: Mode, action: Action) -> String {
    let keys = state.keymap.keys_for(mode, action);
    let preferred = match action {
        Action::Cancel => Some("esc"),
        Action::Submit => Some("enter"),
        _ => None,
    };
    preferred
        .and_then(|p| keys.iter().find(|k| k.as_str() == p).cloned())
        .or_else(|| keys.into_iter().next())
        .unwrap_or_else(|| action.name().to_string())
}

/// Help lines for one mode: one line per action, in the order actions are
/// declared, with every key bound to it.
pub fn help_lines(state: &State, mode: Mode) -> Vec<(String, &'static str)> {
    Action::ALL
        .iter()
        .filter_map(|&a| {
            let keys = state.keymap.keys_for(mode, a);
            (!keys.is_empty()).then(|| (keys.join(", "), a.help()))
        })
        .collect()
}

/// The help overlay, generated from the keymap and the actions' doc comments:
/// the focused pane's keys first, then the global ones and the dialogs'.
fn help(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, scroll: u16) {
    let rect = centered(area, 76, area.height.saturating_sub(2).max(10));
    let mut lines: Vec<Line> = Vec::new();
    let pane = state.focus.mode();
    for (mode, heading) in [
        (pane, format!("{} pane", state.focus.title())),
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
    let mut lines = vec![Line::from(vec![
        Span::styled(sanitize::line(&input.text), theme.style(Slot::Input)),
        Span::styled(
            "█",
            theme.style(Slot::Input).add_modifier(Modifier::SLOW_BLINK),
        ),
    ])];
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

fn confirm(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, c: &Confirm) {
    let danger = c.is_destructive();
    let width = 76.min(area.width);
    let inner_w = width.saturating_sub(2) as usize;
    let fit = |s: &str| super::truncate(&sanitize::line(s), inner_w);
    let mut tail: Vec<Line> = vec![Line::raw("")];
    match &c.check {
        CheckState::Pending => tail.insert(
            0,
            Line::styled("checking permission and dry run…", theme.style(Slot::Hint)),
        ),
        CheckState::Allowed(Some(p)) => {
            tail.insert(0, Line::styled(fit(p), theme.style(Slot::HealthOk)))
        }
        CheckState::Allowed(None) => {}
        CheckState::Denied(why) => tail.insert(
            0,
            Line::styled(
                fit(&format!("unavailable: {why}")),
                theme.style(Slot::StatusProblem),
            ),
        ),
        CheckState::PreviewFailed(e) => tail.insert(
            0,
            Line::styled(
                fit(&format!("dry run failed: {e}")),
                theme.style(Slot::HealthWarn),
            ),
        ),
    }
    match &c.status {
        ConfirmStatus::Asking => {
            if let Some(name) = c.required_name() {
                tail.push(Line::from(vec![
                    Span::raw("Type "),
                    Span::styled(
                        sanitize::line(name),
                        theme.style(Slot::Danger).add_modifier(Modifier::BOLD),
                    ),
                    Span::raw(" to confirm: "),
                    Span::styled(sanitize::line(&c.typed), theme.style(Slot::Input)),
                    Span::styled("█", theme.style(Slot::Input)),
                ]));
                if let Some(h) = &c.hint {
                    tail.push(Line::styled(fit(h), theme.style(Slot::StatusProblem)));
                }
                let submit = key_of(state, Mode::Input, Action::Submit);
                let cancel = key_of(state, Mode::Input, Action::Cancel);
                tail.push(Line::styled(
                    format!("{submit} run · {cancel} cancel"),
                    theme.style(Slot::Hint),
                ));
            } else {
                let sel = theme.style(Slot::Selection);
                let plain = theme.style(Slot::Dialog);
                let yes = key_of(state, Mode::Confirm, Action::ConfirmYes);
                let no = key_of(state, Mode::Confirm, Action::ConfirmNo);
                tail.push(Line::from(vec![
                    Span::styled(format!(" No ({no}) "), if c.yes { plain } else { sel }),
                    Span::raw("   "),
                    Span::styled(format!(" Yes ({yes}) "), if c.yes { sel } else { plain }),
                ]));
            }
        }
        ConfirmStatus::Running { .. } => {
            tail.push(Line::styled("running…", theme.style(Slot::Hint)))
        }
        ConfirmStatus::Failed(e) => {
            tail.push(Line::styled(
                fit(&format!("failed: {e}")),
                theme.style(Slot::StatusProblem),
            ));
            let cancel = key_of(state, Mode::Confirm, Action::Cancel);
            tail.push(Line::styled(
                format!("{cancel} close"),
                theme.style(Slot::Hint),
            ));
        }
    }
    // The headline and the answer lines always show; details take what is left.
    let room = (area.height as usize).saturating_sub(2 + 1 + tail.len());
    let mut lines: Vec<Line> = vec![Line::styled(
        fit(&c.headline),
        theme.style(Slot::Header).add_modifier(Modifier::BOLD),
    )];
    let shown = if c.details.len() > room {
        room.saturating_sub(1)
    } else {
        c.details.len()
    };
    for d in c.details.iter().take(shown) {
        lines.push(Line::raw(fit(&format!("  {d}"))));
    }
    if shown < c.details.len() {
        lines.push(Line::styled(
            format!("  … and {} more", c.details.len() - shown),
            theme.style(Slot::Hint),
        ));
    }
    lines.extend(tail);
    let rect = centered(area, width, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    let title = if danger {
        "Confirm destructive action"
    } else {
        "Confirm"
    };
    frame.render_widget(
        Paragraph::new(lines).block(dialog(theme, title, danger)),
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
            let current = if state.kube_context.as_deref() == Some(item.as_str()) {
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
