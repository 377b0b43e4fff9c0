//! Pure rendering: `render(frame, &State, &Theme)` draws everything from the
//! state and touches nothing else.

mod confirm;
mod detail;
mod dialog;
mod log_line;
mod overlay;
mod prompt;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::core::{InputPurpose, Layer, State};
use crate::panes::layout;
use crate::panes::runbook::Resolution;
use crate::panes::{Pane, digit, spec};
use crate::sanitize;
use crate::theme::{Slot, Theme};

/// Draw the whole screen.
pub fn render(frame: &mut Frame, state: &State, theme: &Theme) {
    let area = frame.area();
    frame.render_widget(Block::new().style(theme.style(Slot::Base)), area);
    let [header, banner, body, status] = layout::screen(area, state);
    render_header(frame, header, state, theme);
    let lines: Vec<Line> = layout::banner_lines(state, area.width)
        .into_iter()
        .map(Line::raw)
        .collect();
    if !lines.is_empty() {
        frame.render_widget(
            Paragraph::new(lines).style(theme.style(Slot::StatusReadonly)),
            banner,
        );
    }
    for (pane, rect) in layout::panes(body, state) {
        render_pane(frame, rect, state, theme, pane);
    }
    render_status(frame, status, state, theme);
    if state.detail.is_open() {
        detail::render(frame, body, state, theme);
    }
    match &state.layer {
        Some(Layer::Input(input)) if input.purpose == InputPurpose::Command => {
            prompt::command_line(frame, status, body, input, theme);
        }
        Some(Layer::LogLine { line, scroll }) => {
            overlay::render(frame, body, state, theme);
            log_line::render(frame, body, state, theme, line, *scroll);
        }
        _ => overlay::render(frame, body, state, theme),
    }
}

fn render_pane(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, pane: Pane) {
    let focused = state.focus == pane;
    let spec = spec(pane);
    let (title, extra) = (spec.title_of)(state);
    let number = digit(pane);
    let mut spans = vec![Span::styled(
        format!(" {number} {title} "),
        theme.style(if focused {
            Slot::TitleFocused
        } else {
            Slot::Title
        }),
    )];
    // Right after the name, so a narrow title still shows it.
    if let Some(stale) = spec.feed.and_then(|f| state.stale(f)) {
        spans.push(Span::styled(
            format!("{} ", stale.label()),
            theme.style(Slot::StatusStale),
        ));
    }
    if !extra.is_empty() {
        spans.push(Span::styled(format!("{extra} "), theme.style(Slot::Hint)));
    }
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.style(if focused {
            Slot::BorderFocused
        } else {
            Slot::Border
        }))
        .title(Line::from(spans));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    (spec.render)(frame, inner, state, theme);
}

