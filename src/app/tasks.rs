//! The background tasks: one poller per kind of feed, one task per log
//! stream, terminal input, the clock and signals. They talk to the loop only
//! through the message channel and stop when their token is cancelled.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::backoff::Backoff;
use crate::core::{Feed, Msg};
use crate::domain::{DbSnapshot, MetricSeries, Workload};
use crate::keymap::KeyChord;
use crate::source::{Backends, ChangeExecutor, SourceError};

/// How often each poller asks its sources when all is well.
#[derive(Debug, Clone, Copy)]
pub struct Intervals {
    pub workloads: Duration,
    pub metrics: Duration,
    pub databases: Duration,
    pub log_wait: Duration,
    /// How long one poll of one source may take before it counts as failed.
    pub answer_within: Duration,
    /// Retry backoff starts here and doubles up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl Intervals {
    /// The retry policy of every feed.
    pub fn backoff(&self) -> Backoff {
        Backoff::new(self.min_backoff, self.max_backoff)
    }
}

impl Default for Intervals {
    fn default() -> Self {
        Self {
            workloads: Duration::from_secs(2),
            metrics: Duration::from_secs(5),
            databases: Duration::from_secs(2),
            log_wait: Duration::from_millis(250),
            answer_within: Duration::from_secs(15),
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// One set of running backends: its tasks stop when `cancel` fires.
pub(super) struct Running {
    pub cancel: CancellationToken,
    pub executor: Arc<dyn ChangeExecutor>,
    pub switcher: Option<Arc<dyn crate::source::Switcher>>,
    pub history: Option<Arc<dyn crate::source::LogHistory>>,
    pub queries: Option<Arc<dyn crate::source::QueryRunner>>,
    pub describer: Option<Arc<dyn crate::source::Describer>>,
    /// Stops the Logs Insights query being followed, if any.
    pub query_job: std::sync::Mutex<Option<CancellationToken>>,
}

/// Start the background tasks of a backend set.
pub(super) fn start(
    backends: Backends,
    root: &CancellationToken,
    tx: &mpsc::Sender<Msg>,
    refresh: &watch::Receiver<u64>,
    intervals: Intervals,
) -> Running {
    let cancel = root.child_token();
    let ctx = PollCtx {
        intervals,
        tx: tx.clone(),
        cancel: cancel.clone(),
        refresh: refresh.clone(),
    };
    spawn_pollers(
        backends.workloads,
        backends.metrics,
        backends.databases,
        ctx,
    );
    for src in backends.logs {
        spawn_log_stream(src, tx.clone(), cancel.clone(), intervals);
    }
    let groups = backends
        .queries
        .as_ref()
        .map(|q| q.groups())
        .unwrap_or_default();
    let _ = tx.try_send(Msg::QueryGroups(groups));
    Running {
        cancel,
        executor: Arc::from(backends.executor),
        switcher: backends.switcher,
        history: backends.history,
        queries: backends.queries,
        describer: backends.describer,
        query_job: std::sync::Mutex::new(None),
    }
}

fn spawn_log_stream(
    mut src: Box<dyn crate::source::LogSource>,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
    intervals: Intervals,
) {
    tokio::spawn(async move {
        // A stream retries on its own; a failing read is retried soon, so
        // the pane turns fresh again soon after the server does.
        let mut backoff = crate::backoff::Backoff::new(
            intervals.min_backoff,
            intervals.max_backoff.min(LOG_RETRY_MAX),
        );
        let mut lag: Option<Duration> = None;
        // A quiet stream is still a live one: say so now and then, so the
        // Logs feed is not marked stale for lack of lines.
        let mut last_sent = Instant::now();
        loop {
            let res = tokio::select! {
                _ = cancel.cancelled() => return,
                r = src.next_batch(intervals.log_wait) => r,
            };
            // Report the lag when it appears, changes by a second, or goes.
            let now_lag = src.lag();
            if lag.map(|d| d.as_secs()) != now_lag.map(|d| d.as_secs()) {
                lag = now_lag;
                let _ = tx
                    .send(Msg::LogLag {
                        source: src.label(),
                        lag,
                    })
                    .await;
            }
            let states = src.stream_states();
            let mut failed = None;
            let msg = match res {
                Ok(batch) if batch.is_empty() && last_sent.elapsed() < QUIET_ALIVE => None,
                Ok(batch) => {
                    backoff.reset();
                    Some(Msg::Logs(batch))
                }
                Err(e) => {
                    let delay = backoff.fail();
                    failed = Some(delay);
                    Some(Msg::FeedFailed {
                        feed: Feed::Logs,
                        source: src.label(),
                        error: e.to_string(),
                    })
                }
            };
            // A batch, even an empty one after a quiet spell, is the stream
            // saying it is alive.
            let alive = match &msg {
                Some(Msg::Logs(lines)) => Some(Msg::FeedOk {
                    feed: Feed::Logs,
                    source: src.label(),
                    // Lines are news from the server; quiet is only as
                    // fresh as the server was last heard.
                    at: if lines.is_empty() {
                        src.heard_at()
                    } else {
                        None
                    },
                }),
                _ => None,
            };
            // Lines first: a stream's state comes after the lines it read.
            for msg in msg
                .into_iter()
                .chain(alive)
                .chain(states.into_iter().map(Msg::StreamState))
            {
                if tx.send(msg).await.is_err() {
                    return;
                }
                last_sent = Instant::now();
            }
            if let Some(delay) = failed {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    });
}

/// The longest wait before a failing log source is read again.
const LOG_RETRY_MAX: Duration = Duration::from_secs(5);

/// How often a stream with nothing new tells the core it is still alive.
const QUIET_ALIVE: Duration = Duration::from_secs(10);

/// What every poller task needs besides its sources.
#[derive(Clone)]
struct PollCtx {
    intervals: Intervals,
    tx: mpsc::Sender<Msg>,
    cancel: CancellationToken,
    refresh: watch::Receiver<u64>,
}

/// The pollers of one kind of source: one task per source, each on its
/// own cadence, backoff and timeout, so a slow or hung source never delays
/// another. A source's rows are sent only when it answered for real (with
/// the others' last rows when `merged`), so a retry never refreshes the
/// last-good time nor adds a point to a series.
struct Poll<T> {
    feed: Feed,
    every: Duration,
    labels: Vec<String>,
    wrap: fn(Vec<T>) -> Msg,
    /// Send every source's rows together (a feed the core replaces as a
    /// whole), or only the answering source's (the core updates those).
    merged: bool,
}

fn spawn_poll<T, F, Fut>(poll: Poll<T>, fetch: F, ctx: &PollCtx)
where
    T: Clone + Send + 'static,
    F: Fn(usize) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<SystemTime>), SourceError>>
        + Send
        + 'static,
{
    let last: Arc<std::sync::Mutex<Vec<Vec<T>>>> =
        Arc::new(std::sync::Mutex::new(vec![Vec::new(); poll.labels.len()]));
    for (i, label) in poll.labels.iter().enumerate() {
        let PollCtx {
            intervals,
            tx,
            cancel,
            mut refresh,
        } = ctx.clone();
        let (last, fetch, label) = (last.clone(), fetch.clone(), label.clone());
        let (feed, every, wrap, merged) = (poll.feed, poll.every, poll.wrap, poll.merged);
        tokio::spawn(async move {
            let mut backoff = intervals.backoff();
            loop {
                let answer = super::deadline::within_for(intervals.answer_within, fetch(i))
                    .await
                    .map_err(SourceError::Unreachable)
                    .and_then(|a| a);
                let (msgs, wait) = match answer {
                    Ok((rows, at)) => {
                        backoff.reset();
                        let rows = if merged {
                            let Ok(mut all) = last.lock() else { return };
                            all[i] = rows;
                            all.iter().flatten().cloned().collect()
                        } else {
                            rows
                        };
                        let ok = Msg::FeedOk {
                            feed,
                            source: label.clone(),
                            at,
                        };
                        (vec![wrap(rows), ok], every)
                    }
                    Err(e) => {
                        let failed = Msg::FeedFailed {
                            feed,
                            source: label.clone(),
                            error: e.to_string(),
                        };
                        (vec![failed], backoff.fail())
                    }
                };
                for m in msgs {
                    if tx.send(m).await.is_err() {
                        return;
                    }
                }
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(wait) => {}
                    Ok(()) = refresh.changed() => {}
                }
            }
        });
    }
}

fn spawn_pollers(
    workloads: Vec<Box<dyn crate::source::WorkloadSource>>,
    metrics: Vec<Box<dyn crate::source::MetricSource>>,
    databases: Vec<Box<dyn crate::source::DatabaseSource>>,
    ctx: PollCtx,
) {
    let iv = ctx.intervals;
    let labels = workloads.iter().map(|s| s.label()).collect();
    let workloads: Arc<Vec<Box<dyn crate::source::WorkloadSource>>> = Arc::new(workloads);
    spawn_poll::<Workload, _, _>(
        Poll {
            feed: Feed::Workloads,
            every: iv.workloads,
            labels,
            wrap: Msg::Workloads,
            merged: true,
        },
        move |i| {
            let w = workloads.clone();
            async move {
                let rows = w[i].workloads().await?;
                Ok((rows, w[i].heard_at()))
            }
        },
        &ctx,
    );
    let labels = metrics.iter().map(|s| s.label()).collect();
    let metrics: Arc<Vec<Box<dyn crate::source::MetricSource>>> = Arc::new(metrics);
    spawn_poll::<MetricSeries, _, _>(
        Poll {
            feed: Feed::Metrics,
            every: iv.metrics,
            labels,
            wrap: Msg::Metrics,
            merged: true,
        },
        move |i| {
            let m = metrics.clone();
            async move { Ok((m[i].metrics().await?, None)) }
        },
        &ctx,
    );
    let labels = databases.iter().map(|s| s.label()).collect();
    let databases: Arc<Vec<Box<dyn crate::source::DatabaseSource>>> = Arc::new(databases);
    spawn_poll::<DbSnapshot, _, _>(
        Poll {
            feed: Feed::Database,
            every: iv.databases,
            labels,
            wrap: Msg::Databases,
            merged: false,
        },
        move |i| {
            let d = databases.clone();
            async move { Ok((vec![d[i].snapshot().await?], None)) }
        },
        &ctx,
    );
}

pub(super) fn spawn_input(tx: &mpsc::Sender<Msg>, cancel: &CancellationToken) {
    let tx = tx.clone();
    let cancel = cancel.clone();
    tokio::spawn(async move {
        let mut events = EventStream::new();
        loop {
            let ev = tokio::select! {
                _ = cancel.cancelled() => return,
                ev = events.next() => ev,
            };
            let msg = match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                    Msg::Key(KeyChord::from_event(&k))
                }
                Some(Ok(Event::Resize(w, h))) => Msg::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(e)) => {
                    tracing::error!(error = %e, "terminal input failed");
                    Msg::Quit
                }
                None => Msg::Quit,
            };
            if tx.send(msg).await.is_err() {
                return;
            }
        }
    });
}

