//! Runbooks: step-by-step incident procedures with checks against live
//! metrics and workloads, and actions the console can run.
//!
//! A runbook is a TOML file (see `runbooks/*.toml`). Parsing walks toml's
//! span-preserving document so every mistake is reported with its file,
//! line and dotted key (`steps[1].actions[0].kind`), all at once.

use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::domain::{
    ActionRequest, DbSnapshot, Health, MetricSeries, QueryRule, SessionTarget, Workload,
    WorkloadKind, WorkloadRef,
};
use crate::problem::{Problem, line_of};
use crate::sim::Scenario;

/// One parsed runbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    pub id: String,
    pub title: String,
    /// The demo scenario it belongs to, if any.
    pub scenario: Option<String>,
    pub summary: String,
    /// The incident counts as resolved when all of these pass.
    pub resolved_when: Vec<Check>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub title: String,
    pub text: String,
    pub checks: Vec<Check>,
    pub actions: Vec<ActionSpec>,
}

/// A condition on the estate.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// The metric's current value is strictly below `limit`.
    MetricBelow { key: String, limit: f64 },
    /// The metric's current value is strictly above `limit`.
    MetricAbove { key: String, limit: f64 },
    /// The workload's health is Ok (`healthy = true`) or not (`false`).
    Healthy { target: WorkloadRef, healthy: bool },
    /// ready >= desired.
    ReadyAtLeastDesired { target: WorkloadRef },
}

/// The outcome of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckResult {
    Pass,
    Fail(String),
    /// Not enough data to tell (metric or workload not seen).
    Unknown(String),
}

/// What checks and actions look at: the latest rows from every source.
#[derive(Debug, Clone, Copy)]
pub struct EstateView<'a> {
    pub workloads: &'a [Workload],
    pub metrics: &'a [MetricSeries],
    pub databases: &'a [DbSnapshot],
}

/// An action a runbook step offers.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionSpec {
    pub label: String,
    pub kind: ActionKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ActionKind {
    Scale {
        target: WorkloadRef,
        replicas: u32,
    },
    RolloutUndo {
        target: WorkloadRef,
        to_revision: Option<u64>,
    },
    RolloutRestart {
        target: WorkloadRef,
    },
    /// A pod, or a deployment: then its unhealthiest pod.
    DeletePod {
        target: WorkloadRef,
    },
    /// An ECS task, or a service: then its unhealthiest task.
    StopTask {
        target: WorkloadRef,
    },
    ForceNewDeployment {
        target: WorkloadRef,
    },
    TerminateQueries {
        database: String,
        rule: QueryRule,
    },
}

/// The `kind` words, in the order documented.
pub const ACTION_KINDS: [&str; 7] = [
    "scale",
    "rollout_undo",
    "rollout_restart",
    "delete_pod",
    "stop_task",
    "force_new_deployment",
    "terminate_queries",
];

impl Check {
    pub fn evaluate(&self, view: &EstateView<'_>) -> CheckResult {
        match self {
            Check::MetricBelow { key, limit } | Check::MetricAbove { key, limit } => {
                let below = matches!(self, Check::MetricBelow { .. });
                let Some(series) = view.metrics.iter().find(|m| &m.key == key) else {
                    return CheckResult::Unknown(format!("no metric {key}"));
                };
                let Some(v) = series.current() else {
                    return CheckResult::Unknown(format!("{key} has no data yet"));
                };
                let ok = if below { v < *limit } else { v > *limit };
                if ok {
                    CheckResult::Pass
                } else {
                    let want = if below { "below" } else { "above" };
                    CheckResult::Fail(format!(
                        "{key} is {} (needs to be {want} {})",
                        crate::fmt::value(v, &series.unit),
                        crate::fmt::value(*limit, &series.unit)
                    ))
                }
            }
            Check::Healthy { target, healthy } => {
                let Some(w) = find(view, target) else {
                    return CheckResult::Unknown(format!("{target} not seen"));
                };
                let is_ok = w.health == Health::Ok;
                match (is_ok, healthy) {
                    (true, true) | (false, false) => CheckResult::Pass,
                    (false, true) => {
                        let why = w.reason.clone().unwrap_or_else(|| w.status.clone());
                        CheckResult::Fail(format!("{target} is not healthy: {why}"))
                    }
                    (true, false) => CheckResult::Fail(format!("{target} is healthy")),
                }
            }
            Check::ReadyAtLeastDesired { target } => match find(view, target) {
                None => CheckResult::Unknown(format!("{target} not seen")),
                Some(w) if w.ready >= w.desired => CheckResult::Pass,
                Some(w) => {
                    CheckResult::Fail(format!("{target} has {}/{} ready", w.ready, w.desired))
                }
            },
        }
    }

