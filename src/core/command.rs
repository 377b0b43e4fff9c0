//! Command mode, k9s-style: `:` opens a prompt at the bottom of the screen
//! and a command names a view or a switch (`:pods`, `:deploy`, `:svc`,
//! `:events`, `:ctx NAME`, `:ns NAME`, `:runbook NAME`, `:theme NAME`,
//! `:q`). [`COMMANDS`] is the one table: parsing, Tab completion and the
//! error for an unknown command all read it. A command maps onto what a key
//! already does where one does; anything needing I/O leaves as an effect.

use std::collections::BTreeSet;

use super::confirm::InputPurpose;
use super::msg::Effect;
use super::ops::{flash, switch};
use super::state::{Layer, State};
use crate::action::Action;
use crate::domain::WorkloadKind;
use crate::panes::layout::focused;
use crate::panes::runbook::RunbookView;
use crate::panes::{Pane, workloads};

/// What a command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    /// Focus Workloads showing only these kinds (every kind when empty).
    Kinds(&'static [WorkloadKind]),
    /// Kubernetes events, in the Logs pane under their own source.
    Events,
    /// Run a key's action (focus a pane, help, quit, open a picker or prompt).
    Action(Action),
    Runbook,
    Context,
    Namespace,
    Theme,
}

/// What a command's argument is, for completion and checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// Takes none.
    No,
    /// Optional (without it, the command opens the picker or prompt).
    Optional,
    Required,
}

/// One command: its names (the first is the one completed and listed), its
/// argument and its help.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    pub names: &'static [&'static str],
    pub arg: Arg,
    pub cmd: Cmd,
    pub help: &'static str,
}

const fn spec(
    names: &'static [&'static str],
    arg: Arg,
    cmd: Cmd,
    help: &'static str,
) -> CommandSpec {
    CommandSpec {
        names,
        arg,
        cmd,
        help,
    }
}

/// Every command, in help order.
pub static COMMANDS: &[CommandSpec] = &[
    spec(
        &["pods", "pod", "po"],
        Arg::No,
        Cmd::Kinds(&[WorkloadKind::Pod]),
        "Workloads: pods only",
    ),
    spec(
        &["deploy", "deployments", "deployment", "dp"],
        Arg::No,
        Cmd::Kinds(&[WorkloadKind::Deployment]),
        "Workloads: deployments only",
    ),
    spec(
        &["svc", "services", "service"],
        Arg::No,
        Cmd::Kinds(&[WorkloadKind::EcsService]),
        "Workloads: ECS services only",
    ),
    spec(
        &["ecs"],
        Arg::No,
        Cmd::Kinds(&[WorkloadKind::EcsService, WorkloadKind::EcsTask]),
        "Workloads: ECS services and tasks",
    ),
    spec(
        &["tasks", "task"],
        Arg::No,
        Cmd::Kinds(&[WorkloadKind::EcsTask]),
        "Workloads: ECS tasks only",
    ),
    spec(
        &["workloads", "all", "wl"],
        Arg::No,
        Cmd::Kinds(&[]),
        "Workloads: every kind",
    ),
    spec(
        &["events", "ev", "event"],
        Arg::No,
        Cmd::Events,
        "Logs: Kubernetes events only",
    ),
    spec(
        &["logs", "log"],
        Arg::No,
        Cmd::Action(Action::FocusLogs),
        "focus the Logs pane",
    ),
    spec(
        &["metrics"],
        Arg::No,
        Cmd::Action(Action::FocusMetrics),
        "focus the Metrics pane",
    ),
    spec(
        &["db", "database", "pg"],
        Arg::No,
        Cmd::Action(Action::FocusDatabase),
        "focus the Database pane",
    ),
    spec(
        &["runbook", "rb"],
        Arg::Optional,
        Cmd::Runbook,
        "open runbook NAME (without NAME: focus the Runbook pane)",
    ),
    spec(
        &["ctx", "context", "profile"],
        Arg::Optional,
        Cmd::Context,
        "switch to context (AWS: profile) NAME",
    ),
    spec(
        &["ns", "namespace", "region"],
        Arg::Optional,
        Cmd::Namespace,
        "switch to namespace (AWS: region) NAME, all for every one",
    ),
    spec(
        &["theme"],
        Arg::Required,
        Cmd::Theme,
        "draw with theme NAME",
    ),
    spec(
        &["problems", "errors"],
        Arg::No,
        Cmd::Action(Action::Problems),
        "list every current problem in full",
    ),
    spec(
        &["help", "?"],
        Arg::No,
        Cmd::Action(Action::Help),
        "show the help",
    ),
    spec(
        &["q", "quit", "q!", "qa", "exit"],
        Arg::No,
        Cmd::Action(Action::Quit),
        "quit opsdeck",
    ),
];

