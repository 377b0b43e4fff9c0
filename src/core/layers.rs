//! The layers on top of the panes (help, notices, prompts, confirmations,
//! pickers, the Logs Insights table): which keymap table each uses and
//! what it does with its actions. The top layer gets keys first.

use super::command;
use super::confirm::{CheckState, ConfirmStatus, InputPurpose, without_last_word};
use super::msg::Effect;
use super::ops::{ask, show_result, switch};
use super::state::{Layer, State};
use crate::action::{Action, Mode};
use crate::domain::{Change, ChangeOutcome};
use crate::panes::runbook::ActionResult;
use crate::panes::{database, logs, workloads};

/// The keymap table a layer uses.
pub fn mode(layer: &Layer) -> Mode {
    match layer {
        Layer::Help { .. }
        | Layer::Problems { .. }
        | Layer::Notice { .. }
        | Layer::Insights
        | Layer::LogLine { .. } => Mode::Help,
        Layer::Input(_) | Layer::Picker { .. } => Mode::Input,
        // Typing the name, until the backend refuses (then there is nothing to type).
        Layer::Confirm(c)
            if c.is_destructive()
                && c.status == ConfirmStatus::Asking
                && c.check.refusal().is_none() =>
        {
            Mode::Input
        }
        Layer::Confirm(_) => Mode::Confirm,
    }
}

/// An action while a layer is open goes to that layer.
pub fn action(state: &mut State, action: Action) -> Vec<Effect> {
    match &state.layer {
        Some(Layer::Help { .. })
        | Some(Layer::Problems { .. })
        | Some(Layer::Notice { .. })
        | Some(Layer::LogLine { .. }) => help_action(state, action),
        Some(Layer::Input(_)) => input_action(state, action),
        Some(Layer::Confirm(_)) => confirm_action(state, action),
        Some(Layer::Picker { .. }) => picker_action(state, action),
        Some(Layer::Insights) => insights_action(state, action),
        None => Vec::new(),
    }
}

/// A change finished: close its dialog, or show its failure in it.
pub fn change_finished(state: &mut State, id: u64, result: Result<ChangeOutcome, String>) {
    let ours = matches!(&state.layer, Some(Layer::Confirm(c)) if c.status == ConfirmStatus::Running { id });
    let origin = match &state.layer {
        Some(Layer::Confirm(c)) if ours => c.origin,
        _ => None,
    };
    if let (Some(at), Some(rb)) = (origin, state.runbook.as_mut()) {
        let (ok, summary) = match &result {
            Ok(o) => (true, o.summary.clone()),
            Err(e) => (false, e.clone()),
        };
        rb.results.insert(
            at,
            ActionResult {
                ok,
                summary,
                at: state.now,
            },
        );
    }
    match result {
        Ok(outcome) => {
            if ours {
                state.layer = None;
            }
            show_result(state, format!("done: {}", outcome.summary), false);
        }
        Err(e) => {
            if ours {
                if let Some(Layer::Confirm(c)) = &mut state.layer {
                    c.status = ConfirmStatus::Failed(e);
                }
            } else {
                show_result(state, format!("action failed: {e}"), true);
            }
        }
    }
}

pub fn type_char(state: &mut State, c: char) {
    match &mut state.layer {
        Some(Layer::Input(input)) => {
            input.insert(c);
            live_apply(state);
        }
        Some(Layer::Confirm(confirm)) if confirm.check.refusal().is_none() => {
            confirm.typed.push(c);
            confirm.hint = None;
        }
        _ => {}
    }
}

/// Filters and searches apply as the user types.
fn live_apply(state: &mut State) {
    if let Some(Layer::Input(input)) = &state.layer {
        match &input.purpose {
            InputPurpose::WorkloadFilter => {
                let text = input.text.clone();
                workloads::set_filter(state, &text);
            }
            InputPurpose::LogSearch => state.logs.search = input.text.clone(),
            InputPurpose::LogFilter => state.logs.filter = input.text.clone(),
            InputPurpose::DetailSearch => {
                let text = input.text.clone();
                super::detail::set_search(state, &text);
            }
            InputPurpose::Replicas { .. }
            | InputPurpose::Command
            | InputPurpose::Namespace
            | InputPurpose::Query
            | InputPurpose::SaveLogs
            | InputPurpose::TerminateOlderThan { .. } => {}
        }
    }
}

