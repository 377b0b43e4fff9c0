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
    let text: Vec<Line> = rows(line)
        .into_iter()
        .map(|r| Line::styled(r, theme.style(Slot::Dialog)))
        .collect();
    let hint = format!(
        " {}/{} scroll · {} close ",
        key_of(state, Mode::Help, Action::Down),
        key_of(state, Mode::Help, Action::Up),
        key_of(state, Mode::Help, Action::Cancel)
    );
    let block = dialog(theme, &title(line), false)
        .title_bottom(Line::styled(hint, theme.style(Slot::Hint)));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(block),
        rect,
    );
}

/// The box's title: source, time and level, sanitised.
fn title(line: &LogLine) -> String {
    format!(
        "{} · {} · {}",
        sanitize::line(&line.source),
        log_text::rfc3339_millis(line.time),
        line.level.label()
    )
}

/// The rows shown: the line's own lines (or its JSON pretty-printed), each sanitised.
fn rows(line: &LogLine) -> Vec<String> {
    let rows: Vec<String> = match pretty_json(&line.text) {
        Some(rows) => rows,
        None => line.text.split('\n').map(str::to_string).collect(),
    };
    rows.iter().map(|r| sanitize::line(r)).collect()
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use proptest::prelude::*;

    use super::*;
    use crate::domain::Level;

    fn unsafe_char(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
    }

    fn hostile(text: &str, source: &str) -> LogLine {
        LogLine {
            source: source.to_string(),
            time: SystemTime::UNIX_EPOCH,
            level: Level::Error,
            text: text.to_string(),
        }
    }

    #[test]
    fn escapes_in_a_line_and_its_source_are_removed_whole() {
        let line = hostile(
            "a\x1b]0;PWNED\x07b\nc\x1b[2Jd\x07e \u{202e}f",
            "api\x1b]8;;http://x\x1b\\-1",
        );
        assert_eq!(rows(&line), ["ab", "cd�e �f"]);
        assert_eq!(title(&line), "api-1 · 1970-01-01T00:00:00.000Z · ERROR");
        // Inside JSON an escape stays escaped: the pretty-printer writes
        // `\u001b` back as six characters of text, never the byte.
        let json = hostile(r#"{"msg":"x\u001b]0;T\u0007y","level":"error"}"#, "api");
        let shown = rows(&json);
        assert!(
            shown.iter().all(|r| !r.chars().any(unsafe_char)),
            "{shown:?}"
        );
        assert!(
            shown.contains(&r#"  "msg": "x\u001b]0;T\u0007y""#.to_string()),
            "{shown:?}"
        );
    }

    proptest! {
        #[test]
        fn no_row_or_title_carries_a_control_character(
            text in prop::collection::vec(any::<u8>(), 0..200),
            source in prop::collection::vec(any::<u8>(), 0..40),
        ) {
            let line = hostile(&String::from_utf8_lossy(&text), &String::from_utf8_lossy(&source));
            for r in rows(&line) {
                prop_assert!(!r.chars().any(unsafe_char), "{r:?}");
            }
            prop_assert!(!title(&line).chars().any(unsafe_char));
        }
    }
}
