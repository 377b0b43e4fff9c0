//! Kubernetes events, watched and shown in the Logs pane under the source
//! `events` (what `kubectl get events -w` prints), Warnings as warnings.
//! A watch error is reported, then the watch is retried after the watches'
//! backoff.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Event;
use kube::Api;
use kube::runtime::watcher::{self, Event as WatchEvent};
use tokio::sync::mpsc;

use super::TaskGuard;
use super::watch::watch_backoff;
use crate::domain::{Level, LogLine};
use crate::source::{LogSource, SourceError};

/// The source name event lines carry.
pub const SOURCE: &str = "events";

/// One event as a log line: `Warning BackOff pod/worker-x: Back-off restarting failed container`.
pub fn event_to_line(e: &Event) -> LogLine {
    let time = e
        .last_timestamp
        .as_ref()
        .map(super::convert::system_time)
        .or_else(|| e.event_time.as_ref().map(|t| SystemTime::from(t.0)))
        .or_else(|| {
            e.metadata
                .creation_timestamp
                .as_ref()
                .map(super::convert::system_time)
        })
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let kind = e.type_.as_deref().unwrap_or("Normal");
    let level = if kind == "Warning" {
        Level::Warn
    } else {
        Level::Info
    };
    let obj = &e.involved_object;
    let what = format!(
        "{}/{}",
        obj.kind.as_deref().unwrap_or("object").to_ascii_lowercase(),
        obj.name.as_deref().unwrap_or("?")
    );
    let count = e
        .count
        .filter(|c| *c > 1)
        .map(|c| format!(" (x{c})"))
        .unwrap_or_default();
    LogLine {
        source: SOURCE.into(),
        time,
        level,
        text: format!(
            "{kind} {} {what}: {}{count}",
            e.reason.as_deref().unwrap_or(""),
            e.message.as_deref().unwrap_or("").trim_end()
        ),
    }
}

/// Watches events of a namespace (or all) and hands them out as log lines.
pub struct KubeEvents {
    label: String,
    rx: mpsc::Receiver<Result<LogLine, String>>,
    /// An error read after some lines, reported by the next call.
    deferred: Option<String>,
    /// A quiet watch of a server that no longer answers is not alive.
    liveness: Option<std::sync::Arc<super::liveness::Liveness>>,
    _guard: std::sync::Arc<TaskGuard>,
}

impl KubeEvents {
    pub(crate) fn start(
        label: String,
        client: kube::Client,
        namespace: Option<&str>,
        guard: std::sync::Arc<TaskGuard>,
    ) -> Self {
        let api: Api<Event> = match namespace {
            Some(ns) => Api::namespaced(client, ns),
            None => Api::all(client),
        };
        let (tx, rx) = mpsc::channel(1024);
        let token = guard.token();
        tokio::spawn(async move {
            let mut stream = watcher::watcher(api, watcher::Config::default()).boxed();
            let mut backoff = watch_backoff();
            loop {
                let next = tokio::select! {
                    _ = token.cancelled() => return,
                    n = stream.next() => n,
                };
                let item = match next {
                    None => return,
                    Some(Ok(event)) => {
                        backoff.reset();
                        match event {
                            WatchEvent::Apply(e) | WatchEvent::InitApply(e) => {
                                Ok(event_to_line(&e))
                            }
                            _ => continue,
                        }
                    }
                    Some(Err(e)) => Err(format!("watching events: {e}")),
                };
                let failed = item.is_err();
                if tx.send(item).await.is_err() {
                    return;
                }
                if failed {
                    // The watcher retries when polled next: wait first.
                    tokio::select! {
                        _ = token.cancelled() => return,
                        () = tokio::time::sleep(backoff.fail()) => {}
                    }
                }
            }
        });
        KubeEvents {
            label,
            rx,
            deferred: None,
            liveness: None,
            _guard: guard,
        }
    }

    /// Report the API server's silence instead of a quiet watch.
    pub(crate) fn with_liveness(
        mut self,
        liveness: std::sync::Arc<super::liveness::Liveness>,
    ) -> Self {
        self.liveness = Some(liveness);
        self
    }
}

#[async_trait]
impl LogSource for KubeEvents {
    fn label(&self) -> String {
        format!("{}:events", self.label)
    }

    fn heard_at(&self) -> Option<std::time::SystemTime> {
        self.liveness.as_ref().and_then(|l| l.answered())
    }

    async fn next_batch(&mut self, max_wait: Duration) -> Result<Vec<LogLine>, SourceError> {
        if let Some(e) = self.deferred.take() {
            return Err(SourceError::Unreachable(e));
        }
        let mut out = Vec::new();
        let first = tokio::time::timeout(max_wait, self.rx.recv()).await;
        let mut pending = match first {
            Err(_) | Ok(None) => {
                if let Some(l) = &self.liveness {
                    l.check()?;
                }
                return Ok(out);
            }
            Ok(Some(item)) => Some(item),
        };
        while let Some(item) = pending.take() {
            match item {
                Ok(line) => out.push(line),
                // Lines already read go out first; the error comes with the next call.
                Err(e) if out.is_empty() => return Err(SourceError::Unreachable(e)),
                Err(e) => {
                    self.deferred = Some(e);
                    break;
                }
            }
            pending = self.rx.try_recv().ok();
        }
        out.sort_by_key(|l| l.time);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_like_kubectl_get_events() {
        let e: Event = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "worker-1.17", "namespace": "shop"},
            "involvedObject": {"kind": "Pod", "name": "worker-1", "namespace": "shop"},
            "reason": "BackOff",
            "message": "Back-off restarting failed container worker\n",
            "type": "Warning",
            "count": 7,
            "lastTimestamp": "2026-11-23T10:00:00Z"
        }))
        .unwrap();
        let l = event_to_line(&e);
        assert_eq!(l.source, "events");
        assert_eq!(l.level, Level::Warn);
        assert_eq!(
            l.text,
            "Warning BackOff pod/worker-1: Back-off restarting failed container worker (x7)"
        );
        assert_eq!(
            l.time,
            humantime::parse_rfc3339("2026-11-23T10:00:00Z").unwrap()
        );
        let normal: Event = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "x", "creationTimestamp": "2026-11-23T09:00:00Z"},
            "involvedObject": {"kind": "Deployment", "name": "api"},
            "reason": "ScalingReplicaSet", "message": "Scaled up replica set api-1 to 6", "type": "Normal"
        }))
        .unwrap();
        let l = event_to_line(&normal);
        assert_eq!(l.level, Level::Info);
        assert_eq!(
            l.text,
            "Normal ScalingReplicaSet deployment/api: Scaled up replica set api-1 to 6"
        );
        assert_eq!(
            l.time,
            humantime::parse_rfc3339("2026-11-23T09:00:00Z").unwrap()
        );
    }
}
