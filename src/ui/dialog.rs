//! The frame every dialog shares: its block, its place, its key hints.

use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders};

use crate::action::{Action, Mode};
use crate::core::State;
use crate::theme::{Slot, Theme};

pub(super) fn dialog<'a>(theme: &Theme, title: &str, danger: bool) -> Block<'a> {
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
pub(super) fn key_of(state: &State, mode: Mode, action: Action) -> String {
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

/// A centred rectangle of at most `w` x `h` inside `area`.
pub(super) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
