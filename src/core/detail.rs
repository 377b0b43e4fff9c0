//! Detail views: a stack of objects opened with `describe` (and from one
//! another through their links), drawn over the panes. Esc goes back one
//! level, `y` shows the object's YAML, `/` searches it. The content comes
//! from the backends (`Effect::Describe`) or, for a database session, from
//! the latest snapshot; until it arrives, and when it fails, the view says so.

use super::confirm::InputPurpose;
use super::msg::Effect;
use super::ops::{flash, open_input};
use super::state::State;
use crate::action::Action;
use crate::domain::{Detail, DetailTarget};
use crate::panes::layout::body_size;
use crate::sanitize;

pub use super::detail_view::{DetailFrame, DetailView, LineStyle, ShownLine, lines, matches};

/// Open `target` on top of the stack (from a pane, or a link).
pub fn open(state: &mut State, target: DetailTarget) -> Vec<Effect> {
    state.detail.frames.push(DetailFrame {
        target,
        request: 0,
        loading: true,
        detail: None,
        error: None,
        yaml: false,
        scroll: 0,
        search: String::new(),
        current: None,
        link: 0,
    });
    fetch(state)
}

/// (Re)fetch the top frame's content.
fn fetch(state: &mut State) -> Vec<Effect> {
    state.detail.next_request += 1;
    let id = state.detail.next_request;
    let local = match state.detail.top() {
        Some(f) => match &f.target {
            DetailTarget::Session { .. } => Some(crate::panes::database::session_detail(
                &state.metrics.databases,
                &f.target,
            )),
            _ => None,
        },
        None => return Vec::new(),
    };
    let Some(frame) = state.detail.frames.last_mut() else {
        return Vec::new();
    };
    frame.request = id;
    frame.loading = true;
    match local {
        Some(result) => {
            described(state, id, result);
            Vec::new()
        }
        None => vec![Effect::Describe {
            id,
            target: frame.target.clone(),
        }],
    }
}

/// The answer to request `id` arrived.
pub fn described(state: &mut State, id: u64, result: Result<Detail, String>) {
    let Some(frame) = state.detail.frames.iter_mut().find(|f| f.request == id) else {
        return;
    };
    frame.loading = false;
    match result {
        Ok(detail) => {
            frame.link = frame.link.min(detail.links.len().saturating_sub(1));
            frame.detail = Some(detail);
            frame.error = None;
        }
        Err(e) => frame.error = Some(e),
    }
}

/// Fresh database snapshots: open session views follow them.
pub fn databases_changed(state: &mut State) {
    let sessions: Vec<(u64, DetailTarget)> = state
        .detail
        .frames
        .iter()
        .filter(|f| matches!(f.target, DetailTarget::Session { .. }))
        .map(|f| (f.request, f.target.clone()))
        .collect();
    for (id, target) in sessions {
        let result = crate::panes::database::session_detail(&state.metrics.databases, &target);
        described(state, id, result);
    }
}

/// An action while a detail view is open. `None`: not the view's (quit,
/// help, the command prompt go on to the core).
pub fn action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let (width, rows) = body_size(state);
    let frame = state.detail.frames.last_mut()?;
    let shown = lines(frame, width);
    let max_scroll = shown.len().saturating_sub(rows);
    let half = (rows / 2).max(1);
    match action {
        Action::Quit | Action::Help | Action::Command | Action::ToggleZoom => return None,
        Action::Up => frame.scroll = frame.scroll.saturating_sub(1),
        Action::Down => frame.scroll += 1,
        Action::HalfPageUp => frame.scroll = frame.scroll.saturating_sub(half),
        Action::HalfPageDown => frame.scroll += half,
        Action::PageUp => frame.scroll = frame.scroll.saturating_sub(rows),
        Action::PageDown => frame.scroll += rows,
        Action::Top => frame.scroll = 0,
        Action::Bottom => frame.scroll = max_scroll,
        Action::Cancel | Action::ClearFilter => {
            if frame.yaml {
                frame.yaml = false;
                frame.scroll = 0;
                frame.current = None;
            } else {
                state.detail.frames.pop();
            }
            return Some(Vec::new());
        }
        Action::ToggleYaml => {
            frame.yaml = !frame.yaml;
            frame.scroll = 0;
            frame.current = None;
        }
        Action::Refresh => return Some(fetch(state)),
        Action::Search | Action::Filter => {
            let text = frame.search.clone();
            open_input(state, InputPurpose::DetailSearch, "search", text);
            return Some(Vec::new());
        }
        Action::NextMatch | Action::PrevMatch => {
            let found = matches(frame, &shown);
            if found.is_empty() {
                let text = if frame.search.is_empty() {
                    "no search: / to search".to_string()
                } else {
                    format!("no match for {}", sanitize::line(&frame.search))
                };
                flash(state, text, true);
                return Some(Vec::new());
            }
            let n = found.len();
            let next = match (frame.current, action) {
                (None, Action::NextMatch) => 0,
                (None, _) => n - 1,
                (Some(i), Action::NextMatch) => (i + 1) % n,
                (Some(i), _) => (i + n - 1) % n,
            };
            frame.current = Some(next);
            frame.scroll = found[next].saturating_sub(2);
        }
        Action::NextLink | Action::FocusNext => {
            let links = frame.detail.as_ref().map_or(0, |d| d.links.len());
            if links == 0 {
                flash(state, "nothing related to open from here", false);
                return Some(Vec::new());
            }
            frame.link = (frame.link + 1) % links;
            let at = lines(frame, width)
                .iter()
                .position(|l| l.style == LineStyle::Link(true));
            if let Some(at) = at {
                if at < frame.scroll || at >= frame.scroll + rows {
                    frame.scroll = at.saturating_sub(rows / 2);
                }
            }
        }
        Action::Submit => {
            let link = frame
                .detail
                .as_ref()
                .and_then(|d| d.links.get(frame.link).cloned());
            return Some(match link {
                Some(target) if !frame.yaml => open(state, target),
                _ => Vec::new(),
            });
        }
        Action::Copy => {
            let text = if frame.yaml {
                frame.detail.as_ref().and_then(|d| d.yaml.clone())
            } else {
                frame.detail.as_ref().map(|d| d.plain_lines().join("\n"))
            };
            let Some(text) = text else {
                flash(state, "nothing to copy yet", true);
                return Some(Vec::new());
            };
            let text: Vec<String> = text.lines().map(sanitize::line).collect();
            flash(state, format!("copied {} lines", text.len()), false);
            return Some(vec![Effect::Copy {
                text: text.join("\n"),
            }]);
        }
        _ => return Some(Vec::new()),
    }
    frame.scroll = frame.scroll.min(max_scroll);
    Some(Vec::new())
}

/// The search prompt changed: search as the user types.
pub fn set_search(state: &mut State, text: &str) {
    if let Some(f) = state.detail.frames.last_mut() {
        f.search = text.to_string();
        f.current = None;
    }
}

/// The search was submitted: go to the first match at or below the top line.
pub fn search_submitted(state: &mut State) {
    let (width, rows) = body_size(state);
    let Some(frame) = state.detail.frames.last_mut() else {
        return;
    };
    let shown = lines(frame, width);
    let found = matches(frame, &shown);
    if found.is_empty() {
        if !frame.search.trim().is_empty() {
            let text = format!("no match for {}", sanitize::line(&frame.search));
            flash(state, text, true);
        }
        return;
    }
    let i = found.iter().position(|&l| l >= frame.scroll).unwrap_or(0);
    frame.current = Some(i);
    frame.scroll = found[i]
        .saturating_sub(2)
        .min(shown.len().saturating_sub(rows));
}