    /// One line for the runbook pane (`api.5xx_rate < 1`).
    pub fn describe(&self) -> String {
        match self {
            Check::MetricBelow { key, limit } => format!("{key} < {limit}"),
            Check::MetricAbove { key, limit } => format!("{key} > {limit}"),
            Check::Healthy {
                target,
                healthy: true,
            } => format!("{target} healthy"),
            Check::Healthy {
                target,
                healthy: false,
            } => format!("{target} not healthy"),
            Check::ReadyAtLeastDesired { target } => format!("{target} ready >= desired"),
        }
    }
}

fn find<'a>(view: &EstateView<'a>, target: &WorkloadRef) -> Option<&'a Workload> {
    view.workloads.iter().find(|w| &w.id == target)
}

impl ActionSpec {
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The exact request this action means against the current estate.
    pub fn to_request(&self, view: &EstateView<'_>) -> Result<ActionRequest, String> {
        let present = |t: &WorkloadRef| find(view, t).ok_or_else(|| format!("{t} not found"));
        match &self.kind {
            ActionKind::Scale { target, replicas } => {
                let w = present(target)?;
                if w.desired == *replicas {
                    return Err(format!("{target} already has {replicas} desired"));
                }
                Ok(ActionRequest::Scale {
                    target: target.clone(),
                    from: w.desired,
                    to: *replicas,
                })
            }
            ActionKind::RolloutUndo {
                target,
                to_revision,
            } => {
                present(target)?;
                Ok(ActionRequest::RolloutUndo {
                    target: target.clone(),
                    to_revision: *to_revision,
                })
            }
            ActionKind::RolloutRestart { target } => {
                present(target)?;
                Ok(ActionRequest::RolloutRestart {
                    target: target.clone(),
                })
            }
            ActionKind::ForceNewDeployment { target } => {
                present(target)?;
                Ok(ActionRequest::ForceNewDeployment {
                    target: target.clone(),
                })
            }
            ActionKind::DeletePod { target } => {
                let pod = worst_child(view, target, WorkloadKind::Pod)?;
                Ok(ActionRequest::DeletePod { target: pod })
            }
            ActionKind::StopTask { target } => {
                let task = worst_child(view, target, WorkloadKind::EcsTask)?;
                Ok(ActionRequest::StopTask { target: task })
            }
            ActionKind::TerminateQueries { database, rule } => {
                let db = view
                    .databases
                    .iter()
                    .find(|d| &d.name == database)
                    .ok_or_else(|| format!("database {database} not found"))?;
                let sessions: Vec<SessionTarget> = db
                    .sessions
                    .iter()
                    .filter(|s| rule.matches(s))
                    .map(|s| SessionTarget {
                        pid: s.pid,
                        backend_start: s.backend_start,
                        query: s.query.clone(),
                    })
                    .collect();
                if sessions.is_empty() {
                    return Err(format!("no session on {database} matches {rule}"));
                }
                Ok(ActionRequest::TerminateQueries {
                    database: database.clone(),
                    rule: rule.clone(),
                    sessions,
                })
            }
        }
    }
}

