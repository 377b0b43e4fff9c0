//! A prompt's line with its cursor, and the `:` command line, which takes
//! the status bar's place at the bottom (with the Tab candidates above it),
//! as in vim and k9s.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use crate::core::Input;
use crate::sanitize;
use crate::theme::{Slot, Theme};

/// The text with the cursor drawn on the character it is on (a block at the end).
pub fn input_spans<'a>(input: &Input, theme: &Theme) -> Vec<Span<'a>> {
    let style = theme.style(if input.selected {
        Slot::Selection
    } else {
        Slot::Input
    });
    let cursor = theme.style(Slot::Input).add_modifier(Modifier::REVERSED);
    let at = input.cursor.min(input.text.len());
    let (before, rest) = input.text.split_at(at);
    let mut rest = rest.chars();
    let under = rest.next();
    let mut spans = vec![Span::styled(sanitize::line(before), style)];
    match under {
        Some(c) => {
            spans.push(Span::styled(sanitize::line(&c.to_string()), cursor));
            spans.push(Span::styled(sanitize::line(rest.as_str()), style));
        }
        None => spans.push(Span::styled(
            "█",
            theme.style(Slot::Input).add_modifier(Modifier::SLOW_BLINK),
        )),
    }
    spans
}

/// The command line in the status row; above it, the candidates of the last
/// Tab or the error of the last one.
pub fn command_line(frame: &mut Frame, status: Rect, body: Rect, input: &Input, theme: &Theme) {
    let mut spans = vec![Span::styled(":", theme.style(Slot::Input))];
    spans.extend(input_spans(input, theme));
    frame.render_widget(Clear, status);
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(theme.style(Slot::Dialog)),
        status,
    );
    let above = if let Some(e) = &input.error {
        Some(Line::styled(
            format!(" {}", sanitize::line(e)),
            theme.style(Slot::StatusProblem),
        ))
    } else if !input.completions.is_empty() {
        let words: Vec<String> = input
            .completions
            .iter()
            .map(|c| sanitize::line(c))
            .collect();
        Some(Line::styled(
            format!(" {}", words.join("  ")),
            theme.style(Slot::Hint),
        ))
    } else {
        None
    };
    if let (Some(line), true) = (above, body.height > 0) {
        let row = Rect {
            y: body.y + body.height - 1,
            height: 1,
            ..body
        };
        frame.render_widget(Clear, row);
        frame.render_widget(Paragraph::new(line).style(theme.style(Slot::Dialog)), row);
    }
}
