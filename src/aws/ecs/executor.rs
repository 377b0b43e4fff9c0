//! The ECS actions: Scale, ForceNewDeployment, StopTask and RolloutUndo.

use async_trait::async_trait;
use aws_sdk_ecs::Client;
use aws_sdk_ecs::types::{SortOrder, TaskDefinitionStatus};

use super::paging::all_pages;
use super::rows::{count, last_segment};
use crate::aws::error::map_sdk_error;
use crate::domain::{Change, ChangeOutcome, Preview, RollbackPlan, WorkloadKind, WorkloadRef};
use crate::source::{ChangeExecutor, SourceError};

/// The reason StopTask records (shown by the console and `aws ecs describe-tasks`).
pub const STOP_REASON: &str = "stopped by opsdeck";

/// The service `target` as DescribeServices answers it now (an INACTIVE
/// one, deleted, is no service); `None` when there is none.
pub async fn active_service(
    client: &Client,
    target: &WorkloadRef,
    what: &str,
) -> Result<Option<aws_sdk_ecs::types::Service>, SourceError> {
    let out = client
        .describe_services()
        .cluster(&target.scope)
        .services(&target.name)
        .send()
        .await
        .map_err(|e| map_sdk_error(what, e))?;
    Ok(out
        .services()
        .iter()
        .find(|s| s.status() != Some("INACTIVE"))
        .cloned())
}

/// Runs Scale, ForceNewDeployment, StopTask and RolloutUndo (back to an
/// earlier task definition revision) against ECS.
#[derive(Debug, Clone)]
pub struct EcsExecutor {
    client: Client,
    /// `aws:PROFILE@REGION`, for the audit log (the cluster is added per request).
    context: String,
}

impl EcsExecutor {
    pub fn new(client: Client, context: impl Into<String>) -> Self {
        Self {
            client,
            context: context.into(),
        }
    }

    /// The service's current task definition (`family:revision`) and the one
    /// a rollback goes to: `to_revision` if given, else the newest ACTIVE
    /// revision of the family below the current one.
    pub async fn rollback_plan(
        &self,
        target: &WorkloadRef,
        to_revision: Option<u64>,
    ) -> Result<(String, String), SourceError> {
        let what = format!("roll back {target}");
        let current = active_service(&self.client, target, &what)
            .await?
            .as_ref()
            .and_then(|s| s.task_definition())
            .map(|arn| last_segment(arn).to_string())
            .ok_or_else(|| SourceError::NotFound(format!("{what}: service not found")))?;
        let (family, rev) = current
            .rsplit_once(':')
            .and_then(|(f, r)| Some((f.to_string(), r.parse::<u64>().ok()?)))
            .ok_or_else(|| {
                SourceError::Other(format!("{what}: unexpected task definition {current}"))
            })?;
        if let Some(to) = to_revision {
            if to == rev {
                return Err(SourceError::Blocked(format!(
                    "{what}: it already runs {current}"
                )));
            }
            return Ok((current.clone(), format!("{family}:{to}")));
        }
        // Every ACTIVE revision of the family (not every endpoint honours the
        // sort order, so all pages are read): the newest below the current one.
        let (client, family_ref, what_ref) = (&self.client, &family, &what);
        let arns = all_pages(|token| async move {
            let page = client
                .list_task_definitions()
                .family_prefix(family_ref)
                .status(TaskDefinitionStatus::Active)
                .sort(SortOrder::Desc)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| map_sdk_error(what_ref, e))?;
            Ok((
                page.task_definition_arns().to_vec(),
                page.next_token().map(str::to_string),
            ))
        })
        .await?;
        let previous = arns
            .iter()
            .map(|a| last_segment(a))
            .filter_map(|td| td.rsplit_once(':'))
            .filter(|(f, _)| *f == family)
            .filter_map(|(_, r)| r.parse::<u64>().ok())
            .filter(|r| *r < rev)
            .max();
        match previous {
            Some(p) => Ok((current, format!("{family}:{p}"))),
            None => Err(SourceError::Blocked(format!(
                "{what}: no earlier ACTIVE revision of {family} than {rev}"
            ))),
        }
    }
}

fn expect_kind(target: &WorkloadRef, kind: WorkloadKind, verb: &str) -> Result<(), SourceError> {
    if target.kind == kind {
        Ok(())
    } else {
        Err(SourceError::Blocked(format!(
            "{verb} applies to an {}, not to {target}",
            kind.noun()
        )))
    }
}

fn check(request: &Change) -> Result<(), SourceError> {
    match request {
        Change::Scale { target, .. } => expect_kind(target, WorkloadKind::EcsService, "scale"),
        Change::ForceNewDeployment { target } => {
            expect_kind(target, WorkloadKind::EcsService, "force new deployment")
        }
        Change::StopTask { target } => expect_kind(target, WorkloadKind::EcsTask, "stop task"),
        Change::RolloutUndo { target, .. } => {
            expect_kind(target, WorkloadKind::EcsService, "roll back")
        }
        other => Err(SourceError::Blocked(format!(
            "the ECS backend cannot {}",
            other.describe()
        ))),
    }
}