/// `target` itself when it is of `kind`; otherwise its unhealthiest child of `kind`.
fn worst_child(
    view: &EstateView<'_>,
    target: &WorkloadRef,
    kind: WorkloadKind,
) -> Result<WorkloadRef, String> {
    if target.kind == kind {
        return find(view, target)
            .map(|w| w.id.clone())
            .ok_or_else(|| format!("{target} not found"));
    }
    find(view, target).ok_or_else(|| format!("{target} not found"))?;
    view.workloads
        .iter()
        .filter(|w| {
            w.id.kind == kind
                && w.id.scope == target.scope
                && w.owner.as_deref() == Some(target.name.as_str())
                && w.health != Health::Ok
                && !matches!(w.status.as_str(), "Terminating" | "STOPPED")
        })
        .max_by_key(|w| (w.health, w.restarts, std::cmp::Reverse(w.id.name.clone())))
        .map(|w| w.id.clone())
        .ok_or_else(|| format!("no unhealthy {} in {target}", kind.noun()))
}

impl Runbook {
    /// Parse one runbook file. `file_label` names the file in problems.
    pub fn parse(file_label: &str, text: &str) -> Result<Runbook, Vec<Problem>> {
        let mut p = Parser {
            file: file_label,
            text,
            problems: Vec::new(),
        };
        let doc = match DeTable::parse(text) {
            Ok(doc) => doc,
            Err(e) => {
                let line = e.span().map(|s| line_of(text, s.start));
                let msg = e.message().trim().replace('\n', " ");
                return Err(vec![Problem::new(
                    file_label,
                    line,
                    None,
                    format!("TOML syntax error: {msg}"),
                )]);
            }
        };
        let book = p.runbook(doc.get_ref(), doc.span());
        if p.problems.is_empty() {
            if let Some(book) = book {
                return Ok(book);
            }
        }
        let mut problems = p.problems;
        problems.sort_by_key(|x| x.line);
        Err(problems)
    }

    /// True when every `resolved_when` check passes (false when there are none).
    pub fn is_resolved(&self, view: &EstateView<'_>) -> bool {
        !self.resolved_when.is_empty()
            && self
                .resolved_when
                .iter()
                .all(|c| c.evaluate(view) == CheckResult::Pass)
    }

    /// Every action of every step, in order.
    pub fn actions(&self) -> impl Iterator<Item = &ActionSpec> {
        self.steps.iter().flat_map(|s| s.actions.iter())
    }
}

/// The runbooks shipped in the binary: (file label, text).
pub fn shipped() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "embedded:runbooks/db-connections.toml",
            include_str!("../runbooks/db-connections.toml"),
        ),
        (
            "embedded:runbooks/oom-crashloop.toml",
            include_str!("../runbooks/oom-crashloop.toml"),
        ),
        (
            "embedded:runbooks/bad-deploy.toml",
            include_str!("../runbooks/bad-deploy.toml"),
        ),
        (
            "embedded:runbooks/ecs-unhealthy.toml",
            include_str!("../runbooks/ecs-unhealthy.toml"),
        ),
    ]
}

/// The shipped runbook for a demo scenario.
pub fn for_scenario(scenario: &str) -> Result<Option<Runbook>, Vec<Problem>> {
    for (label, text) in shipped() {
        let book = Runbook::parse(label, text)?;
        if book.scenario.as_deref() == Some(scenario) {
            return Ok(Some(book));
        }
    }
    Ok(None)
}

/// Parse every `*.toml` in a directory; a missing directory has no problems.
pub fn load_dir(dir: &Path) -> (Vec<Runbook>, Vec<Problem>) {
    let (files, mut problems) = crate::config::read_toml_dir(dir);
    let mut books = Vec::new();
    for f in files {
        match Runbook::parse(&f.file, &f.text) {
            Ok(b) => books.push(b),
            Err(ps) => problems.extend(ps),
        }
    }
    (books, problems)
}

/// Problems in every runbook of a directory.
pub fn check_dir(dir: &Path) -> Vec<Problem> {
    load_dir(dir).1
}

/// Parse a workload target: `deployment shop/api`.
pub fn parse_target(text: &str) -> Result<WorkloadRef, String> {
    let mut words = text.split_whitespace();
    let (Some(noun), Some(path), None) = (words.next(), words.next(), words.next()) else {
        return Err(format!(
            "invalid target \"{text}\" (expected e.g. \"deployment shop/api\")"
        ));
    };
    let kinds = [
        WorkloadKind::Deployment,
        WorkloadKind::Pod,
        WorkloadKind::EcsService,
        WorkloadKind::EcsTask,
    ];
    let Some(kind) = kinds.into_iter().find(|k| k.noun() == noun) else {
        return Err(format!(
            "invalid target \"{text}\": unknown kind \"{noun}\" (expected deployment, pod, ecs-service or ecs-task)"
        ));
    };
    match path.split_once('/') {
        Some((scope, name)) if !scope.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok(WorkloadRef::new(kind, scope, name))
        }
        _ => Err(format!(
            "invalid target \"{text}\": expected <namespace-or-cluster>/<name> after \"{noun}\""
        )),
    }
}

