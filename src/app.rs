//! The driver: owns the terminal and the background tasks, feeds messages to
//! [`crate::core::update`], runs the effects it returns and draws when the
//! state changed.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::audit::AuditLog;
use crate::core::{Effect, Feed, Msg, State, update};
use crate::domain::{DbSnapshot, MetricSeries, Workload};
use crate::keymap::KeyChord;
use crate::source::{Backends, ChangeExecutor, SourceError};
use crate::theme::Theme;

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

/// Delay before the next attempt after `failures` consecutive failures.
pub fn backoff(intervals: &Intervals, failures: u32) -> Duration {
    let factor = 1u32
        .checked_shl(failures.saturating_sub(1).min(16))
        .unwrap_or(u32::MAX);
    intervals
        .min_backoff
        .saturating_mul(factor)
        .min(intervals.max_backoff)
}

/// Frames are drawn at most this often.
const FRAME: Duration = Duration::from_millis(16);

/// Run the console until the user quits or a signal arrives.
pub async fn run(
    mut state: State,
    theme: Theme,
    backends: Backends,
    audit: AuditLog,
) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "the console needs a terminal, and standard output is not one (try `opsdeck check-config` for a non-interactive check)"
        );
    }
    let mut terminal = ratatui::try_init()?;
    let result = event_loop(&mut terminal, &mut state, &theme, backends, audit).await;
    ratatui::try_restore()?;
    result
}

/// One set of running backends: its tasks stop when `cancel` fires.
struct Running {
    cancel: CancellationToken,
    executor: Arc<dyn ChangeExecutor>,
    switcher: Option<Arc<dyn crate::source::Switcher>>,
    history: Option<Arc<dyn crate::source::LogHistory>>,
    queries: Option<Arc<dyn crate::source::QueryRunner>>,
    /// Stops the Logs Insights query being followed, if any.
    query_job: std::sync::Mutex<Option<CancellationToken>>,
}

/// Start the background tasks of a backend set.
fn start(
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
        let mut failures = 0u32;
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
            let msg = match res {
                Ok(batch) if batch.is_empty() && last_sent.elapsed() < QUIET_ALIVE => continue,
                Ok(batch) => {
                    failures = 0;
                    Msg::Logs(batch)
                }
                Err(e) => {
                    failures += 1;
                    Msg::FeedFailed {
                        feed: Feed::Logs,
                        error: format!("{}: {e}", src.label()),
                    }
                }
            };
            if tx.send(msg).await.is_err() {
                return;
            }
            last_sent = Instant::now();
            if failures > 0 {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(backoff(&intervals, failures)) => {}
                }
            }
        }
    });
}

/// How often a stream with nothing new tells the core it is still alive.
const QUIET_ALIVE: Duration = Duration::from_secs(10);

/// The result of reopening the backends for a context/namespace.
type SwitchResult = (String, Option<String>, Result<Backends, SourceError>);

async fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    state: &mut State,
    theme: &Theme,
    backends: Backends,
    audit: AuditLog,
) -> anyhow::Result<()> {
    let (tx, mut rx) = mpsc::channel::<Msg>(1024);
    let (switch_tx, mut switch_rx) = mpsc::channel::<SwitchResult>(4);
    let root = CancellationToken::new();
    let (refresh_tx, refresh_rx) = watch::channel(0u64);
    let intervals = Intervals::default();
    let mut running = start(backends, &root, &tx, &refresh_rx, intervals);
    spawn_input(&tx, &root);
    spawn_ticks_and_signals(&tx, &root);

    let mut dirty = true;
    let mut last_draw = Instant::now() - FRAME;
    let io = Io {
        tx: tx.clone(),
        audit,
        refresh: refresh_tx,
        switch: switch_tx,
    };
    while !state.quit {
        let wait = FRAME.saturating_sub(last_draw.elapsed());
        tokio::select! {
            m = rx.recv() => {
                let Some(m) = m else { break };
                handle(state, m, &running, &io);
                // Coalesce whatever else is already queued into the same frame.
                while let Ok(m) = rx.try_recv() {
                    handle(state, m, &running, &io);
                }
                dirty = true;
            }
            Some((context, namespace, result)) = switch_rx.recv() => {
                match result {
                    Ok(backends) => {
                        running.cancel.cancel();
                        let label = backends.context.clone();
                        running = start(backends, &root, &tx, &refresh_rx, intervals);
                        handle(state, Msg::Switched { context, namespace, label }, &running, &io);
                    }
                    Err(e) => handle(state, Msg::Flash { text: format!("cannot switch to {context}: {e}"), error: true }, &running, &io),
                }
                dirty = true;
            }
            _ = tokio::time::sleep(wait), if dirty => {
                draw(terminal, state, theme)?;
                last_draw = Instant::now();
                dirty = false;
            }
        }
    }
    root.cancel();
    Ok(())
}

