//! `pods/{name}/log`: the world's log lines of a pod, per container
//! instance (`previous` is the one before the last restart), optionally
//! followed.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::response::Response;
use tokio::sync::mpsc;

use crate::domain::LogLine;
use crate::sim::World;
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

/// What a log request asked for.
struct LogRequest {
    ns: String,
    name: String,
    container: Option<String>,
    previous: bool,
    follow: bool,
    timestamps: bool,
    tail: Option<usize>,
    since: Option<Duration>,
    /// `sinceTime` (RFC 3339): lines at or after it.
    since_time: Option<SystemTime>,
    limit_bytes: Option<usize>,
}

/// The answer so far: the text, the log cursor to follow from, the
/// container instance's window and the pod's restart count.
type Snapshot = (String, u64, Window, u32);

impl LogRequest {
    /// The request, validated as the API server validates PodLogOptions.
    fn of(call: &Call, name: &str) -> Result<LogRequest, ApiError> {
        let p = &call.params;
        let since_time = match p.get("sinceTime") {
            None => None,
            Some(t) => Some(humantime::parse_rfc3339_weak(t).map_err(|_| {
                ApiError::bad_request(format!(
                    "parsing time \"{t}\" as \"2006-01-02T15:04:05Z07:00\": cannot parse \"{t}\" as \"2006\""
                ))
            })?),
        };
        let since = p.number("sinceSeconds");
        if since.is_some() && since_time.is_some() {
            return Err(ApiError::invalid(
                "PodLogOptions",
                "",
                name,
                "sinceSeconds",
                "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
            ));
        }
        if since == Some(0) {
            return Err(ApiError::invalid(
                "PodLogOptions",
                "",
                name,
                "sinceSeconds",
                "Invalid value: 0: must be greater than 0",
            ));
        }
        Ok(LogRequest {
            ns: call.target.namespace.clone().unwrap_or_default(),
            name: name.to_string(),
            container: p.get("container").map(str::to_string),
            previous: p.flag("previous"),
            follow: p.flag("follow"),
            timestamps: p.flag("timestamps"),
            tail: p.number("tailLines").map(|n| n as usize),
            since: since.map(Duration::from_secs),
            since_time,
            limit_bytes: p.number("limitBytes").map(|n| n as usize),
        })
    }

    /// The window of the container instance asked for: the current one, or
    /// the previous one with `previous`.
    fn window(&self, p: &Pod) -> Result<Window, ApiError> {
        let (name, c) = (&self.name, &p.container.name);
        if let Some(want) = &self.container {
            if want != c {
                return Err(ApiError::bad_request(format!(
                    "container {want} is not valid for pod {name}"
                )));
            }
        }
        let (current, prev) = windows(p);
        if self.previous {
            return prev.ok_or_else(|| {
                ApiError::bad_request(format!(
                    "previous terminated container \"{c}\" in pod \"{name}\" not found"
                ))
            });
        }
        if let ContainerState::Waiting { reason } = &p.container.state {
            if p.container.restart_count == 0 {
                return Err(ApiError::bad_request(format!(
                    "container \"{c}\" in pod \"{name}\" is waiting to start: {reason}"
                )));
            }
        }
        Ok(current)
    }

    /// The lines logged so far, cut by sinceSeconds, tailLines and
    /// limitBytes.
    fn read(&self, w: &World) -> Result<Snapshot, ApiError> {
        let now = w.now();
        let (all, cursor) = w.logs_since(0);
        let p = w
            .k8s()
            .pods
            .iter()
            .find(|p| p.meta.name == self.name && p.meta.namespace == self.ns)
            .ok_or_else(|| ApiError::not_found("", "pods", &self.name))?;
        let window = self.window(p)?;
        // As the API server: sinceSeconds counts back from now, sinceTime is
        // a time; either cuts the lines before it.
        let from = self
            .since
            .and_then(|s| now.checked_sub(s))
            .or(self.since_time);
        let mut lines: Vec<&LogLine> = all
            .iter()
            .filter(|l| l.source == self.name && window.contains(l.time))
            .filter(|l| from.is_none_or(|f| l.time >= f))
            .collect();
        if let Some(n) = self.tail {
            let skip = lines.len().saturating_sub(n);
            lines.drain(..skip);
        }
        let mut text: String = lines
            .iter()
            .map(|l| format_line(l, self.timestamps))
            .collect();
        if let Some(max) = self.limit_bytes {
            let mut cut = max.min(text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        Ok((text, cursor, window, p.container.restart_count))
    }
}

pub(crate) fn serve(api: Arc<Api>, call: &Call, name: &str) -> Result<Response, ApiError> {
    let req = LogRequest::of(call, name)?;
    let (text, cursor, window, restarts) = api.world(|w| req.read(w))?;
    let (tx, resp) = channel_body("text/plain");
    let follow = req.follow && !req.previous && window.to.is_none();
    tokio::spawn(async move {
        if !text.is_empty() && tx.send(Bytes::from(text)).await.is_err() {
            return;
        }
        if follow {
            follow_lines(api, req, cursor, restarts, tx).await;
        }
    });
    Ok(resp)
}

/// Send the pod's new lines as they are logged, until its container
/// restarts or the pod goes.
async fn follow_lines(
    api: Arc<Api>,
    req: LogRequest,
    mut cursor: u64,
    restarts: u32,
    tx: mpsc::Sender<Bytes>,
) {
    let cancel = api.cancel.clone();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(POLL) => {}
        }
        let (lines, next, alive) = api.estate.with(|w| {
            let (lines, next) = w.logs_since(cursor);
            let alive = w.k8s().pods.iter().any(|p| {
                p.meta.name == req.name && !p.terminating() && p.container.restart_count == restarts
            });
            let text: String = lines
                .iter()
                .filter(|l| l.source == req.name)
                .map(|l| format_line(l, req.timestamps))
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
}