type Table<'i> = DeTable<'i>;
type Val<'i> = Spanned<DeValue<'i>>;

struct Parser<'a> {
    file: &'a str,
    text: &'a str,
    problems: Vec<Problem>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl Parser<'_> {
    fn problem(&mut self, span: &Range<usize>, key: &str, message: impl Into<String>) {
        let line = line_of(self.text, span.start);
        let key = (!key.is_empty()).then(|| key.to_string());
        self.problems
            .push(Problem::new(self.file, Some(line), key, message));
    }

    /// Report keys not in `allowed`.
    fn unknown_fields(&mut self, table: &Table<'_>, path: &str, allowed: &[&str]) {
        for (k, _) in table.iter() {
            let name: &str = k.get_ref();
            if !allowed.contains(&name) {
                self.problem(
                    &k.span(),
                    &join(path, name),
                    format!("unknown field \"{name}\""),
                );
            }
        }
    }

    fn get<'t, 'i>(&self, table: &'t Table<'i>, key: &str) -> Option<&'t Val<'i>> {
        table
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(_, v)| v)
    }

    fn string(
        &mut self,
        table: &Table<'_>,
        span: &Range<usize>,
        path: &str,
        key: &str,
        required: bool,
    ) -> Option<String> {
        match self.get(table, key) {
            None => {
                if required {
                    self.problem(span, &join(path, key), format!("missing field \"{key}\""));
                }
                None
            }
            Some(v) => match v.get_ref().as_str() {
                Some(s) if required && s.trim().is_empty() => {
                    self.problem(&v.span(), &join(path, key), "must not be empty");
                    None
                }
                Some(s) => Some(s.to_string()),
                None => {
                    self.problem(
                        &v.span(),
                        &join(path, key),
                        format!("expected a string, found {}", v.get_ref().type_str()),
                    );
                    None
                }
            },
        }
    }

    fn integer(&mut self, table: &Table<'_>, path: &str, key: &str) -> Option<Result<i64, ()>> {
        let v = self.get(table, key)?;
        let parsed = v
            .get_ref()
            .as_integer()
            .and_then(|i| i64::from_str_radix(i.as_str(), i.radix()).ok());
        Some(match parsed {
            Some(n) => Ok(n),
            None => {
                self.problem(
                    &v.span(),
                    &join(path, key),
                    format!("expected an integer, found {}", v.get_ref().type_str()),
                );
                Err(())
            }
        })
    }

    fn number(&mut self, v: &Val<'_>, path: &str, key: &str) -> Option<f64> {
        let n = match v.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|n| n as f64),
            DeValue::Float(f) => f.as_str().parse::<f64>().ok().filter(|x| x.is_finite()),
            _ => None,
        };
        if n.is_none() {
            self.problem(
                &v.span(),
                &join(path, key),
                format!("expected a number, found {}", v.get_ref().type_str()),
            );
        }
        n
    }

    fn boolean(&mut self, v: &Val<'_>, path: &str, key: &str) -> Option<bool> {
        let b = v.get_ref().as_bool();
        if b.is_none() {
            self.problem(
                &v.span(),
                &join(path, key),
                format!("expected true or false, found {}", v.get_ref().type_str()),
            );
        }
        b
    }

    /// An array of tables (`[[steps]]` or an inline array of inline tables).
    fn tables<'t, 'i>(&mut self, v: &'t Val<'i>, path: &str) -> Vec<(&'t Table<'i>, Range<usize>)> {
        let Some(items) = v.get_ref().as_array() else {
            self.problem(
                &v.span(),
                path,
                format!(
                    "expected an array of tables, found {}",
                    v.get_ref().type_str()
                ),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.get_ref().as_table() {
                Some(t) => out.push((t, item.span())),
                None => {
                    self.problem(
                        &item.span(),
                        &format!("{path}[{i}]"),
                        format!("expected a table, found {}", item.get_ref().type_str()),
                    );
                }
            }
        }
        out
    }

    fn target(
        &mut self,
        table: &Table<'_>,
        span: &Range<usize>,
        path: &str,
        allowed: &[WorkloadKind],
    ) -> Option<WorkloadRef> {
        let v = self.get(table, "target");
        let text = self.string(table, span, path, "target", true)?;
        let vspan = v.map_or(span.clone(), Spanned::span);
        let key = join(path, "target");
        match parse_target(&text) {
            Ok(t) if allowed.contains(&t.kind) => Some(t),
            Ok(t) => {
                let nouns: Vec<&str> = allowed.iter().map(|k| k.noun()).collect();
                self.problem(
                    &vspan,
                    &key,
                    format!(
                        "a {} cannot be a target here (expected {})",
                        t.kind.noun(),
                        nouns.join(" or ")
                    ),
                );
                None
            }
            Err(msg) => {
                self.problem(&vspan, &key, msg);
                None
            }
        }
    }

    fn runbook(&mut self, doc: &Table<'_>, span: Range<usize>) -> Option<Runbook> {
        self.unknown_fields(
            doc,
            "",
            &[
                "id",
                "title",
                "scenario",
                "summary",
                "resolved_when",
                "steps",
            ],
        );
        let id = self.string(doc, &span, "", "id", true);
        let title = self.string(doc, &span, "", "title", true);
        let summary = self
            .string(doc, &span, "", "summary", false)
            .unwrap_or_default();
        let scenario = self.string(doc, &span, "", "scenario", false);
        if let Some(s) = &scenario {
            if Scenario::from_name(s).is_none() {
                let vspan = self
                    .get(doc, "scenario")
                    .map_or(span.clone(), Spanned::span);
                let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
                self.problem(
                    &vspan,
                    "scenario",
                    format!(
                        "unknown scenario \"{s}\" (expected one of {})",
                        names.join(", ")
                    ),
                );
            }
        }
        let resolved_when = match self.get(doc, "resolved_when") {
            Some(v) => self.checks(v, "resolved_when"),
            None => Vec::new(),
        };
        let mut steps = Vec::new();
        match self.get(doc, "steps") {
            None => self.problem(
                &span,
                "steps",
                "missing field \"steps\" (a runbook needs at least one [[steps]])",
            ),
            Some(v) => {
                for (i, (t, tspan)) in self.tables(v, "steps").into_iter().enumerate() {
                    if let Some(step) = self.step(t, tspan, &format!("steps[{i}]")) {
                        steps.push(step);
                    }
                }
            }
        }
        Some(Runbook {
            id: id?,
            title: title?,
            scenario,
            summary,
            resolved_when,
            steps,
        })
    }

    fn step(&mut self, t: &Table<'_>, span: Range<usize>, path: &str) -> Option<Step> {
        self.unknown_fields(t, path, &["title", "text", "checks", "actions"]);
        let title = self.string(t, &span, path, "title", true);
        let text = self
            .string(t, &span, path, "text", false)
            .unwrap_or_default();
        let checks = match self.get(t, "checks") {
            Some(v) => self.checks(v, &join(path, "checks")),
            None => Vec::new(),
        };
        let mut actions = Vec::new();
        if let Some(v) = self.get(t, "actions") {
            let apath = join(path, "actions");
            for (i, (a, aspan)) in self.tables(v, &apath).into_iter().enumerate() {
                if let Some(action) = self.action(a, aspan, &format!("{apath}[{i}]")) {
                    actions.push(action);
                }
            }
        }
        Some(Step {
            title: title?,
            text: text.trim_end().to_string(),
            checks,
            actions,
        })
    }

    fn checks(&mut self, v: &Val<'_>, path: &str) -> Vec<Check> {
        let mut out = Vec::new();
        for (i, (t, span)) in self.tables(v, path).into_iter().enumerate() {
            if let Some(c) = self.check(t, span, &format!("{path}[{i}]")) {
                out.push(c);
            }
        }
        out
    }

    fn check(&mut self, t: &Table<'_>, span: Range<usize>, path: &str) -> Option<Check> {
        if self.get(t, "metric").is_some() {
            self.unknown_fields(t, path, &["metric", "below", "above"]);
            let key = self.string(t, &span, path, "metric", true);
            let below = self
                .get(t, "below")
                .and_then(|v| self.number(v, path, "below"));
            let above = self
                .get(t, "above")
                .and_then(|v| self.number(v, path, "above"));
            let has = |k: &str| self.get(t, k).is_some();
            let (has_below, has_above) = (has("below"), has("above"));
            if has_below == has_above {
                self.problem(
                    &span,
                    path,
                    "a metric check needs exactly one of \"below\" or \"above\"",
                );
                return None;
            }
            let key = key?;
            return match (below, above) {
                (Some(limit), _) => Some(Check::MetricBelow { key, limit }),
                (_, Some(limit)) => Some(Check::MetricAbove { key, limit }),
                _ => None,
            };
        }
        if self.get(t, "workload").is_some() {
            self.unknown_fields(t, path, &["workload", "healthy", "ready_at_least_desired"]);
            let wv = self.get(t, "workload");
            let text = self.string(t, &span, path, "workload", true)?;
            let target = match parse_target(&text) {
                Ok(target) => target,
                Err(msg) => {
                    let vspan = wv.map_or(span.clone(), Spanned::span);
                    self.problem(&vspan, &join(path, "workload"), msg);
                    return None;
                }
            };
            let healthy = self
                .get(t, "healthy")
                .and_then(|v| self.boolean(v, path, "healthy").map(|b| (b, v.span())));
            let ready = self.get(t, "ready_at_least_desired").and_then(|v| {
                self.boolean(v, path, "ready_at_least_desired")
                    .map(|b| (b, v.span()))
            });
            return match (healthy, ready) {
                (Some((h, _)), None) => Some(Check::Healthy { target, healthy: h }),
                (None, Some((true, _))) => Some(Check::ReadyAtLeastDesired { target }),
                (None, Some((false, s))) => {
                    self.problem(
                        &s,
                        &join(path, "ready_at_least_desired"),
                        "only `ready_at_least_desired = true` is supported",
                    );
                    None
                }
                _ => {
                    self.problem(&span, path, "a workload check needs exactly one of \"healthy\" or \"ready_at_least_desired\"");
                    None
                }
            };
        }
        self.problem(&span, path, "a check needs \"metric\" (with below/above) or \"workload\" (with healthy/ready_at_least_desired)");
        None
    }

    fn action(&mut self, t: &Table<'_>, span: Range<usize>, path: &str) -> Option<ActionSpec> {
        let label = self.string(t, &span, path, "label", true);
        let kind_v = self.get(t, "kind");
        let kind = self.string(t, &span, path, "kind", true);
        let Some(kind) = kind else {
            self.unknown_fields(
                t,
                path,
                &[
                    "label",
                    "kind",
                    "target",
                    "replicas",
                    "to_revision",
                    "database",
                    "older_than",
                    "user",
                    "application",
                ],
            );
            return None;
        };
        let fields: &[&str] = match kind.as_str() {
            "scale" => &["label", "kind", "target", "replicas"],
            "rollout_undo" => &["label", "kind", "target", "to_revision"],
            "rollout_restart" | "delete_pod" | "stop_task" | "force_new_deployment" => {
                &["label", "kind", "target"]
            }
            "terminate_queries" => &[
                "label",
                "kind",
                "database",
                "older_than",
                "user",
                "application",
            ],
            other => {
                let kspan = kind_v.map_or(span.clone(), Spanned::span);
                self.problem(
                    &kspan,
                    &join(path, "kind"),
                    format!("unknown action kind \"{other}\""),
                );
                return None;
            }
        };
        self.unknown_fields(t, path, fields);
        use WorkloadKind::*;
        let action = match kind.as_str() {
            "scale" => {
                let target = self.target(t, &span, path, &[Deployment, EcsService]);
                let replicas = match self.integer(t, path, "replicas") {
                    None => {
                        self.problem(&span, &join(path, "replicas"), "missing field \"replicas\"");
                        None
                    }
                    Some(Ok(n)) if (0..=1000).contains(&n) => Some(n as u32),
                    Some(Ok(n)) => {
                        let vspan = self.get(t, "replicas").map_or(span.clone(), Spanned::span);
                        self.problem(
                            &vspan,
                            &join(path, "replicas"),
                            format!("replicas must be between 0 and 1000, not {n}"),
                        );
                        None
                    }
                    Some(Err(())) => None,
                };
                ActionKind::Scale {
                    target: target?,
                    replicas: replicas?,
                }
            }
            "rollout_undo" => {
                let target = self.target(t, &span, path, &[Deployment]);
                let to_revision = match self.integer(t, path, "to_revision") {
                    None => None,
                    Some(Ok(n)) if n >= 1 => Some(n as u64),
                    Some(Ok(_)) => {
                        let vspan = self
                            .get(t, "to_revision")
                            .map_or(span.clone(), Spanned::span);
                        self.problem(
                            &vspan,
                            &join(path, "to_revision"),
                            "to_revision must be 1 or more",
                        );
                        return None;
                    }
                    Some(Err(())) => return None,
                };
                ActionKind::RolloutUndo {
                    target: target?,
                    to_revision,
                }
            }
            "rollout_restart" => ActionKind::RolloutRestart {
                target: self.target(t, &span, path, &[Deployment])?,
            },
            "delete_pod" => ActionKind::DeletePod {
                target: self.target(t, &span, path, &[Pod, Deployment])?,
            },
            "stop_task" => ActionKind::StopTask {
                target: self.target(t, &span, path, &[EcsTask, EcsService])?,
            },
            "force_new_deployment" => ActionKind::ForceNewDeployment {
                target: self.target(t, &span, path, &[EcsService])?,
            },
            _ => {
                let database = self.string(t, &span, path, "database", true);
                let older = self.string(t, &span, path, "older_than", true);
                let user = self.string(t, &span, path, "user", false);
                let application = self.string(t, &span, path, "application", false);
                let older_than = match older {
                    Some(text) => match parse_duration(&text) {
                        Ok(d) => Some(d),
                        Err(msg) => {
                            let vspan = self
                                .get(t, "older_than")
                                .map_or(span.clone(), Spanned::span);
                            self.problem(&vspan, &join(path, "older_than"), msg);
                            None
                        }
                    },
                    None => None,
                };
                ActionKind::TerminateQueries {
                    database: database?,
                    rule: QueryRule {
                        older_than: older_than?,
                        user,
                        application,
                    },
                }
            }
        };
        Some(ActionSpec {
            label: label?,
            kind: action,
        })
    }
}

