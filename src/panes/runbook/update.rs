//! What the Runbook pane does: move between steps and their actions, and
//! open the confirmation of the selected action's change.

use crate::action::Action;
use crate::core::Effect;
use crate::core::State;
use crate::core::ops::{ask, flash, step};

/// Run an action when the selected step has one.
pub fn offered(state: &State) -> Vec<Action> {
    let has_action = state.runbook.as_ref().is_some_and(|r| {
        r.book
            .steps
            .get(r.step)
            .is_some_and(|s| !s.actions.is_empty())
    });
    if has_action {
        vec![Action::RunAction]
    } else {
        Vec::new()
    }
}

/// Handle `action` if it is this pane's.
pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    match action {
        Action::RunAction => Some(run_selected(state)),
        Action::NextStep | Action::PrevStep => {
            if let Some(rb) = &mut state.runbook {
                let n = rb.book.steps.len();
                if n > 0 {
                    rb.step = if action == Action::NextStep {
                        (rb.step + 1).min(n - 1)
                    } else {
                        rb.step.saturating_sub(1)
                    };
                    rb.action = 0;
                }
            }
            Some(Vec::new())
        }
        _ => None,
    }
}

/// Move between the selected step's actions.
pub fn navigate(state: &mut State, _action: Action, delta: isize, _page: crate::core::ops::Page) {
    if let Some(rb) = &mut state.runbook {
        let n = rb.book.steps.get(rb.step).map_or(0, |s| s.actions.len());
        rb.action = step(rb.action, delta, n);
    }
}

fn run_selected(state: &mut State) -> Vec<Effect> {
    let Some(rb) = &state.runbook else {
        flash(state, "no runbook loaded", true);
        return Vec::new();
    };
    let Some(spec) = rb
        .book
        .steps
        .get(rb.step)
        .and_then(|s| s.actions.get(rb.action))
    else {
        flash(state, "this step has no action", true);
        return Vec::new();
    };
    let origin = (rb.step, rb.action);
    match spec.to_change(&state.estate()) {
        Ok(change) => {
            let effects = ask(state, change);
            if let Some(crate::core::Layer::Confirm(c)) = &mut state.layer {
                c.origin = Some(origin);
            }
            effects
        }
        Err(e) => {
            let label = spec.label();
            flash(state, format!("{label}: {e}"), true);
            Vec::new()
        }
    }
}
