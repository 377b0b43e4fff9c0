//! The Kubernetes action executor: scale, rollout undo, rollout restart and
//! delete pod, each with a server-side dry run (`dryRun=All`) for the
//! confirmation and a SelfSubjectAccessReview for "may I?".

use ::kube::Client;
use ::kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use ::kube::core::Selector;
use async_trait::async_trait;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Pod;
use serde_json::json;

use super::config::map_kube_error;
use super::convert::images;
use super::convert::{RESTARTED_AT_ANNOTATION, controller_of, revision_of};
use super::rollback::without_hash;
pub use super::rollback::{rollback_annotations, rollback_patch, rollback_target};
use crate::domain::{Change, ChangeOutcome, Preview, RollbackPlan, WorkloadKind, WorkloadRef};
use crate::source::{ChangeExecutor, SourceError};

/// The field manager opsdeck's writes are recorded under.
pub const FIELD_MANAGER: &str = "opsdeck";

/// Runs actions against one context.
#[derive(Clone)]
pub struct KubeExecutor {
    client: Client,
    user: String,
    /// `kube:CONTEXT`, for the audit log.
    context: String,
}

/// One API permission an action needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub subresource: Option<&'static str>,
    pub namespace: String,
    pub name: Option<String>,
}

impl Permission {
    /// `deployments/scale`
    fn resource_text(&self) -> String {
        match self.subresource {
            Some(s) => format!("{}/{s}", self.resource),
            None => self.resource.to_string(),
        }
    }
}

/// The permissions `request` needs, or why this backend cannot run it.
pub fn permissions(request: &Change) -> Result<Vec<Permission>, SourceError> {
    let perm = |verb, group, resource, subresource, target: &WorkloadRef, named: bool| Permission {
        verb,
        group,
        resource,
        subresource,
        namespace: target.scope.clone(),
        name: named.then(|| target.name.clone()),
    };
    match request {
        Change::Scale { target, .. } => {
            expect_kind(target, WorkloadKind::Deployment)?;
            Ok(vec![perm(
                "patch",
                "apps",
                "deployments",
                Some("scale"),
                target,
                true,
            )])
        }
        Change::RolloutUndo { target, .. } => {
            expect_kind(target, WorkloadKind::Deployment)?;
            Ok(vec![
                perm("patch", "apps", "deployments", None, target, true),
                perm("list", "apps", "replicasets", None, target, false),
            ])
        }
        Change::RolloutRestart { target } => {
            expect_kind(target, WorkloadKind::Deployment)?;
            Ok(vec![perm(
                "patch",
                "apps",
                "deployments",
                None,
                target,
                true,
            )])
        }
        Change::DeletePod { target, .. } => {
            expect_kind(target, WorkloadKind::Pod)?;
            Ok(vec![perm("delete", "", "pods", None, target, true)])
        }
        other => Err(not_kube(other)),
    }
}

fn not_kube(request: &Change) -> SourceError {
    SourceError::Blocked(format!(
        "{} is not a Kubernetes action; the Kubernetes backend cannot run it",
        request.describe()
    ))
}

fn expect_kind(target: &WorkloadRef, kind: WorkloadKind) -> Result<(), SourceError> {
    if target.kind == kind {
        Ok(())
    } else {
        Err(SourceError::Blocked(format!(
            "{target} is not a {}; the Kubernetes backend cannot run this on it",
            kind.noun()
        )))
    }
}

/// A conditional write the server refused (409: the object changed or was
/// replaced since it was read) says `why`; any other error maps as usual.
fn refused_on_conflict(e: &::kube::Error, what: &str, why: String) -> SourceError {
    match e {
        ::kube::Error::Api(s) if s.code == 409 => {
            SourceError::Blocked(format!("{why}: {}", s.message))
        }
        _ => map_kube_error(what, e),
    }
}

fn patch_params(dry_run: bool) -> PatchParams {
    PatchParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PatchParams::default()
    }
}

impl KubeExecutor {
    pub fn new(client: Client, user: String, context: String) -> KubeExecutor {
        KubeExecutor {
            client,
            user,
            context,
        }
    }

    /// Run `request` (or only dry-run it). Returns the one-line summary and,
    /// for a rollback, the request with its revisions resolved.
    async fn run(&self, request: &Change, dry_run: bool) -> Result<Preview, SourceError> {
        permissions(request)?;
        match request {
            Change::Scale { target, from, to } => self
                .scale(target, *from, *to, dry_run)
                .await
                .map(Preview::says),
            Change::RolloutUndo {
                target,
                to_revision,
                plan,
            } => {
                self.undo(target, *to_revision, plan.as_ref(), dry_run)
                    .await
            }
            Change::RolloutRestart { target } => {
                self.restart(target, dry_run).await.map(Preview::says)
            }
            Change::DeletePod { target, uid } => self
                .delete_pod(target, uid.as_deref(), dry_run)
                .await
                .map(Preview::says),
            other => Err(not_kube(other)),
        }
    }

