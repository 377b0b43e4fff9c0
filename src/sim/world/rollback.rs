//! Rollbacks in the simulated estate: a deployment to a ReplicaSet's
//! template, an ECS service to an earlier task definition revision.

use std::time::SystemTime;

use crate::domain::{ChangeOutcome, RollbackPlan, WorkloadKind, WorkloadRef};
use crate::sim::k8s::PodTemplate;
use crate::source::SourceError;

use super::apply::not_found;
use super::{CLUSTER, NAMESPACE, World};

impl World {
    /// The revision a rollback of `target` goes to (`to_revision`, else the
    /// one before the current), with both ends, as a dry run answers.
    pub fn rollback_plan(
        &self,
        target: &WorkloadRef,
        to_revision: Option<u64>,
    ) -> Result<(u64, RollbackPlan), SourceError> {
        if target.kind == WorkloadKind::EcsService {
            self.check_scope(target, CLUSTER)?;
            let svc = self
                .ecs
                .service(&target.name)
                .ok_or_else(|| not_found(target))?;
            let current = svc.task_revision;
            let to = match to_revision {
                Some(r) if r == current => {
                    return Err(SourceError::Blocked(format!(
                        "{target} already runs revision {r}"
                    )));
                }
                Some(r) => r,
                None if current > 1 => current - 1,
                None => {
                    return Err(SourceError::Blocked(format!(
                        "{target} has no revision before {current}"
                    )));
                }
            };
            let family = &svc.task_family;
            return Ok((
                to,
                RollbackPlan {
                    from_revision: current,
                    from: format!("task definition {family}:{current}"),
                    to: format!("task definition {family}:{to}"),
                },
            ));
        }
        self.expect_kind(target, WorkloadKind::Deployment)?;
        self.check_scope(target, NAMESPACE)?;
        let d = self
            .k8s
            .deployment(&target.name)
            .ok_or_else(|| not_found(target))?;
        let current = d.revision();
        let mut history: Vec<(u64, String)> = self
            .k8s
            .replica_sets_of(&d.meta.uid)
            .map(|rs| (rs.revision(), rs.template.image.clone()))
            .collect();
        history.sort_by_key(|(r, _)| *r);
        let (rev, image) = match to_revision {
            Some(r) => history
                .iter()
                .find(|(h, _)| *h == r)
                .cloned()
                .ok_or_else(|| SourceError::NotFound(format!("revision {r} of {target}")))?,
            None => history
                .iter()
                .rev()
                .find(|(h, _)| *h < current)
                .cloned()
                .ok_or_else(|| {
                    SourceError::Blocked(format!(
                        "{target} has no previous revision to roll back to"
                    ))
                })?,
        };
        if rev == current {
            return Err(SourceError::Blocked(format!(
                "{target} is already at revision {rev}"
            )));
        }
        Ok((
            rev,
            RollbackPlan {
                from_revision: current,
                from: d.template.image.clone(),
                to: image,
            },
        ))
    }

    /// An ECS service to task definition revision `to` (resolved by
    /// [`World::rollback_plan`]), as a new deployment.
    pub(super) fn roll_back_service(
        &mut self,
        target: &WorkloadRef,
        to: u64,
        plan: &RollbackPlan,
        now: SystemTime,
    ) -> Result<ChangeOutcome, SourceError> {
        let id = self
            .ecs
            .deploy(&mut self.rng, &target.name, Some(to), now)
            .ok_or_else(|| not_found(target))?;
        Ok(ChangeOutcome {
            summary: format!("rolled {target} back to revision {to}"),
            details: vec![
                format!("was revision {}", plan.from_revision),
                format!("deployment {id}"),
            ],
        })
    }

    /// A deployment's template back to the ReplicaSet of revision `rev`
    /// (resolved by [`World::rollback_plan`]), as `kubectl rollout undo` does.
    pub(super) fn roll_back_deployment(
        &mut self,
        target: &WorkloadRef,
        rev: u64,
        plan: &RollbackPlan,
    ) -> Result<ChangeOutcome, SourceError> {
        let d = self
            .k8s
            .deployment(&target.name)
            .ok_or_else(|| not_found(target))?;
        let template: PodTemplate = self
            .k8s
            .replica_sets_of(&d.meta.uid)
            .find(|rs| rs.revision() == rev)
            .map(|rs| rs.template.clone())
            .ok_or_else(|| SourceError::NotFound(format!("revision {rev} of {target}")))?;
        let image = template.image.clone();
        let rv = self.k8s.next_rv();
        let d = self
            .k8s
            .deployment_mut(&target.name)
            .ok_or_else(|| not_found(target))?;
        d.template = template;
        d.meta.generation += 1;
        d.meta.resource_version = rv;
        Ok(ChangeOutcome {
            summary: format!(
                "rolled back {target} to revision {rev} (becomes revision {})",
                plan.from_revision + 1
            ),
            details: vec![format!("template from revision {rev}: image {image}")],
        })
    }
}
