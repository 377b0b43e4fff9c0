//! `update(&mut State, Msg) -> Vec<Effect>`: the whole behaviour of the console.

use crossterm::event::{KeyCode, KeyModifiers};

use super::{
    Confirm, ConfirmStatus, Effect, Feed, Flash, Input, InputPurpose, Layer, Msg, Pane, State,
};
use crate::action::{Action, Mode};
use crate::domain::{ActionRequest, Level, LogLine, WorkloadKind};
use crate::keymap::{KeyChord, Resolved};

/// Apply one message to the state; return the effects for the driver to run.
pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(chord) => on_key(state, chord),
        Msg::Resize(w, h) => {
            state.size = (w, h);
            Vec::new()
        }
        Msg::Tick(now) => {
            state.now = now;
            if state.flash.as_ref().is_some_and(|f| {
                now.duration_since(f.at).unwrap_or_default()
                    > std::time::Duration::from_secs(if f.error { 15 } else { 6 })
            }) {
                state.flash = None;
            }
            Vec::new()
        }
        Msg::Workloads(rows) => {
            state.workloads.rows = rows;
            let n = state.workloads.visible().len();
            state.workloads.selected = state.workloads.selected.min(n.saturating_sub(1));
            feed_ok(state, Feed::Workloads);
            Vec::new()
        }
        Msg::Logs(lines) => {
            state.logs.push(lines);
            feed_ok(state, Feed::Logs);
            Vec::new()
        }
        Msg::Metrics(series) => {
            state.metrics.series = series;
            feed_ok(state, Feed::Metrics);
            Vec::new()
        }
        Msg::Databases(dbs) => {
            state.database.record(&dbs);
            state.metrics.databases = dbs;
            let n = super::db_rows(&state.metrics.databases).len();
            state.database.selected = state.database.selected.min(n.saturating_sub(1));
            feed_ok(state, Feed::Database);
            Vec::new()
        }
        Msg::FeedFailed { feed, error } => {
            let f = state.feed_mut(feed);
            f.error = Some(error);
            f.failures = f.failures.saturating_add(1);
            Vec::new()
        }
        Msg::ActionChecked {
            id,
            allowed,
            preview,
        } => {
            if let Some(Layer::Confirm(c)) = &mut state.layer {
                if c.check_id == id {
                    c.check = match (allowed, preview) {
                        (Err(why), _) => super::CheckState::Denied(why),
                        (Ok(()), Ok(p)) => super::CheckState::Allowed(p),
                        (Ok(()), Err(e)) => super::CheckState::PreviewFailed(e),
                    };
                }
            }
            Vec::new()
        }
        Msg::Switched {
            context,
            namespace,
            label,
        } => {
            state.kube_context = Some(context);
            state.namespace = namespace;
            state.context = label;
            state.workloads.rows.clear();
            state.workloads.selected = 0;
            state.logs = super::LogsView::default();
            for (_, f) in &mut state.feeds {
                *f = super::FeedStatus::default();
            }
            flash(state, format!("now on {}", state.context), false);
            Vec::new()
        }
        Msg::PreviousLogs { pod, result } => {
            match result {
                Ok(lines) if lines.is_empty() => flash(
                    state,
                    format!("{pod}: its previous container logged nothing"),
                    false,
                ),
                Ok(lines) => {
                    // Shown in the Logs pane under their own source, paused at the end.
                    let source = format!("{} (previous)", pod.name);
                    let n = lines.len();
                    state.logs.push(
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
                    state.focus = Pane::Logs;
                    flash(
                        state,
                        format!("{n} lines from the previous container of {pod}"),
                        false,
                    );
                }
                Err(e) => flash(state, format!("previous logs of {pod}: {e}"), true),
            }
            Vec::new()
        }
        Msg::Flash { text, error } => {
            flash(state, text, error);
            Vec::new()
        }
        Msg::QueryGroups(groups) => {
            state.insights.groups = groups;
            Vec::new()
        }
        Msg::Query { generation, update } => {
            state.insights.apply(generation, update);
            Vec::new()
        }
        Msg::LogLag { source, lag } => {
            match lag {
                Some(l) => state.logs.lag.insert(source, l),
                None => state.logs.lag.remove(&source),
            };
            Vec::new()
        }
        Msg::ActionFinished { id, result } => {
            on_action_finished(state, id, result);
            Vec::new()
        }
        Msg::Quit => {
            state.quit = true;
            vec![Effect::Quit]
        }
    }
}

