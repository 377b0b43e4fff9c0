//! Watches: a chunked stream of `{"type": ..., "object": ...}` lines fed
//! from the world's change journal.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::sim::k8s::K8sState;

use super::objects::{self, Res};
use super::select::{Selectors, in_namespace, matching};
use super::status::ApiError;
use super::stream::channel_body;
use super::{Api, Call, table};

/// How often a watch looks for changes.
const POLL: Duration = Duration::from_millis(100);
/// How often a watch that allows bookmarks gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(2);
/// A watch without `timeoutSeconds` ends after this long.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

fn line(kind: &str, object: Value) -> Bytes {
    let mut s = json!({"type": kind, "object": object}).to_string();
    s.push('\n');
    Bytes::from(s)
}

fn bookmark(res: Res, rv: u64, initial_end: bool) -> Value {
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    json!({"kind": res.kind(), "apiVersion": res.api_version(), "metadata": meta})
}

fn expired(want: u64, oldest: u64) -> Value {
    ApiError::gone(format!("too old resource version: {want} ({oldest})")).status()
}

/// Wraps objects as one-row Tables when the client asked for Tables.
struct Shape {
    res: Res,
    table: bool,
    include: String,
    columns_sent: bool,
}

impl Shape {
    fn object(&mut self, v: Value, now: SystemTime) -> Value {
        if !self.table {
            return v;
        }
        let meta = json!({"resourceVersion": objects::rv_of(&v).unwrap_or("")});
        let t = table::table(self.res, &[v], meta, &self.include, now, !self.columns_sent);
        self.columns_sent = true;
        t
    }
}

/// One watch event: its type (`ADDED`, ...) and the object.
type Event = (&'static str, Value);

/// What a watch asked for.
struct Watch {
    res: Res,
    ns: Option<String>,
    sel: Selectors,
    /// The resourceVersion to start after (none: from the current state).
    from: Option<u64>,
    initial_events: bool,
    bookmarks: bool,
    timeout: Duration,
}

impl Watch {
    /// The start: every matching object (to send as ADDED) unless the
    /// watch resumes at `from`, the cursor to read the journal from, the
    /// current resourceVersion; an expired `from` is an error status.
    fn start(&self, k: &K8sState, now: SystemTime) -> Result<(Vec<Value>, u64, u64), Value> {
        if let Some(rv) = self.from {
            if !self.initial_events && rv < k.journal.floor {
                return Err(expired(rv, k.journal.floor));
            }
        }
        let initial = if self.initial_events || self.from.is_none() {
            matching(k, self.res, self.ns.as_deref(), &self.sel, now)
        } else {
            Vec::new()
        };
        let cursor = if self.initial_events || self.from.is_none() {
            k.journal.recorded
        } else {
            self.from.unwrap_or(k.journal.recorded)
        };
        Ok((initial, cursor, k.journal.recorded))
    }

    /// The matching changes after `cursor` (type and object), and the next
    /// cursor; changes lost from the journal are an error status.
    fn changes(
        &self,
        k: &K8sState,
        cursor: u64,
        now: SystemTime,
    ) -> Result<(Vec<Event>, u64), Value> {
        let Some(changes) = k.journal.since(cursor) else {
            return Err(expired(cursor, k.journal.floor));
        };
        let mut out = Vec::new();
        for c in changes {
            if objects::res_of(&c.object) != self.res {
                continue;
            }
            let (_, v) = objects::object_json(k, &c.object, now);
            if in_namespace(&v, self.ns.as_deref()) && self.sel.matches(&v) {
                out.push((c.kind.as_str(), v));
            }
        }
        Ok((out, k.journal.recorded))
    }
}

pub(crate) fn serve(api: Arc<Api>, call: Call, sel: Selectors) -> Response {
    let params = &call.params;
    let from: Option<u64> = match params.get("resourceVersion").filter(|v| *v != "0") {
        None => None,
        Some(v) => match v.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                return axum::response::IntoResponse::into_response(ApiError::bad_request(
                    format!("resourceVersion: Invalid value: {v:?}"),
                ));
            }
        },
    };
    let watch = Watch {
        res: call.target.res,
        ns: call.target.namespace.clone(),
        sel,
        from,
        initial_events: params.flag("sendInitialEvents"),
        bookmarks: params.flag("allowWatchBookmarks"),
        timeout: params
            .number("timeoutSeconds")
            .map_or(DEFAULT_TIMEOUT, Duration::from_secs),
    };
    let shape = Shape {
        res: watch.res,
        table: table::wanted(call.header("accept")),
        include: params
            .get("includeObject")
            .unwrap_or("Metadata")
            .to_string(),
        columns_sent: false,
    };
    let (tx, resp) = channel_body("application/json");
    tokio::spawn(stream(api, watch, shape, tx));
    resp
}

/// Send the watch's events until it times out, the client goes or the
/// server stops.
async fn stream(api: Arc<Api>, watch: Watch, mut shape: Shape, tx: mpsc::Sender<Bytes>) {
    let cancel = api.cancel.clone();
    let start = api.k8s(|k, _, now| watch.start(k, now).map(|s| (s, now)));
    let ((initial, mut cursor, current), now) = match start {
        Ok(s) => s,
        Err(status) => {
            let _ = tx.send(line("ERROR", status)).await;
            return;
        }
    };
    for v in initial {
        if tx.send(line("ADDED", shape.object(v, now))).await.is_err() {
            return;
        }
    }
    if watch.initial_events && watch.bookmarks {
        let b = bookmark(watch.res, current, true);
        if tx.send(line("BOOKMARK", b)).await.is_err() {
            return;
        }
    }
    let deadline = tokio::time::Instant::now() + watch.timeout;
    let mut last_bookmark = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(POLL) => {}
        }
        if tokio::time::Instant::now() >= deadline {
            return;
        }
        let batch = api.k8s(|k, _, now| watch.changes(k, cursor, now).map(|b| (b, now)));
        let ((events, next), now) = match batch {
            Ok(b) => b,
            Err(status) => {
                let _ = tx.send(line("ERROR", status)).await;
                return;
            }
        };
        cursor = next;
        for (kind, v) in events {
            if tx.send(line(kind, shape.object(v, now))).await.is_err() {
                return;
            }
        }
        if watch.bookmarks && last_bookmark.elapsed() >= BOOKMARK_EVERY {
            last_bookmark = tokio::time::Instant::now();
            if tx
                .send(line("BOOKMARK", bookmark(watch.res, cursor, false)))
                .await
                .is_err()
            {
                return;
            }
        }
    }
}
