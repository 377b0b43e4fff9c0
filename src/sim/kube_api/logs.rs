//! `pods/{name}/log`: the world's log lines of a pod, per container
//! instance (`previous` is the one before the last restart), optionally
//! followed.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::response::Response;

use crate::domain::LogLine;
use crate::sim::k8s::{ContainerState, Pod};

use super::objects::rfc3339_nanos;
use super::status::ApiError;
use super::stream::channel_body;
use super::{Api, Call};

const POLL: Duration = Duration::from_millis(100);

/// The time window of one container instance of a pod.
#[derive(Debug, Clone, Copy)]
struct Window {
    from: SystemTime,
    to: Option<SystemTime>,
}

impl Window {
    fn contains(&self, t: SystemTime) -> bool {
        t >= self.from && self.to.is_none_or(|to| t <= to)
    }
}

/// The windows of the current and the previous container instance.
fn windows(p: &Pod) -> (Window, Option<Window>) {
    let restarts = &p.restart_times;
    let last = restarts.last().copied();
    let before_last = restarts
        .len()
        .checked_sub(2)
        .and_then(|i| restarts.get(i))
        .copied()
        .unwrap_or(p.meta.creation);
    let previous = p.container.last_termination.as_ref().map(|t| Window {
        from: before_last,
        to: Some(last.unwrap_or(t.finished)),
    });
    let current = match (&p.container.state, previous) {
        (ContainerState::Running { started }, _) => Window {
            from: (*started)
                .min(last.unwrap_or(*started))
                .max(last.unwrap_or(p.meta.creation)),
            to: None,
        },
        // Waiting after a crash: the current container is the one that died.
        (_, Some(prev)) => prev,
        _ => Window {
            from: p.meta.creation,
            to: None,
        },
    };
    (current, previous)
}

fn format_line(l: &LogLine, timestamps: bool) -> String {
    if timestamps {
        format!("{} {}\n", rfc3339_nanos(l.time), l.text)
    } else {
        format!("{}\n", l.text)
    }
}

pub(crate) fn serve(api: Arc<Api>, call: &Call, name: &str) -> Result<Response, ApiError> {
    let ns = call.target.namespace.clone().unwrap_or_default();
    let previous = call.params.flag("previous");
    let follow = call.params.flag("follow");
    let timestamps = call.params.flag("timestamps");
    let tail = call.params.number("tailLines").map(|n| n as usize);
    let since = call.params.number("sinceSeconds").map(Duration::from_secs);
    let limit_bytes = call.params.number("limitBytes").map(|n| n as usize);
    let container = call.params.get("container").map(str::to_string);
    let name = name.to_string();
    let (text, cursor, window, restarts) = api.world(|w| {
        let now = w.now();
        let (all, cursor) = w.logs_since(0);
        let k = w.k8s();
        let p = k
            .pods
            .iter()
            .find(|p| p.meta.name == name && p.meta.namespace == ns)
            .ok_or_else(|| ApiError::not_found("", "pods", &name))?;
        let c = &p.container.name;
        if let Some(want) = &container {
            if want != c {
                return Err(ApiError::bad_request(format!(
                    "container {want} is not valid for pod {name}"
                )));
            }
        }
        let (current, prev) = windows(p);
        let window = if previous {
            prev.ok_or_else(|| {
                ApiError::bad_request(format!(
                    "previous terminated container \"{c}\" in pod \"{name}\" not found"
                ))
            })?
        } else {
            if matches!(&p.container.state, ContainerState::Waiting { .. })
                && p.container.restart_count == 0
            {
                let reason = match &p.container.state {
                    ContainerState::Waiting { reason } => reason.clone(),
                    _ => String::new(),
                };
                return Err(ApiError::bad_request(format!(
                    "container \"{c}\" in pod \"{name}\" is waiting to start: {reason}"
                )));
            }
            current
        };
        let from = since.and_then(|s| now.checked_sub(s));
        let mut lines: Vec<&LogLine> = all
            .iter()
            .filter(|l| l.source == name && window.contains(l.time))
            .filter(|l| from.is_none_or(|f| l.time >= f))
            .collect();
        if let Some(n) = tail {
            let skip = lines.len().saturating_sub(n);
            lines.drain(..skip);
        }
        let mut text: String = lines.iter().map(|l| format_line(l, timestamps)).collect();
        if let Some(max) = limit_bytes {
            let mut cut = max.min(text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        Ok((text, cursor, window, p.container.restart_count))
    })?;
    let (tx, resp) = channel_body("text/plain");
    let follow = follow && !previous && window.to.is_none();
    let cancel = api.cancel.clone();
    tokio::spawn(async move {
        if !text.is_empty() && tx.send(Bytes::from(text)).await.is_err() {
            return;
        }
        if !follow {
            return;
        }
        let mut cursor = cursor;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(POLL) => {}
            }
            let (lines, next, alive) = api.estate.with(|w| {
                let (lines, next) = w.logs_since(cursor);
                let alive = w.k8s().pods.iter().any(|p| {
                    p.meta.name == name && !p.terminating() && p.container.restart_count == restarts
                });
                let text: String = lines
                    .iter()
                    .filter(|l| l.source == name)
                    .map(|l| format_line(l, timestamps))
                    .collect();
                (text, next, alive)
            });
            cursor = next;
            if !lines.is_empty() && tx.send(Bytes::from(lines)).await.is_err() {
                return;
            }
            if !alive {
                return;
            }
        }
    });
    Ok(resp)
}
