//! Fetching what a detail view shows of a pod or deployment: the object,
//! the ReplicaSets and pods around it, and its events
//! (`fieldSelector=involvedObject.uid=…`, as `kubectl describe` asks).

use std::time::SystemTime;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Api;
use kube::api::ListParams;

use super::config::map_kube_error;
use super::convert::detail::{deployment_detail, pod_detail};
use crate::domain::{Detail, DetailTarget, WorkloadKind};
use crate::source::SourceError;

async fn events_of(
    client: &kube::Client,
    namespace: &str,
    uid: Option<&str>,
) -> Result<Vec<Event>, SourceError> {
    let Some(uid) = uid else {
        return Ok(Vec::new());
    };
    let api: Api<Event> = Api::namespaced(client.clone(), namespace);
    let lp = ListParams::default().fields(&format!("involvedObject.uid={uid}"));
    api.list(&lp)
        .await
        .map(|l| l.items)
        .map_err(|e| map_kube_error("list events", &e))
}

async fn replica_sets(
    client: &kube::Client,
    namespace: &str,
) -> Result<Vec<ReplicaSet>, SourceError> {
    let api: Api<ReplicaSet> = Api::namespaced(client.clone(), namespace);
    api.list(&ListParams::default())
        .await
        .map(|l| l.items)
        .map_err(|e| map_kube_error("list replicasets", &e))
}

/// Describe a pod or deployment; other targets are not Kubernetes objects.
pub async fn describe(client: &kube::Client, target: &DetailTarget) -> Result<Detail, SourceError> {
    let DetailTarget::Workload(w) = target else {
        return Err(SourceError::Blocked(format!(
            "{target} is not a Kubernetes object"
        )));
    };
    let ns = w.scope.as_str();
    match w.kind {
        WorkloadKind::Pod => {
            let api: Api<Pod> = Api::namespaced(client.clone(), ns);
            let pod = api
                .get(&w.name)
                .await
                .map_err(|e| map_kube_error(&format!("get pod {ns}/{}", w.name), &e))?;
            let rss = replica_sets(client, ns).await?;
            let events = events_of(client, ns, pod.metadata.uid.as_deref()).await?;
            Ok(pod_detail(&pod, &rss, &events, SystemTime::now()))
        }
        WorkloadKind::Deployment => {
            let api: Api<Deployment> = Api::namespaced(client.clone(), ns);
            let d = api
                .get(&w.name)
                .await
                .map_err(|e| map_kube_error(&format!("get deployment {ns}/{}", w.name), &e))?;
            let rss = replica_sets(client, ns).await?;
            let selector = d
                .spec
                .as_ref()
                .and_then(|s| s.selector.match_labels.as_ref())
                .map(|l| {
                    l.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .unwrap_or_default();
            let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
            let pods = pods
                .list(&ListParams::default().labels(&selector))
                .await
                .map(|l| l.items)
                .map_err(|e| map_kube_error("list pods", &e))?;
            let events = events_of(client, ns, d.metadata.uid.as_deref()).await?;
            Ok(deployment_detail(
                &d,
                &rss,
                &pods,
                &events,
                SystemTime::now(),
            ))
        }
        WorkloadKind::EcsService | WorkloadKind::EcsTask => Err(SourceError::Blocked(format!(
            "{target} is not a Kubernetes object"
        ))),
    }
}
