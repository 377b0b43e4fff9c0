//! Drawing the Runbook pane: the steps with their check marks, then the
//! selected step's actions, checks and text.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::core::State;
use crate::panes::Pane;
use crate::panes::widgets::placeholder;
use crate::runbook::CheckResult;
use crate::sanitize;
use crate::theme::{Slot, Theme};

/// The pane's title and its state summary.
pub fn title(state: &State) -> (String, String) {
    match &state.runbook {
        Some(rb) => (
            "Runbook".into(),
            format!("step {}/{}", rb.step + 1, rb.book.steps.len()),
        ),
        None => ("Runbook".into(), String::new()),
    }
}

/// Draw the pane.
pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(rb) = &state.runbook else {
        placeholder(frame, area, theme, "no runbook for this context");
        return;
    };
    let view = state.estate();
    let mut lines: Vec<Line> = Vec::new();
    for (i, step) in rb.book.steps.iter().enumerate() {
        let results: Vec<CheckResult> = step.checks.iter().map(|c| c.evaluate(&view)).collect();
        // A step without checks is done once one of its actions ran.
        let ran = rb
            .results
            .range((i, 0)..(i + 1, 0))
            .map(|(_, r)| r.ok)
            .next_back();
        let (mark, slot) = if results.is_empty() {
            match ran {
                Some(true) => ("✓", Slot::RunbookDone),
                Some(false) => ("✗", Slot::RunbookFailing),
                None => ("·", Slot::RunbookPending),
            }
        } else if results.iter().all(|r| matches!(r, CheckResult::Pass)) {
            ("✓", Slot::RunbookDone)
        } else if results.iter().any(|r| matches!(r, CheckResult::Fail(_))) {
            ("✗", Slot::RunbookFailing)
        } else {
            ("?", Slot::RunbookPending)
        };
        let mut style = theme.style(slot);
        if i == rb.step {
            style = style.add_modifier(Modifier::BOLD);
        }
        let pointer = if i == rb.step { "▸" } else { " " };
        lines.push(Line::from(vec![
            Span::styled(format!("{pointer}{mark} "), theme.style(slot)),
            Span::styled(format!("{}. {}", i + 1, sanitize::line(&step.title)), style),
        ]));
    }
    // Step titles one line each; the selected step's details below, wrapped.
    let list_height = (lines.len() as u16).min(area.height.saturating_sub(3).max(1));
    let first = (rb.step as u16 + 1).saturating_sub(list_height) as usize;
    let list: Vec<Line> = lines.drain(..).skip(first).collect();
    let [list_area, detail_area] =
        ratatui::layout::Layout::vertical([Constraint::Length(list_height), Constraint::Fill(1)])
            .areas(area);
    frame.render_widget(Paragraph::new(list), list_area);
    if let Some(step) = rb.book.steps.get(rb.step) {
        let key = state
            .keymap
            .keys_for(
                crate::action::Mode::Runbook,
                crate::action::Action::RunAction,
            )
            .into_iter()
            .next()
            .unwrap_or_else(|| "run_action".into());
        for (i, a) in step.actions.iter().enumerate() {
            let selected = i == rb.action && state.focus == Pane::RUNBOOK;
            let style = if selected {
                theme.style(Slot::Selection)
            } else {
                theme.style(Slot::Danger)
            };
            let lock = if state.read_only { " (read-only)" } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!("[{key}] "), theme.style(Slot::HelpKey)),
                Span::styled(format!("{}{lock}", sanitize::line(a.label())), style),
            ]));
            if let Some(r) = rb.results.get(&(rb.step, i)) {
                let ago =
                    crate::fmt::duration_short(state.now.duration_since(r.at).unwrap_or_default());
                let (text, slot) = if r.ok {
                    (
                        format!("  ✓ done {ago} ago: {}", r.summary),
                        Slot::RunbookDone,
                    )
                } else {
                    (
                        format!("  ✗ failed {ago} ago: {}", r.summary),
                        Slot::RunbookFailing,
                    )
                };
                lines.push(Line::styled(sanitize::line(&text), theme.style(slot)));
            }
        }
        for c in &step.checks {
            let (text, slot) = match c.evaluate(&view) {
                CheckResult::Pass => (format!("✓ {}", c.describe()), Slot::RunbookDone),
                CheckResult::Fail(why) => {
                    (format!("✗ {} — {why}", c.describe()), Slot::RunbookFailing)
                }
                CheckResult::Unknown(why) => {
                    (format!("? {} — {why}", c.describe()), Slot::RunbookPending)
                }
            };
            lines.push(Line::styled(sanitize::line(&text), theme.style(slot)));
        }
        for t in step.text.lines() {
            lines.push(Line::raw(sanitize::line(t)));
        }
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        detail_area,
    );
}
