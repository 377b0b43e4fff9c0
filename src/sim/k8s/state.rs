//! One namespace's objects, the resourceVersion counter, lookups along
//! owner references, and making new objects.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime};

use crate::sim::rng::Rng;

use super::journal::{Journal, Object};
use super::memory::base_memory;
use super::objects::{
    ContainerState, ContainerStatus, Deployment, DeploymentStatus, Event, ObjectMeta, OwnerRef,
    Pod, PodPhase, PodTemplate, REVISION_ANNOTATION, ReplicaSet, TEMPLATE_HASH_LABEL,
};

/// One namespace's worth of workloads.
#[derive(Debug, Clone, PartialEq)]
pub struct K8sState {
    pub namespace: String,
    pub resource_version: u64,
    pub deployments: Vec<Deployment>,
    pub replica_sets: Vec<ReplicaSet>,
    pub pods: Vec<Pod>,
    /// `core/v1` Events about the objects above, oldest first.
    pub events: Vec<Event>,
    /// Object changes, for watches.
    pub journal: Journal,
}

impl K8sState {
    pub fn new(namespace: &str) -> Self {
        Self {
            namespace: namespace.into(),
            resource_version: 1000,
            deployments: Vec::new(),
            replica_sets: Vec::new(),
            pods: Vec::new(),
            events: Vec::new(),
            journal: Journal::default(),
        }
    }

    /// Start the journal at the current state: what exists now is known, and
    /// a watch must start at or after the current resourceVersion.
    pub fn journal_baseline(&mut self) {
        let mut known = BTreeSet::new();
        known.extend(self.deployments.iter().map(|o| o.meta.uid.clone()));
        known.extend(self.replica_sets.iter().map(|o| o.meta.uid.clone()));
        known.extend(self.pods.iter().map(|o| o.meta.uid.clone()));
        known.extend(self.events.iter().map(|o| o.meta.uid.clone()));
        self.journal = Journal::baseline(known, self.resource_version);
    }

    /// Note an object that has just been removed, for the journal.
    pub fn note_removed(&mut self, object: Object) {
        self.journal.note_removed(object);
    }

    /// Append every change since the last call to the journal.
    pub fn record_changes(&mut self) {
        let since = self.journal.recorded;
        let changed = self.changed_since(since);
        let mut rv = self.resource_version;
        self.journal.record(changed, &mut rv);
        self.resource_version = rv;
    }

    /// Every object whose resourceVersion is past `since`.
    fn changed_since(&self, since: u64) -> Vec<Object> {
        let mut changed: Vec<Object> = Vec::new();
        changed.extend(
            self.deployments
                .iter()
                .filter(|o| o.meta.resource_version > since)
                .map(|o| Object::Deployment(Box::new(o.clone()))),
        );
        changed.extend(
            self.replica_sets
                .iter()
                .filter(|o| o.meta.resource_version > since)
                .map(|o| Object::ReplicaSet(Box::new(o.clone()))),
        );
        changed.extend(
            self.pods
                .iter()
                .filter(|o| o.meta.resource_version > since)
                .map(|o| Object::Pod(Box::new(o.clone()))),
        );
        changed.extend(
            self.events
                .iter()
                .filter(|o| o.meta.resource_version > since)
                .map(|o| Object::Event(Box::new(o.clone()))),
        );
        changed
    }

    pub fn next_rv(&mut self) -> u64 {
        self.resource_version += 1;
        self.resource_version
    }

    pub fn meta(
        &mut self,
        rng: &mut Rng,
        name: String,
        labels: BTreeMap<String, String>,
        created: SystemTime,
    ) -> ObjectMeta {
        ObjectMeta {
            name,
            namespace: self.namespace.clone(),
            uid: rng.uuid(),
            resource_version: self.next_rv(),
            generation: 1,
            labels,
            annotations: BTreeMap::new(),
            owner: None,
            creation: created,
            deletion: None,
        }
    }

