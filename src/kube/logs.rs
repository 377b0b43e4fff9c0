//! Following the logs of many pods at once.
//!
//! A supervisor task watches the pod cache (the reflector, not the API) and
//! keeps one follower task per selected (pod, container): new pods are picked
//! up as the pod watch sees them, deleted pods are dropped. A follower reads
//! `GET .../log?follow=true&timestamps=true`; when its stream ends or fails
//! while the pod still exists, it emits a visible marker line and reconnects
//! with backoff from the last timestamp it saw.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ::kube::Client;
use ::kube::api::{Api, LogParams};
use ::kube::runtime::reflector::{ObjectRef, Store};
use async_trait::async_trait;
use futures_util::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::TaskGuard;
use super::config::map_kube_error;
use super::convert::{self, parse_log_line};
pub use super::log_options::{LogOptions, LogSelector};
use super::watch::Caches;
use crate::backoff::Backoff;
use crate::domain::{Level, LogLine};
use crate::source::{LogSource, SourceError};

/// Lines buffered between the followers and `next_batch`.
const CHANNEL: usize = 8192;
/// At most this many lines per batch.
const BATCH: usize = 2000;
/// Reconnect backoff: first delay, cap.
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// How often the supervisor re-checks the pod cache even without a change signal.
const RESYNC: Duration = Duration::from_secs(2);

/// A [`LogSource`] over the followed pods.
pub struct KubeLogs {
    label: String,
    client: Client,
    rx: mpsc::Receiver<LogLine>,
    follow: bool,
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
            follow,
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
            Ok(Some(line)) => batch.push(line),
            Ok(None) if !self.follow => return Ok(batch),
            Ok(None) => {
                return Err(SourceError::Other("log following stopped".to_string()));
            }
            Err(_) => return Ok(batch),
        }
        while batch.len() < BATCH {
            match self.rx.try_recv() {
                Ok(line) => batch.push(line),
                Err(_) => break,
            }
        }
        Ok(batch)
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
    tx: mpsc::Sender<LogLine>,
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

fn marker(source: &str, level: Level, text: String) -> LogLine {
    LogLine {
        source: source.to_string(),
        time: SystemTime::now(),
        level,
        text: format!("[opsdeck] {text}"),
    }
}

/// One (pod, container) stream.
struct Follow {
    api: Api<Pod>,
    store: Store<Pod>,
    pod_ref: ObjectRef<Pod>,
    uid: String,
    name: String,
    container: String,
    source: String,
    tail: Option<i64>,
    since: Option<Duration>,
    follow: bool,
    tx: mpsc::Sender<LogLine>,
    cancel: CancellationToken,
}

enum Ended {
    Cancelled,
    Lost(String),
}

impl Follow {
    /// Whether the pod is still in the cache (same uid) and not terminating.
    fn pod_alive(&self) -> Option<bool> {
        let pod = self.store.get(&self.pod_ref)?;
        if pod.metadata.uid.as_deref() != Some(self.uid.as_str()) {
            return None;
        }
        Some(pod.metadata.deletion_timestamp.is_none())
    }

    async fn run(self) {
        let mut last: Option<SystemTime> = None;
        let mut established = false;
        let mut backoff = Backoff::new(BACKOFF_MIN, BACKOFF_MAX);
        loop {
            let (opened, ended) = self.stream_once(&mut last, established).await;
            let reason = match ended {
                Ended::Cancelled => return,
                Ended::Lost(r) => r,
            };
            if !self.follow {
                if !opened {
                    let line = marker(
                        &self.source,
                        Level::Warn,
                        format!("logs could not be read: {reason}"),
                    );
                    let _ = self.tx.send(line).await;
                }
                return;
            }
            if opened {
                established = true;
                backoff.reset();
            }
            match self.pod_alive() {
                None => return,
                // Only a stream that was running counts as lost; a pod whose
                // container has not started yet is retried quietly.
                Some(true) if opened => {
                    let line = marker(
                        &self.source,
                        Level::Warn,
                        format!("log stream lost: {reason}; reconnecting"),
                    );
                    if self.tx.send(line).await.is_err() {
                        return;
                    }
                }
                Some(_) => {}
            }
            let delay = backoff.fail();
            tokio::select! {
                () = self.cancel.cancelled() => return,
                () = tokio::time::sleep(delay) => {}
            }
            if self.pod_alive().is_none() {
                return;
            }
        }
    }

    /// Open the stream and read it to its end. Returns whether it opened.
    async fn stream_once(&self, last: &mut Option<SystemTime>, established: bool) -> (bool, Ended) {
        let since_time = last.and_then(|t| k8s_openapi::jiff::Timestamp::try_from(t).ok());
        let lp = LogParams {
            container: Some(self.container.clone()),
            follow: self.follow,
            timestamps: true,
            since_seconds: match (self.since, *last) {
                (Some(d), None) if !established => {
                    Some(i64::try_from(d.as_secs()).unwrap_or(i64::MAX).max(1))
                }
                _ => None,
            },
            tail_lines: if established || last.is_some() {
                None
            } else {
                self.tail
            },
            since_time,
            ..LogParams::default()
        };
        let opened = tokio::select! {
            () = self.cancel.cancelled() => return (false, Ended::Cancelled),
            r = self.api.log_stream(&self.name, &lp) => r,
        };
        let reader = match opened {
            Ok(r) => r,
            Err(e) => {
                let err = map_kube_error("opening the log stream", &e);
                return (false, Ended::Lost(err.to_string()));
            }
        };
        let mut lines = reader.lines();
        // After a reconnect from `since_time` (whole seconds), skip what we had.
        let resume_after = *last;
        let mut skipping = resume_after.is_some();
        loop {
            let next = tokio::select! {
                () = self.cancel.cancelled() => return (true, Ended::Cancelled),
                n = lines.next() => n,
            };
            match next {
                Some(Ok(raw)) => {
                    let line = parse_log_line(&self.source, &raw, SystemTime::now());
                    if skipping {
                        if resume_after.is_some_and(|prev| line.time <= prev) {
                            continue;
                        }
                        skipping = false;
                    }
                    *last = Some(line.time);
                    if self.tx.send(line).await.is_err() {
                        return (true, Ended::Cancelled);
                    }
                }
                Some(Err(e)) => return (true, Ended::Lost(format!("read failed: {e}"))),
                None => return (true, Ended::Lost("stream ended".to_string())),
            }
        }
    }
}