#[async_trait]
impl ChangeExecutor for EcsExecutor {
    fn context(&self, request: &Change) -> Option<String> {
        Some(match request.workload() {
            Some(target) => format!("{} cluster {}", self.context, target.scope),
            None => self.context.clone(),
        })
    }

    async fn execute(&self, request: &Change) -> Result<ChangeOutcome, SourceError> {
        check(request)?;
        let what = request.describe();
        match request {
            Change::Scale { target, from, to } => {
                let desired = i32::try_from(*to).map_err(|_| {
                    SourceError::Blocked(format!("desired count {to} is out of range"))
                })?;
                // ECS has no precondition: check the count that was
                // confirmed is still the service's before changing it.
                let now = active_service(&self.client, target, &what)
                    .await?
                    .map(|s| count(s.desired_count()))
                    .ok_or_else(|| SourceError::NotFound(format!("{target}")))?;
                if now != *from {
                    return Err(SourceError::Blocked(format!(
                        "{target} now has {now} desired, not {from} as confirmed; nothing was changed"
                    )));
                }
                let out = self
                    .client
                    .update_service()
                    .cluster(&target.scope)
                    .service(&target.name)
                    .desired_count(desired)
                    .send()
                    .await
                    .map_err(|e| map_sdk_error(&what, e))?;
                let now = out.service().map_or(*to, |s| count(s.desired_count()));
                Ok(ChangeOutcome {
                    summary: format!("scaled {target} {from} -> {now}"),
                    details: Vec::new(),
                })
            }
            Change::ForceNewDeployment { target } => {
                let out = self
                    .client
                    .update_service()
                    .cluster(&target.scope)
                    .service(&target.name)
                    .force_new_deployment(true)
                    .send()
                    .await
                    .map_err(|e| map_sdk_error(&what, e))?;
                let details = out
                    .service()
                    .and_then(|s| {
                        s.deployments()
                            .iter()
                            .find(|d| d.status() == Some("PRIMARY"))
                    })
                    .and_then(|d| d.id())
                    .map(|id| vec![format!("deployment {id}")])
                    .unwrap_or_default();
                Ok(ChangeOutcome {
                    summary: format!("started a new deployment of {target}"),
                    details,
                })
            }
            Change::StopTask { target } => {
                let out = self
                    .client
                    .stop_task()
                    .cluster(&target.scope)
                    .task(&target.name)
                    .reason(STOP_REASON)
                    .send()
                    .await
                    .map_err(|e| map_sdk_error(&what, e))?;
                let status = out
                    .task()
                    .and_then(|t| t.desired_status())
                    .unwrap_or("STOPPED");
                Ok(ChangeOutcome {
                    summary: format!("stopped {target} (desired status {status})"),
                    details: Vec::new(),
                })
            }
            Change::RolloutUndo {
                target,
                to_revision,
                plan,
            } => {
                let (from, to) = self.rollback_plan(target, *to_revision).await?;
                if let Some(plan) = plan {
                    if plan.from != from {
                        return Err(SourceError::Blocked(format!(
                            "{target} now runs {from}, not {} as confirmed; nothing was changed",
                            plan.from
                        )));
                    }
                }
                self.client
                    .update_service()
                    .cluster(&target.scope)
                    .service(&target.name)
                    .task_definition(&to)
                    .send()
                    .await
                    .map_err(|e| map_sdk_error(&what, e))?;
                Ok(ChangeOutcome {
                    summary: format!("rolled {target} back to {to}"),
                    details: vec![format!("was {from}")],
                })
            }
            _ => Err(SourceError::Blocked(format!(
                "the ECS backend cannot {what}"
            ))),
        }
    }

    async fn preview(&self, request: &Change) -> Result<Option<Preview>, SourceError> {
        match request {
            Change::RolloutUndo {
                target,
                to_revision,
                ..
            } => {
                check(request)?;
                let (from, to) = self.rollback_plan(target, *to_revision).await?;
                let revision =
                    |td: &str| td.rsplit_once(':').and_then(|(_, r)| r.parse::<u64>().ok());
                let resolved = match (revision(&from), revision(&to)) {
                    (Some(from_revision), Some(to_revision)) => Some(Change::RolloutUndo {
                        target: target.clone(),
                        to_revision: Some(to_revision),
                        plan: Some(RollbackPlan {
                            from_revision,
                            from: from.clone(),
                            to: to.clone(),
                        }),
                    }),
                    _ => None,
                };
                Ok(Some(Preview {
                    summary: format!("task definition {from} -> {to}"),
                    resolved,
                }))
            }
            _ => Ok(None),
        }
    }

    async fn allowed(&self, request: &Change) -> Result<(), String> {
        check(request).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ecs_actions_on_the_right_kind_are_accepted() {
        let svc = WorkloadRef::new(WorkloadKind::EcsService, "prod", "checkout");
        let dep = WorkloadRef::new(WorkloadKind::Deployment, "shop", "api");
        assert!(
            check(&Change::ForceNewDeployment {
                target: svc.clone()
            })
            .is_ok()
        );
        assert!(matches!(
            check(&Change::StopTask { target: svc }),
            Err(SourceError::Blocked(_))
        ));
        assert!(matches!(
            check(&Change::RolloutRestart { target: dep }),
            Err(SourceError::Blocked(_))
        ));
    }
}
