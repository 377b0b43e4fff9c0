//! The confirmation dialog: the exact change, the backend's answer, and
//! the way to confirm it (typed name, or No/Yes), every line wrapped.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::dialog::{centered, dialog, key_of};
use crate::action::{Action, Mode};
use crate::core::{CheckState, Confirm, ConfirmStatus, State};
use crate::sanitize;
use crate::theme::{Slot, Theme};

pub(super) fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, c: &Confirm) {
    let danger = c.is_destructive();
    let width = 76.min(area.width);
    let inner_w = width.saturating_sub(2) as usize;
    // Every line wraps: what the action does is never cut off.
    // Continuation lines of an indented item are indented two more.
    let wrapped = |s: &str, indent: &str, style: Style| -> Vec<Line<'static>> {
        let more = if indent.is_empty() { "" } else { "  " };
        crate::panes::widgets::wrap_words(
            &sanitize::line(s),
            inner_w.saturating_sub(indent.len() + more.len()),
        )
        .into_iter()
        .enumerate()
        .map(|(i, l)| {
            let lead = if i == 0 { "" } else { more };
            Line::styled(format!("{indent}{lead}{l}"), style)
        })
        .collect()
    };
    let mut tail: Vec<Line> = Vec::new();
    match &c.check {
        CheckState::Pending => tail.extend(wrapped(
            "checking permission and dry run…",
            "",
            theme.style(Slot::Hint),
        )),
        CheckState::Allowed(Some(p)) => tail.extend(wrapped(p, "", theme.style(Slot::HealthOk))),
        CheckState::Allowed(None) => tail.extend(wrapped(
            "allowed; this backend has no dry run for this action",
            "",
            theme.style(Slot::Hint),
        )),
        CheckState::Denied(why) => tail.extend(wrapped(
            &format!("not allowed: {why}"),
            "",
            theme.style(Slot::StatusProblem),
        )),
        CheckState::Blocked(why) => tail.extend(wrapped(
            &format!("refused by the dry run: {why}"),
            "",
            theme.style(Slot::StatusProblem),
        )),
        CheckState::PreviewFailed(e) => tail.extend(wrapped(
            &format!("dry run unavailable: {e}"),
            "",
            theme.style(Slot::HealthWarn),
        )),
    }
    tail.push(Line::raw(""));
    let hint = |tail: &mut Vec<Line>| {
        if let Some(h) = &c.hint {
            tail.extend(wrapped(h, "", theme.style(Slot::StatusProblem)));
        }
    };
    match &c.status {
        ConfirmStatus::Asking if c.check.refusal().is_some() => {
            hint(&mut tail);
            let cancel = key_of(state, Mode::Confirm, Action::Cancel);
            tail.push(Line::styled(
                format!("this action cannot be run · {cancel} close"),
                theme.style(Slot::Hint),
            ));
        }
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
                hint(&mut tail);
                let submit = key_of(state, Mode::Input, Action::Submit);
                let cancel = key_of(state, Mode::Input, Action::Cancel);
                tail.push(Line::styled(
                    format!("{submit} run · {cancel} cancel"),
                    theme.style(Slot::Hint),
                ));
            } else {
                hint(&mut tail);
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
            tail.extend(wrapped(
                &format!("failed: {e}"),
                "",
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
    let mut lines: Vec<Line> = wrapped(
        &c.headline,
        "",
        theme.style(Slot::Header).add_modifier(Modifier::BOLD),
    );
    let room = (area.height as usize).saturating_sub(2 + lines.len() + tail.len());
    let mut details: Vec<Line> = Vec::new();
    let mut shown = 0;
    for d in &c.details {
        let more = wrapped(d, "  ", theme.style(Slot::Dialog));
        let left = c.details.len() - shown - 1;
        let reserve = usize::from(left > 0);
        if details.len() + more.len() + reserve > room {
            break;
        }
        details.extend(more);
        shown += 1;
    }
    lines.extend(details);
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
