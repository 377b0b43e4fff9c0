//! `update(&mut State, Msg) -> Vec<Effect>`: the whole behaviour of the
//! console. Messages from the backends are applied here; keys go to the top
//! layer if there is one, else to the focused pane's keymap table and then
//! the global one; actions that are not the core's go to the pane that owns
//! them through the registry.

use crossterm::event::{KeyCode, KeyModifiers};

use super::command::{self, Run};
use super::confirm::InputPurpose;
use super::layers;
use super::msg::{Effect, Msg};
use super::ops::{flash, open_input};
use super::quit::{interrupt, is_interrupt, running_action, signalled};
use super::state::{Layer, State};
use crate::action::{Action, Mode};
use crate::domain::LogLine;
use crate::keymap::{KeyChord, Resolved};
use crate::panes::layout::{focused, focused_rows, focused_size};
use crate::panes::logs::LogsView;
use crate::panes::{Pane, REGISTRY, spec};

/// Apply one message to the state; return the effects for the driver to run.
pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(chord) => return on_key(state, chord),
        Msg::Resize(w, h) => state.size = (w, h),
        Msg::Tick(now) => {
            state.now = now;
            state.logs.refresh_markers(now);
            if state.flash.as_ref().is_some_and(|f| {
                !f.sticky
                    && now.duration_since(f.at).unwrap_or_default()
                        > std::time::Duration::from_secs(if f.error { 15 } else { 6 })
            }) {
                state.flash = None;
            }
        }
        Msg::Workloads(rows) => {
            state.workloads.rows = rows;
            state.workloads.reselect();
        }
        Msg::Logs(lines) => state.logs.push(lines, state.now),
        Msg::Metrics(series) => {
            state.metrics.answered = true;
            state.metrics.series = series;
        }
        Msg::Databases(dbs) => {
            // Fresh snapshots of these databases; the others keep theirs.
            state.database.record(&dbs);
            for db in dbs {
                match state
                    .metrics
                    .databases
                    .iter_mut()
                    .find(|d| d.name == db.name)
                {
                    Some(old) => *old = db,
                    None => state.metrics.databases.push(db),
                }
            }
            state.database.reselect(&state.metrics.databases);
            super::detail::databases_changed(state);
        }
        Msg::FeedOk { feed, source, at } => {
            let at = at.map_or(state.now, |t| t.min(state.now));
            state.feeds.ok(feed, &source, at);
        }
        Msg::FeedFailed {
            feed,
            source,
            error,
        } => state.feeds.failed(feed, &source, error, state.now),
        Msg::ChangeChecked {
            id,
            allowed,
            preview,
        } => {
            if let Some(Layer::Confirm(c)) = &mut state.layer {
                if c.check_id == id {
                    c.checked(allowed, preview);
                }
            }
        }
        Msg::Switched(target) => {
            state.target = target;
            state.workloads.rows.clear();
            state.workloads.select(0);
            state.logs = LogsView::default();
            state.metrics.databases.clear();
            state.feeds.clear();
            flash(state, format!("now on {}", state.target), false);
        }
        Msg::PreviousLogs { pod, result } => previous_logs(state, pod, result),
        Msg::Flash { text, error } => flash(state, text, error),
        Msg::QueryGroups(groups) => state.insights.groups = groups,
        Msg::Query { generation, update } => state.insights.apply(generation, update),
        Msg::LogLag { source, lag } => {
            match lag {
                Some(l) => state.logs.lag.insert(source, l),
                None => state.logs.lag.remove(&source),
            };
        }
        Msg::StreamState(st) => state.logs.stream_state(st, state.now),
        Msg::ChangeFinished { id, result } => {
            layers::change_finished(state, id, result);
            if state.exit_code.is_some() && running_action(state).is_none() {
                state.quit = true;
                return vec![Effect::Quit];
            }
        }
        Msg::Described { id, result } => super::detail::described(state, id, result),
        Msg::Quit => {
            state.quit = true;
            return vec![Effect::Quit];
        }
        Msg::Signal { name, code } => return signalled(state, name, code),
    }
    state.track_resolution();
    Vec::new()
}

/// The logs of a pod's previous container: shown in the Logs pane under
/// their own source, paused at the end.
fn previous_logs(
    state: &mut State,
    pod: crate::domain::WorkloadRef,
    result: Result<Vec<LogLine>, String>,
) {
    match result {
        Ok(lines) if lines.is_empty() => flash(
            state,
            format!("{pod}: its previous container logged nothing"),
            false,
        ),
        Ok(lines) => {
            let source = format!("{} (previous)", pod.name);
            let n = lines.len();
            state.logs.push_history(
                lines
                    .into_iter()
                    .map(|l| LogLine {
                        source: source.clone(),
                        ..l
                    })
                    .collect(),
            );
            state.logs.source = Some(source);
            state.logs.set_follow(true);
            state.logs.set_follow(false);
            state.focus = Pane::LOGS;
            flash(
                state,
                format!("{n} lines from the previous container of {pod}"),
                false,
            );
        }
        Err(e) => flash(state, format!("previous logs of {pod}: {e}"), true),
    }
}