    pub fn deployment(&self, name: &str) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.meta.name == name)
    }

    pub fn deployment_mut(&mut self, name: &str) -> Option<&mut Deployment> {
        self.deployments.iter_mut().find(|d| d.meta.name == name)
    }

    /// ReplicaSets owned by a deployment (by uid).
    pub fn replica_sets_of(&self, deployment_uid: &str) -> impl Iterator<Item = &ReplicaSet> {
        self.replica_sets.iter().filter(move |rs| {
            rs.meta
                .owner
                .as_ref()
                .is_some_and(|o| o.uid == deployment_uid)
        })
    }

    /// Pods owned by a ReplicaSet (by uid).
    pub fn pods_of<'a>(&'a self, rs_uid: &'a str) -> impl Iterator<Item = &'a Pod> + 'a {
        self.pods
            .iter()
            .filter(move |p| p.meta.owner.as_ref().is_some_and(|o| o.uid == rs_uid))
    }

    /// The deployment a pod belongs to (through its ReplicaSet).
    pub fn deployment_of_pod(&self, pod: &Pod) -> Option<&Deployment> {
        let rs_uid = &pod.meta.owner.as_ref()?.uid;
        let rs = self.replica_sets.iter().find(|rs| &rs.meta.uid == rs_uid)?;
        let d_uid = &rs.meta.owner.as_ref()?.uid;
        self.deployments.iter().find(|d| &d.meta.uid == d_uid)
    }

    pub fn replica_set_of_pod(&self, pod: &Pod) -> Option<&ReplicaSet> {
        let rs_uid = &pod.meta.owner.as_ref()?.uid;
        self.replica_sets.iter().find(|rs| &rs.meta.uid == rs_uid)
    }

    /// Create a deployment with one ReplicaSet at `revision`, fully rolled out.
    pub fn add_deployment(
        &mut self,
        rng: &mut Rng,
        name: &str,
        replicas: u32,
        template: PodTemplate,
        revision: u64,
        created: SystemTime,
    ) {
        let labels: BTreeMap<String, String> = [("app".to_string(), name.to_string())].into();
        let mut meta = self.meta(rng, name.into(), labels.clone(), created);
        meta.generation = revision;
        meta.annotations
            .insert(REVISION_ANNOTATION.into(), revision.to_string());
        let d = Deployment {
            meta,
            replicas,
            selector: labels,
            template,
            status: DeploymentStatus {
                observed_generation: revision,
                ..Default::default()
            },
        };
        self.deployments.push(d);
    }

    /// Add a ReplicaSet for a deployment's template (used to build history).
    pub fn add_replica_set(
        &mut self,
        rng: &mut Rng,
        deployment: &str,
        template: &PodTemplate,
        revision: u64,
        replicas: u32,
        created: SystemTime,
    ) -> Option<String> {
        let d = self.deployment(deployment)?;
        let owner = OwnerRef {
            kind: "Deployment".into(),
            name: d.meta.name.clone(),
            uid: d.meta.uid.clone(),
        };
        let hash = template.hash();
        let mut labels = template.labels.clone();
        labels.insert(TEMPLATE_HASH_LABEL.into(), hash.clone());
        let mut meta = self.meta(rng, format!("{deployment}-{hash}"), labels, created);
        meta.owner = Some(owner);
        meta.annotations
            .insert(REVISION_ANNOTATION.into(), revision.to_string());
        let uid = meta.uid.clone();
        self.replica_sets.push(ReplicaSet {
            meta,
            replicas,
            template: template.clone(),
            status_ready: 0,
        });
        Some(uid)
    }

    /// A new pod of a ReplicaSet. `running` makes it already up (initial state).
    pub fn add_pod(
        &mut self,
        rng: &mut Rng,
        rs_index: usize,
        now: SystemTime,
        running: bool,
        created: SystemTime,
    ) {
        let Some(rs) = self.replica_sets.get(rs_index) else {
            return;
        };
        let name = format!("{}-{}", rs.meta.name, rng.k8s_suffix(5));
        let owner = OwnerRef {
            kind: "ReplicaSet".into(),
            name: rs.meta.name.clone(),
            uid: rs.meta.uid.clone(),
        };
        let mut labels = rs.template.labels.clone();
        labels.insert(TEMPLATE_HASH_LABEL.into(), rs.template_hash().to_string());
        let template = rs.template.clone();
        let mut meta = self.meta(rng, name, labels, created);
        meta.owner = Some(owner);
        let ip = format!("10.42.{}.{}", rng.range(0, 4), rng.range(2, 250));
        let node = format!(
            "ip-10-0-{}-{}.eu-west-1.compute.internal",
            rng.range(1, 4),
            rng.range(10, 250)
        );
        let base = base_memory(&template);
        let (phase, state, ready, memory, ready_at) = if running {
            (
                PodPhase::Running,
                ContainerState::Running { started: created },
                true,
                base * rng.uniform(0.95, 1.1),
                Some(created),
            )
        } else {
            (
                PodPhase::Pending,
                ContainerState::Waiting {
                    reason: "ContainerCreating".into(),
                },
                false,
                0.0,
                None,
            )
        };
        let start_at = if running {
            created
        } else {
            now + Duration::from_secs(rng.range(2, 5))
        };
        self.pods.push(Pod {
            meta,
            phase,
            ip,
            node,
            memory_limit_mib: template.memory_limit_mib,
            container: ContainerStatus {
                name: template.container.clone(),
                image: template.image.clone(),
                state,
                ready,
                restart_count: 0,
                last_termination: None,
            },
            restart_times: Vec::new(),
            memory_mib: memory,
            start_at,
            ready_at,
            backoff_until: None,
            crash_streak: 0,
        });
    }
}
