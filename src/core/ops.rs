//! Small operations on [`State`] that the core and the panes share: the
//! status-bar flash, prompts, switching context/namespace, and opening a
//! confirmation for a [`Change`].

use super::confirm::{Confirm, Input, InputPurpose};
use super::msg::Effect;
use super::state::{Flash, Layer, State};
use crate::domain::Change;

/// Show a message in the status bar.
pub fn flash(state: &mut State, text: impl Into<String>, error: bool) {
    state.flash = Some(Flash {
        text: text.into(),
        error,
        at: state.now,
        sticky: false,
    });
}

/// An action's result in the status bar: it stays until dismissed (esc)
/// or replaced by another message.
pub fn show_result(state: &mut State, text: impl Into<String>, error: bool) {
    flash(state, text, error);
    if let Some(f) = &mut state.flash {
        f.sticky = true;
    }
}

/// Ask the driver to reopen the backends for a context and namespace.
pub fn switch(
    state: &mut State,
    context: Option<String>,
    namespace: Option<String>,
) -> Vec<Effect> {
    let Some(context) = context else {
        flash(state, "no Kubernetes context to switch", true);
        return Vec::new();
    };
    let ns = namespace.clone().unwrap_or_else(|| "all namespaces".into());
    flash(state, format!("switching to {context} ({ns})…"), false);
    vec![Effect::Switch { context, namespace }]
}

/// Open a text prompt on top of the panes.
pub fn open_input(state: &mut State, purpose: InputPurpose, prompt: &str, text: String) {
    state.layer = Some(Layer::Input(Input {
        purpose,
        prompt: prompt.into(),
        original: text.clone(),
        selected: false,
        cursor: text.len(),
        text,
        error: None,
        recalled: None,
        draft: String::new(),
        completions: Vec::new(),
    }));
}

/// In read-only mode, show why the action is blocked and return true.
pub fn blocked_by_read_only(state: &mut State, what: &str) -> bool {
    if state.read_only {
        let why = match (&state.read_only_reason, &state.read_only_origin) {
            (Some(reason), _) => {
                format!("opsdeck is read-only because a safety setting could not be read: {reason}")
            }
            (None, Some(origin)) => {
                format!("opsdeck is read-only ({origin}): every action is shown but blocked.")
            }
            (None, None) => "opsdeck is read-only: every action is shown but blocked.".to_string(),
        };
        state.layer = Some(Layer::Notice {
            title: "Blocked: read-only mode".into(),
            text: format!("{what} was not run.\n{why}"),
        });
    }
    state.read_only
}

/// Open the confirmation for a change (or the read-only notice), and ask
/// the backend whether it is allowed and what its dry run says.
pub fn ask(state: &mut State, change: Change) -> Vec<Effect> {
    if blocked_by_read_only(state, &change.describe()) {
        return Vec::new();
    }
    let id = state.next_action_id;
    state.next_action_id += 1;
    let mut confirm = Confirm::new(change.clone());
    confirm.check_id = id;
    state.layer = Some(Layer::Confirm(confirm));
    vec![Effect::CheckChange { id, change }]
}

/// The focused pane's inside on the current terminal, for navigation
/// that depends on what fits (a page of wrapped log lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub width: usize,
    pub rows: usize,
}

/// Move a selection `cur` by `delta` within `n` rows.
pub fn step(cur: usize, delta: isize, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    (cur as isize)
        .saturating_add(delta)
        .clamp(0, n as isize - 1) as usize
}
