//! Following the logs of many pods at once.
//!
//! A supervisor task watches the pod cache (the reflector, not the API) and
//! keeps one follower task per selected (pod, container): new pods are picked
//! up as the pod watch sees them, deleted pods are dropped. A follower reads
//! `GET .../log?follow=true&timestamps=true`; when its stream ends or fails
//! while the pod still exists, it reports a [`StreamState`] (lost how many
//! times, retried when) and reconnects from the last timestamp it saw, with
//! a backoff that grows while streams die young ([`super::log_retry`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ::kube::Client;
use ::kube::api::{Api, LogParams};
use ::kube::runtime::reflector::ObjectRef;
use async_trait::async_trait;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::TaskGuard;
use super::config::map_kube_error;
use super::convert::{self, parse_log_line};
use super::log_follow::{Follow, Item, marker};
pub use super::log_options::{LogOptions, LogSelector};
use super::watch::Caches;
use crate::domain::{Level, LogLine, StreamState};
use crate::source::{LogSource, SourceError};

/// Lines buffered between the followers and `next_batch`.
const CHANNEL: usize = 8192;
/// At most this many lines per batch.
const BATCH: usize = 2000;
/// How often the supervisor re-checks the pod cache even without a change signal.
const RESYNC: Duration = Duration::from_secs(2);

/// A [`LogSource`] over the followed pods.
pub struct KubeLogs {
    label: String,
    client: Client,
    rx: mpsc::Receiver<Item>,
    /// Stream states received, not yet taken by `stream_states`.
    states: Vec<StreamState>,
    follow: bool,
    /// A quiet stream of a server that no longer answers is not alive.
    liveness: Arc<super::liveness::Liveness>,
    _guard: Arc<TaskGuard>,
    /// Stops this source's tasks (the supervisor and its followers) when dropped.
    _own: tokio_util::sync::DropGuard,
}

impl KubeLogs {
    pub(crate) fn start(
        label: String,
        client: Client,
        cache: Arc<Caches>,
        opts: LogOptions,
        guard: Arc<TaskGuard>,
    ) -> KubeLogs {
        let cancel = guard.token().child_token();
        let (tx, rx) = mpsc::channel(CHANNEL);
        let follow = opts.follow;
        let liveness = cache.liveness.clone();
        let supervisor = Supervisor {
            client: client.clone(),
            cache,
            opts,
            tx,
            cancel: cancel.clone(),
            followers: HashMap::new(),
            left_out: 0,
        };
        tokio::spawn(supervisor.run());
        KubeLogs {
            label,
            client,
            rx,
            states: Vec::new(),
            follow,
            liveness,
            _guard: guard,
            _own: cancel.drop_guard(),
        }
    }

    /// The logs of the previous (terminated) instance of a container.
    pub async fn previous_logs(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
    ) -> Result<Vec<LogLine>, SourceError> {
        previous_logs(&self.client, namespace, pod, container).await
    }
}

#[async_trait]
impl LogSource for KubeLogs {
    fn label(&self) -> String {
        self.label.clone()
    }

    async fn next_batch(&mut self, max_wait: Duration) -> Result<Vec<LogLine>, SourceError> {
        let mut batch = Vec::new();
        match tokio::time::timeout(max_wait, self.rx.recv()).await {
            Ok(Some(Item::Line(line))) => batch.push(line),
            Ok(Some(Item::State(state))) => self.states.push(state),
            Ok(None) if !self.follow => return Ok(batch),
            Ok(None) => {
                return Err(SourceError::Other("log following stopped".to_string()));
            }
            Err(_) => {
                self.liveness.check()?;
                return Ok(batch);
            }
        }
        while batch.len() < BATCH {
            match self.rx.try_recv() {
                Ok(Item::Line(line)) => batch.push(line),
                Ok(Item::State(state)) => self.states.push(state),
                Err(_) => break,
            }
        }
        Ok(batch)
    }

    fn stream_states(&mut self) -> Vec<StreamState> {
        std::mem::take(&mut self.states)
    }

    fn heard_at(&self) -> Option<std::time::SystemTime> {
        self.liveness.answered()
    }

    fn ended(&self) -> bool {
        !self.follow && self.rx.is_closed() && self.rx.is_empty()
    }
}

/// The logs of the previous instance of a container (`kubectl logs --previous`).
pub async fn previous_logs(
    client: &Client,
    namespace: &str,
    pod: &str,
    container: Option<&str>,
) -> Result<Vec<LogLine>, SourceError> {
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let lp = LogParams {
        container: container.map(str::to_string),
        previous: true,
        timestamps: true,
        ..LogParams::default()
    };
    let source = match container {
        Some(c) => format!("{pod}/{c}"),
        None => pod.to_string(),
    };
    let text = api
        .logs(pod, &lp)
        .await
        .map_err(|e| map_kube_error(&format!("previous logs of pod {namespace}/{pod}"), &e))?;
    let now = SystemTime::now();
    Ok(text
        .lines()
        .map(|l| parse_log_line(&source, l, now))
        .collect())
}