/// What a command line asks for: an action to run as if its key was
/// pressed, or effects (and whatever it already did to the state).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Run {
    Action(Action),
    Effects(Vec<Effect>),
}

fn lookup(word: &str) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.names.contains(&word))
}

fn split(line: &str) -> (&str, &str) {
    let line = line.trim().trim_start_matches(':').trim_start();
    match line.split_once(char::is_whitespace) {
        Some((word, arg)) => (word, arg.trim()),
        None => (line, ""),
    }
}

/// Run a command line; `Err` is the message to flash (nothing else happens).
pub fn run(state: &mut State, line: &str) -> Result<Run, String> {
    let (word, arg) = split(line);
    if word.is_empty() {
        return Ok(Run::Effects(Vec::new()));
    }
    let Some(spec) = lookup(word) else {
        let names: Vec<&str> = COMMANDS.iter().map(|c| c.names[0]).collect();
        return Err(format!(
            "unknown command :{word} (commands: {})",
            names.join(" ")
        ));
    };
    let name = spec.names[0];
    match spec.arg {
        Arg::No if !arg.is_empty() => return Err(format!(":{name} takes no argument")),
        Arg::Required if arg.is_empty() => {
            let known = candidates(state, spec.cmd).join(" ");
            return Err(format!(":{name} needs a name ({known})"));
        }
        _ => {}
    }
    let done = Run::Effects(Vec::new());
    match spec.cmd {
        Cmd::Action(a) => Ok(Run::Action(a)),
        Cmd::Kinds(kinds) => {
            workloads::show_kinds(state, kinds);
            focused(state, Pane::WORKLOADS);
            let n = state.workloads.visible().len();
            let what = if kinds.is_empty() {
                "every kind".to_string()
            } else {
                let nouns: Vec<String> = kinds.iter().map(|k| format!("{}s", k.noun())).collect();
                format!("{} only", nouns.join(" and "))
            };
            flash(state, format!("Workloads: {what} ({n})"), false);
            Ok(done)
        }
        Cmd::Events => events(state).map(|()| done),
        Cmd::Runbook if arg.is_empty() => Ok(Run::Action(Action::FocusRunbook)),
        Cmd::Runbook => runbook(state, arg).map(|()| done),
        Cmd::Context if arg.is_empty() => Ok(Run::Action(Action::SwitchContext)),
        Cmd::Context => context(state, arg).map(Run::Effects),
        Cmd::Namespace if arg.is_empty() => Ok(Run::Action(Action::SwitchNamespace)),
        Cmd::Namespace => {
            let namespace = (arg != "all").then(|| arg.to_string());
            let context = state.target.context().map(str::to_string);
            Ok(Run::Effects(switch(state, context, namespace)))
        }
        Cmd::Theme => {
            if !state.themes.iter().any(|t| t == arg) {
                return Err(format!(
                    "no theme \"{arg}\" (themes: {})",
                    state.themes.join(" ")
                ));
            }
            flash(state, format!("theme {arg}"), false);
            Ok(Run::Effects(vec![Effect::SetTheme {
                name: arg.to_string(),
            }]))
        }
    }
}

/// Kubernetes events are a log source (`kubectl get events -w`): show only them.
fn events(state: &mut State) -> Result<(), String> {
    const SOURCE: &str = "events";
    if !state.logs.sources().iter().any(|s| s == SOURCE) {
        return Err(
            "no Kubernetes events in this session yet (they come from the cluster's event watch and show in Logs under the source \"events\")"
                .into(),
        );
    }
    state.logs.source = Some(SOURCE.into());
    focused(state, Pane::LOGS);
    flash(
        state,
        "Logs: Kubernetes events only (esc shows every source)",
        false,
    );
    Ok(())
}

