//! What a runbook is: steps, their checks against the estate, and the
//! changes their actions make. Pure data and evaluation, no parsing.

use crate::domain::{
    Change, DbSnapshot, Health, MetricSeries, QueryRule, Workload, WorkloadKind, WorkloadRef,
};

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
    pub actions: Vec<ChangeSpec>,
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
pub struct ChangeSpec {
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

impl ChangeSpec {
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The exact request this action means against the current estate.
    pub fn to_change(&self, view: &EstateView<'_>) -> Result<Change, String> {
        let present = |t: &WorkloadRef| find(view, t).ok_or_else(|| format!("{t} not found"));
        match &self.kind {
            ActionKind::Scale { target, replicas } => {
                let w = present(target)?;
                if w.desired == *replicas {
                    return Err(format!("{target} already has {replicas} desired"));
                }
                Ok(Change::Scale {
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
                Ok(Change::RolloutUndo {
                    target: target.clone(),
                    to_revision: *to_revision,
                    plan: None,
                })
            }
            ActionKind::RolloutRestart { target } => {
                present(target)?;
                Ok(Change::RolloutRestart {
                    target: target.clone(),
                })
            }
            ActionKind::ForceNewDeployment { target } => {
                present(target)?;
                Ok(Change::ForceNewDeployment {
                    target: target.clone(),
                })
            }
            ActionKind::DeletePod { target } => {
                let pod = worst_child(view, target, WorkloadKind::Pod)?;
                Ok(Change::DeletePod { target: pod })
            }
            ActionKind::StopTask { target } => {
                let task = worst_child(view, target, WorkloadKind::EcsTask)?;
                Ok(Change::StopTask { target: task })
            }
            ActionKind::TerminateQueries { database, rule } => {
                let db = view
                    .databases
                    .iter()
                    .find(|d| &d.name == database)
                    .ok_or_else(|| format!("database {database} not found"))?;
                let sessions = rule.targets(db);
                if sessions.is_empty() {
                    return Err(format!("no session on {database} matches {rule}"));
                }
                Ok(Change::TerminateQueries {
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
    /// True when every `resolved_when` check passes (false when there are none).
    pub fn is_resolved(&self, view: &EstateView<'_>) -> bool {
        !self.resolved_when.is_empty()
            && self
                .resolved_when
                .iter()
                .all(|c| c.evaluate(view) == CheckResult::Pass)
    }

    /// Every action of every step, in order.
    pub fn actions(&self) -> impl Iterator<Item = &ChangeSpec> {
        self.steps.iter().flat_map(|s| s.actions.iter())
    }
}
