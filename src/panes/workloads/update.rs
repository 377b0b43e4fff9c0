//! What the Workloads pane does with its actions: filter, sort, open logs,
//! and the workload changes (scale, rollout undo/restart, delete pod, stop
//! task, force a deployment) on the selected row.

use crate::action::Action;
use crate::core::Effect;
use crate::core::InputPurpose;
use crate::core::State;
use crate::core::ops::{ask, blocked_by_read_only, flash, open_input, step};
use crate::domain::{Change, WorkloadKind};
use crate::panes::Pane;

/// The actions offered on the selected row.
pub fn offered(state: &State) -> Vec<Action> {
    match state.workloads.selected_row().map(|w| w.id.kind) {
        Some(WorkloadKind::Deployment) => {
            vec![Action::Scale, Action::RolloutUndo, Action::RolloutRestart]
        }
        Some(WorkloadKind::Pod) => vec![Action::DeletePod, Action::PreviousLogs],
        Some(WorkloadKind::EcsService) => {
            vec![
                Action::Scale,
                Action::ForceNewDeployment,
                Action::RolloutUndo,
            ]
        }
        Some(WorkloadKind::EcsTask) => vec![Action::StopTask],
        None => Vec::new(),
    }
}

/// Handle `action` if it is this pane's.
pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let effects = match action {
        Action::Filter => {
            open_input(
                state,
                InputPurpose::WorkloadFilter,
                "filter workloads",
                state.workloads.filter.clone(),
            );
            Vec::new()
        }
        Action::ClearFilter => {
            state.workloads.marked.clear();
            state.workloads.filter.clear();
            state.workloads.kinds.clear();
            state.workloads.reselect();
            Vec::new()
        }
        Action::ToggleMark => {
            if let Err(e) = state.workloads.toggle_mark() {
                flash(state, e, true);
            }
            Vec::new()
        }
        Action::DeletePod | Action::StopTask if !state.workloads.marked.is_empty() => {
            marked_batch(state, action)
        }
        Action::ToggleCollapse => {
            state.workloads.toggle_collapse();
            Vec::new()
        }
        Action::CycleSort => {
            state.workloads.sort = state.workloads.sort.next();
            state.workloads.reselect();
            Vec::new()
        }
        Action::ReverseSort => {
            state.workloads.reverse = !state.workloads.reverse;
            state.workloads.reselect();
            Vec::new()
        }
        Action::Scale
        | Action::RolloutUndo
        | Action::RolloutRestart
        | Action::DeletePod
        | Action::StopTask
        | Action::ForceNewDeployment => workload_change(state, action),
        Action::PreviousLogs => previous_logs(state),
        Action::LogsForSelected => {
            if let Some(w) = state.workloads.selected_row() {
                let name = w.id.name.clone();
                if state.logs.source.as_deref() == Some(name.as_str()) {
                    state.logs.source = None;
                } else {
                    state.logs.source = Some(name);
                    state.logs.set_follow(true);
                    state.focus = Pane::LOGS;
                }
            }
            Vec::new()
        }
        _ => return None,
    };
    Some(effects)
}

/// Move the selection.
pub fn navigate(state: &mut State, _action: Action, delta: isize, _page: crate::core::ops::Page) {
    let n = state.workloads.visible().len();
    let i = step(state.workloads.selected, delta, n);
    state.workloads.select(i);
}

/// A filter typed in the prompt applies as it is typed.
/// What `copy` takes: the selected object's name.
pub fn copy_text(state: &State) -> Option<String> {
    state.workloads.selected_row().map(|w| w.id.name.clone())
}

/// What `describe` opens: the selected workload.
pub fn detail_target(state: &State) -> Option<crate::domain::DetailTarget> {
    state
        .workloads
        .selected_row()
        .map(|w| crate::domain::DetailTarget::Workload(w.id.clone()))
}

/// Show only rows of `kinds` (every kind when empty), without a text filter.
pub fn show_kinds(state: &mut State, kinds: &[WorkloadKind]) {
    state.workloads.kinds = kinds.to_vec();
    set_filter(state, "");
}

