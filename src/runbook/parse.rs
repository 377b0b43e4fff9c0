//! Reading a runbook TOML file. Parsing walks toml's span-preserving
//! document so every mistake is reported with its file, line and dotted key
//! (`steps[1].actions[0].kind`), all at once.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::model::{ActionKind, ChangeSpec, Check, DEFAULT_RESOLVED_HOLD, Runbook, Step};
use crate::domain::{QueryRule, WorkloadKind};
use crate::problem::Problem;
use crate::toml_doc::{Doc, join_key};

use super::fields::{Parser, Table, Val, parse_target};

impl Runbook {
    /// Parse one runbook file. `file_label` names the file in problems.
    pub fn parse(file_label: &str, text: &str) -> Result<Runbook, Vec<Problem>> {
        parse(file_label, text, None)
    }

    /// [`Runbook::parse`], also checking that its `scenario` is one of
    /// `scenarios` (the demo's, which the caller knows; runbooks do not).
    pub fn parse_for(
        file_label: &str,
        text: &str,
        scenarios: &[&str],
    ) -> Result<Runbook, Vec<Problem>> {
        parse(file_label, text, Some(scenarios))
    }
}

fn parse(
    file_label: &str,
    text: &str,
    scenarios: Option<&[&str]>,
) -> Result<Runbook, Vec<Problem>> {
    {
        let mut p = Parser {
            file: file_label,
            lines: crate::problem::Lines::new(text),
            scenarios,
            problems: Vec::new(),
        };
        let doc = Doc::new(text, file_label).parse().map_err(|p| vec![p])?;
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
}

impl Parser<'_> {
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
                "resolved_hold",
                "steps",
            ],
        );
        let id = self.string(doc, &span, "", "id", true);
        let title = self.string(doc, &span, "", "title", true);
        let summary = self
            .string(doc, &span, "", "summary", false)
            .unwrap_or_default();
        let scenario = self.string(doc, &span, "", "scenario", false);
        if let (Some(s), Some(names)) = (&scenario, self.scenarios) {
            if !names.contains(&s.as_str()) {
                let vspan = self
                    .get(doc, "scenario")
                    .map_or(span.clone(), Spanned::span);
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
        let resolved_hold = match self.string(doc, &span, "", "resolved_hold", false) {
            None => DEFAULT_RESOLVED_HOLD,
            Some(text) => match humantime::parse_duration(text.trim()) {
                Ok(d) => d,
                Err(_) => {
                    let vspan = self
                        .get(doc, "resolved_hold")
                        .map_or(span.clone(), Spanned::span);
                    self.problem(
                        &vspan,
                        "resolved_hold",
                        format!("invalid duration \"{text}\" (use e.g. \"30s\", \"2m\", \"0s\")"),
                    );
                    DEFAULT_RESOLVED_HOLD
                }
            },
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
            resolved_hold,
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
            Some(v) => self.checks(v, &join_key(path, "checks")),
            None => Vec::new(),
        };
        let mut actions = Vec::new();
        if let Some(v) = self.get(t, "actions") {
            let apath = join_key(path, "actions");
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
                    self.problem(&vspan, &join_key(path, "workload"), msg);
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
                        &join_key(path, "ready_at_least_desired"),
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

    fn action(&mut self, t: &Table<'_>, span: Range<usize>, path: &str) -> Option<ChangeSpec> {
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
                    &join_key(path, "kind"),
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
                        self.problem(
                            &span,
                            &join_key(path, "replicas"),
                            "missing field \"replicas\"",
                        );
                        None
                    }
                    Some(Ok(n)) if (0..=1000).contains(&n) => Some(n as u32),
                    Some(Ok(n)) => {
                        let vspan = self.get(t, "replicas").map_or(span.clone(), Spanned::span);
                        self.problem(
                            &vspan,
                            &join_key(path, "replicas"),
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
                            &join_key(path, "to_revision"),
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
                            self.problem(&vspan, &join_key(path, "older_than"), msg);
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
        Some(ChangeSpec {
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
    use crate::domain::WorkloadRef;

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
