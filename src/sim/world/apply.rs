//! Actions on the estate, applied the way the real APIs would: one
//! function per kind of change.

use std::time::SystemTime;

use crate::domain::{
    Change, ChangeOutcome, QueryRule, SessionState, SessionTarget, WorkloadKind, WorkloadRef,
};
use crate::sim::k8s::RESTARTED_AT_ANNOTATION;
use crate::source::SourceError;

use super::{CLUSTER, NAMESPACE, World};

impl World {
    /// Run an action the way the real API would.
    pub fn apply(&mut self, request: &Change) -> Result<ChangeOutcome, SourceError> {
        let now = self.now();
        match request {
            Change::Scale { target, from, to } => match target.kind {
                WorkloadKind::Deployment => self.scale_deployment(target, *from, *to),
                WorkloadKind::EcsService => self.scale_service(target, *from, *to, now),
                _ => Err(SourceError::Blocked(format!(
                    "cannot scale a {}",
                    target.kind.noun()
                ))),
            },
            Change::RolloutUndo {
                target,
                to_revision,
                plan,
            } => {
                let (to, resolved) = self.rollback_plan(target, *to_revision)?;
                if let Some(plan) = plan {
                    if plan.from_revision != resolved.from_revision {
                        return Err(SourceError::Blocked(format!(
                            "{target} is now at revision {}, not {} as confirmed; nothing was changed",
                            resolved.from_revision, plan.from_revision
                        )));
                    }
                }
                if target.kind == WorkloadKind::EcsService {
                    self.roll_back_service(target, to, &resolved, now)
                } else {
                    self.roll_back_deployment(target, to, &resolved)
                }
            }
            Change::RolloutRestart { target } => self.restart_deployment(target, now),
            Change::DeletePod { target, .. } => self.delete_pod(target, now),
            Change::StopTask { target } => self.stop_task(target, now),
            Change::ForceNewDeployment { target } => self.force_new_deployment(target, now),
            Change::CancelQuery { database, session } => {
                self.end_session(database, session, true, now)
            }
            Change::TerminateSession { database, session } => {
                self.end_session(database, session, false, now)
            }
            Change::TerminateQueries {
                database,
                rule,
                sessions,
            } => self.terminate_queries(database, rule, sessions, now),
            Change::Batch { .. } => Err(batch_not_here()),
        }
    }

    fn scale_deployment(
        &mut self,
        target: &WorkloadRef,
        from: u32,
        to: u32,
    ) -> Result<ChangeOutcome, SourceError> {
        self.check_scope(target, NAMESPACE)?;
        let was = self
            .k8s
            .deployment(&target.name)
            .ok_or_else(|| not_found(target))?
            .replicas;
        confirmed(target, was, from, "replicas")?;
        let rv = self.k8s.next_rv();
        let d = self
            .k8s
            .deployment_mut(&target.name)
            .ok_or_else(|| not_found(target))?;
        d.replicas = to;
        d.meta.generation += 1;
        d.meta.resource_version = rv;
        Ok(scaled(target, was, to))
    }

    fn scale_service(
        &mut self,
        target: &WorkloadRef,
        from: u32,
        to: u32,
        now: SystemTime,
    ) -> Result<ChangeOutcome, SourceError> {
        self.check_scope(target, CLUSTER)?;
        let svc = self
            .ecs
            .service_mut(&target.name)
            .ok_or_else(|| not_found(target))?;
        let was = svc.desired;
        confirmed(target, was, from, "desired")?;
        svc.desired = to;
        let text = format!(
            "(service {}) desired count changed from {was} to {to}.",
            svc.name
        );
        svc.events.push((now, text));
        Ok(scaled(target, was, to))
    }

    /// `kubectl rollout restart`: a restartedAt annotation on the template.
    fn restart_deployment(
        &mut self,
        target: &WorkloadRef,
        now: SystemTime,
    ) -> Result<ChangeOutcome, SourceError> {
        self.expect_kind(target, WorkloadKind::Deployment)?;
        self.check_scope(target, NAMESPACE)?;
        self.k8s
            .deployment(&target.name)
            .ok_or_else(|| not_found(target))?;
        let rv = self.k8s.next_rv();
        let stamp = humantime::format_rfc3339_seconds(now).to_string();
        let d = self
            .k8s
            .deployment_mut(&target.name)
            .ok_or_else(|| not_found(target))?;
        d.template
            .annotations
            .insert(RESTARTED_AT_ANNOTATION.into(), stamp.clone());
        d.meta.generation += 1;
        d.meta.resource_version = rv;
        Ok(ChangeOutcome {
            summary: format!("restarted {target}"),
            details: vec![format!("{RESTARTED_AT_ANNOTATION}={stamp}")],
        })
    }

    fn delete_pod(
        &mut self,
        target: &WorkloadRef,
        now: SystemTime,
    ) -> Result<ChangeOutcome, SourceError> {
        self.expect_kind(target, WorkloadKind::Pod)?;
        self.check_scope(target, NAMESPACE)?;
        let i = self
            .k8s
            .pods
            .iter()
            .position(|p| p.meta.name == target.name && !p.terminating())
            .ok_or_else(|| not_found(target))?;
        self.k8s.delete_pod_at(i, now);
        Ok(ChangeOutcome {
            summary: format!("deleted {target}"),
            details: vec!["its ReplicaSet will create a replacement".into()],
        })
    }

