//! What an action does to the estate ([`Change`]), and what came of it.

use serde::{Deserialize, Serialize};

use super::database::{QueryRule, SessionTarget};
use super::workload::WorkloadRef;

/// A change to the estate. Built by the core when a confirmation opens and
/// run, unchanged, by an [`crate::source::ChangeExecutor`] once it is confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Change {
    /// Set replicas (deployment) or desired count (ECS service).
    Scale {
        target: WorkloadRef,
        from: u32,
        to: u32,
    },
    /// Roll a deployment back to its previous revision (or a chosen one).
    RolloutUndo {
        target: WorkloadRef,
        to_revision: Option<u64>,
        /// What the backend's dry run resolved: the revision running now and
        /// what runs at each end. Once set, the executor refuses to run if the
        /// workload is no longer at `from_revision`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        plan: Option<RollbackPlan>,
    },
    /// Restart every pod of a deployment.
    RolloutRestart { target: WorkloadRef },
    /// Delete one pod (its controller recreates it).
    DeletePod {
        target: WorkloadRef,
        /// The pod's uid as it was listed: the API server refuses the
        /// delete (409) if the name now belongs to another pod.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        uid: Option<String>,
    },
    /// Stop one ECS task.
    StopTask { target: WorkloadRef },
    /// Force a new deployment of an ECS service.
    ForceNewDeployment { target: WorkloadRef },
    /// Cancel one session's running query (pg_cancel_backend); the connection stays.
    CancelQuery {
        database: String,
        session: SessionTarget,
    },
    /// Terminate one session (pg_terminate_backend).
    TerminateSession {
        database: String,
        session: SessionTarget,
    },
    /// Terminate the listed sessions on a database (pg_terminate_backend).
    TerminateQueries {
        database: String,
        rule: QueryRule,
        sessions: Vec<SessionTarget>,
    },
    /// The same action on several marked objects (delete pods, stop tasks,
    /// terminate sessions), confirmed once and run one by one.
    Batch { changes: Vec<Change> },
}

