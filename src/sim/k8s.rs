//! Kubernetes objects of the simulated estate, modelled closely enough to be
//! served over the Kubernetes REST API later: uids, a resourceVersion
//! counter, labels, owner references, revision annotations, generations.
//! The controllers here (deployment, ReplicaSet, kubelet) follow the real
//! ones' rules in miniature.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, SystemTime};

use super::rng::{Rng, fnv1a, k8s_hash};

pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
pub const RESTARTED_AT_ANNOTATION: &str = "kubectl.kubernetes.io/restartedAt";
pub const TEMPLATE_HASH_LABEL: &str = "pod-template-hash";
/// Events kept (the oldest are deleted first, as the event TTL would).
pub const EVENT_CAPACITY: usize = 1000;
/// Changes kept for watches; a watch from an older resourceVersion gets 410 Gone.
pub const JOURNAL_CAPACITY: usize = 5000;

/// Crash-loop backoff: 10 s doubling, capped at five minutes, as the kubelet does.
const BACKOFF_BASE: u64 = 10;
const BACKOFF_CAP: u64 = 300;
/// A container that runs this long resets its backoff.
const BACKOFF_RESET: Duration = Duration::from_secs(600);
/// How long a deleted pod stays Terminating.
const TERMINATION_GRACE: Duration = Duration::from_secs(3);

/// `metadata` of any object.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectMeta {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub resource_version: u64,
    pub generation: u64,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub owner: Option<OwnerRef>,
    pub creation: SystemTime,
    pub deletion: Option<SystemTime>,
}

/// `metadata.ownerReferences[0]` (controller = true).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRef {
    pub kind: String,
    pub name: String,
    pub uid: String,
}

/// The part of a pod spec the simulation cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodTemplate {
    pub labels: BTreeMap<String, String>,
    /// Annotations on the template (`kubectl.kubernetes.io/restartedAt`).
    pub annotations: BTreeMap<String, String>,
    pub container: String,
    pub image: String,
    pub memory_limit_mib: u64,
    pub cpu_millis: u64,
    /// The rest of the template as Kubernetes JSON (a `PodTemplateSpec`), when
    /// it was written through the API with fields the simulation does not
    /// model (env, ports, probes, ...). `None` for templates the simulation
    /// made itself. The fields above win over the same fields in here.
    pub extra: Option<serde_json::Value>,
}

impl PodTemplate {
    /// The image tag (`1.9.0`).
    pub fn tag(&self) -> &str {
        self.image.rsplit_once(':').map_or("latest", |(_, t)| t)
    }

