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
    },
    /// Restart every pod of a deployment.
    RolloutRestart { target: WorkloadRef },
    /// Delete one pod (its controller recreates it).
    DeletePod { target: WorkloadRef },
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
        }
    }

    /// The target's display form (`deployment shop/api`, `database orders-db`).
    pub fn target(&self) -> String {
        match self {
            Change::Scale { target, .. }
            | Change::RolloutUndo { target, .. }
            | Change::RolloutRestart { target }
            | Change::DeletePod { target }
            | Change::StopTask { target }
            | Change::ForceNewDeployment { target } => target.to_string(),
            Change::TerminateQueries { database, .. }
            | Change::CancelQuery { database, .. }
            | Change::TerminateSession { database, .. } => format!("database {database}"),
        }
    }

    /// The name a user must type to confirm a destructive action, if it is one.
    pub fn confirm_name(&self) -> Option<&str> {
        match self {
            Change::Scale { .. }
            | Change::ForceNewDeployment { .. }
            | Change::RolloutRestart { .. } => None,
            Change::RolloutUndo { target, .. }
            | Change::DeletePod { target }
            | Change::StopTask { target } => Some(&target.name),
            Change::TerminateQueries { database, .. }
            | Change::TerminateSession { database, .. } => Some(database),
            Change::CancelQuery { .. } => None,
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
                to_revision,
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
            Change::DeletePod { target } => format!("delete {target}"),
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
        }
    }
}

/// What an executor reports after running an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeOutcome {
    /// One line for the UI and the audit log.
    pub summary: String,
    /// Per-item results (per pid for terminate), for the audit log.
    pub details: Vec<String>,
}
