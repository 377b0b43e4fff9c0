//! Reflectors: watch-fed caches of pods, deployments and ReplicaSets, and
//! the workload source answering from them.
//!
//! Each resource has one task running `kube::runtime::watcher` into a
//! reflector store. The watcher resumes from its last resourceVersion when a
//! watch ends and relists by itself on `410 Gone`. Any other error marks the
//! watch as failing (the error is what `workloads()` reports), waits a
//! [`Backoff`] (0.8 s doubling to 30 s, with jitter, reset by every event)
//! and starts a fresh watcher, whose completed relist marks the watch healthy
//! again; the store keeps the last good objects meanwhile.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ::kube::api::Api;
use ::kube::runtime::reflector::{self, Store};
use ::kube::runtime::watcher;
use ::kube::runtime::watcher::Event;
use ::kube::{Client, Resource};
use async_trait::async_trait;
use futures_util::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use serde::de::DeserializeOwned;
use tokio::sync::watch as chan;
use tokio_util::sync::CancellationToken;

use super::config::map_kube_error;
use super::{KubeOptions, TaskGuard, convert};
use crate::backoff::Backoff;
use crate::domain::Workload;
use crate::source::{SourceError, WorkloadSource};

/// How long `workloads()` waits for the first list before answering.
const FIRST_LIST_WAIT: Duration = Duration::from_secs(5);
/// The first delay before a failing watch is retried (kube-runtime's
/// default watcher backoff), and the longest.
const BACKOFF_MIN: Duration = Duration::from_millis(800);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// The retry policy of a failing watch: 0.8 s doubling to 30 s, with jitter.
pub(super) fn watch_backoff() -> Backoff {
    Backoff::new(BACKOFF_MIN, BACKOFF_MAX).with_jitter()
}

/// The state of one watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchPhase {
    /// The first list has not completed yet.
    Starting,
    /// The cache is in sync with the server.
    Ready,
    /// The watch is failing and retrying with backoff; the cache holds the
    /// last good objects.
    Failing(SourceError),
}

/// A watch's phase and a counter bumped on every change to its cache.
#[derive(Debug, Clone)]
pub struct WatchState {
    pub phase: WatchPhase,
    pub generation: u64,
}

/// One reflector: its store and its state.
pub struct Reflected<K: Resource<DynamicType = ()> + Clone + 'static> {
    pub store: Store<K>,
    pub state: chan::Receiver<WatchState>,
    /// `pods`, `deployments`, `replicasets`.
    pub what: &'static str,
}

impl<K: Resource<DynamicType = ()> + Clone + 'static> Reflected<K> {
    pub fn phase(&self) -> WatchPhase {
        self.state.borrow().phase.clone()
    }
}

/// The caches one backend shares between its sources.
pub struct Caches {
    pub pods: Reflected<Pod>,
    pub deployments: Reflected<Deployment>,
    pub replica_sets: Reflected<ReplicaSet>,
    pub namespace: Option<String>,
    /// Whether the API server answers at all (a hung one leaves the
    /// watches quiet, not failed).
    pub liveness: Arc<super::liveness::Liveness>,
}

impl Caches {
    /// Start the three reflector tasks; they stop when `cancel` fires.
    pub fn start(
        client: Client,
        namespace: Option<&str>,
        opts: &KubeOptions,
        cancel: CancellationToken,
    ) -> Caches {
        let mut config = watcher::Config::default();
        if opts.streaming_lists {
            config = config.streaming_lists();
        }
        if let Some(t) = opts.watch_timeout_secs {
            config = config.timeout(t);
        }
        Caches {
            liveness: super::liveness::Liveness::start(client.clone(), cancel.clone()),
            pods: spawn_reflector(
                api(&client, namespace),
                config.clone(),
                "pods",
                namespace,
                cancel.clone(),
            ),
            deployments: spawn_reflector(
                api(&client, namespace),
                config.clone(),
                "deployments",
                namespace,
                cancel.clone(),
            ),
            replica_sets: spawn_reflector(
                api(&client, namespace),
                config,
                "replicasets",
                namespace,
                cancel,
            ),
            namespace: namespace.map(str::to_string),
        }
    }

    /// Wait until every watch has finished its first list or failed, at most `limit`.
    pub async fn settled(&self, limit: Duration) {
        let wait = async {
            for mut rx in [
                self.pods.state.clone(),
                self.deployments.state.clone(),
                self.replica_sets.state.clone(),
            ] {
                let _ = rx.wait_for(|s| s.phase != WatchPhase::Starting).await;
            }
        };
        let _ = tokio::time::timeout(limit, wait).await;
    }

    /// The first failing watch's error (it names what was watched), the
    /// API server's silence (a hung server leaves watches quiet, not
    /// failing), or a note that a list is pending.
    pub fn problem(&self) -> Option<SourceError> {
        let phases = [
            (self.pods.what, self.pods.phase()),
            (self.deployments.what, self.deployments.phase()),
            (self.replica_sets.what, self.replica_sets.phase()),
        ];
        if let Some((_, WatchPhase::Failing(e))) = phases
            .iter()
            .find(|(_, p)| matches!(p, WatchPhase::Failing(_)))
        {
            return Some(e.clone());
        }
        if let Err(e) = self.liveness.check() {
            return Some(e);
        }
        phases
            .iter()
            .find(|(_, p)| *p == WatchPhase::Starting)
            .map(|(what, _)| SourceError::Other(format!("waiting for the first list of {what}")))
    }