/// What effects need from the driver.
struct Io {
    tx: mpsc::Sender<Msg>,
    audit: AuditLog,
    refresh: watch::Sender<u64>,
    switch: mpsc::Sender<SwitchResult>,
}

fn draw(
    terminal: &mut ratatui::DefaultTerminal,
    state: &State,
    theme: &Theme,
) -> anyhow::Result<()> {
    crossterm::queue!(
        terminal.backend_mut(),
        crossterm::terminal::BeginSynchronizedUpdate
    )?;
    terminal.draw(|f| crate::ui::render(f, state, theme))?;
    crossterm::queue!(
        terminal.backend_mut(),
        crossterm::terminal::EndSynchronizedUpdate
    )?;
    terminal.backend_mut().flush()?;
    Ok(())
}

/// Apply one message and run its effects.
fn handle(state: &mut State, msg: Msg, running: &Running, io: &Io) {
    for effect in update(state, msg) {
        match effect {
            Effect::Quit => state.quit = true,
            Effect::Refresh => {
                io.refresh.send_modify(|n| *n += 1);
            }
            Effect::RunChange { id, request } => {
                let tx = io.tx.clone();
                let executor = running.executor.clone();
                let audit = io.audit.clone();
                let refresh = io.refresh.clone();
                tokio::spawn(async move {
                    let result = run_audited(&*executor, &audit, id, &request).await;
                    refresh.send_modify(|n| *n += 1);
                    let _ = tx.send(Msg::ChangeFinished { id, result }).await;
                });
            }
            Effect::CheckChange { id, request } => {
                let tx = io.tx.clone();
                let executor = running.executor.clone();
                tokio::spawn(async move {
                    let allowed = executor.allowed(&request).await;
                    let preview = if allowed.is_ok() {
                        executor.preview(&request).await.map_err(|e| e.to_string())
                    } else {
                        Ok(None)
                    };
                    let _ = tx
                        .send(Msg::ChangeChecked {
                            id,
                            allowed,
                            preview,
                        })
                        .await;
                });
            }
            Effect::PreviousLogs { pod } => {
                let tx = io.tx.clone();
                match running.history.clone() {
                    Some(history) => {
                        tokio::spawn(async move {
                            let result = history
                                .previous(&pod.scope, &pod.name)
                                .await
                                .map_err(|e| e.to_string());
                            let _ = tx.send(Msg::PreviousLogs { pod, result }).await;
                        });
                    }
                    None => {
                        let _ = tx.try_send(Msg::PreviousLogs {
                            pod,
                            result: Err("this session's backends keep no previous logs".into()),
                        });
                    }
                }
            }
            Effect::StartQuery { generation, query } => {
                let token = running.cancel.child_token();
                if let Ok(mut job) = running.query_job.lock() {
                    if let Some(old) = job.replace(token.clone()) {
                        old.cancel();
                    }
                }
                let tx = io.tx.clone();
                match running.queries.clone() {
                    Some(runner) => {
                        tokio::spawn(follow_query(runner, generation, query, token, tx));
                    }
                    None => {
                        let _ = tx.try_send(Msg::Query {
                            generation,
                            update: Err(
                                "this session has no CloudWatch Logs groups to query".into()
                            ),
                        });
                    }
                }
            }
            Effect::StopQuery => {
                if let Ok(mut job) = running.query_job.lock() {
                    if let Some(token) = job.take() {
                        token.cancel();
                    }
                }
            }
            Effect::Switch { context, namespace } => match &running.switcher {
                Some(switcher) => {
                    let switcher = switcher.clone();
                    let done = io.switch.clone();
                    tokio::spawn(async move {
                        let result = switcher.open(&context, namespace.as_deref()).await;
                        let _ = done.send((context, namespace, result)).await;
                    });
                }
                None => {
                    let _ = io.tx.try_send(Msg::Flash {
                        text: "this session cannot switch contexts".into(),
                        error: true,
                    });
                }
            },
        }
    }
}

/// How often a running Logs Insights query's results are fetched.
const QUERY_POLL: Duration = Duration::from_secs(1);
/// Consecutive failed result fetches after which a query is given up.
const QUERY_MAX_FAILURES: u32 = 5;