fn runbook(state: &mut State, id: &str) -> Result<(), String> {
    let Some(book) = state.runbooks.iter().find(|b| b.id == id).cloned() else {
        let ids: Vec<&str> = state.runbooks.iter().map(|b| b.id.as_str()).collect();
        return Err(format!("no runbook \"{id}\" (runbooks: {})", ids.join(" ")));
    };
    flash(state, format!("runbook: {}", book.title), false);
    state.runbook = Some(RunbookView::new(book));
    focused(state, Pane::RUNBOOK);
    Ok(())
}

fn context(state: &mut State, name: &str) -> Result<Vec<Effect>, String> {
    let noun = state.switch_nouns.0.clone();
    if state.contexts.is_empty() {
        return Err(format!("no {noun}s in this session"));
    }
    if !state.contexts.iter().any(|c| c == name) {
        return Err(format!(
            "no {noun} \"{name}\" (known: {})",
            state.contexts.join(" ")
        ));
    }
    let namespace = state.target.namespace().map(str::to_string);
    Ok(switch(state, Some(name.to_string()), namespace))
}

/// The namespaces the session knows: `all`, the current one and those of
/// the Kubernetes rows (for AWS: the current region).
fn namespaces(state: &State) -> Vec<String> {
    let mut set = BTreeSet::from(["all".to_string()]);
    set.extend(state.target.namespace().map(str::to_string));
    set.extend(
        state
            .workloads
            .rows
            .iter()
            .filter(|w| matches!(w.id.kind, WorkloadKind::Deployment | WorkloadKind::Pod))
            .map(|w| w.id.scope.clone()),
    );
    set.into_iter().collect()
}

/// The values a command's argument can take, as far as the session knows.
fn candidates(state: &State, cmd: Cmd) -> Vec<String> {
    match cmd {
        Cmd::Context => state.contexts.clone(),
        Cmd::Namespace => namespaces(state),
        Cmd::Runbook => state.runbooks.iter().map(|b| b.id.clone()).collect(),
        Cmd::Theme => state.themes.clone(),
        Cmd::Kinds(_) | Cmd::Events | Cmd::Action(_) => Vec::new(),
    }
}

/// Tab in a prompt: complete the command name or its argument (in the
/// namespace prompt, the namespace). One match is taken whole; several are
/// completed to their common prefix and listed.
pub fn complete(state: &mut State) {
    let Some(Layer::Input(input)) = &state.layer else {
        return;
    };
    let text = input.text.clone();
    let (head, prefix, options, then_space) = match input.purpose {
        InputPurpose::Namespace => (
            String::new(),
            text.trim().to_string(),
            namespaces(state),
            false,
        ),
        InputPurpose::Command => {
            let lead = text.len() - text.trim_start().len();
            match text.trim_start().split_once(char::is_whitespace) {
                None => {
                    let names = COMMANDS.iter().map(|c| c.names[0].to_string()).collect();
                    (
                        text[..lead].to_string(),
                        text[lead..].to_string(),
                        names,
                        true,
                    )
                }
                Some((word, arg)) => {
                    let Some(spec) = lookup(word) else {
                        return set_error(state, format!("unknown command :{word}"));
                    };
                    let arg = arg.trim_start();
                    let head = text[..text.len() - arg.len()].to_string();
                    (head, arg.to_string(), candidates(state, spec.cmd), false)
                }
            }
        }
        _ => return,
    };
    let matches: Vec<String> = options
        .into_iter()
        .filter(|o| o.starts_with(&prefix))
        .collect();
    let completed = match matches.as_slice() {
        [] => return set_error(state, format!("nothing completes \"{prefix}\"")),
        [one] => {
            let takes_arg = then_space && lookup(one).is_some_and(|c| c.arg != Arg::No);
            format!("{head}{one}{}", if takes_arg { " " } else { "" })
        }
        _ => format!("{head}{}", common_prefix(&matches)),
    };
    if let Some(Layer::Input(input)) = &mut state.layer {
        input.set_text(completed);
        if matches.len() > 1 {
            input.completions = matches;
        }
    }
}

fn set_error(state: &mut State, error: String) {
    if let Some(Layer::Input(input)) = &mut state.layer {
        input.error = Some(error);
        input.completions.clear();
    }
}

fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut len = first.len();
    for w in &words[1..] {
        len = first
            .char_indices()
            .zip(w.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(len);
    }
    first[..len].to_string()
}
