//! Deployments and ReplicaSets as `apps/v1` objects, with the status and
//! conditions the controllers would write.

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::sim::k8s::{Deployment, K8sState, Pod, ReplicaSet, TEMPLATE_HASH_LABEL};

use super::metadata::{object_meta, opt_map, time};
use super::template::template_json;

/// The ReplicaSet that runs a deployment's current template.
pub fn new_replica_set<'a>(k: &'a K8sState, d: &Deployment) -> Option<&'a ReplicaSet> {
    let hash = d.template.hash();
    k.replica_sets_of(&d.meta.uid)
        .find(|rs| rs.template_hash() == hash)
}

/// A simulated deployment as an `apps/v1` Deployment.
pub fn deployment(k: &K8sState, d: &Deployment) -> apps::Deployment {
    let tj = template_json(&d.template, None);
    let template: core::PodTemplateSpec = serde_json::from_value(tj).unwrap_or_default();
    let s = &d.status;
    let nz = |n: u32| (n > 0).then_some(n as i32);
    let unavailable = s.replicas.saturating_sub(s.available_replicas);
    let conditions = deployment_conditions(k, d);
    let mut metadata = object_meta(&d.meta, None);
    metadata.generation = Some(d.meta.generation as i64);
    apps::Deployment {
        metadata,
        spec: Some(apps::DeploymentSpec {
            replicas: Some(d.replicas as i32),
            selector: meta::LabelSelector {
                match_labels: Some(d.selector.clone()),
                ..Default::default()
            },
            template,
            strategy: Some(apps::DeploymentStrategy {
                type_: Some("RollingUpdate".into()),
                rolling_update: Some(apps::RollingUpdateDeployment {
                    max_surge: Some(IntOrString::String("25%".into())),
                    max_unavailable: Some(IntOrString::String("25%".into())),
                }),
            }),
            revision_history_limit: Some(10),
            progress_deadline_seconds: Some(600),
            ..Default::default()
        }),
        status: Some(apps::DeploymentStatus {
            observed_generation: Some(s.observed_generation as i64),
            replicas: nz(s.replicas),
            updated_replicas: nz(s.updated_replicas),
            ready_replicas: nz(s.ready_replicas),
            available_replicas: nz(s.available_replicas),
            unavailable_replicas: nz(unavailable),
            conditions: Some(conditions),
            ..Default::default()
        }),
    }
}

/// The Available and Progressing conditions the deployment controller
/// would write.
fn deployment_conditions(k: &K8sState, d: &Deployment) -> Vec<apps::DeploymentCondition> {
    let s = &d.status;
    let min_available = d.replicas.saturating_sub(d.max_unavailable());
    let available = s.available_replicas >= min_available;
    let new_rs = new_replica_set(k, d);
    let complete = s.updated_replicas == d.replicas
        && s.replicas == d.replicas
        && s.available_replicas == d.replicas
        && s.observed_generation >= d.meta.generation;
    let rs_name = new_rs.map_or_else(|| d.meta.name.clone(), |rs| rs.meta.name.clone());
    let progressed_at = new_rs.map_or(d.meta.creation, |rs| rs.meta.creation);
    vec![
        apps::DeploymentCondition {
            type_: "Available".into(),
            status: if available { "True" } else { "False" }.into(),
            reason: Some(
                if available {
                    "MinimumReplicasAvailable"
                } else {
                    "MinimumReplicasUnavailable"
                }
                .into(),
            ),
            message: Some(
                if available {
                    "Deployment has minimum availability."
                } else {
                    "Deployment does not have minimum availability."
                }
                .into(),
            ),
            last_update_time: Some(time(d.meta.creation)),
            last_transition_time: Some(time(d.meta.creation)),
        },
        apps::DeploymentCondition {
            type_: "Progressing".into(),
            status: "True".into(),
            reason: Some(
                if complete {
                    "NewReplicaSetAvailable"
                } else {
                    "ReplicaSetUpdated"
                }
                .into(),
            ),
            message: Some(if complete {
                format!("ReplicaSet \"{rs_name}\" has successfully progressed.")
            } else {
                format!("ReplicaSet \"{rs_name}\" is progressing.")
            }),
            last_update_time: Some(time(progressed_at)),
            last_transition_time: Some(time(d.meta.creation)),
        },
    ]
}

/// A simulated ReplicaSet as an `apps/v1` ReplicaSet.
pub fn replica_set(k: &K8sState, rs: &ReplicaSet) -> apps::ReplicaSet {
    let hash = rs.template_hash().to_string();
    let tj = template_json(&rs.template, Some(&hash));
    let template: core::PodTemplateSpec = serde_json::from_value(tj).unwrap_or_default();
    let owner = rs
        .meta
        .owner
        .as_ref()
        .and_then(|o| k.deployments.iter().find(|d| d.meta.uid == o.uid));
    let mut metadata = object_meta(&rs.meta, None);
    metadata.generation = Some(rs.meta.generation as i64);
    let mut annotations = rs.meta.annotations.clone();
    if let Some(d) = owner {
        annotations.insert(
            "deployment.kubernetes.io/desired-replicas".into(),
            d.replicas.to_string(),
        );
        annotations.insert(
            "deployment.kubernetes.io/max-replicas".into(),
            (d.replicas + d.max_surge()).to_string(),
        );
    }
    metadata.annotations = opt_map(&annotations);
    let pods: Vec<&Pod> = k
        .pods_of(&rs.meta.uid)
        .filter(|p| !p.terminating())
        .collect();
    let ready = pods.iter().filter(|p| p.ready()).count() as i32;
    let mut selector = rs.template.labels.clone();
    selector.insert(TEMPLATE_HASH_LABEL.into(), hash);
    apps::ReplicaSet {
        metadata,
        spec: Some(apps::ReplicaSetSpec {
            replicas: Some(rs.replicas as i32),
            selector: meta::LabelSelector {
                match_labels: Some(selector),
                ..Default::default()
            },
            template: Some(template),
            ..Default::default()
        }),
        status: Some(apps::ReplicaSetStatus {
            replicas: pods.len() as i32,
            fully_labeled_replicas: (!pods.is_empty()).then_some(pods.len() as i32),
            ready_replicas: (ready > 0).then_some(ready),
            available_replicas: (ready > 0).then_some(ready),
            observed_generation: Some(rs.meta.generation as i64),
            ..Default::default()
        }),
    }
}
