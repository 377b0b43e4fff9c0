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
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
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
        let mut backoff = intervals.backoff();
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
                        error: format!("{}: {e}", src.label()),
                    })
                }
            };
            // Lines first: a stream's state comes after the lines it read.
            for msg in msg
                .into_iter()
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

/// A poller for one kind of source: keeps the last good answer of each
/// source so one failing backend leaves the others' rows (and its own stale ones) on screen.
async fn poll_loop<T, F, Fut>(
    sources: usize,
    feed: Feed,
    every: Duration,
    mut fetch: F,
    wrap: fn(Vec<T>) -> Msg,
    ctx: PollCtx,
) where
    T: Clone + Send + 'static,
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = (String, Result<Vec<T>, SourceError>)>,
{
    let PollCtx {
        intervals,
        tx,
        cancel,
        mut refresh,
    } = ctx;
    if sources == 0 {
        return;
    }
    let mut last: Vec<Vec<T>> = vec![Vec::new(); sources];
    let mut backoff = intervals.backoff();
    loop {
        let mut errors = Vec::new();
        for (i, slot) in last.iter_mut().enumerate() {
            let (label, res) = fetch(i).await;
            match res {
                Ok(rows) => *slot = rows,
                Err(e) => errors.push(format!("{label}: {e}")),
            }
        }
        // Rows first, then the failure, so the feed ends up marked stale.
        // When every source failed there is nothing new to send: the feed
        // keeps its last success (or none, and the pane shows the error).
        if errors.len() < sources {
            let all: Vec<T> = last.iter().flatten().cloned().collect();
            if tx.send(wrap(all)).await.is_err() {
                return;
            }
        }
        let wait = if errors.is_empty() {
            backoff.reset();
            every
        } else {
            if tx
                .send(Msg::FeedFailed {
                    feed,
                    error: errors.join("; "),
                })
                .await
                .is_err()
            {
                return;
            }
            backoff.fail()
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
            _ = refresh.changed() => {}
        }
    }
}

fn spawn_pollers(
    workloads: Vec<Box<dyn crate::source::WorkloadSource>>,
    metrics: Vec<Box<dyn crate::source::MetricSource>>,
    databases: Vec<Box<dyn crate::source::DatabaseSource>>,
    ctx: PollCtx,
) {
    let iv = ctx.intervals;
    let workloads: Arc<Vec<Box<dyn crate::source::WorkloadSource>>> = Arc::new(workloads);
    let n = workloads.len();
    tokio::spawn(poll_loop::<Workload, _, _>(
        n,
        Feed::Workloads,
        iv.workloads,
        move |i| {
            let w = workloads.clone();
            async move { (w[i].label(), w[i].workloads().await) }
        },
        Msg::Workloads,
        ctx.clone(),
    ));
    let metrics: Arc<Vec<Box<dyn crate::source::MetricSource>>> = Arc::new(metrics);
    let n = metrics.len();
    tokio::spawn(poll_loop::<MetricSeries, _, _>(
        n,
        Feed::Metrics,
        iv.metrics,
        move |i| {
            let m = metrics.clone();
            async move { (m[i].label(), m[i].metrics().await) }
        },
        Msg::Metrics,
        ctx.clone(),
    ));
    let databases: Arc<Vec<Box<dyn crate::source::DatabaseSource>>> = Arc::new(databases);
    let n = databases.len();
    tokio::spawn(poll_loop::<DbSnapshot, _, _>(
        n,
        Feed::Database,
        iv.databases,
        move |i| {
            let d = databases.clone();
            async move { (d[i].label(), d[i].snapshot().await.map(|s| vec![s])) }
        },
        Msg::Databases,
        ctx.clone(),
    ));
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
        for kind in [
            SignalKind::terminate(),
            SignalKind::hangup(),
            SignalKind::interrupt(),
        ] {
            let t = tx.clone();
            let c = cancel.clone();
            match signal(kind) {
                Ok(mut s) => {
                    tokio::spawn(async move {
                        tokio::select! {
                            _ = c.cancelled() => {}
                            _ = s.recv() => {
                                tracing::info!(?kind, "signal received; quitting");
                                let _ = t.send(Msg::Quit).await;
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

    #[tokio::test]
    async fn failing_source_keeps_its_rows_marks_them_and_retries_with_backoff() {
        let (tx, mut rx) = mpsc::channel(64);
        let cancel = CancellationToken::new();
        let (_refresh_tx, refresh_rx) = watch::channel(0u64);
        let intervals = Intervals {
            workloads: Duration::from_millis(5),
            min_backoff: Duration::from_millis(40),
            max_backoff: Duration::from_millis(200),
            ..Intervals::default()
        };
        let ctx = PollCtx {
            intervals,
            tx,
            cancel: cancel.clone(),
            refresh: refresh_rx,
        };
        spawn_pollers(
            vec![Box::new(Flaky(AtomicU32::new(0)))],
            Vec::new(),
            Vec::new(),
            ctx,
        );
        let mut seen = Vec::new();
        let mut times = Vec::new();
        let start = std::time::Instant::now();
        while seen.len() < 6 {
            let m = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .unwrap()
                .unwrap();
            times.push(start.elapsed());
            seen.push(match m {
                Msg::Workloads(rows) => format!(
                    "rows {}",
                    rows.iter().map(|r| r.id.name.as_str()).collect::<String>()
                ),
                Msg::FeedFailed { feed, error } => format!("failed {} {error}", feed.name()),
                other => format!("{other:?}"),
            });
        }
        cancel.cancel();
        assert_eq!(
            seen,
            vec![
                "rows a",
                "failed workloads flaky: unreachable: connection refused",
                "failed workloads flaky: unreachable: connection refused",
                "rows b",
                "rows b",
                "rows b",
            ]
        );
        // A round where every source failed sends no rows (the core keeps
        // the last ones, stale); the retries waited: 40 ms after the first
        // failure, 80 ms after the second.
        assert!(
            times[2] - times[1] >= Duration::from_millis(40),
            "{times:?}"
        );
        assert!(
            times[3] - times[2] >= Duration::from_millis(80),
            "{times:?}"
        );
    }
}