fn render_header(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let bar = theme.style(Slot::StatusBar);
    // Most important first: at 80 columns the end of the line may be cut.
    let mut spans = vec![Span::styled(" opsdeck ", bar.add_modifier(Modifier::BOLD))];
    if state.read_only {
        spans.push(Span::styled(
            " READ-ONLY ",
            theme.style(Slot::StatusReadonly),
        ));
        spans.push(Span::raw(" "));
    }
    if let Some(resolution) = state.resolution() {
        let (text, slot) = match resolution {
            Resolution::Resolved => (" RESOLVED ".to_string(), Slot::HealthOk),
            Resolution::Holding { left } => (
                format!(" HOLDING {} ", crate::fmt::duration_short(left)),
                Slot::HealthWarn,
            ),
            Resolution::Open(_) => (" INCIDENT ".to_string(), Slot::HealthCritical),
        };
        spans.push(Span::styled(
            text,
            theme
                .style(slot)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
    }
    spans.push(Span::styled(
        format!(" {} ", sanitize::line(&state.target.label())),
        theme.style(Slot::StatusContext),
    ));
    if let Some(rb) = &state.runbook {
        spans.push(Span::styled(
            format!(" {} ", sanitize::line(&rb.book.title)),
            bar,
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
}

/// How many problems there are (the key that lists them), the message or
/// action result, then the newest problem; the key hints when all is well.
/// Never a join of errors: each is in full in the problems view.
fn render_status(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    use crate::action::{Action, Mode};
    let bar = theme.style(Slot::StatusBar);
    let mut spans: Vec<Span> = Vec::new();
    let problems = state.problem_lines();
    if !problems.is_empty() {
        let n = problems.len();
        let key = state
            .keymap
            .keys_for(Mode::Global, Action::Problems)
            .into_iter()
            .next()
            .map(|k| format!(" {k}"))
            .unwrap_or_default();
        spans.push(Span::styled(
            format!(" {n} problem{}{key} ", if n == 1 { "" } else { "s" }),
            theme.style(Slot::StatusProblem),
        ));
    }
    if let Some(f) = &state.flash {
        let slot = if f.error {
            Slot::StatusProblem
        } else {
            Slot::StatusBar
        };
        spans.push(Span::styled(
            format!(" {} ", sanitize::line(&f.text)),
            theme.style(slot),
        ));
    }
    if let Some(newest) = problems.first() {
        spans.push(Span::styled(
            format!(" {} ", sanitize::line(&newest.text)),
            theme.style(Slot::StatusStale),
        ));
    } else if state.flash.is_none() {
        spans.push(Span::styled(hint_line(state), bar));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
}

/// `? help  tab pane  s scale  u undo ...`: the focused pane's offered actions first.
fn hint_line(state: &State) -> String {
    use crate::action::{Action, Mode};
    let mut parts = Vec::new();
    let key = |mode: Mode, a: Action| -> Option<String> {
        state
            .keymap
            .keys_for(mode, a)
            .into_iter()
            .next()
            .or_else(|| state.keymap.keys_for(Mode::Global, a).into_iter().next())
    };
    if let Some(layer) = &state.layer {
        // A dialog or prompt takes the keys: the pane's hints would lie.
        let mode = crate::core::layer_mode(layer);
        let refused = matches!(layer, Layer::Confirm(c) if c.check.refusal().is_some());
        let offered: &[Action] = match mode {
            _ if refused => &[Action::Cancel],
            Mode::Confirm => &[
                Action::ConfirmYes,
                Action::ConfirmNo,
                Action::ToggleChoice,
                Action::Submit,
                Action::Cancel,
            ],
            Mode::Input => &[Action::Submit, Action::Cancel],
            _ => &[Action::Down, Action::Up, Action::Cancel],
        };
        for &a in offered {
            let keys = state.keymap.keys_for(mode, a);
            // esc first where it is one of the keys: what people try.
            let k = keys.iter().find(|k| *k == "esc").or(keys.first());
            if let Some(k) = k {
                parts.push(format!("{k} {}", a.name().replace('_', " ")));
            }
        }
        return format!(" {}", parts.join("  "));
    }
    if state.detail.is_open() {
        // The pane under a detail view takes no keys: its hints would lie.
        for a in [Action::Copy, Action::Top, Action::Bottom] {
            if let Some(k) = key(Mode::Detail, a) {
                parts.push(format!("{k} {}", a.name().replace('_', " ")));
            }
        }
    } else {
        for a in crate::core::offered_actions(state, state.focus) {
            if let Some(k) = key(spec(state.focus).mode, a) {
                parts.push(format!("{k} {}", a.name().replace('_', " ")));
            }
        }
    }
    let globals: &[Action] = if state.detail.is_open() {
        &[Action::Help, Action::Quit]
    } else {
        &[
            Action::Help,
            Action::FocusNext,
            Action::ToggleZoom,
            Action::Quit,
        ]
    };
    for &a in globals {
        if let Some(k) = key(Mode::Global, a) {
            parts.push(format!("{k} {}", a.name().replace('_', " ")));
        }
    }
    format!(" {}", parts.join("  "))
}
