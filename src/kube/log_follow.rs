//! One followed (pod, container) log stream: read to its end, then
//! reconnected from the last timestamp seen, with the policy of
//! [`super::log_retry`]; its losses are reported as [`StreamState`]s.

use std::time::{Duration, Instant, SystemTime};

use ::kube::api::{Api, LogParams};
use ::kube::runtime::reflector::{ObjectRef, Store};
use futures_util::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::config::map_kube_error;
use super::convert::parse_log_line;
use super::log_retry::{Reconnects, STABLE};
use crate::domain::{Level, LogLine, StreamState};

/// Reconnect backoff: first delay, cap.
const BACKOFF_MIN: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// What the followers send: lines, and the state of their streams.
pub(super) enum Item {
    Line(LogLine),
    State(StreamState),
}

pub(super) fn marker(source: &str, level: Level, text: String) -> Item {
    Item::Line(LogLine {
        source: source.to_string(),
        time: SystemTime::now(),
        level,
        text: format!("[opsdeck] {text}"),
    })
}

/// One (pod, container) stream.
pub(super) struct Follow {
    pub(super) api: Api<Pod>,
    pub(super) store: Store<Pod>,
    pub(super) pod_ref: ObjectRef<Pod>,
    pub(super) uid: String,
    pub(super) name: String,
    pub(super) container: String,
    pub(super) source: String,
    pub(super) tail: Option<i64>,
    pub(super) since: Option<Duration>,
    pub(super) follow: bool,
    pub(super) tx: mpsc::Sender<Item>,
    pub(super) cancel: CancellationToken,
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

    pub(super) async fn run(self) {
        let mut last: Option<SystemTime> = None;
        let mut established = false;
        let mut retry = Reconnects::new(BACKOFF_MIN, BACKOFF_MAX, STABLE);
        loop {
            let started = Instant::now();
            let (opened, ended) = self.stream_once(&mut last, established, &mut retry).await;
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
            established |= opened;
            let delay = retry.ended(opened.then(|| started.elapsed()));
            match self.pod_alive() {
                None => return,
                // Only a stream that was running counts as lost; a pod whose
                // container has not started yet is retried quietly.
                Some(true) if opened => {
                    tracing::info!(source = %self.source, lost = retry.lost(), ?delay, "log stream lost: {reason}");
                    let state = StreamState {
                        source: self.source.clone(),
                        lost: retry.lost(),
                        retry_at: Some(SystemTime::now() + delay),
                    };
                    if self.tx.send(Item::State(state)).await.is_err() {
                        return;
                    }
                }
                Some(_) => {}
            }
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
    /// Once it has stayed open for [`STABLE`] after a loss, it is reported
    /// resumed and the backoff starts over.
    async fn stream_once(
        &self,
        last: &mut Option<SystemTime>,
        established: bool,
        retry: &mut Reconnects,
    ) -> (bool, Ended) {
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
        let stable = tokio::time::sleep(retry.stable());
        tokio::pin!(stable);
        let mut settled = false;
        // After a reconnect from `since_time` (whole seconds), skip what we had.
        let resume_after = *last;
        let mut skipping = resume_after.is_some();
        loop {
            let next = tokio::select! {
                () = self.cancel.cancelled() => return (true, Ended::Cancelled),
                () = &mut stable, if !settled => {
                    settled = true;
                    retry.established();
                    if retry.lost() > 0 {
                        let state = StreamState {
                            source: self.source.clone(),
                            lost: retry.lost(),
                            retry_at: None,
                        };
                        if self.tx.send(Item::State(state)).await.is_err() {
                            return (true, Ended::Cancelled);
                        }
                    }
                    continue;
                }
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
                    if self.tx.send(Item::Line(line)).await.is_err() {
                        return (true, Ended::Cancelled);
                    }
                }
                Some(Err(e)) => return (true, Ended::Lost(format!("read failed: {e}"))),
                None => return (true, Ended::Lost("stream ended".to_string())),
            }
        }
    }
}