    /// The pod-template-hash of this template.
    pub fn hash(&self) -> String {
        let mut canon = format!(
            "{}|{}|{}|{}",
            self.container, self.image, self.memory_limit_mib, self.cpu_millis
        );
        for (k, v) in self.labels.iter().chain(self.annotations.iter()) {
            canon.push_str(&format!("|{k}={v}"));
        }
        if let Some(extra) = &self.extra {
            canon.push_str(&format!("|{extra}"));
        }
        k8s_hash(&canon, 10)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeploymentStatus {
    pub observed_generation: u64,
    pub replicas: u32,
    pub updated_replicas: u32,
    pub ready_replicas: u32,
    pub available_replicas: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    pub meta: ObjectMeta,
    pub replicas: u32,
    pub selector: BTreeMap<String, String>,
    pub template: PodTemplate,
    pub status: DeploymentStatus,
}

impl Deployment {
    pub fn revision(&self) -> u64 {
        revision_of(&self.meta)
    }

    /// RollingUpdate defaults: maxSurge 25% rounded up, maxUnavailable 25% rounded down.
    pub fn max_surge(&self) -> u32 {
        self.replicas.div_ceil(4)
    }

    pub fn max_unavailable(&self) -> u32 {
        let u = self.replicas / 4;
        if u == 0 && self.max_surge() == 0 {
            1
        } else {
            u
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaSet {
    pub meta: ObjectMeta,
    pub replicas: u32,
    pub template: PodTemplate,
    pub status_ready: u32,
}

impl ReplicaSet {
    pub fn revision(&self) -> u64 {
        revision_of(&self.meta)
    }

    pub fn template_hash(&self) -> &str {
        self.meta
            .labels
            .get(TEMPLATE_HASH_LABEL)
            .map_or("", String::as_str)
    }
}

fn revision_of(meta: &ObjectMeta) -> u64 {
    meta.annotations
        .get(REVISION_ANNOTATION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodPhase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl PodPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            PodPhase::Pending => "Pending",
            PodPhase::Running => "Running",
            PodPhase::Succeeded => "Succeeded",
            PodPhase::Failed => "Failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerState {
    Waiting {
        reason: String,
    },
    Running {
        started: SystemTime,
    },
    Terminated {
        reason: String,
        exit_code: i32,
        finished: SystemTime,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Termination {
    pub reason: String,
    pub exit_code: i32,
    pub finished: SystemTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerStatus {
    pub name: String,
    pub image: String,
    pub state: ContainerState,
    pub ready: bool,
    pub restart_count: u32,
    pub last_termination: Option<Termination>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pod {
    pub meta: ObjectMeta,
    pub phase: PodPhase,
    pub ip: String,
    pub node: String,
    pub memory_limit_mib: u64,
    pub container: ContainerStatus,
    /// When each restart happened (for "restarts in the last 10 minutes").
    pub restart_times: Vec<SystemTime>,
    /// Working set of the container.
    pub memory_mib: f64,
    /// Simulation bookkeeping: when the container starts / becomes ready /
    /// leaves backoff, and the current crash streak.
    pub start_at: SystemTime,
    pub ready_at: Option<SystemTime>,
    pub backoff_until: Option<SystemTime>,
    pub crash_streak: u32,
}

impl Pod {
    pub fn app(&self) -> &str {
        self.meta.labels.get("app").map_or("", String::as_str)
    }

    pub fn terminating(&self) -> bool {
        self.meta.deletion.is_some()
    }

    pub fn container_running(&self) -> bool {
        !self.terminating() && matches!(self.container.state, ContainerState::Running { .. })
    }

    pub fn ready(&self) -> bool {
        !self.terminating() && self.container.ready
    }

    /// The STATUS column of `kubectl get pods`.
    pub fn status_text(&self) -> String {
        if self.terminating() {
            return "Terminating".into();
        }
        match &self.container.state {
            ContainerState::Waiting { reason } => reason.clone(),
            ContainerState::Terminated { reason, .. } => reason.clone(),
            ContainerState::Running { .. } => self.phase.as_str().into(),
        }
    }

    pub fn restarts_within(&self, now: SystemTime, window: Duration) -> usize {
        self.restart_times
            .iter()
            .filter(|t| now.duration_since(**t).map_or(true, |d| d <= window))
            .count()
    }

    pub fn memory_pct(&self) -> f64 {
        if self.memory_limit_mib == 0 {
            0.0
        } else {
            self.memory_mib / self.memory_limit_mib as f64 * 100.0
        }
    }
}

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

/// The object an [`Event`] is about (`involvedObject`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvolvedObject {
    pub kind: String,
    pub api_version: String,
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub field_path: Option<String>,
}

/// A `core/v1` Event. Repeats of the same reason and message about the same
/// object are counted on one event, as the event recorder does.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub meta: ObjectMeta,
    pub involved: InvolvedObject,
    pub reason: String,
    pub message: String,
    pub warning: bool,
    /// `source.component` (`kubelet`, `deployment-controller`, ...).
    pub component: String,
    /// `source.host` (the node, for kubelet events).
    pub host: Option<String>,
    pub first: SystemTime,
    pub last: SystemTime,
    pub count: u32,
}

/// What happened to an object (a watch event type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

/// A snapshot of one object, as it was at a change.
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    Deployment(Box<Deployment>),
    ReplicaSet(Box<ReplicaSet>),
    Pod(Box<Pod>),
    Event(Box<Event>),
}

impl Object {
    pub fn meta(&self) -> &ObjectMeta {
        match self {
            Object::Deployment(o) => &o.meta,
            Object::ReplicaSet(o) => &o.meta,
            Object::Pod(o) => &o.meta,
            Object::Event(o) => &o.meta,
        }
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Object::Deployment(o) => &mut o.meta,
            Object::ReplicaSet(o) => &mut o.meta,
            Object::Pod(o) => &mut o.meta,
            Object::Event(o) => &mut o.meta,
        }
    }
}

/// One change: the object as it was at resourceVersion `rv`.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub rv: u64,
    pub kind: ChangeType,
    pub object: Object,
}

/// A bounded log of object changes, recorded by [`K8sState::record_changes`]
/// by comparing resourceVersions: every change up to `recorded` is in it (or
/// was dropped, and then `floor` is at least its resourceVersion).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Journal {
    pub changes: VecDeque<Change>,
    /// A watch from a resourceVersion below this has lost changes (410 Gone).
    pub floor: u64,
    /// The global resourceVersion when changes were last recorded.
    pub recorded: u64,
    /// Uids of the objects the journal has seen added and not deleted.
    known: BTreeSet<String>,
    /// Objects removed since the last recording (their last state).
    removed: Vec<Object>,
}

impl Journal {
    /// Changes after `rv`, or `None` when some of them were dropped.
    pub fn since(&self, rv: u64) -> Option<impl Iterator<Item = &Change>> {
        if rv < self.floor {
            return None;
        }
        let start = self.changes.partition_point(|c| c.rv <= rv);
        Some(self.changes.iter().skip(start))
    }
}

/// A uuid-shaped id derived from a string (no randomness, so recording
/// events never disturbs the simulation's random stream).
fn derived_uid(seed: &str) -> String {
    let a = fnv1a(seed);
    let b = fnv1a(&format!("{seed}#"));
    let h = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// The reason, message and source of an event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventText {
    pub reason: &'static str,
    pub message: String,
    pub warning: bool,
    pub component: &'static str,
    pub host: Option<String>,
}

impl EventText {
    pub fn normal(reason: &'static str, component: &'static str, message: String) -> Self {
        Self {
            reason,
            message,
            warning: false,
            component,
            host: None,
        }
    }

    pub fn warning(reason: &'static str, component: &'static str, message: String) -> Self {
        Self {
            warning: true,
            ..Self::normal(reason, component, message)
        }
    }

    pub fn on(mut self, host: &str) -> Self {
        self.host = Some(host.to_string());
        self
    }
}

impl ObjectMeta {
    /// This object as an event's `involvedObject`.
    pub fn involved(&self, kind: &str, api_version: &str) -> InvolvedObject {
        InvolvedObject {
            kind: kind.into(),
            api_version: api_version.into(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            uid: self.uid.clone(),
            field_path: None,
        }
    }
}

/// What drives the pods' memory: per-app demand shared by running containers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryModel {
    /// Worker backlog memory (MiB) shared by the running worker containers.
    pub worker_demand_mib: f64,
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
        self.journal = Journal {
            changes: VecDeque::new(),
            floor: self.resource_version,
            recorded: self.resource_version,
            known,
            removed: Vec::new(),
        };
    }

    /// Note an object that has just been removed, for the journal.
    pub fn note_removed(&mut self, object: Object) {
        self.journal.removed.push(object);
    }

    /// Append every change since the last call to the journal.
    pub fn record_changes(&mut self) {
        let since = self.journal.recorded;
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
        let removed = std::mem::take(&mut self.journal.removed);
        if changed.is_empty() && removed.is_empty() {
            self.journal.recorded = self.resource_version;
            return;
        }
        changed.sort_by_key(|o| o.meta().resource_version);
        for object in changed {
            let uid = object.meta().uid.clone();
            let kind = if self.journal.known.insert(uid) {
                ChangeType::Added
            } else {
                ChangeType::Modified
            };
            self.journal.changes.push_back(Change {
                rv: object.meta().resource_version,
                kind,
                object,
            });
        }
        for mut object in removed {
            if !self.journal.known.remove(&object.meta().uid) {
                continue;
            }
            let rv = self.next_rv();
            object.meta_mut().resource_version = rv;
            self.journal.changes.push_back(Change {
                rv,
                kind: ChangeType::Deleted,
                object,
            });
        }
        while self.journal.changes.len() > JOURNAL_CAPACITY {
            if let Some(c) = self.journal.changes.pop_front() {
                self.journal.floor = self.journal.floor.max(c.rv);
            }
        }
        self.journal.recorded = self.resource_version;
    }

    /// Record an event about an object; a repeat of the last event with the
    /// same object, reason and message only bumps its count.
    pub fn emit_event(&mut self, involved: InvolvedObject, what: EventText, now: SystemTime) {
        let rv = self.next_rv();
        if let Some(e) = self.events.iter_mut().rev().find(|e| {
            e.involved.uid == involved.uid && e.reason == what.reason && e.message == what.message
        }) {
            e.count += 1;
            e.last = now;
            e.meta.resource_version = rv;
            return;
        }
        let name = format!(
            "{}.{:016x}",
            involved.name,
            fnv1a(&format!("{}/{rv}", involved.uid))
        );
        let meta = ObjectMeta {
            uid: derived_uid(&format!("event/{name}")),
            name,
            namespace: involved.namespace.clone(),
            resource_version: rv,
            generation: 0,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            owner: None,
            creation: now,
            deletion: None,
        };
        self.events.push(Event {
            meta,
            involved,
            reason: what.reason.into(),
            message: what.message,
            warning: what.warning,
            component: what.component.into(),
            host: what.host,
            first: now,
            last: now,
            count: 1,
        });
        if self.events.len() > EVENT_CAPACITY {
            let gone = self.events.remove(0);
            self.note_removed(Object::Event(Box::new(gone)));
        }
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

    /// The deployment controller: pick or create the ReplicaSet for the
    /// current template, then scale new and old ReplicaSets within
    /// maxSurge/maxUnavailable.
    pub fn reconcile_deployments(&mut self, rng: &mut Rng, now: SystemTime) {
        for di in 0..self.deployments.len() {
            let d = self.deployments[di].clone();
            let hash = d.template.hash();
            let owned: Vec<usize> = (0..self.replica_sets.len())
                .filter(|&i| {
                    self.replica_sets[i]
                        .meta
                        .owner
                        .as_ref()
                        .is_some_and(|o| o.uid == d.meta.uid)
                })
                .collect();
            let max_rev = owned
                .iter()
                .map(|&i| self.replica_sets[i].revision())
                .max()
                .unwrap_or(0);
            let new_idx = match owned
                .iter()
                .copied()
                .find(|&i| self.replica_sets[i].template_hash() == hash)
            {
                Some(i) => {
                    if self.replica_sets[i].revision() < max_rev {
                        // kubectl rollout undo: the old ReplicaSet becomes the newest revision.
                        let rv = self.next_rv();
                        let rs = &mut self.replica_sets[i];
                        rs.meta
                            .annotations
                            .insert(REVISION_ANNOTATION.into(), (max_rev + 1).to_string());
                        rs.meta.resource_version = rv;
                    }
                    i
                }
                None => {
                    if self
                        .add_replica_set(rng, &d.meta.name, &d.template, max_rev + 1, 0, now)
                        .is_none()
                    {
                        continue;
                    }
                    self.replica_sets.len() - 1
                }
            };
            let new_rev = self.replica_sets[new_idx].revision();
            let owned: Vec<usize> = (0..self.replica_sets.len())
                .filter(|&i| {
                    self.replica_sets[i]
                        .meta
                        .owner
                        .as_ref()
                        .is_some_and(|o| o.uid == d.meta.uid)
                })
                .collect();
            let old: Vec<usize> = owned
                .iter()
                .copied()
                .filter(|&i| i != new_idx && self.replica_sets[i].replicas > 0)
                .collect();
            let mut changes: Vec<(usize, u32)> = Vec::new();
            if old.is_empty() {
                if self.replica_sets[new_idx].replicas != d.replicas {
                    changes.push((new_idx, d.replicas));
                }
            } else {
                let total: u32 = owned.iter().map(|&i| self.replica_sets[i].replicas).sum();
                let new_rs = &self.replica_sets[new_idx];
                let mut new_replicas = new_rs.replicas;
                // Scale up the new ReplicaSet within maxSurge.
                let max_total = d.replicas + d.max_surge();
                if new_replicas < d.replicas && total < max_total {
                    new_replicas = (new_replicas + (max_total - total)).min(d.replicas);
                    changes.push((new_idx, new_replicas));
                } else if new_replicas > d.replicas {
                    new_replicas = d.replicas;
                    changes.push((new_idx, new_replicas));
                }
                // Scale down old ones while keeping minAvailable ready.
                let ready_of = |i: usize| {
                    self.pods_of(&self.replica_sets[i].meta.uid)
                        .filter(|p| p.ready())
                        .count() as u32
                };
                let new_ready = ready_of(new_idx);
                let new_unavailable = self.replica_sets[new_idx]
                    .replicas
                    .saturating_sub(new_ready);
                let min_available = d.replicas.saturating_sub(d.max_unavailable());
                // First drop old replicas that are not ready at all (cleanupUnhealthyReplicas).
                let mut budget = total
                    .saturating_sub(min_available)
                    .saturating_sub(new_unavailable) as i64;
                let mut old_sorted = old.clone();
                old_sorted.sort_by_key(|&i| self.replica_sets[i].revision());
                for &i in &old_sorted {
                    if budget <= 0 {
                        break;
                    }
                    let have = self.replica_sets[i].replicas;
                    let unhealthy = have.saturating_sub(ready_of(i));
                    let cut = (unhealthy as i64).min(budget) as u32;
                    if cut > 0 {
                        changes.push((i, have - cut));
                        budget -= i64::from(cut);
                    }
                }
                // Then ready ones, bounded by availability.
                let ready_total: u32 = owned.iter().map(|&i| ready_of(i)).sum();
                let mut can_remove = ready_total.saturating_sub(min_available) as i64;
                can_remove = can_remove.min(budget.max(0));
                for &i in &old_sorted {
                    if can_remove <= 0 {
                        break;
                    }
                    let have = changes
                        .iter()
                        .rev()
                        .find(|(j, _)| *j == i)
                        .map_or(self.replica_sets[i].replicas, |c| c.1);
                    let cut = (have as i64).min(can_remove) as u32;
                    if cut > 0 {
                        changes.push((i, have - cut));
                        can_remove -= i64::from(cut);
                    }
                }
            }
            for (i, n) in changes {
                let was = self.replica_sets[i].replicas;
                if was != n {
                    let rv = self.next_rv();
                    let rs = &mut self.replica_sets[i];
                    rs.replicas = n;
                    rs.meta.resource_version = rv;
                    let rs_name = rs.meta.name.clone();
                    let dir = if n > was { "up" } else { "down" };
                    let involved = self.deployments[di].meta.involved("Deployment", "apps/v1");
                    self.emit_event(
                        involved,
                        EventText::normal(
                            "ScalingReplicaSet",
                            "deployment-controller",
                            format!("Scaled {dir} replica set {rs_name} from {was} to {n}"),
                        ),
                        now,
                    );
                }
            }
            // Status.
            let mut status = DeploymentStatus {
                observed_generation: d.meta.generation,
                ..Default::default()
            };
            for &i in &owned {
                for p in self
                    .pods_of(&self.replica_sets[i].meta.uid)
                    .filter(|p| !p.terminating())
                {
                    status.replicas += 1;
                    if i == new_idx {
                        status.updated_replicas += 1;
                    }
                    if p.ready() {
                        status.ready_replicas += 1;
                        status.available_replicas += 1;
                    }
                }
            }
            let rev_text = new_rev.to_string();
            let changed = self.deployments[di].status != status
                || self.deployments[di]
                    .meta
                    .annotations
                    .get(REVISION_ANNOTATION)
                    != Some(&rev_text);
            if changed {
                let rv = self.next_rv();
                let dep = &mut self.deployments[di];
                dep.status = status;
                dep.meta
                    .annotations
                    .insert(REVISION_ANNOTATION.into(), rev_text);
                dep.meta.resource_version = rv;
            }
        }
    }

    /// The ReplicaSet controller: create missing pods, delete surplus ones
    /// (not ready first, then the newest).
    pub fn reconcile_replica_sets(&mut self, rng: &mut Rng, now: SystemTime) {
        for ri in 0..self.replica_sets.len() {
            let uid = self.replica_sets[ri].meta.uid.clone();
            let mut live: Vec<usize> = (0..self.pods.len())
                .filter(|&i| {
                    !self.pods[i].terminating()
                        && self.pods[i]
                            .meta
                            .owner
                            .as_ref()
                            .is_some_and(|o| o.uid == uid)
                })
                .collect();
            let want = self.replica_sets[ri].replicas as usize;
            if live.len() < want {
                for _ in live.len()..want {
                    self.add_pod(rng, ri, now, false, now);
                    if let Some(p) = self.pods.last() {
                        let (pod, node) = (p.meta.name.clone(), p.node.clone());
                        let pod_ref = p.meta.involved("Pod", "v1");
                        let rs_ref = self.replica_sets[ri].meta.involved("ReplicaSet", "apps/v1");
                        self.emit_event(
                            rs_ref,
                            EventText::normal(
                                "SuccessfulCreate",
                                "replicaset-controller",
                                format!("Created pod: {pod}"),
                            ),
                            now,
                        );
                        let ns = self.namespace.clone();
                        self.emit_event(
                            pod_ref,
                            EventText::normal(
                                "Scheduled",
                                "default-scheduler",
                                format!("Successfully assigned {ns}/{pod} to {node}"),
                            ),
                            now,
                        );
                    }
                }
            } else if live.len() > want {
                live.sort_by(|&a, &b| {
                    let (pa, pb) = (&self.pods[a], &self.pods[b]);
                    pa.ready()
                        .cmp(&pb.ready())
                        .then(pb.meta.creation.cmp(&pa.meta.creation))
                });
                for &i in live.iter().take(live.len() - want) {
                    self.delete_pod_at(i, now);
                    let pod = self.pods[i].meta.name.clone();
                    let rs_ref = self.replica_sets[ri].meta.involved("ReplicaSet", "apps/v1");
                    self.emit_event(
                        rs_ref,
                        EventText::normal(
                            "SuccessfulDelete",
                            "replicaset-controller",
                            format!("Deleted pod: {pod}"),
                        ),
                        now,
                    );
                }
            }
            let ready = self.pods_of(&uid).filter(|p| p.ready()).count() as u32;
            self.replica_sets[ri].status_ready = ready;
        }
    }

    /// Mark a pod for deletion (it goes Terminating, then disappears).
    pub fn delete_pod_at(&mut self, i: usize, now: SystemTime) {
        let rv = self.next_rv();
        let mut killed = None;
        if let Some(p) = self.pods.get_mut(i) {
            if p.meta.deletion.is_none() {
                p.meta.deletion = Some(now);
                p.meta.resource_version = rv;
                p.container.ready = false;
                let mut r = p.meta.involved("Pod", "v1");
                r.field_path = Some(format!("spec.containers{{{}}}", p.container.name));
                killed = Some((r, p.container.name.clone(), p.node.clone()));
            }
        }
        if let Some((r, c, node)) = killed {
            self.emit_event(
                r,
                EventText::normal("Killing", "kubelet", format!("Stopping container {c}"))
                    .on(&node),
                now,
            );
        }
    }

    /// The kubelet: start containers, flip readiness, grow memory, OOM-kill
    /// and restart with backoff, remove terminated pods.
    pub fn run_kubelet(&mut self, rng: &mut Rng, now: SystemTime, model: MemoryModel) {
        let (keep, gone): (Vec<Pod>, Vec<Pod>) = std::mem::take(&mut self.pods)
            .into_iter()
            .partition(|p| p.meta.deletion.is_none_or(|d| now < d + TERMINATION_GRACE));
        self.pods = keep;
        for p in gone {
            self.note_removed(Object::Pod(Box::new(p)));
        }
        let mut events: Vec<(usize, EventText)> = Vec::new();
        let running_workers = self
            .pods
            .iter()
            .filter(|p| p.app() == "worker" && p.container_running())
            .count()
            .max(1);
        for i in 0..self.pods.len() {
            let mut touched = false;
            {
                let p = &mut self.pods[i];
                if p.terminating() {
                    p.memory_mib *= 0.5;
                    continue;
                }
                match p.container.state.clone() {
                    ContainerState::Waiting { reason } => {
                        let due = if reason == "CrashLoopBackOff" {
                            p.backoff_until.unwrap_or(now)
                        } else {
                            p.start_at
                        };
                        if now >= due {
                            let c = p.container.name.clone();
                            if reason != "CrashLoopBackOff" {
                                events.push((
                                    i,
                                    EventText::normal(
                                        "Pulled",
                                        "kubelet",
                                        format!(
                                            "Container image \"{}\" already present on machine",
                                            p.container.image
                                        ),
                                    ),
                                ));
                            }
                            events.push((
                                i,
                                EventText::normal(
                                    "Created",
                                    "kubelet",
                                    format!("Created container: {c}"),
                                ),
                            ));
                            events.push((
                                i,
                                EventText::normal(
                                    "Started",
                                    "kubelet",
                                    format!("Started container {c}"),
                                ),
                            ));
                            p.phase = PodPhase::Running;
                            p.container.state = ContainerState::Running { started: now };
                            p.ready_at = Some(now + Duration::from_secs(rng.range(2, 5)));
                            p.memory_mib = base_memory_for(p.app(), p.memory_limit_mib)
                                * rng.uniform(0.9, 1.0);
                            p.backoff_until = None;
                            touched = true;
                        }
                    }
                    ContainerState::Running { started } => {
                        if !p.container.ready && p.ready_at.is_some_and(|r| now >= r) {
                            p.container.ready = true;
                            touched = true;
                        }
                        if p.crash_streak > 0
                            && now
                                .duration_since(started)
                                .is_ok_and(|d| d >= BACKOFF_RESET)
                        {
                            p.crash_streak = 0;
                        }
                        let target = match p.app() {
                            "worker" => 170.0 + model.worker_demand_mib / running_workers as f64,
                            app => base_memory_for(app, p.memory_limit_mib),
                        };
                        let noise = rng.uniform(-3.0, 3.0);
                        p.memory_mib =
                            (p.memory_mib + (target - p.memory_mib) * 0.06 + noise).max(20.0);
                        if p.memory_mib >= p.memory_limit_mib as f64 {
                            // OOMKilled: exit 137, restart after the crash-loop backoff.
                            p.crash_streak += 1;
                            p.container.restart_count += 1;
                            p.restart_times.push(now);
                            p.container.last_termination = Some(Termination {
                                reason: "OOMKilled".into(),
                                exit_code: 137,
                                finished: now,
                            });
                            p.container.state = ContainerState::Terminated {
                                reason: "OOMKilled".into(),
                                exit_code: 137,
                                finished: now,
                            };
                            p.container.ready = false;
                            p.memory_mib = 0.0;
                            let backoff =
                                (BACKOFF_BASE << (p.crash_streak - 1).min(5)).min(BACKOFF_CAP);
                            p.backoff_until = Some(now + Duration::from_secs(backoff));
                            touched = true;
                            events.push((
                                i,
                                EventText::warning(
                                    "OOMKilled",
                                    "kubelet",
                                    format!(
                                        "Container {} was OOMKilled (exit code 137): memory limit {}Mi exceeded",
                                        p.container.name, p.memory_limit_mib
                                    ),
                                ),
                            ));
                        }
                    }
                    ContainerState::Terminated { finished, .. } => {
                        // Shown as OOMKilled for a moment, then CrashLoopBackOff.
                        if now
                            .duration_since(finished)
                            .is_ok_and(|d| d >= Duration::from_secs(2))
                        {
                            p.container.state = ContainerState::Waiting {
                                reason: "CrashLoopBackOff".into(),
                            };
                            touched = true;
                            events.push((
                                i,
                                EventText::warning(
                                    "BackOff",
                                    "kubelet",
                                    format!(
                                        "Back-off restarting failed container {} in pod {}_{}({})",
                                        p.container.name, p.meta.name, p.meta.namespace, p.meta.uid
                                    ),
                                ),
                            ));
                        }
                    }
                }
                p.restart_times.retain(|t| {
                    now.duration_since(*t)
                        .map_or(true, |d| d <= Duration::from_secs(3600))
                });
            }
            if touched {
                let rv = self.next_rv();
                self.pods[i].meta.resource_version = rv;
            }
        }
        for (i, text) in events {
            let p = &self.pods[i];
            let mut r = p.meta.involved("Pod", "v1");
            r.field_path = Some(format!("spec.containers{{{}}}", p.container.name));
            let node = p.node.clone();
            self.emit_event(r, text.on(&node), now);
        }
    }
}

/// Steady-state working set of an app's container.
fn base_memory_for(app: &str, limit: u64) -> f64 {
    match app {
        "worker" => 170.0,
        "api" => limit as f64 * 0.46,
        _ => limit as f64 * 0.35,
    }
}

fn base_memory(t: &PodTemplate) -> f64 {
    let app = t.labels.get("app").map_or("", String::as_str);
    match app {
        "worker" => 320.0,
        _ => base_memory_for(app, t.memory_limit_mib),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(image: &str) -> PodTemplate {
        PodTemplate {
            labels: [("app".to_string(), "api".to_string())].into(),
            annotations: BTreeMap::new(),
            container: "api".into(),
            image: image.into(),
            memory_limit_mib: 768,
            cpu_millis: 500,
            extra: None,
        }
    }

    #[test]
    fn rollout_replaces_pods_within_surge() {
        let mut rng = Rng::new(1);
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut k = K8sState::new("shop");
        k.add_deployment(&mut rng, "api", 3, template("api:1"), 1, t0);
        k.add_replica_set(&mut rng, "api", &template("api:1"), 1, 3, t0);
        for _ in 0..3 {
            k.add_pod(&mut rng, 0, t0, true, t0);
        }
        k.deployments[0].template = template("api:2");
        let mut now = t0;
        let mut max_pods = 0;
        for _ in 0..120 {
            now += Duration::from_secs(1);
            k.reconcile_deployments(&mut rng, now);
            k.reconcile_replica_sets(&mut rng, now);
            k.run_kubelet(
                &mut rng,
                now,
                MemoryModel {
                    worker_demand_mib: 0.0,
                },
            );
            let live = k.pods.iter().filter(|p| !p.terminating()).count();
            max_pods = max_pods.max(live);
        }
        assert!(max_pods <= 4, "surge exceeded: {max_pods}");
        assert_eq!(k.deployments[0].revision(), 2);
        assert!(
            k.pods
                .iter()
                .all(|p| p.container.image == "api:2" && p.ready())
        );
        assert_eq!(k.pods.len(), 3);
        assert_eq!(k.deployments[0].status.ready_replicas, 3);
    }
}