/// `10m`, `90s`, `1h30m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(format!(
            "invalid duration \"{text}\" (use e.g. \"10m\", \"90s\", \"1h30m\")"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("deployment shop/api"),
            Ok(WorkloadRef::new(WorkloadKind::Deployment, "shop", "api"))
        );
        assert_eq!(
            parse_target("ecs-service prod/checkout").map(|t| t.kind),
            Ok(WorkloadKind::EcsService)
        );
        assert!(parse_target("deploy shop/api").is_err());
        assert!(parse_target("deployment api").is_err());
        assert!(parse_target("deployment shop/").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("ten minutes").is_err());
        assert!(parse_duration("0s").is_err());
    }

    #[test]
    fn collects_several_problems() {
        let text = "id = \"x\"\n[[steps]]\ntext = \"no title\"\n[[steps.actions]]\nlabel = \"a\"\nkind = \"scale\"\ntarget = \"deployment shop/api\"\n";
        let problems = Runbook::parse("t.toml", text).err().unwrap_or_default();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            shown.contains(&"t.toml:1: title: missing field \"title\"".to_string()),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.contains("steps[0].title: missing field")),
            "{shown:?}"
        );
        assert!(
            shown
                .iter()
                .any(|s| s.contains("steps[0].actions[0].replicas: missing field")),
            "{shown:?}"
        );
    }
}