pub(super) fn spawn_ticks_and_signals(tx: &mpsc::Sender<Msg>, cancel: &CancellationToken) {
    let t = tx.clone();
    let c = cancel.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = c.cancelled() => return,
                _ = every.tick() => {
                    if t.send(Msg::Tick(SystemTime::now())).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        for (kind, name, number) in [
            (SignalKind::terminate(), "SIGTERM", 15),
            (SignalKind::hangup(), "SIGHUP", 1),
            (SignalKind::interrupt(), "SIGINT", 2),
        ] {
            let t = tx.clone();
            let c = cancel.clone();
            match signal(kind) {
                Ok(mut s) => {
                    tokio::spawn(async move {
                        loop {
                            tokio::select! {
                                _ = c.cancelled() => return,
                                _ = s.recv() => {
                                    tracing::info!(signal = name, "signal received; quitting");
                                    let msg = Msg::Signal { name, code: 128 + number };
                                    if t.send(msg).await.is_err() {
                                        return;
                                    }
                                }
                            }
                        }
                    });
                }
                Err(e) => tracing::warn!(error = %e, "cannot install a signal handler"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use async_trait::async_trait;

    use super::*;
    use crate::domain::{Health, WorkloadKind, WorkloadRef};
    use crate::source::WorkloadSource;

    /// Answers, fails twice, then answers with a different row.
    struct Flaky(AtomicU32);

    fn row(name: &str) -> Workload {
        Workload {
            id: WorkloadRef::new(WorkloadKind::Pod, "shop", name),
            status: "Running".into(),
            ready: 1,
            desired: 1,
            restarts: 0,
            oom_killed: false,
            health: Health::Ok,
            reason: None,
            owner: None,
            revision: None,
            created: SystemTime::UNIX_EPOCH,
            uid: None,
            image: None,
        }
    }

    #[async_trait]
    impl WorkloadSource for Flaky {
        fn label(&self) -> String {
            "flaky".into()
        }
        async fn workloads(&self) -> Result<Vec<Workload>, SourceError> {
            match self.0.fetch_add(1, Ordering::SeqCst) {
                0 => Ok(vec![row("a")]),
                1 | 2 => Err(SourceError::Unreachable("connection refused".into())),
                _ => Ok(vec![row("b")]),
            }
        }
    }

    /// Start the pollers of `sources`; their messages and the stop token.
    fn start_workloads(
        sources: Vec<Box<dyn WorkloadSource>>,
        intervals: Intervals,
    ) -> (mpsc::Receiver<Msg>, CancellationToken) {
        let (tx, rx) = mpsc::channel(256);
        let cancel = CancellationToken::new();
        // No refresh is ever asked for: a dropped sender must not wake the
        // pollers (their waits and backoff are what is tested).
        let (_, refresh) = watch::channel(0u64);
        let ctx = PollCtx {
            intervals,
            tx,
            cancel: cancel.clone(),
            refresh,
        };
        spawn_pollers(sources, Vec::new(), Vec::new(), ctx);
        (rx, cancel)
    }

    #[tokio::test]
    async fn failing_source_keeps_its_rows_marks_them_and_retries_with_backoff() {
        let (mut rx, cancel) = start_workloads(
            vec![Box::new(Flaky(AtomicU32::new(0)))],
            Intervals {
                workloads: Duration::from_millis(5),
                min_backoff: Duration::from_millis(40),
                max_backoff: Duration::from_millis(200),
                ..Intervals::default()
            },
        );
        let mut seen = Vec::new();
        let mut times = Vec::new();
        let start = std::time::Instant::now();
        while seen.len() < 8 {
            let m = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .unwrap()
                .unwrap();
            times.push(start.elapsed());
            seen.push(describe(m));
        }
        cancel.cancel();
        assert_eq!(
            seen,
            vec![
                "rows a",
                "ok flaky",
                "failed workloads flaky: unreachable: connection refused",
                "failed workloads flaky: unreachable: connection refused",
                "rows b",
                "ok flaky",
                "rows b",
                "ok flaky",
            ]
        );
        // A failed round sends no rows (the core keeps the last ones,
        // stale, with their true age); the retries waited: 40 ms after the
        // first failure, 80 ms after the second.
        assert!(
            times[3] - times[2] >= Duration::from_millis(40),
            "{times:?}"
        );
        assert!(
            times[4] - times[3] >= Duration::from_millis(80),
            "{times:?}"
        );
    }

    fn describe(m: Msg) -> String {
        match m {
            Msg::Workloads(rows) => format!(
                "rows {}",
                rows.iter().map(|r| r.id.name.as_str()).collect::<String>()
            ),
            Msg::FeedOk { source, .. } => format!("ok {source}"),
            Msg::FeedFailed {
                feed,
                source,
                error,
            } => format!("failed {} {source}: {error}", feed.name()),
            other => format!("{other:?}"),
        }
    }

    /// Answers at once, or never.
    struct Fixed {
        name: &'static str,
        hangs: bool,
    }

    #[async_trait]
    impl WorkloadSource for Fixed {
        fn label(&self) -> String {
            self.name.into()
        }
        async fn workloads(&self) -> Result<Vec<Workload>, SourceError> {
            if self.hangs {
                std::future::pending::<()>().await;
            }
            Ok(vec![row(self.name)])
        }
    }

    #[tokio::test]
    async fn a_hung_source_times_out_alone_and_never_delays_another() {
        let (mut rx, cancel) = start_workloads(
            vec![
                Box::new(Fixed {
                    name: "hung",
                    hangs: true,
                }),
                Box::new(Fixed {
                    name: "good",
                    hangs: false,
                }),
            ],
            Intervals {
                workloads: Duration::from_millis(20),
                answer_within: Duration::from_millis(300),
                ..Intervals::default()
            },
        );
        let start = std::time::Instant::now();
        let mut good_before_timeout = 0;
        let failure = loop {
            let m = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .unwrap()
                .unwrap();
            match describe(m) {
                d if d == "ok good" => good_before_timeout += 1,
                d if d.starts_with("failed") => break (d, start.elapsed()),
                d => assert_eq!(d, "rows good", "the hung source sent nothing else"),
            }
        };
        cancel.cancel();
        assert_eq!(
            failure.0,
            "failed workloads hung: unreachable: no answer from the server within 300ms"
        );
        assert!(failure.1 >= Duration::from_millis(300), "{failure:?}");
        // The good source kept its 20 ms cadence meanwhile.
        assert!(good_before_timeout >= 5, "{good_before_timeout}");
    }
}