/// The mode whose keymap table the top layer (or focused pane) uses.
fn top_mode(state: &State) -> Mode {
    match &state.layer {
        Some(layer) => layers::mode(layer),
        None if state.detail.is_open() => Mode::Detail,
        None => spec(state.focus).mode,
    }
}

/// ctrl-z: suspend, as in any terminal program, whatever layer is open.
fn is_suspend(chord: KeyChord) -> bool {
    chord.modifiers == KeyModifiers::CONTROL && chord.code == KeyCode::Char('z')
}

fn on_key(state: &mut State, chord: KeyChord) -> Vec<Effect> {
    if is_interrupt(chord) {
        return interrupt(state);
    }
    if is_suspend(chord) {
        state.pending_keys.clear();
        return vec![Effect::Suspend];
    }
    state.interrupt_armed = false;
    let mode = top_mode(state);
    if state.layer.is_some() {
        // Layers see only their own table; unbound printable keys are text.
        state.pending_keys.clear();
        return match state.keymap.resolve(mode, &[chord]) {
            Resolved::Actions(actions) => run_actions(state, &actions),
            _ if running_action(state).is_some()
                && matches!(
                    state.keymap.resolve(Mode::Global, &[chord]),
                    Resolved::Actions(ref a) if a.contains(&Action::Quit)
                ) =>
            {
                layers::action(state, Action::Quit)
            }
            _ if matches!(state.layer, Some(Layer::Picker { .. })) => {
                // Lists move with the global navigation keys.
                match state.keymap.resolve(Mode::Global, &[chord]) {
                    Resolved::Actions(actions) => run_actions(state, &actions),
                    _ => Vec::new(),
                }
            }
            _ => {
                if mode == Mode::Input {
                    if let (KeyCode::Char(c), false) = (
                        chord.code,
                        chord
                            .modifiers
                            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT),
                    ) {
                        layers::type_char(state, c);
                    }
                }
                Vec::new()
            }
        };
    }

    state.pending_keys.push(chord);
    let seq = state.pending_keys.clone();
    let pane = state.keymap.resolve(mode, &seq);
    let global = state.keymap.resolve(Mode::Global, &seq);
    match (pane, global) {
        (Resolved::Actions(a), _) | (_, Resolved::Actions(a)) => {
            state.pending_keys.clear();
            run_actions(state, &a)
        }
        (Resolved::Pending, _) | (_, Resolved::Pending) => Vec::new(),
        _ => {
            state.pending_keys.clear();
            if seq.len() > 1 {
                // An unbound sequence: retry its last key alone (`g x` -> `x`).
                on_key(state, chord)
            } else if let Some(pane) = digit_pane(chord) {
                // Unbound digits focus the registry's panes: 1 is the first.
                run_actions(state, &[spec(pane).focus])
            } else {
                Vec::new()
            }
        }
    }
}

/// The pane a plain digit key names, from the registry's order.
fn digit_pane(chord: KeyChord) -> Option<Pane> {
    let KeyCode::Char(c) = chord.code else {
        return None;
    };
    if !chord.modifiers.is_empty() {
        return None;
    }
    let n = c.to_digit(10)? as usize;
    REGISTRY.get(n.checked_sub(1)?).map(|s| s.pane)
}

fn run_actions(state: &mut State, actions: &[Action]) -> Vec<Effect> {
    let mut effects = Vec::new();
    for &a in actions {
        effects.extend(run_action(state, a));
    }
    effects
}

/// The actions a pane offers on its selection. One table for key handling,
/// hints and help.
pub fn offered_actions(state: &State, pane: Pane) -> Vec<Action> {
    (spec(pane).offered)(state)
}