    async fn scale(
        &self,
        target: &WorkloadRef,
        from: u32,
        to: u32,
        dry_run: bool,
    ) -> Result<String, SourceError> {
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), &target.scope);
        let what = format!("scale {target}");
        let now = api
            .get_scale(&target.name)
            .await
            .map_err(|e| map_kube_error(&what, &e))?;
        let current = now
            .spec
            .as_ref()
            .and_then(|s| s.replicas)
            .and_then(|r| u32::try_from(r).ok())
            .unwrap_or(0);
        // What was confirmed was "from -> to": if someone (an autoscaler, a
        // colleague) changed the count since, the user decides again.
        if current != from {
            return Err(SourceError::Blocked(format!(
                "{target} now has {current} replicas, not {from} as confirmed; nothing was changed"
            )));
        }
        // The resourceVersion read makes the change conditional: if the
        // count moves between the read and the write, the server answers 409.
        let mut body = json!({ "spec": { "replicas": to } });
        if let Some(rv) = &now.metadata.resource_version {
            body["metadata"] = json!({ "resourceVersion": rv });
        }
        let scale = api
            .patch_scale(&target.name, &patch_params(dry_run), &Patch::Merge(body))
            .await
            .map_err(|e| {
                refused_on_conflict(
                    &e,
                    &what,
                    format!("{target} changed while it was being scaled; nothing was changed"),
                )
            })?;
        let answered = scale
            .spec
            .and_then(|s| s.replicas)
            .map_or_else(|| "?".to_string(), |r| r.to_string());
        Ok(if dry_run {
            format!("server dry run: {target} replicas {current} -> {answered} accepted")
        } else {
            format!("scaled {target} replicas {current} -> {answered}")
        })
    }

    /// Roll back to `to_revision` (the previous one when `None`). With a
    /// `plan` (what the confirmation showed), refuse if the deployment has
    /// moved on from the plan's revision since.
    async fn undo(
        &self,
        target: &WorkloadRef,
        to_revision: Option<u64>,
        plan: Option<&RollbackPlan>,
        dry_run: bool,
    ) -> Result<Preview, SourceError> {
        let what = format!("rollout undo {target}");
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), &target.scope);
        let d = api
            .get(&target.name)
            .await
            .map_err(|e| map_kube_error(&what, &e))?;
        let rs_api: Api<ReplicaSet> = Api::namespaced(self.client.clone(), &target.scope);
        let mut lp = ListParams::default();
        if let Some(sel) = d.spec.as_ref().map(|s| s.selector.clone()) {
            let sel = Selector::try_from(sel).map_err(|e| {
                SourceError::Other(format!("{what}: bad selector on the deployment: {e}"))
            })?;
            lp = lp.labels_from(&sel);
        }
        let listed = rs_api
            .list(&lp)
            .await
            .map_err(|e| map_kube_error(&format!("{what}: listing replicasets"), &e))?;
        let uid = d.metadata.uid.clone().unwrap_or_default();
        let owned: Vec<&ReplicaSet> = listed
            .items
            .iter()
            .filter(|rs| controller_of(&rs.metadata).is_some_and(|o| o.uid == uid))
            .collect();
        let now = revision_of(&d.metadata).unwrap_or(0);
        if let Some(plan) = plan {
            if plan.from_revision != now {
                return Err(SourceError::Blocked(format!(
                    "{target} is now at revision {now}, not {} as confirmed; nothing was changed",
                    plan.from_revision
                )));
            }
        }
        let rs = rollback_target(&owned, to_revision)
            .map_err(|e| SourceError::NotFound(format!("{what}: {e}")))?;
        let revision = revision_of(&rs.metadata).unwrap_or(0);
        let Some(template) = rs.spec.as_ref().and_then(|s| s.template.clone()) else {
            return Err(SourceError::Other(format!(
                "{what}: replicaset of revision {revision} has no pod template"
            )));
        };
        if d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false) {
            return Err(SourceError::Other(format!(
                "{what}: you cannot roll back a paused deployment; resume it first"
            )));
        }
        let current = d
            .spec
            .as_ref()
            .map(|s| s.template.clone())
            .unwrap_or_default();
        let same = serde_json::to_value(without_hash(&current)).ok()
            == serde_json::to_value(without_hash(&template)).ok();
        let image = images(template.spec.as_ref());
        let resolved = Change::RolloutUndo {
            target: target.clone(),
            to_revision: Some(revision),
            plan: Some(RollbackPlan {
                from_revision: now,
                from: images(current.spec.as_ref()),
                to: image.clone(),
            }),
        };
        let said = |summary: String| Preview {
            summary,
            resolved: Some(resolved.clone()),
        };
        if same {
            return Ok(said(format!(
                "skipped rollback of {target}: the current template already matches revision {revision}"
            )));
        }
        let annotations = rollback_annotations(&d, rs);
        let mut ops = rollback_patch(&template, &annotations);
        // With a plan, the write is conditional on the deployment read
        // above (the revision just checked): a change in between is a 409.
        if let (Some(_), Some(rv), Some(list)) = (
            plan,
            d.metadata.resource_version.as_deref(),
            ops.as_array_mut(),
        ) {
            list.push(json!({"op": "replace", "path": "/metadata/resourceVersion", "value": rv}));
        }
        let patch = Patch::Json::<()>(
            serde_json::from_value(ops)
                .map_err(|e| SourceError::Other(format!("{what}: building the patch: {e}")))?,
        );
        api.patch(&target.name, &patch_params(dry_run), &patch)
            .await
            .map_err(|e| {
                refused_on_conflict(
                    &e,
                    &what,
                    format!("{target} changed while it was being rolled back; nothing was changed"),
                )
            })?;
        Ok(said(if dry_run {
            format!("server dry run: {target} rollback to revision {revision} ({image}) accepted")
        } else {
            format!("rolled back {target} to revision {revision} ({image})")
        }))
    }

    async fn restart(&self, target: &WorkloadRef, dry_run: bool) -> Result<String, SourceError> {
        let what = format!("rollout restart {target}");
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), &target.scope);
        let d = api
            .get(&target.name)
            .await
            .map_err(|e| map_kube_error(&what, &e))?;
        if d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false) {
            return Err(SourceError::Other(format!(
                "{what}: cannot restart a paused deployment; resume it first"
            )));
        }
        let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let mut body = json!({
            "spec": { "template": { "metadata": { "annotations": {
                RESTARTED_AT_ANNOTATION: now
            } } } }
        });
        // Conditional on the deployment just read (not paused, the same
        // object): a change in between is a 409.
        if let Some(rv) = &d.metadata.resource_version {
            body["metadata"] = json!({ "resourceVersion": rv });
        }
        api.patch(
            &target.name,
            &patch_params(dry_run),
            &Patch::Strategic(body),
        )
        .await
        .map_err(|e| {
            refused_on_conflict(
                &e,
                &what,
                format!("{target} changed while it was being restarted; nothing was changed"),
            )
        })?;
        Ok(if dry_run {
            format!("server dry run: {target} restart (restartedAt {now}) accepted")
        } else {
            format!("restarted {target} (restartedAt {now})")
        })
    }

    /// Delete one pod; with its `uid`, only if the name still belongs to
    /// that pod (the API server answers 409 otherwise).
    async fn delete_pod(
        &self,
        target: &WorkloadRef,
        uid: Option<&str>,
        dry_run: bool,
    ) -> Result<String, SourceError> {
        let what = format!("delete {target}");
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &target.scope);
        let dp = DeleteParams {
            dry_run,
            preconditions: uid.map(|uid| ::kube::api::Preconditions {
                uid: Some(uid.to_string()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        api.delete(&target.name, &dp).await.map_err(|e| {
            refused_on_conflict(
                &e,
                &what,
                format!(
                    "{target} is no longer the pod that was chosen (it was replaced); nothing was deleted"
                ),
            )
        })?;
        Ok(if dry_run {
            format!("server dry run: delete {target} accepted")
        } else {
            format!("deleted {target}; its controller will replace it")
        })
    }

    /// Ask the server whether the current identity may do `perm`.
    /// `Ok(None)`: allowed; `Ok(Some(reason))`: denied.
    pub async fn review(&self, perm: &Permission) -> Result<Option<String>, SourceError> {
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client.clone());
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(perm.verb.to_string()),
                    group: Some(perm.group.to_string()),
                    resource: Some(perm.resource.to_string()),
                    subresource: perm.subresource.map(str::to_string),
                    namespace: Some(perm.namespace.clone()),
                    name: perm.name.clone(),
                    ..ResourceAttributes::default()
                }),
                ..SelfSubjectAccessReviewSpec::default()
            },
            ..SelfSubjectAccessReview::default()
        };
        let answer = api
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| map_kube_error("access review", &e))?;
        let status = answer.status.unwrap_or_default();
        if status.allowed && !status.denied.unwrap_or(false) {
            return Ok(None);
        }
        let mut text = format!(
            "{} cannot {} {} in {}",
            self.user,
            perm.verb,
            perm.resource_text(),
            perm.namespace
        );
        if let Some(r) = status.reason.filter(|r| !r.is_empty()) {
            text.push_str(&format!(" ({r})"));
        }
        Ok(Some(text))
    }
}

#[async_trait]
impl ChangeExecutor for KubeExecutor {
    fn context(&self, _request: &Change) -> Option<String> {
        Some(self.context.clone())
    }

    async fn execute(&self, request: &Change) -> Result<ChangeOutcome, SourceError> {
        let summary = self.run(request, false).await?.summary;
        Ok(ChangeOutcome {
            summary,
            details: Vec::new(),
        })
    }

    async fn preview(&self, request: &Change) -> Result<Option<Preview>, SourceError> {
        self.run(request, true).await.map(Some)
    }

    async fn allowed(&self, request: &Change) -> Result<(), String> {
        let perms = permissions(request).map_err(|e| e.to_string())?;
        for perm in &perms {
            match self.review(perm).await {
                Ok(None) => {}
                Ok(Some(denied)) => return Err(denied),
                // Access could not be checked; the server still enforces it
                // when the action runs.
                Err(e) => {
                    tracing::warn!(error = %e, "access review failed");
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}