fn feed_ok(state: &mut State, feed: Feed) {
    let now = state.now;
    let f = state.feed_mut(feed);
    f.last_ok = Some(now);
    f.error = None;
    f.failures = 0;
}

fn flash(state: &mut State, text: impl Into<String>, error: bool) {
    state.flash = Some(Flash {
        text: text.into(),
        error,
        at: state.now,
    });
}

fn on_action_finished(
    state: &mut State,
    id: u64,
    result: Result<crate::domain::ActionOutcome, String>,
) {
    let ours = matches!(&state.layer, Some(Layer::Confirm(c)) if c.status == ConfirmStatus::Running { id });
    match result {
        Ok(outcome) => {
            if ours {
                state.layer = None;
            }
            flash(state, format!("done: {}", outcome.summary), false);
        }
        Err(e) => {
            if ours {
                if let Some(Layer::Confirm(c)) = &mut state.layer {
                    c.status = ConfirmStatus::Failed(e);
                }
            } else {
                flash(state, format!("action failed: {e}"), true);
            }
        }
    }
}

/// The mode whose keymap table the top layer (or focused pane) uses.
fn top_mode(state: &State) -> Mode {
    match &state.layer {
        Some(Layer::Help { .. }) | Some(Layer::Notice { .. }) | Some(Layer::Insights) => Mode::Help,
        Some(Layer::Input(_)) | Some(Layer::Picker { .. }) => Mode::Input,
        Some(Layer::Confirm(c)) if c.is_destructive() && c.status == ConfirmStatus::Asking => {
            Mode::Input
        }
        Some(Layer::Confirm(_)) => Mode::Confirm,
        None => state.focus.mode(),
    }
}

fn on_key(state: &mut State, chord: KeyChord) -> Vec<Effect> {
    let mode = top_mode(state);
    if state.layer.is_some() {
        // Layers see only their own table; unbound printable keys are text.
        state.pending_keys.clear();
        return match state.keymap.resolve(mode, &[chord]) {
            Resolved::Actions(actions) => run_actions(state, &actions),
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
                        type_char(state, c);
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
            // An unbound sequence: retry its last key alone (`g x` -> `x`).
            if seq.len() > 1 {
                on_key(state, chord)
            } else {
                Vec::new()
            }
        }
    }
}

fn run_actions(state: &mut State, actions: &[Action]) -> Vec<Effect> {
    let mut effects = Vec::new();
    for &a in actions {
        effects.extend(run_action(state, a));
    }
    effects
}

/// The actions each pane offers on its selection. One table for key handling,
/// hints and help.
pub fn offered_actions(state: &State, pane: Pane) -> Vec<Action> {
    match pane {
        Pane::Workloads => match state.workloads.selected_row().map(|w| w.id.kind) {
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
        },
        Pane::Runbook => {
            if state.runbook.as_ref().is_some_and(|r| {
                !r.book
                    .steps
                    .get(r.step)
                    .is_none_or(|s| s.actions.is_empty())
            }) {
                vec![Action::RunAction]
            } else {
                Vec::new()
            }
        }
        Pane::Database => {
            if super::db_rows(&state.metrics.databases).is_empty() {
                Vec::new()
            } else {
                vec![
                    Action::CancelQuery,
                    Action::TerminateSession,
                    Action::TerminateMatching,
                ]
            }
        }
        Pane::Logs | Pane::Metrics => Vec::new(),
    }
}