fn run_action(state: &mut State, action: Action) -> Vec<Effect> {
    if let Some(Layer::Input(input)) = &state.layer {
        if input.purpose == InputPurpose::Command && action == Action::Submit {
            let line = input.text.clone();
            layers::action(state, action);
            return match command::run(state, &line) {
                Ok(Run::Action(a)) => run_action(state, a),
                Ok(Run::Effects(effects)) => effects,
                Err(e) => {
                    flash(state, e, true);
                    Vec::new()
                }
            };
        }
    }
    if state.layer.is_some() {
        return layers::action(state, action);
    }
    if state.detail.is_open() {
        if let Some(effects) = super::detail::action(state, action) {
            return effects;
        }
    }
    if let Some(pane) = REGISTRY.iter().find(|s| s.focus == action) {
        focused(state, pane.pane);
        return Vec::new();
    }
    match action {
        Action::Quit => {
            state.quit = true;
            vec![Effect::Quit]
        }
        Action::Help => {
            state.layer = Some(Layer::Help { scroll: 0 });
            Vec::new()
        }
        Action::Problems => {
            state.layer = Some(Layer::Problems { scroll: 0 });
            Vec::new()
        }
        Action::Dismiss => {
            state.flash = None;
            Vec::new()
        }
        Action::FocusNext | Action::FocusPrev => {
            let i = REGISTRY
                .iter()
                .position(|s| s.pane == state.focus)
                .unwrap_or(0);
            let n = REGISTRY.len();
            let j = if action == Action::FocusNext {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            focused(state, REGISTRY[j].pane);
            Vec::new()
        }
        Action::ToggleZoom => {
            state.zoom = !state.zoom;
            Vec::new()
        }
        Action::Refresh => vec![Effect::Refresh],
        Action::Command => {
            open_input(state, InputPurpose::Command, ":", String::new());
            Vec::new()
        }
        Action::Copy => copy(state),
        Action::Describe => match (spec(state.focus).detail_target)(state) {
            Some(target) => super::detail::open(state, target),
            None => {
                let text = format!("nothing to describe in {}", spec(state.focus).title);
                flash(state, text, true);
                Vec::new()
            }
        },
        Action::Up
        | Action::Down
        | Action::HalfPageUp
        | Action::HalfPageDown
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom => {
            let delta = delta(state, action);
            let (width, rows) = focused_size(state);
            let page = super::ops::Page { width, rows };
            (spec(state.focus).navigate)(state, action, delta, page);
            Vec::new()
        }
        Action::SwitchContext => {
            if state.contexts.is_empty() {
                let text = format!("no {}s in this session", state.switch_nouns.0);
                flash(state, text, true);
            } else {
                let selected = state
                    .target
                    .context()
                    .and_then(|c| state.contexts.iter().position(|x| x == c))
                    .unwrap_or(0);
                state.layer = Some(Layer::Picker {
                    title: format!("switch {}", state.switch_nouns.0),
                    items: state.contexts.clone(),
                    selected,
                });
            }
            Vec::new()
        }
        Action::SwitchNamespace => {
            let current = state.target.namespace().unwrap_or("all").to_string();
            let prompt = if state.switch_nouns.1 == "namespace" {
                "namespace (all = every namespace)".to_string()
            } else {
                format!("{} (all = the profile's own)", state.switch_nouns.1)
            };
            open_input(state, InputPurpose::Namespace, &prompt, current);
            // The current value is offered selected: typing replaces it.
            if let Some(Layer::Input(i)) = &mut state.layer {
                i.selected = true;
            }
            Vec::new()
        }
        _ => to_pane(state, action),
    }
}

/// Put the focused pane's selection (object name, log line, query) on the
/// clipboard, as plain text.
fn copy(state: &mut State) -> Vec<Effect> {
    let spec = spec(state.focus);
    let Some(text) = (spec.copy_text)(state).filter(|t| !t.trim().is_empty()) else {
        flash(state, format!("nothing to copy in {}", spec.title), true);
        return Vec::new();
    };
    // Plain text: no escapes or controls reach the terminal; lines stay lines.
    let text: Vec<String> = text.lines().map(crate::sanitize::line).collect();
    let text = text.join("\n");
    let shown = crate::panes::widgets::truncate_middle(&text.replace('\n', " "), 48);
    flash(state, format!("copied {shown}"), false);
    vec![Effect::Copy { text }]
}

/// An action the core does not handle goes to the focused pane, else to
/// the first pane that takes it.
fn to_pane(state: &mut State, action: Action) -> Vec<Effect> {
    // esc clears a pane's filter, and dismisses the message with it.
    if action == Action::ClearFilter {
        state.flash = None;
    }
    if let Some(effects) = (spec(state.focus).on_action)(state, action) {
        return effects;
    }
    let focus = state.focus;
    for s in REGISTRY.iter().filter(|s| s.pane != focus) {
        if let Some(effects) = (s.on_action)(state, action) {
            return effects;
        }
    }
    Vec::new()
}

/// Rows a navigation action moves, by the focused pane's height on screen.
fn delta(state: &State, action: Action) -> isize {
    let page = focused_rows(state) as isize;
    match action {
        Action::Up => -1,
        Action::Down => 1,
        Action::HalfPageUp => -(page / 2).max(1),
        Action::HalfPageDown => (page / 2).max(1),
        Action::PageUp => -page,
        Action::PageDown => page,
        Action::Top => isize::MIN / 2,
        _ => isize::MAX / 2,
    }
}