pub fn set_filter(state: &mut State, text: &str) {
    state.workloads.filter = text.to_string();
    if state.workloads.pinned.is_none() {
        // Nothing chosen yet: a new filter starts at its first row.
        state.workloads.selected = 0;
    }
    state.workloads.reselect();
}

fn previous_logs(state: &mut State) -> Vec<Effect> {
    match state.workloads.selected_row() {
        Some(w) if w.id.kind == WorkloadKind::Pod => {
            let pod = w.id.clone();
            flash(
                state,
                format!("fetching the previous logs of {pod}…"),
                false,
            );
            vec![Effect::PreviousLogs { pod }]
        }
        Some(w) => {
            let id = w.id.clone();
            flash(state, format!("previous logs are for pods, not {id}"), true);
            Vec::new()
        }
        None => Vec::new(),
    }
}

/// Open the right prompt for a workload change on the selected row, or say
/// why it is not available.
fn workload_change(state: &mut State, action: Action) -> Vec<Effect> {
    let Some(row) = state.workloads.selected_row().cloned() else {
        let why = match &state.workloads.gone {
            Some(id) => format!("{id} is gone (deleted or replaced); choose another row"),
            None => "nothing selected".to_string(),
        };
        flash(state, why, true);
        return Vec::new();
    };
    if !offered(state).contains(&action) {
        flash(
            state,
            format!("{} is not available for {}", action.name(), row.id),
            true,
        );
        return Vec::new();
    }
    let target = row.id.clone();
    match action {
        Action::Scale => {
            if blocked_by_read_only(state, &format!("scale {target}")) {
                return Vec::new();
            }
            let prompt = format!("scale {target}: new count (now {})", row.desired);
            open_input(
                state,
                InputPurpose::Replicas {
                    target,
                    from: row.desired,
                },
                &prompt,
                String::new(),
            );
            Vec::new()
        }
        Action::RolloutUndo => ask(
            state,
            Change::RolloutUndo {
                target,
                to_revision: None,
                plan: None,
            },
        ),
        Action::RolloutRestart => ask(state, Change::RolloutRestart { target }),
        Action::DeletePod => ask(
            state,
            Change::DeletePod {
                target,
                uid: row.uid.clone(),
            },
        ),
        Action::StopTask => ask(state, Change::StopTask { target }),
        Action::ForceNewDeployment => ask(state, Change::ForceNewDeployment { target }),
        _ => Vec::new(),
    }
}

/// The count typed for a scale: a whole number, not the current one, at most 1000.
pub fn parse_count(text: &str, from: u32) -> Result<u32, String> {
    let t = text.trim();
    let to: u32 = t
        .parse()
        .map_err(|_| format!("\"{t}\" is not a whole number"))?;
    if to == from {
        return Err(format!("already {from}"));
    }
    if to > 1000 {
        return Err(format!("{to} is more than 1000"));
    }
    Ok(to)
}

/// Delete every marked pod, or stop every marked task, with one confirmation.
fn marked_batch(state: &mut State, action: Action) -> Vec<Effect> {
    let (kind, verb) = if action == Action::DeletePod {
        (WorkloadKind::Pod, "delete")
    } else {
        (WorkloadKind::EcsTask, "stop")
    };
    let marked: Vec<_> = state.workloads.marked.iter().cloned().collect();
    if let Some(other) = marked.iter().find(|m| m.kind != kind) {
        flash(
            state,
            format!(
                "{verb} acts on marked {}s only, but {other} is marked",
                kind.noun()
            ),
            true,
        );
        return Vec::new();
    }
    if marked.iter().any(|m| m.scope != marked[0].scope) {
        flash(
            state,
            "the marked objects are in more than one namespace or cluster",
            true,
        );
        return Vec::new();
    }
    let uid_of = |t: &crate::domain::WorkloadRef| {
        state
            .workloads
            .rows
            .iter()
            .find(|w| &w.id == t)
            .and_then(|w| w.uid.clone())
    };
    let changes: Vec<Change> = marked
        .into_iter()
        .map(|target| {
            if kind == WorkloadKind::Pod {
                let uid = uid_of(&target);
                Change::DeletePod { target, uid }
            } else {
                Change::StopTask { target }
            }
        })
        .collect();
    ask(state, Change::Batch { changes })
}