    /// Rows from the caches as they are now.
    pub fn rows(&self, now: SystemTime) -> Vec<Workload> {
        let pods = self.pods.store.state();
        let deployments = self.deployments.store.state();
        let rss = self.replica_sets.store.state();
        let pods: Vec<&Pod> = pods.iter().map(|p| p.as_ref()).collect();
        let deployments: Vec<&Deployment> = deployments.iter().map(|d| d.as_ref()).collect();
        let rss: Vec<&ReplicaSet> = rss.iter().map(|r| r.as_ref()).collect();
        convert::workload_rows(&deployments, &rss, &pods, now)
    }
}

fn api<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Whether a watcher error is the routine `410 Gone` in a watch stream,
/// after which the watcher relists by itself. (A 410 answering the list or
/// the watch request itself goes through the failure path, so a server that
/// keeps answering 410 is retried with backoff rather than in a tight loop.)
fn is_gone(e: &watcher::Error) -> bool {
    matches!(e, watcher::Error::WatchError(status) if status.code == 410)
}

/// A watcher error as a [`SourceError`] naming the watch.
pub fn map_watch_error(what: &str, namespace: Option<&str>, e: &watcher::Error) -> SourceError {
    let scope = match namespace {
        Some(ns) => format!("watching {what} in {ns}"),
        None => format!("watching {what} in all namespaces"),
    };
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => map_kube_error(&scope, e),
        watcher::Error::WatchError(status) => {
            map_kube_error(&scope, &::kube::Error::Api(status.clone()))
        }
        watcher::Error::NoResourceVersion => {
            SourceError::Other(format!("{scope}: the server sent no resourceVersion"))
        }
    }
}

/// Run a watcher into a reflector store until `cancel` fires.
pub fn spawn_reflector<K>(
    api: Api<K>,
    config: watcher::Config,
    what: &'static str,
    namespace: Option<&str>,
    cancel: CancellationToken,
) -> Reflected<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (store, mut writer) = reflector::store::<K>();
    let (tx, rx) = chan::channel(WatchState {
        phase: WatchPhase::Starting,
        generation: 0,
    });
    let namespace = namespace.map(str::to_string);
    tokio::spawn(async move {
        let mut backoff = watch_backoff();
        loop {
            let mut stream = watcher(api.clone(), config.clone()).boxed();
            let failure = loop {
                let next = tokio::select! {
                    () = cancel.cancelled() => return,
                    next = stream.next() => next,
                };
                match next {
                    Some(Ok(event)) => {
                        writer.apply_watcher_event(&event);
                        match event {
                            // A relist has started; the store swaps at InitDone.
                            Event::Init | Event::InitApply(_) => {}
                            Event::InitDone | Event::Apply(_) | Event::Delete(_) => {
                                backoff.reset();
                                tx.send_modify(|s| {
                                    s.phase = WatchPhase::Ready;
                                    s.generation += 1;
                                });
                            }
                        }
                    }
                    Some(Err(e)) if is_gone(&e) => {
                        tracing::debug!(what, "watch expired (410 Gone); relisting");
                    }
                    Some(Err(e)) => break map_watch_error(what, namespace.as_deref(), &e),
                    None => {
                        break SourceError::Other(format!("watch of {what} ended"));
                    }
                }
            };
            tracing::warn!(what, error = %failure, "watch failing; retrying");
            tx.send_modify(|s| {
                s.phase = WatchPhase::Failing(failure);
                s.generation += 1;
            });
            let delay = backoff.fail();
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
        }
    });
    Reflected {
        store,
        state: rx,
        what,
    }
}

/// Workload rows from the reflector caches.
pub struct KubeWorkloads {
    label: String,
    cache: Arc<Caches>,
    _guard: Arc<TaskGuard>,
}

impl KubeWorkloads {
    pub(crate) fn new(label: String, cache: Arc<Caches>, guard: Arc<TaskGuard>) -> Self {
        Self {
            label,
            cache,
            _guard: guard,
        }
    }

    /// The state of each watch: (`pods`, phase), ...
    pub fn phases(&self) -> Vec<(&'static str, WatchPhase)> {
        vec![
            (self.cache.pods.what, self.cache.pods.phase()),
            (self.cache.deployments.what, self.cache.deployments.phase()),
            (
                self.cache.replica_sets.what,
                self.cache.replica_sets.phase(),
            ),
        ]
    }
}

#[async_trait]
impl WorkloadSource for KubeWorkloads {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn heard_at(&self) -> Option<SystemTime> {
        self.cache.liveness.answered()
    }

    /// The cached rows while every watch is healthy; while one is failing,
    /// its error (the driver keeps showing the last good rows, marked stale).
    async fn workloads(&self) -> Result<Vec<Workload>, SourceError> {
        self.cache.settled(FIRST_LIST_WAIT).await;
        if let Some(problem) = self.cache.problem() {
            return Err(problem);
        }
        Ok(self.cache.rows(SystemTime::now()))
    }
}