/// Start a Logs Insights query and send its results until it is done, the
/// fetches keep failing, or `cancel` fires (then StopQuery is sent).
pub async fn follow_query(
    runner: Arc<dyn crate::source::QueryRunner>,
    generation: u64,
    query: String,
    cancel: CancellationToken,
    tx: mpsc::Sender<Msg>,
) {
    let started = tokio::select! {
        _ = cancel.cancelled() => return,
        r = runner.start(&query) => r,
    };
    let id = match started {
        Ok(id) => id,
        Err(e) => {
            let _ = tx
                .send(Msg::Query {
                    generation,
                    update: Err(format!("the query did not start: {e}")),
                })
                .await;
            return;
        }
    };
    let mut failures = 0u32;
    loop {
        let fetched = tokio::select! {
            _ = cancel.cancelled() => break,
            r = runner.results(&id) => r,
        };
        match fetched {
            Ok(results) => {
                failures = 0;
                let done = results.status.is_done();
                let _ = tx
                    .send(Msg::Query {
                        generation,
                        update: Ok(results),
                    })
                    .await;
                if done {
                    return;
                }
            }
            Err(e) => {
                failures += 1;
                if failures >= QUERY_MAX_FAILURES {
                    let _ = tx
                        .send(Msg::Query {
                            generation,
                            update: Err(format!("results could not be fetched: {e}")),
                        })
                        .await;
                    return;
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(QUERY_POLL * (failures + 1)) => {}
        }
    }
    // Cancelled: stop the query so it does not run on (and cost) in CloudWatch.
    let (text, error) = match runner.stop(&id).await {
        Ok(()) => ("Logs Insights query stopped".to_string(), false),
        Err(e) => (
            format!("StopQuery failed ({e}); the query runs on in CloudWatch until it finishes"),
            true,
        ),
    };
    let _ = tx.send(Msg::Flash { text, error }).await;
}

/// Write the audit record, run the action, write its result. The action does
/// not run if the first record cannot be written.
pub async fn run_audited(
    executor: &dyn ChangeExecutor,
    audit: &AuditLog,
    id: u64,
    request: &crate::domain::Change,
) -> Result<crate::domain::ChangeOutcome, String> {
    if let Err(e) = audit.started(id, request) {
        tracing::error!(error = %e, path = %audit.path().display(), "audit log not writable; action not run");
        return Err(format!(
            "not run: the audit log {} cannot be written: {e}",
            audit.path().display()
        ));
    }
    tracing::info!(id, change = %request.describe(), "action started");
    let result = executor.execute(request).await.map_err(|e| e.to_string());
    if let Err(e) = audit.finished(id, request, &result) {
        tracing::error!(error = %e, "audit log: result not written");
        return match result {
            Ok(o) => Err(format!(
                "{} — but its result could not be written to the audit log: {e}",
                o.summary
            )),
            Err(r) => Err(format!("{r} (and the audit log could not be written: {e})")),
        };
    }
    tracing::info!(id, ok = result.is_ok(), "action finished");
    result
}

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
    let mut failures = 0u32;
    loop {
        let mut errors = Vec::new();
        for (i, slot) in last.iter_mut().enumerate() {
            let (label, res) = fetch(i).await;
            match res {
                Ok(rows) => *slot = rows,
                Err(e) => errors.push(format!("{label}: {e}")),
            }
        }
        let all: Vec<T> = last.iter().flatten().cloned().collect();
        // Rows first, then the failure, so the feed ends up marked stale.
        if tx.send(wrap(all)).await.is_err() {
            return;
        }
        let wait = if errors.is_empty() {
            failures = 0;
            every
        } else {
            failures += 1;
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
            backoff(&intervals, failures)
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

fn spawn_input(tx: &mpsc::Sender<Msg>, cancel: &CancellationToken) {
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

fn spawn_ticks_and_signals(tx: &mpsc::Sender<Msg>, cancel: &CancellationToken) {
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
                "rows a",
                "failed workloads flaky: unreachable: connection refused",
                "rows a",
                "failed workloads flaky: unreachable: connection refused",
                "rows b",
            ]
        );
        // The retries waited: 40 ms after the first failure, 80 ms after the second.
        assert!(
            times[3] - times[2] >= Duration::from_millis(40),
            "{times:?}"
        );
        assert!(
            times[5] - times[4] >= Duration::from_millis(80),
            "{times:?}"
        );
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let iv = Intervals::default();
        assert_eq!(backoff(&iv, 1), Duration::from_secs(1));
        assert_eq!(backoff(&iv, 2), Duration::from_secs(2));
        assert_eq!(backoff(&iv, 4), Duration::from_secs(8));
        assert_eq!(backoff(&iv, 10), Duration::from_secs(30));
        assert_eq!(backoff(&iv, u32::MAX), Duration::from_secs(30));
    }
}