    fn stop_task(
        &mut self,
        target: &WorkloadRef,
        now: SystemTime,
    ) -> Result<ChangeOutcome, SourceError> {
        self.expect_kind(target, WorkloadKind::EcsTask)?;
        self.check_scope(target, CLUSTER)?;
        let i = self
            .ecs
            .tasks
            .iter()
            .position(|t| t.id == target.name && t.active())
            .ok_or_else(|| not_found(target))?;
        self.ecs
            .stop(i, now, "Task stopped by opsdeck", "UserInitiated");
        Ok(ChangeOutcome {
            summary: format!("stopped {target}"),
            details: vec!["the service scheduler will start a replacement".into()],
        })
    }

    fn force_new_deployment(
        &mut self,
        target: &WorkloadRef,
        now: SystemTime,
    ) -> Result<ChangeOutcome, SourceError> {
        self.expect_kind(target, WorkloadKind::EcsService)?;
        self.check_scope(target, CLUSTER)?;
        let id = self
            .ecs
            .force_new_deployment(&mut self.rng, &target.name, now)
            .ok_or_else(|| not_found(target))?;
        Ok(ChangeOutcome {
            summary: format!("started a new deployment of {target}"),
            details: vec![format!("deployment {id}")],
        })
    }

    /// Cancel one session's query (it stays connected, idle) or terminate
    /// the session; the pid must still belong to the same backend.
    fn end_session(
        &mut self,
        database: &str,
        session: &SessionTarget,
        cancel: bool,
        now: SystemTime,
    ) -> Result<ChangeOutcome, SourceError> {
        if database != self.db.name {
            return Err(SourceError::NotFound(format!("database {database}")));
        }
        let found = self
            .db
            .sessions
            .iter()
            .position(|x| x.pid == session.pid && x.backend_start == session.backend_start);
        let Some(i) = found else {
            return Err(SourceError::NotFound(format!(
                "pid {} on {database}: no such session (it ended, or the pid now belongs to another session)",
                session.pid
            )));
        };
        if cancel && self.db.sessions[i].state != SessionState::Active {
            return Err(SourceError::Blocked(crate::domain::nothing_to_cancel(
                database,
                session.pid,
                self.db.sessions[i].state.label(),
            )));
        }
        if cancel {
            // The query ends; the connection stays, idle.
            let s = &mut self.db.sessions[i];
            s.state = SessionState::Idle;
            s.wait_event = Some("ClientRead".into());
            s.query_start = now;
            Ok(ChangeOutcome {
                summary: format!("cancelled the query of pid {} on {database}", session.pid),
                details: vec![format!("pid {}: cancelled", session.pid)],
            })
        } else {
            self.db.sessions.remove(i);
            Ok(ChangeOutcome {
                summary: format!("terminated pid {} on {database}", session.pid),
                details: vec![format!("pid {}: terminated", session.pid)],
            })
        }
    }

    /// Terminate the listed sessions that still match the rule; the others
    /// are skipped, each with the reason.
    fn terminate_queries(
        &mut self,
        database: &str,
        rule: &QueryRule,
        sessions: &[SessionTarget],
        now: SystemTime,
    ) -> Result<ChangeOutcome, SourceError> {
        if database != self.db.name {
            return Err(SourceError::NotFound(format!("database {database}")));
        }
        let snapshot = self.db.snapshot(now);
        let mut details = Vec::new();
        let mut done = 0;
        for target in sessions {
            let Some(s) = snapshot.sessions.iter().find(|s| s.pid == target.pid) else {
                details.push(format!("pid {}: skipped: no longer connected", target.pid));
                continue;
            };
            if s.backend_start != target.backend_start {
                details.push(format!(
                    "pid {}: skipped: pid now belongs to another session (backend started {})",
                    target.pid,
                    humantime::format_rfc3339_seconds(s.backend_start)
                ));
                continue;
            }
            if !rule.matches(s) {
                details.push(format!(
                    "pid {}: skipped: no longer matches {rule}",
                    target.pid
                ));
                continue;
            }
            self.db
                .sessions
                .retain(|x| !(x.pid == target.pid && x.backend_start == target.backend_start));
            done += 1;
            details.push(format!(
                "pid {}: terminated ({} {})",
                target.pid, s.user, s.application
            ));
        }
        Ok(ChangeOutcome {
            summary: format!(
                "terminated {done} of {} sessions on {database}",
                sessions.len()
            ),
            details,
        })
    }

    pub(super) fn check_scope(&self, target: &WorkloadRef, scope: &str) -> Result<(), SourceError> {
        if target.scope == scope {
            Ok(())
        } else {
            Err(not_found(target))
        }
    }

    pub(super) fn expect_kind(
        &self,
        target: &WorkloadRef,
        kind: WorkloadKind,
    ) -> Result<(), SourceError> {
        if target.kind == kind {
            Ok(())
        } else {
            Err(SourceError::Blocked(format!(
                "this action needs a {}, not a {}",
                kind.noun(),
                target.kind.noun()
            )))
        }
    }
}

/// A batch is run item by item by the driver, never by an executor.
fn batch_not_here() -> SourceError {
    SourceError::Blocked("a batch runs one action at a time".into())
}

pub(super) fn not_found(target: &WorkloadRef) -> SourceError {
    SourceError::NotFound(target.to_string())
}

fn scaled(target: &WorkloadRef, was: u32, to: u32) -> ChangeOutcome {
    ChangeOutcome {
        summary: format!("scaled {target} {was} -> {to}"),
        details: Vec::new(),
    }
}

/// A scale runs only from the count that was confirmed, as opsdeck's
/// Kubernetes and ECS executors check it.
fn confirmed(target: &WorkloadRef, was: u32, from: u32, noun: &str) -> Result<(), SourceError> {
    if was == from {
        Ok(())
    } else {
        Err(SourceError::Blocked(format!(
            "{target} now has {was} {noun}, not {from} as confirmed; nothing was changed"
        )))
    }
}
