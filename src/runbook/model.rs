//! What a runbook is: steps, their checks against the estate, and the
//! changes their actions make. Pure data and evaluation, no parsing.

use crate::domain::{
    Change, DbSnapshot, Health, MetricSeries, QueryRule, Workload, WorkloadKind, WorkloadRef,
};

/// How long the resolution checks must hold before RESOLVED shows, unless
/// the runbook says otherwise (`resolved_hold`).
pub const DEFAULT_RESOLVED_HOLD: std::time::Duration = std::time::Duration::from_secs(30);

/// One parsed runbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    pub id: String,
    pub title: String,
    /// The demo scenario it belongs to, if any.
    pub scenario: Option<String>,
    pub summary: String,
    /// The incident counts as resolved when all of these pass, have passed
    /// for `resolved_hold`, and the runbook's workloads are settled.
    pub resolved_when: Vec<Check>,
    pub resolved_hold: std::time::Duration,
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

impl ActionKind {
    /// The workload it acts on (none for database actions).
    pub fn target(&self) -> Option<&WorkloadRef> {
        match self {
            ActionKind::Scale { target, .. }
            | ActionKind::RolloutUndo { target, .. }
            | ActionKind::RolloutRestart { target }
            | ActionKind::DeletePod { target }
            | ActionKind::StopTask { target }
            | ActionKind::ForceNewDeployment { target } => Some(target),
            ActionKind::TerminateQueries { .. } => None,
        }
    }
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
                let uid = find(view, &pod).and_then(|w| w.uid.clone());
                Ok(Change::DeletePod { target: pod, uid })
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

/// A workload is settled when it is healthy with every replica or task it
/// wants ready, and every live pod or task it owns is healthy too (a new
/// ECS task still starting, with health UNKNOWN, is not).
pub fn settled(view: &EstateView<'_>, target: &WorkloadRef) -> Result<(), String> {
    let w = find(view, target).ok_or_else(|| format!("{target} not seen"))?;
    if w.ready < w.desired {
        return Err(format!("{target} has {}/{} ready", w.ready, w.desired));
    }
    if w.health != Health::Ok {
        return Err(format!("{target} is not healthy ({})", w.status));
    }
    let unsettled = view.workloads.iter().find(|c| {
        c.owner_ref().as_ref() == Some(target) && !c.is_ending() && c.health != Health::Ok
    });
    match unsettled {
        Some(c) => Err(format!("{} is {}", c.id, c.status)),
        None => Ok(()),
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
    /// Whether the incident looks over right now: every `resolved_when` check
    /// passes and every workload the runbook names is settled (see
    /// [`settled`]). `Err` says what is still wrong. A runbook with no
    /// checks never resolves.
    pub fn resolution(&self, view: &EstateView<'_>) -> Result<(), String> {
        if self.resolved_when.is_empty() {
            return Err("the runbook has no resolved_when checks".into());
        }
        for check in &self.resolved_when {
            match check.evaluate(view) {
                CheckResult::Pass => {}
                CheckResult::Fail(why) | CheckResult::Unknown(why) => return Err(why),
            }
        }
        // Workloads the checks name must be seen and settled; those only
        // the actions name, when they exist here.
        let named = self.checked_workloads();
        self.workloads()
            .iter()
            .filter(|t| named.contains(t) || find(view, t).is_some())
            .try_for_each(|target| settled(view, target))
    }

    /// The deployments and ECS services the runbook's checks name.
    fn checked_workloads(&self) -> Vec<WorkloadRef> {
        self.resolved_when
            .iter()
            .chain(self.steps.iter().flat_map(|s| s.checks.iter()))
            .filter_map(|check| match check {
                Check::Healthy { target, .. } | Check::ReadyAtLeastDesired { target } => {
                    Some(target.clone())
                }
                _ => None,
            })
            .collect()
    }

    /// True when [`Runbook::resolution`] passes now (the hold is the caller's).
    pub fn is_resolved(&self, view: &EstateView<'_>) -> bool {
        self.resolution(view).is_ok()
    }

    /// Every deployment and ECS service the runbook's checks and actions name.
    pub fn workloads(&self) -> Vec<WorkloadRef> {
        let mut out = self.checked_workloads();
        for action in self.actions() {
            if let Some(target) = action.kind.target() {
                out.push(target.clone());
            }
        }
        out.retain(|t| matches!(t.kind, WorkloadKind::Deployment | WorkloadKind::EcsService));
        out.sort();
        out.dedup();
        out
    }

    /// Every action of every step, in order.
    pub fn actions(&self) -> impl Iterator<Item = &ChangeSpec> {
        self.steps.iter().flat_map(|s| s.actions.iter())
    }
}
