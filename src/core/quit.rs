//! Quitting: ctrl-c, signals (TERM, HUP, INT) and what they wait for
//! while an action runs.

use crossterm::event::{KeyCode, KeyModifiers};

use super::confirm::ConfirmStatus;
use super::msg::Effect;
use super::ops::flash;
use super::state::{Layer, State};
use crate::keymap::KeyChord;

/// ctrl-c, and ctrl-\ (which terminals may send as ctrl-4): quit, as in
/// any terminal program, whatever layer is open and whatever the keymap says.
pub(super) fn is_interrupt(chord: KeyChord) -> bool {
    chord.modifiers == KeyModifiers::CONTROL
        && matches!(chord.code, KeyCode::Char('c' | '\\' | '4'))
}

/// How long a signal waits for a running action's result before quitting
/// with the action recorded as interrupted.
pub const SIGNAL_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// The action running now, if any (its confirmation's headline).
pub fn running_action(state: &State) -> Option<&str> {
    match &state.layer {
        Some(Layer::Confirm(c)) if matches!(c.status, ConfirmStatus::Running { .. }) => {
            Some(&c.headline)
        }
        _ => None,
    }
}

/// TERM, HUP or INT: quit with `code`, after the running action's result
/// (at most [`SIGNAL_GRACE`]), so its audit record is complete.
pub(super) fn signalled(state: &mut State, name: &str, code: i32) -> Vec<Effect> {
    let first = state.exit_code.is_none();
    state.exit_code = Some(code);
    let Some(what) = running_action(state).map(str::to_string) else {
        state.quit = true;
        return vec![Effect::Quit];
    };
    if !first {
        // A second signal: stop waiting.
        return vec![Effect::InterruptAfter {
            after: std::time::Duration::ZERO,
        }];
    }
    super::ops::show_result(
        state,
        format!(
            "{name}: quitting once \"{what}\" has finished (at most {}s more)",
            SIGNAL_GRACE.as_secs()
        ),
        true,
    );
    vec![Effect::InterruptAfter {
        after: SIGNAL_GRACE,
    }]
}

/// Quit; while a confirmed action runs, only on the second press, after
/// saying that its result will not be waited for.
pub(super) fn interrupt(state: &mut State) -> Vec<Effect> {
    let running = running_action(state).is_some();
    if running && !state.interrupt_armed {
        state.interrupt_armed = true;
        flash(
            state,
            "an action is running: press ctrl-c again to quit without waiting for its result",
            true,
        );
        return Vec::new();
    }
    state.quit = true;
    vec![Effect::Quit]
}