impl Change {
    /// The action's name in the audit log.
    pub fn verb(&self) -> &'static str {
        match self {
            Change::Scale { .. } => "scale",
            Change::RolloutUndo { .. } => "rollout_undo",
            Change::RolloutRestart { .. } => "rollout_restart",
            Change::DeletePod { .. } => "delete_pod",
            Change::StopTask { .. } => "stop_task",
            Change::ForceNewDeployment { .. } => "force_new_deployment",
            Change::TerminateQueries { .. } => "terminate_queries",
            Change::CancelQuery { .. } => "cancel_query",
            Change::TerminateSession { .. } => "terminate_session",
            Change::Batch { .. } => "batch",
        }
    }

    /// The target's display form (`deployment shop/api`, `database orders-db`).
    pub fn target(&self) -> String {
        match self {
            Change::Scale { target, .. }
            | Change::RolloutUndo { target, .. }
            | Change::RolloutRestart { target }
            | Change::DeletePod { target, .. }
            | Change::StopTask { target }
            | Change::ForceNewDeployment { target } => target.to_string(),
            Change::TerminateQueries { database, .. }
            | Change::CancelQuery { database, .. }
            | Change::TerminateSession { database, .. } => format!("database {database}"),
            Change::Batch { changes } => {
                let targets: Vec<String> = changes.iter().map(Change::target).collect();
                targets.join(", ")
            }
        }
    }

    /// The workload it acts on (none for database actions).
    pub fn workload(&self) -> Option<&WorkloadRef> {
        match self {
            Change::Scale { target, .. }
            | Change::RolloutUndo { target, .. }
            | Change::RolloutRestart { target }
            | Change::DeletePod { target, .. }
            | Change::StopTask { target }
            | Change::ForceNewDeployment { target } => Some(target),
            Change::TerminateQueries { .. }
            | Change::CancelQuery { .. }
            | Change::TerminateSession { .. }
            | Change::Batch { .. } => None,
        }
    }

    /// The name a user must type to confirm a destructive action, if it is one.
    pub fn confirm_name(&self) -> Option<&str> {
        match self {
            Change::Scale { .. }
            | Change::ForceNewDeployment { .. }
            | Change::RolloutRestart { .. } => None,
            Change::RolloutUndo { target, .. }
            | Change::DeletePod { target, .. }
            | Change::StopTask { target } => Some(&target.name),
            Change::TerminateQueries { database, .. }
            | Change::TerminateSession { database, .. } => Some(database),
            Change::CancelQuery { .. } => None,
            // A batch: the namespace, cluster or database it acts in.
            Change::Batch { changes } => changes.first().and_then(|c| match c {
                Change::DeletePod { target, .. } | Change::StopTask { target } => {
                    Some(target.scope.as_str())
                }
                other => other.confirm_name(),
            }),
        }
    }

    /// One line naming the exact change, as the confirmation states it.
    pub fn describe(&self) -> String {
        match self {
            Change::Scale { target, from, to } => {
                format!(
                    "scale {} {}/{} {from} -> {to}",
                    target.kind.noun(),
                    target.scope,
                    target.name
                )
            }
            Change::RolloutUndo {
                target,
                to_revision: Some(r),
                plan: Some(plan),
            } => format!(
                "rollout undo {} {}/{}: revision {} ({}) -> revision {r} ({})",
                target.kind.noun(),
                target.scope,
                target.name,
                plan.from_revision,
                plan.from,
                plan.to
            ),
            Change::RolloutUndo {
                target,
                to_revision,
                ..
            } => match to_revision {
                Some(r) => format!(
                    "rollout undo {} {}/{} to revision {r}",
                    target.kind.noun(),
                    target.scope,
                    target.name
                ),
                None => format!(
                    "rollout undo {} {}/{} to its previous revision",
                    target.kind.noun(),
                    target.scope,
                    target.name
                ),
            },
            Change::RolloutRestart { target } => format!("rollout restart {target}"),
            Change::DeletePod { target, .. } => format!("delete {target}"),
            Change::StopTask { target } => format!("stop {target}"),
            Change::ForceNewDeployment { target } => {
                format!("force new deployment of {target}")
            }
            Change::CancelQuery { database, session } => {
                format!("cancel the query of pid {} on {database}", session.pid)
            }
            Change::TerminateSession { database, session } => {
                format!("terminate session pid {} on {database}", session.pid)
            }
            Change::TerminateQueries {
                database,
                rule,
                sessions,
            } => {
                let n = sessions.len();
                let q = if n == 1 { "query" } else { "queries" };
                format!("terminate {n} {q} {rule} on {database}")
            }
            Change::Batch { changes } => {
                let n = changes.len();
                match changes.first() {
                    Some(Change::DeletePod { target, .. }) => {
                        format!("delete {n} pods in {}", target.scope)
                    }
                    Some(Change::StopTask { target }) => {
                        format!("stop {n} ECS tasks in cluster {}", target.scope)
                    }
                    Some(Change::TerminateSession { database, .. }) => {
                        format!("terminate {n} sessions on {database}")
                    }
                    _ => format!("{n} actions"),
                }
            }
        }
    }
}

/// Both ends of a rollback, as the confirmation shows them and the audit log
/// records them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackPlan {
    /// The revision running now.
    pub from_revision: u64,
    /// What runs now: the images (Kubernetes) or the task definition (ECS).
    pub from: String,
    /// What runs after the rollback.
    pub to: String,
}

/// A backend's dry-run answer for a confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// One line: what the server said it would do.
    pub summary: String,
    /// The request with what the backend resolved filled in (the revision a
    /// rollback goes to and both ends' images). Confirming runs this one.
    pub resolved: Option<Change>,
}

impl Preview {
    pub fn says(summary: impl Into<String>) -> Self {
        Self {
            summary: summary.into(),
            resolved: None,
        }
    }
}

/// Why a dry run gave no preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviewError {
    /// The backend refused the request itself (nothing to roll back to, a
    /// paused deployment, a vanished target): running it would fail the same way.
    Refused(String),
    /// The dry run could not be had (unreachable, throttled); the action
    /// itself may still work.
    Unavailable(String),
}

/// What an executor reports after running an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeOutcome {
    /// One line for the UI and the audit log.
    pub summary: String,
    /// Per-item results (per pid for terminate), for the audit log.
    pub details: Vec<String>,
}
