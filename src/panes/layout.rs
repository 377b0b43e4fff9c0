//! The screen's layout, computed in one place for the UI (where to draw)
//! and the core (how many rows a page is).

use ratatui::layout::{Constraint, Layout, Rect};

use super::{Column, REGISTRY};
use super::{Pane, spec};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::core::State;
use crate::sanitize;

/// Below this many body rows, the shared panes of a column take turns.
pub const TALL: u16 = 40;

/// Header line, banner (the reason read-only was forced, wrapped, never
/// cut; empty otherwise), body, status line.
pub fn screen(area: Rect, state: &State) -> [Rect; 4] {
    // Keep at least three body rows.
    let banner = u16::try_from(banner_lines(state, area.width).len())
        .unwrap_or(u16::MAX)
        .min(area.height.saturating_sub(5));
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// The banner shown when read-only was forced by a configuration problem,
/// cut into lines of `width` columns (so its height is known); empty when
/// read-only was not forced.
pub fn banner_lines(state: &State, width: u16) -> Vec<String> {
    let Some(reason) = &state.read_only_reason else {
        return Vec::new();
    };
    let text = format!(
        " READ-ONLY because a safety setting could not be read: {} ",
        sanitize::line(reason)
    );
    let width = usize::from(width.max(2));
    let mut lines = vec![String::new()];
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        let used = lines.last().map_or(0, |l| l.width());
        if used + w > width {
            lines.push(String::new());
        }
        if let Some(l) = lines.last_mut() {
            l.push(c);
        }
    }
    lines
}

/// Where each visible pane goes in the body: the focused pane alone when
/// zoomed, else the grid of [`REGISTRY`] places.
pub fn panes(body: Rect, state: &State) -> Vec<(Pane, Rect)> {
    if state.zoom {
        return vec![(state.focus, body)];
    }
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
    let mut out = column(left, Column::Left, body.height >= TALL, state.lower_right);
    out.extend(column(
        right,
        Column::Right,
        body.height >= TALL,
        state.lower_right,
    ));
    out
}

fn column(area: Rect, which: Column, tall: bool, shown: Pane) -> Vec<(Pane, Rect)> {
    let mut specs: Vec<_> = REGISTRY
        .iter()
        .filter(|s| s.place.column == which)
        .collect();
    specs.sort_by_key(|s| s.place.row);
    // (pane, share) per slot; shared panes collapse into one slot when short.
    let mut slots: Vec<(Pane, u16)> = Vec::new();
    let mut shared_slot: Option<usize> = None;
    for s in specs {
        if tall {
            slots.push((s.pane, s.place.tall));
        } else if s.place.shared {
            match shared_slot {
                Some(i) => {
                    if s.pane == shown {
                        slots[i] = (s.pane, s.place.short);
                    }
                }
                None => {
                    shared_slot = Some(slots.len());
                    slots.push((s.pane, s.place.short));
                }
            }
        } else {
            slots.push((s.pane, s.place.short));
        }
    }
    let rects = Layout::vertical(
        slots
            .iter()
            .map(|(_, share)| Constraint::Percentage(*share)),
    )
    .split(area);
    slots
        .iter()
        .zip(rects.iter())
        .map(|((p, _), r)| (*p, *r))
        .collect()
}

/// Rows inside the focused pane's border on the current terminal (at least 1).
pub fn focused_rows(state: &State) -> usize {
    let (w, h) = state.size;
    let [_, _, body, _] = screen(Rect::new(0, 0, w, h), state);
    panes(body, state)
        .into_iter()
        .find(|(p, _)| *p == state.focus)
        .map_or(1, |(_, r)| usize::from(r.height.saturating_sub(2)).max(1))
}

/// Columns and rows inside a box over the whole body (a detail view).
pub fn body_size(state: &State) -> (usize, usize) {
    let (w, h) = state.size;
    let [_, _, body, _] = screen(Rect::new(0, 0, w, h), state);
    (
        usize::from(body.width.saturating_sub(2)).max(1),
        usize::from(body.height.saturating_sub(2)).max(1),
    )
}

/// Columns and rows inside the focused pane's border (each at least 1).
pub fn focused_size(state: &State) -> (usize, usize) {
    let (w, h) = state.size;
    let [_, _, body, _] = screen(Rect::new(0, 0, w, h), state);
    panes(body, state)
        .into_iter()
        .find(|(p, _)| *p == state.focus)
        .map_or((1, 1), |(_, r)| {
            (
                usize::from(r.width.saturating_sub(2)).max(1),
                usize::from(r.height.saturating_sub(2)).max(1),
            )
        })
}

/// Remember which shared pane a short screen shows, when it is focused.
pub fn focused(state: &mut State, pane: Pane) {
    state.focus = pane;
    if spec(pane).place.shared {
        state.lower_right = pane;
    }
}
