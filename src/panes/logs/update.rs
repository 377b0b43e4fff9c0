//! What the Logs pane does with its actions: follow, scroll, search,
//! filters, sources, JSON and timestamps, and opening a Logs Insights query.

use crate::action::Action;
use crate::core::Effect;
use crate::core::InputPurpose;
use crate::core::Layer;
use crate::core::State;
use crate::core::ops::{Page, flash, open_input};
use crate::domain::{Level, log_text};

/// Handle `action` if it is this pane's.
pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::Filter => open_input(
            state,
            InputPurpose::LogFilter,
            "show only log lines containing",
            state.logs.filter.clone(),
        ),
        Action::Search => open_input(
            state,
            InputPurpose::LogSearch,
            "search logs",
            state.logs.search.clone(),
        ),
        Action::ClearFilter => {
            state.logs.search.clear();
            state.logs.filter.clear();
            state.logs.source = None;
            state.logs.min_level = Level::Trace;
        }
        Action::ToggleFollow => {
            let f = !state.logs.follow;
            state.logs.set_follow(f);
        }
        Action::NextMatch | Action::PrevMatch => {
            if !state.logs.jump_match(action == Action::NextMatch) && !state.logs.search.is_empty()
            {
                no_match(state);
            }
        }
        Action::CycleLevel => {
            state.logs.min_level = match state.logs.min_level {
                Level::Trace => Level::Debug,
                Level::Debug => Level::Info,
                Level::Info => Level::Warn,
                Level::Warn => Level::Error,
                Level::Error => Level::Trace,
            };
        }
        Action::CycleSource => {
            let sources = state.logs.sources();
            state.logs.source = match &state.logs.source {
                None => sources.first().cloned(),
                Some(cur) => sources
                    .iter()
                    .position(|s| s == cur)
                    .and_then(|i| sources.get(i + 1))
                    .cloned(),
            };
        }
        Action::ToggleJson => state.logs.json_pretty = !state.logs.json_pretty,
        Action::ToggleTimestamps => state.logs.timestamps = !state.logs.timestamps,
        Action::LogsInsights => insights_prompt(state),
        Action::ToggleWrap => state.logs.wrap = !state.logs.wrap,
        Action::ShowLine => match state.logs.current() {
            Some(line) => {
                state.layer = Some(Layer::LogLine {
                    line: Box::new(line.clone()),
                    scroll: 0,
                });
            }
            None => flash(state, "no log line to show", true),
        },
        Action::SaveLogs => save_prompt(state),
        _ => return None,
    }
    Some(Vec::new())
}

/// Scroll; Top and Bottom jump to the ends (Bottom follows again).
pub fn navigate(state: &mut State, action: Action, delta: isize, page: Page) {
    match action {
        Action::Top => {
            let heights =
                |l: &crate::domain::LogLine| super::render::row_count(l, state, page.width);
            let anchor = state.logs.top_anchor(page.rows, heights);
            state.logs.follow = false;
            state.logs.anchor = anchor;
        }
        Action::Bottom => state.logs.set_follow(true),
        _ => state.logs.scroll(delta),
    }
}

/// What `copy` takes: the log line at the bottom of the pane (the newest
/// one when following, else the line scrolled to).
pub fn copy_text(state: &State) -> Option<String> {
    let i = state.logs.bottom()?;
    let index = *state.logs.visible().get(i)?;
    state.logs.lines.get(index).map(|l| l.text.clone())
}

/// Say that the search has no match.
pub fn no_match(state: &mut State) {
    let text = format!("no match for \"{}\"", state.logs.search);
    flash(state, text, true);
}

/// A submitted search jumps to its first match.
pub fn search_submitted(state: &mut State) {
    if !state.logs.search.is_empty() && !state.logs.jump_match(false) {
        no_match(state);
    }
}

fn insights_prompt(state: &mut State) {
    if state.insights.groups.is_empty() {
        flash(
            state,
            "no CloudWatch Logs groups in this session to query",
            true,
        );
    } else {
        let prompt = format!(
            "Logs Insights query over {}",
            state.insights.groups.join(", ")
        );
        open_input(
            state,
            InputPurpose::Query,
            &prompt,
            state.insights.query.clone(),
        );
    }
}

/// Ask where to save the lines shown (a new file; the default is named
/// after the time).
fn save_prompt(state: &mut State) {
    if state.logs.visible_len() == 0 {
        flash(state, "no log lines to save", true);
        return;
    }
    let stamp = humantime::format_rfc3339_seconds(state.now)
        .to_string()
        .replace([':', '-'], "");
    let prompt = format!("save {} log lines to the file", state.logs.visible_len());
    open_input(
        state,
        InputPurpose::SaveLogs,
        &prompt,
        format!("opsdeck-logs-{stamp}.log"),
    );
}

/// The path was typed: the lines shown (after the filters), as text.
pub fn save_submitted(state: &mut State, path: &str) -> Vec<Effect> {
    let path = path.trim();
    if path.is_empty() {
        if let Some(Layer::Input(i)) = &mut state.layer {
            i.error = Some("type a file name".into());
        }
        return Vec::new();
    }
    state.layer = None;
    let l = &state.logs;
    let mut text = String::new();
    let mut lines = 0;
    for line in l.lines.iter().filter(|x| l.shows(x)) {
        text.push_str(&log_text::plain(line));
        text.push('\n');
        lines += 1;
    }
    vec![Effect::SaveLogs {
        path: path.into(),
        text,
        lines,
    }]
}