fn run_action(state: &mut State, action: Action) -> Vec<Effect> {
    match &state.layer {
        Some(Layer::Help { .. }) | Some(Layer::Notice { .. }) => return help_action(state, action),
        Some(Layer::Input(_)) => return input_action(state, action),
        Some(Layer::Confirm(_)) => return confirm_action(state, action),
        Some(Layer::Picker { .. }) => return picker_action(state, action),
        Some(Layer::Insights) => return insights_action(state, action),
        None => {}
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
        Action::FocusNext | Action::FocusPrev => {
            let i = Pane::ALL
                .iter()
                .position(|&p| p == state.focus)
                .unwrap_or(0);
            let n = Pane::ALL.len();
            let j = if action == Action::FocusNext {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            state.focus = Pane::ALL[j];
            Vec::new()
        }
        Action::FocusWorkloads => focus(state, Pane::Workloads),
        Action::FocusLogs => focus(state, Pane::Logs),
        Action::FocusMetrics => focus(state, Pane::Metrics),
        Action::FocusRunbook => focus(state, Pane::Runbook),
        Action::FocusDatabase => focus(state, Pane::Database),
        Action::CancelQuery | Action::TerminateSession => session_action(state, action),
        Action::TerminateMatching => {
            match state.metrics.databases.first().map(|d| d.name.clone()) {
                Some(database) => open_input(
                    state,
                    InputPurpose::TerminateOlderThan {
                        database: database.clone(),
                    },
                    &format!(
                        "terminate active queries on {database} running longer than (user=, application= optional)"
                    ),
                    "10m".into(),
                ),
                None => flash(state, "no database in this session", true),
            }
            Vec::new()
        }
        Action::ToggleZoom => {
            state.zoom = !state.zoom;
            Vec::new()
        }
        Action::LogsInsights => {
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
            Vec::new()
        }
        Action::Refresh => vec![Effect::Refresh],
        Action::Up
        | Action::Down
        | Action::HalfPageUp
        | Action::HalfPageDown
        | Action::PageUp
        | Action::PageDown
        | Action::Top
        | Action::Bottom => {
            navigate(state, action);
            Vec::new()
        }
        Action::Filter => {
            match state.focus {
                Pane::Logs => open_input(
                    state,
                    InputPurpose::LogFilter,
                    "show only log lines containing",
                    state.logs.filter.clone(),
                ),
                _ => open_input(
                    state,
                    InputPurpose::WorkloadFilter,
                    "filter workloads",
                    state.workloads.filter.clone(),
                ),
            }
            Vec::new()
        }
        Action::Search => {
            open_input(
                state,
                InputPurpose::LogSearch,
                "search logs",
                state.logs.search.clone(),
            );
            Vec::new()
        }
        Action::CycleSort => {
            state.workloads.sort = state.workloads.sort.next();
            Vec::new()
        }
        Action::ReverseSort => {
            state.workloads.reverse = !state.workloads.reverse;
            Vec::new()
        }
        Action::ClearFilter => {
            match state.focus {
                Pane::Logs => {
                    state.logs.search.clear();
                    state.logs.filter.clear();
                    state.logs.source = None;
                    state.logs.min_level = Level::Trace;
                }
                _ => {
                    state.workloads.filter.clear();
                }
            }
            Vec::new()
        }
        Action::Scale
        | Action::RolloutUndo
        | Action::RolloutRestart
        | Action::DeletePod
        | Action::StopTask
        | Action::ForceNewDeployment => workload_action(state, action),
        Action::PreviousLogs => match state.workloads.selected_row() {
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
        },
        Action::LogsForSelected => {
            if let Some(w) = state.workloads.selected_row() {
                let name = w.id.name.clone();
                if state.logs.source.as_deref() == Some(name.as_str()) {
                    state.logs.source = None;
                } else {
                    state.logs.source = Some(name);
                    state.logs.set_follow(true);
                    state.focus = Pane::Logs;
                }
            }
            Vec::new()
        }
        Action::ToggleFollow => {
            let f = !state.logs.follow;
            state.logs.set_follow(f);
            Vec::new()
        }
        Action::NextMatch | Action::PrevMatch => {
            if !state.logs.jump_match(action == Action::NextMatch) && !state.logs.search.is_empty()
            {
                flash(
                    state,
                    format!("no match for \"{}\"", state.logs.search),
                    true,
                );
            }
            Vec::new()
        }
        Action::CycleLevel => {
            state.logs.min_level = match state.logs.min_level {
                Level::Trace => Level::Debug,
                Level::Debug => Level::Info,
                Level::Info => Level::Warn,
                Level::Warn => Level::Error,
                Level::Error => Level::Trace,
            };
            Vec::new()
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
            Vec::new()
        }
        Action::ToggleJson => {
            state.logs.json_pretty = !state.logs.json_pretty;
            Vec::new()
        }
        Action::ToggleTimestamps => {
            state.logs.timestamps = !state.logs.timestamps;
            Vec::new()
        }
        Action::RunAction => runbook_action(state),
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
            Vec::new()
        }
        Action::SwitchContext => {
            if state.contexts.is_empty() {
                let text = format!("no {}s in this session", state.switch_nouns.0);
                flash(state, text, true);
            } else {
                let selected = state
                    .kube_context
                    .as_ref()
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
            let current = state.namespace.clone().unwrap_or_else(|| "all".into());
            let prompt = if state.switch_nouns.1 == "namespace" {
                "namespace (all = every namespace)".to_string()
            } else {
                format!("{} (all = the profile's own)", state.switch_nouns.1)
            };
            open_input(state, InputPurpose::Namespace, &prompt, current);
            Vec::new()
        }
        Action::ConfirmYes
        | Action::ConfirmNo
        | Action::ToggleChoice
        | Action::Submit
        | Action::Cancel
        | Action::Backspace => Vec::new(),
    }
}

fn focus(state: &mut State, pane: Pane) -> Vec<Effect> {
    state.focus = pane;
    if matches!(pane, Pane::Metrics | Pane::Database) {
        state.lower_right = pane;
    }
    Vec::new()
}

/// Cancel or terminate the selected database session, pinned by pid and backend start.
fn session_action(state: &mut State, action: Action) -> Vec<Effect> {
    let rows = super::db_rows(&state.metrics.databases);
    let Some((database, s)) = rows.get(state.database.selected) else {
        flash(state, "no database session selected", true);
        return Vec::new();
    };
    let database = database.to_string();
    let session = crate::domain::SessionTarget {
        pid: s.pid,
        backend_start: s.backend_start,
        query: s.query.clone(),
    };
    let request = if action == Action::CancelQuery {
        ActionRequest::CancelQuery { database, session }
    } else {
        ActionRequest::TerminateSession { database, session }
    };
    ask(state, request)
}

/// The rule-based terminate for the typed threshold, from the current snapshot.
/// `10m`, optionally followed by `user=NAME` and `application=NAME` (or `app=`).
fn parse_rule(text: &str) -> Result<crate::domain::QueryRule, String> {
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or("");
    let older_than = humantime::parse_duration(first)
        .map_err(|e| format!("\"{first}\" is not a duration like 10m: {e}"))?;
    let mut rule = crate::domain::QueryRule {
        older_than,
        user: None,
        application: None,
    };
    for w in words {
        match w.split_once('=') {
            Some(("user", v)) if !v.is_empty() => rule.user = Some(v.to_string()),
            Some(("application" | "app", v)) if !v.is_empty() => {
                rule.application = Some(v.to_string())
            }
            _ => {
                return Err(format!(
                    "\"{w}\": expected user=NAME or application=NAME after the duration"
                ));
            }
        }
    }
    Ok(rule)
}

fn terminate_matching(state: &State, database: &str, text: &str) -> Result<ActionRequest, String> {
    let rule = parse_rule(text)?;
    let db = state
        .metrics
        .databases
        .iter()
        .find(|d| d.name == database)
        .ok_or_else(|| format!("no snapshot of {database} yet"))?;
    let sessions: Vec<crate::domain::SessionTarget> = db
        .sessions
        .iter()
        .filter(|s| rule.matches(s))
        .map(|s| crate::domain::SessionTarget {
            pid: s.pid,
            backend_start: s.backend_start,
            query: s.query.clone(),
        })
        .collect();
    if sessions.is_empty() {
        return Err(format!("no active query on {database} is {rule}"));
    }
    Ok(ActionRequest::TerminateQueries {
        database: database.to_string(),
        rule,
        sessions,
    })
}

fn page(state: &State) -> usize {
    // Panes get about half the screen height in the grid, all of it zoomed.
    let h = state.size.1 as usize;
    let rows = if state.zoom {
        h.saturating_sub(4)
    } else {
        h.saturating_sub(4) / 2
    };
    rows.max(1)
}

fn navigate(state: &mut State, action: Action) {
    let page = page(state) as isize;
    let delta: isize = match action {
        Action::Up => -1,
        Action::Down => 1,
        Action::HalfPageUp => -(page / 2).max(1),
        Action::HalfPageDown => (page / 2).max(1),
        Action::PageUp => -page,
        Action::PageDown => page,
        Action::Top => isize::MIN / 2,
        _ => isize::MAX / 2,
    };
    match state.focus {
        Pane::Workloads => {
            let n = state.workloads.visible().len();
            state.workloads.selected = step(state.workloads.selected, delta, n);
        }
        Pane::Logs => match action {
            Action::Top => state.logs.to_top(),
            Action::Bottom => state.logs.set_follow(true),
            _ => state.logs.scroll(delta),
        },
        Pane::Database => {
            let n = super::db_rows(&state.metrics.databases).len();
            state.database.selected = step(state.database.selected, delta, n);
        }
        Pane::Metrics => {
            let n = state.metrics.series.len();
            state.metrics.selected = step(state.metrics.selected, delta, n);
        }
        Pane::Runbook => {
            if let Some(rb) = &mut state.runbook {
                let n = rb.book.steps.get(rb.step).map_or(0, |s| s.actions.len());
                rb.action = step(rb.action, delta, n);
            }
        }
    }
}

fn step(cur: usize, delta: isize, n: usize) -> usize {
    if n == 0 {
        return 0;
    }
    (cur as isize)
        .saturating_add(delta)
        .clamp(0, n as isize - 1) as usize
}

fn open_input(state: &mut State, purpose: InputPurpose, prompt: &str, text: String) {
    state.layer = Some(Layer::Input(Input {
        purpose,
        prompt: prompt.into(),
        original: text.clone(),
        text,
        error: None,
    }));
}

/// Open the right prompt for a workload action on the selected row, or say
/// why it is not available.
fn workload_action(state: &mut State, action: Action) -> Vec<Effect> {
    let Some(row) = state.workloads.selected_row().cloned() else {
        flash(state, "nothing selected", true);
        return Vec::new();
    };
    if !offered_actions(state, Pane::Workloads).contains(&action) {
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
            ActionRequest::RolloutUndo {
                target,
                to_revision: None,
            },
        ),
        Action::RolloutRestart => ask(state, ActionRequest::RolloutRestart { target }),
        Action::DeletePod => ask(state, ActionRequest::DeletePod { target }),
        Action::StopTask => ask(state, ActionRequest::StopTask { target }),
        Action::ForceNewDeployment => ask(state, ActionRequest::ForceNewDeployment { target }),
        _ => Vec::new(),
    }
}