fn input_action(state: &mut State, action: Action) -> Vec<Effect> {
    let Some(Layer::Input(input)) = &mut state.layer else {
        return Vec::new();
    };
    match action {
        Action::Backspace => input.backspace(),
        Action::DeleteWord => input.delete_word(),
        Action::ClearLine => input.kill_to_start(),
        Action::CursorLeft => input.left(),
        Action::CursorRight => input.right(),
        Action::LineStart => input.home(),
        Action::LineEnd => input.end(),
        Action::HistoryPrev => {
            input.recall_older(state.history.entries(input.purpose.history_key()))
        }
        Action::HistoryNext => {
            input.recall_newer(state.history.entries(input.purpose.history_key()))
        }
        Action::Complete => {
            command::complete(state);
            return Vec::new();
        }
        Action::Cancel => {
            let original = input.original.clone();
            input.text = original;
            live_apply(state);
            state.layer = None;
        }
        Action::Submit => {
            let input = input.clone();
            state
                .history
                .record(input.purpose.history_key(), &input.text);
            match input.purpose {
                InputPurpose::WorkloadFilter | InputPurpose::LogFilter => state.layer = None,
                InputPurpose::LogSearch => {
                    state.layer = None;
                    logs::search_submitted(state);
                }
                InputPurpose::DetailSearch => {
                    state.layer = None;
                    super::detail::search_submitted(state);
                }
                InputPurpose::Replicas { target, from } => {
                    match workloads::parse_count(&input.text, from) {
                        Ok(to) => return ask(state, Change::Scale { target, from, to }),
                        Err(e) => {
                            if let Some(Layer::Input(i)) = &mut state.layer {
                                i.error = Some(e);
                            }
                        }
                    }
                }
                InputPurpose::TerminateOlderThan { database } => {
                    match database::terminate_matching(state, &database, &input.text) {
                        Ok(request) => return ask(state, request),
                        Err(e) => {
                            if let Some(Layer::Input(i)) = &mut state.layer {
                                i.error = Some(e);
                            }
                        }
                    }
                }
                InputPurpose::Query => {
                    let query = input.text.trim().to_string();
                    if query.is_empty() {
                        if let Some(Layer::Input(i)) = &mut state.layer {
                            i.error = Some("type a query".into());
                        }
                        return Vec::new();
                    }
                    let generation = state.insights.begin(query.clone(), state.now);
                    state.layer = Some(Layer::Insights);
                    return vec![Effect::StartQuery { generation, query }];
                }
                InputPurpose::SaveLogs => return logs::save_submitted(state, &input.text),
                // Run by `update`, which can run the action a command names.
                InputPurpose::Command => state.layer = None,
                InputPurpose::Namespace => {
                    state.layer = None;
                    let ns = input.text.trim();
                    let namespace = (!ns.is_empty() && ns != "all").then(|| ns.to_string());
                    let context = state.target.context().map(str::to_string);
                    return switch(state, context, namespace);
                }
            }
        }
        _ => return Vec::new(),
    }
    live_apply(state);
    Vec::new()
}

