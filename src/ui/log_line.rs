//! One log line in full, over the panes: every character of it wrapped to
//! the screen, its own newlines kept, JSON pretty-printed; source, time and
//! level in the title. Long lines cannot be read in an 80-column pane.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::dialog::{centered, dialog, key_of};
use crate::action::{Action, Mode};
use crate::core::State;
use crate::domain::{LogLine, log_text};
use crate::panes::logs::pretty_json;
use crate::sanitize;
use crate::theme::{Slot, Theme};

/// Draw `line` in a box nearly as large as the screen, scrolled by `scroll` rows.
pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    theme: &Theme,
    line: &LogLine,
    scroll: u16,
) {
    let rect = centered(
        area,
        area.width.saturating_sub(2).max(20),
        area.height.saturating_sub(2).max(6),
    );
    let title = format!(
        "{} · {} · {}",
        sanitize::line(&line.source),
        log_text::rfc3339_millis(line.time),
        line.level.label()
    );
    let rows: Vec<String> = match pretty_json(&line.text) {
        Some(rows) => rows,
        None => line.text.split('\n').map(str::to_string).collect(),
    };
    let text: Vec<Line> = rows
        .iter()
        .map(|r| Line::styled(sanitize::line(r), theme.style(Slot::Dialog)))
        .collect();
    let hint = format!(
        " {}/{} scroll · {} close ",
        key_of(state, Mode::Help, Action::Down),
        key_of(state, Mode::Help, Action::Up),
        key_of(state, Mode::Help, Action::Cancel)
    );
    let block =
        dialog(theme, &title, false).title_bottom(Line::styled(hint, theme.style(Slot::Hint)));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(block),
        rect,
    );
}