/// A followed (pod uid, container).
type Key = (String, String);

struct Follower {
    handle: JoinHandle<()>,
    pod: String,
}

struct Supervisor {
    client: Client,
    cache: Arc<Caches>,
    opts: LogOptions,
    tx: mpsc::Sender<Item>,
    cancel: CancellationToken,
    followers: HashMap<Key, Follower>,
    /// Streams left out by `max_streams` at the last reconcile.
    left_out: usize,
}

impl Supervisor {
    async fn run(mut self) {
        let mut changes = self.cache.pods.state.clone();
        // Wait for the first list so the initial pods get their tail.
        let _ = tokio::select! {
            () = self.cancel.cancelled() => return,
            r = changes.wait_for(|s| s.generation > 0) => r.map(|_| ()),
        };
        // Pods present at the first complete list get their tail; later ones
        // are read from their beginning.
        let mut first = true;
        loop {
            let listed = matches!(self.cache.pods.phase(), super::watch::WatchPhase::Ready);
            self.reconcile(first && listed).await;
            if listed {
                first = false;
                if !self.opts.follow {
                    // The followers read to the end and stop; the channel
                    // closes when the last of them does.
                    return;
                }
            }
            tokio::select! {
                () = self.cancel.cancelled() => break,
                r = changes.changed() => if r.is_err() { break },
                () = tokio::time::sleep(RESYNC) => {}
            }
        }
        for (_, f) in self.followers.drain() {
            f.handle.abort();
        }
    }

    fn selected(&self, pod: &Pod, rss: &[&ReplicaSet]) -> bool {
        match &self.opts.selector {
            LogSelector::All => true,
            LogSelector::Labels(want) => {
                let labels = pod.metadata.labels.as_ref();
                want.iter()
                    .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
            }
            LogSelector::Deployment { namespace, name } => {
                pod.metadata.namespace.as_deref() == Some(namespace.as_str())
                    && convert::pod_deployment(pod, rss).as_deref() == Some(name.as_str())
            }
        }
    }

    async fn reconcile(&mut self, first: bool) {
        let pods = self.cache.pods.store.state();
        let rss_arc = self.cache.replica_sets.store.state();
        let rss: Vec<&ReplicaSet> = rss_arc.iter().map(|r| r.as_ref()).collect();
        let mut pods = pods;
        pods.sort_by(|a, b| {
            (&a.metadata.namespace, &a.metadata.name)
                .cmp(&(&b.metadata.namespace, &b.metadata.name))
        });
        let mut wanted: HashMap<Key, (Arc<Pod>, String)> = HashMap::new();
        let mut left_out = 0usize;
        for pod in &pods {
            if !self.selected(pod, &rss) {
                continue;
            }
            let Some(uid) = pod.metadata.uid.clone() else {
                continue;
            };
            let containers: Vec<String> = pod
                .spec
                .as_ref()
                .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
                .unwrap_or_default();
            for c in containers {
                if wanted.len() >= self.opts.max_streams {
                    left_out += 1;
                    continue;
                }
                wanted.insert((uid.clone(), c.clone()), (pod.clone(), c));
            }
        }
        if left_out > 0 && left_out != self.left_out {
            let text = format!(
                "following {} log streams; {left_out} more left out (narrow the selection)",
                wanted.len()
            );
            let _ = self.tx.send(marker("opsdeck", Level::Warn, text)).await;
        }
        self.left_out = left_out;

        // Drop followers of deleted pods (and finished tasks).
        let gone: Vec<Key> = self
            .followers
            .keys()
            .filter(|k| !wanted.contains_key(*k))
            .cloned()
            .collect();
        for key in gone {
            if let Some(f) = self.followers.remove(&key) {
                f.handle.abort();
                let _ = self
                    .tx
                    .send(marker(
                        &f.pod,
                        Level::Info,
                        "pod deleted; stopped following its logs".to_string(),
                    ))
                    .await;
            }
        }

        for (key, (pod, container)) in wanted {
            if self.followers.contains_key(&key) {
                continue;
            }
            let Some(name) = pod.metadata.name.clone() else {
                continue;
            };
            let Some(namespace) = pod.metadata.namespace.clone() else {
                continue;
            };
            let multi = pod.spec.as_ref().is_some_and(|s| s.containers.len() > 1);
            let source = if multi {
                format!("{name}/{container}")
            } else {
                name.clone()
            };
            let follow = Follow {
                api: Api::namespaced(self.client.clone(), &namespace),
                store: self.cache.pods.store.clone(),
                pod_ref: ObjectRef::new(&name).within(&namespace),
                uid: key.0.clone(),
                name: name.clone(),
                container,
                source,
                tail: if first { self.opts.tail_lines } else { None },
                since: if first { self.opts.since } else { None },
                follow: self.opts.follow,
                tx: self.tx.clone(),
                cancel: self.cancel.child_token(),
            };
            let handle = tokio::spawn(follow.run());
            self.followers.insert(key, Follower { handle, pod: name });
        }
    }
}