fn confirm_action(state: &mut State, action: Action) -> Vec<Effect> {
    let Some(Layer::Confirm(c)) = &mut state.layer else {
        return Vec::new();
    };
    match &c.status {
        ConfirmStatus::Running { .. } => {
            if action == Action::Quit {
                let what = c.headline.clone();
                super::ops::flash(
                    state,
                    format!(
                        "waiting for \"{what}\" to finish before quitting is possible; ctrl-c twice quits without its result"
                    ),
                    true,
                );
            }
            return Vec::new();
        }
        ConfirmStatus::Failed(_) => {
            if matches!(action, Action::Cancel | Action::Submit | Action::ConfirmNo) {
                state.layer = None;
            }
            return Vec::new();
        }
        ConfirmStatus::Asking => {}
    }
    if let Some(why) = c.check.refusal() {
        // Denied or refused by the dry run: there is no Yes, only closing.
        match action {
            Action::Cancel | Action::ConfirmNo | Action::Submit => state.layer = None,
            Action::ConfirmYes | Action::ToggleChoice => {
                c.hint = Some(format!("cannot be run: {why}"));
            }
            _ => {}
        }
        return Vec::new();
    }
    let go = match action {
        Action::Cancel | Action::ConfirmNo => {
            state.layer = None;
            return Vec::new();
        }
        Action::ToggleChoice => {
            c.yes = !c.yes;
            false
        }
        Action::Backspace => {
            c.typed.pop();
            false
        }
        Action::DeleteWord => {
            c.typed = without_last_word(&c.typed);
            false
        }
        Action::ClearLine => {
            c.typed.clear();
            false
        }
        Action::ConfirmYes => !c.is_destructive(),
        Action::Submit => {
            if let Some(name) = c.required_name() {
                if c.typed == name {
                    true
                } else {
                    c.hint = Some(format!("type {name} exactly to confirm"));
                    false
                }
            } else if c.yes {
                true
            } else {
                state.layer = None;
                return Vec::new();
            }
        }
        _ => false,
    };
    if !go {
        return Vec::new();
    }
    if state.read_only {
        // Defence in depth: a confirmation cannot be open in read-only mode.
        state.layer = None;
        return Vec::new();
    }
    if c.check == CheckState::Pending {
        // What runs is what the dialog shows once the backend has answered
        // (a rollback's revision is resolved by its dry run).
        c.hint = Some("wait: the permission check and dry run have not answered yet".into());
        return Vec::new();
    }
    let id = state.next_action_id;
    state.next_action_id += 1;
    c.status = ConfirmStatus::Running { id };
    vec![Effect::RunChange {
        id,
        change: c.change.clone(),
    }]
}

/// Keys over the Logs Insights table: Esc stops a running query (and
/// closes the table once it is done), the arrows scroll the rows.
fn insights_action(state: &mut State, action: Action) -> Vec<Effect> {
    let page = usize::from(state.size.1.saturating_sub(8)).max(1);
    let rows = state.insights.rows();
    let v = &mut state.insights;
    match action {
        Action::Cancel | Action::Quit | Action::Help => {
            if v.is_running() {
                v.cancel();
                return vec![Effect::StopQuery];
            }
            state.layer = None;
        }
        Action::Up => v.scroll = v.scroll.saturating_sub(1),
        Action::Down => v.scroll = (v.scroll + 1).min(rows.saturating_sub(1)),
        Action::PageUp | Action::HalfPageUp => v.scroll = v.scroll.saturating_sub(page),
        Action::PageDown | Action::HalfPageDown => {
            v.scroll = (v.scroll + page).min(rows.saturating_sub(1));
        }
        Action::Top => v.scroll = 0,
        Action::Bottom => v.scroll = rows.saturating_sub(1),
        _ => {}
    }
    Vec::new()
}

fn picker_action(state: &mut State, action: Action) -> Vec<Effect> {
    let Some(Layer::Picker {
        items, selected, ..
    }) = &mut state.layer
    else {
        return Vec::new();
    };
    // The prompt keys (up/down, home/end) move in a list too.
    match action {
        Action::Up | Action::HistoryPrev => *selected = selected.saturating_sub(1),
        Action::Down | Action::HistoryNext => {
            *selected = (*selected + 1).min(items.len().saturating_sub(1));
        }
        Action::Top | Action::LineStart => *selected = 0,
        Action::Bottom | Action::LineEnd => *selected = items.len().saturating_sub(1),
        Action::Cancel => state.layer = None,
        Action::Submit => {
            let choice = items.get(*selected).cloned();
            state.layer = None;
            if let Some(context) = choice {
                let namespace = state.target.namespace().map(str::to_string);
                return switch(state, Some(context), namespace);
            }
        }
        _ => {}
    }
    Vec::new()
}

fn help_action(state: &mut State, action: Action) -> Vec<Effect> {
    if matches!(
        action,
        Action::Cancel | Action::Help | Action::Quit | Action::Submit | Action::Problems
    ) {
        state.layer = None;
        return Vec::new();
    }
    let scroll = match &mut state.layer {
        Some(Layer::LogLine { scroll, .. })
        | Some(Layer::Help { scroll })
        | Some(Layer::Problems { scroll }) => scroll,
        _ => return Vec::new(),
    };
    *scroll = match action {
        Action::Down => scroll.saturating_add(1),
        Action::PageDown | Action::HalfPageDown => scroll.saturating_add(10),
        Action::Up => scroll.saturating_sub(1),
        Action::PageUp | Action::HalfPageUp => scroll.saturating_sub(10),
        Action::Top => 0,
        _ => *scroll,
    };
    Vec::new()
}
