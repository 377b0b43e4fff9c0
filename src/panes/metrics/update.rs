//! The Metrics pane has no actions of its own; its selection moves.

use crate::action::Action;
use crate::core::Effect;
use crate::core::State;
use crate::core::ops::step;

/// Nothing is this pane's.
pub fn on_action(_state: &mut State, _action: Action) -> Option<Vec<Effect>> {
    None
}

/// What `describe` opens: the selected series if it is a CloudWatch alarm.
pub fn detail_target(state: &State) -> Option<crate::domain::DetailTarget> {
    let series = state.metrics.series.get(state.metrics.selected)?;
    let name = series.key.strip_prefix(crate::domain::ALARM_KEY_PREFIX)?;
    Some(crate::domain::DetailTarget::Alarm {
        name: name.to_string(),
    })
}

/// Move the selected series.
pub fn navigate(state: &mut State, _action: Action, delta: isize, _page: crate::core::ops::Page) {
    let n = state.metrics.series.len();
    state.metrics.selected = step(state.metrics.selected, delta, n);
}