/// In read-only mode, show why the action is blocked and return true.
fn blocked_by_read_only(state: &mut State, what: &str) -> bool {
    if state.read_only {
        state.layer = Some(Layer::Notice {
            title: "Blocked: read-only mode".into(),
            text: format!(
                "{what} was not run.\nopsdeck was started with --read-only: every action is shown but blocked."
            ),
        });
    }
    state.read_only
}

/// Open the confirmation for a request (or the read-only notice), and ask
/// the backend whether it is allowed and what its dry run says.
fn ask(state: &mut State, request: ActionRequest) -> Vec<Effect> {
    if blocked_by_read_only(state, &request.describe()) {
        return Vec::new();
    }
    let id = state.next_action_id;
    state.next_action_id += 1;
    let mut confirm = Confirm::new(request.clone());
    confirm.check_id = id;
    state.layer = Some(Layer::Confirm(confirm));
    vec![Effect::CheckAction { id, request }]
}

fn runbook_action(state: &mut State) -> Vec<Effect> {
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
    match spec.to_request(&state.estate()) {
        Ok(request) => ask(state, request),
        Err(e) => {
            let label = spec.label();
            flash(state, format!("{label}: {e}"), true);
            Vec::new()
        }
    }
}

fn type_char(state: &mut State, c: char) {
    match &mut state.layer {
        Some(Layer::Input(input)) => {
            input.text.push(c);
            input.error = None;
            live_apply(state);
        }
        Some(Layer::Confirm(confirm)) => {
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
                state.workloads.filter = input.text.clone();
                state.workloads.selected = 0;
            }
            InputPurpose::LogSearch => state.logs.search = input.text.clone(),
            InputPurpose::LogFilter => state.logs.filter = input.text.clone(),
            InputPurpose::Replicas { .. }
            | InputPurpose::Namespace
            | InputPurpose::Query
            | InputPurpose::TerminateOlderThan { .. } => {}
        }
    }
}

fn input_action(state: &mut State, action: Action) -> Vec<Effect> {
    let Some(Layer::Input(input)) = &mut state.layer else {
        return Vec::new();
    };
    match action {
        Action::Backspace => {
            input.text.pop();
            input.error = None;
            live_apply(state);
        }
        Action::Cancel => {
            let original = input.original.clone();
            input.text = original;
            live_apply(state);
            state.layer = None;
        }
        Action::Submit => {
            let input = input.clone();
            match input.purpose {
                InputPurpose::WorkloadFilter | InputPurpose::LogFilter => state.layer = None,
                InputPurpose::LogSearch => {
                    state.layer = None;
                    if !state.logs.search.is_empty() && !state.logs.jump_match(false) {
                        flash(
                            state,
                            format!("no match for \"{}\"", state.logs.search),
                            true,
                        );
                    }
                }
                InputPurpose::Replicas { target, from } => match parse_count(&input.text, from) {
                    Ok(to) => return ask(state, ActionRequest::Scale { target, from, to }),
                    Err(e) => {
                        if let Some(Layer::Input(i)) = &mut state.layer {
                            i.error = Some(e);
                        }
                    }
                },
                InputPurpose::TerminateOlderThan { database } => {
                    match terminate_matching(state, &database, &input.text) {
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
                InputPurpose::Namespace => {
                    state.layer = None;
                    let ns = input.text.trim();
                    let namespace = (!ns.is_empty() && ns != "all").then(|| ns.to_string());
                    return switch(state, state.kube_context.clone(), namespace);
                }
            }
        }
        _ => {}
    }
    Vec::new()
}

fn parse_count(text: &str, from: u32) -> Result<u32, String> {
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

fn confirm_action(state: &mut State, action: Action) -> Vec<Effect> {
    let Some(Layer::Confirm(c)) = &mut state.layer else {
        return Vec::new();
    };
    match &c.status {
        ConfirmStatus::Running { .. } => return Vec::new(),
        ConfirmStatus::Failed(_) => {
            if matches!(action, Action::Cancel | Action::Submit | Action::ConfirmNo) {
                state.layer = None;
            }
            return Vec::new();
        }
        ConfirmStatus::Asking => {}
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
    if let super::CheckState::Denied(why) = &c.check {
        c.hint = Some(format!("unavailable: {why}"));
        return Vec::new();
    }
    let id = state.next_action_id;
    state.next_action_id += 1;
    c.status = ConfirmStatus::Running { id };
    vec![Effect::RunAction {
        id,
        request: c.request.clone(),
    }]
}

/// Ask the driver to reopen the backends for a context and namespace.
fn switch(state: &mut State, context: Option<String>, namespace: Option<String>) -> Vec<Effect> {
    let Some(context) = context else {
        flash(state, "no Kubernetes context to switch", true);
        return Vec::new();
    };
    let ns = namespace.clone().unwrap_or_else(|| "all namespaces".into());
    flash(state, format!("switching to {context} ({ns})…"), false);
    vec![Effect::Switch { context, namespace }]
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
    match action {
        Action::Up => *selected = selected.saturating_sub(1),
        Action::Down => *selected = (*selected + 1).min(items.len().saturating_sub(1)),
        Action::Top => *selected = 0,
        Action::Bottom => *selected = items.len().saturating_sub(1),
        Action::Cancel => state.layer = None,
        Action::Submit => {
            let choice = items.get(*selected).cloned();
            state.layer = None;
            if let Some(context) = choice {
                let namespace = state.namespace.clone();
                return switch(state, Some(context), namespace);
            }
        }
        _ => {}
    }
    Vec::new()
}

fn help_action(state: &mut State, action: Action) -> Vec<Effect> {
    match action {
        Action::Cancel | Action::Help | Action::Quit | Action::Submit => state.layer = None,
        Action::Down | Action::PageDown | Action::HalfPageDown => {
            if let Some(Layer::Help { scroll }) = &mut state.layer {
                *scroll = scroll.saturating_add(if action == Action::Down { 1 } else { 10 });
            }
        }
        Action::Up | Action::PageUp | Action::HalfPageUp => {
            if let Some(Layer::Help { scroll }) = &mut state.layer {
                *scroll = scroll.saturating_sub(if action == Action::Up { 1 } else { 10 });
            }
        }
        Action::Top => {
            if let Some(Layer::Help { scroll }) = &mut state.layer {
                *scroll = 0;
            }
        }
        _ => {}
    }
    Vec::new()
}
