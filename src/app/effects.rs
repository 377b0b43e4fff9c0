//! Running the core's effects: changes (audited before and after),
//! permission checks and dry runs, previous logs, Logs Insights queries and
//! context switches. Results come back as messages.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::audited::run_audited;
use super::deadline::within_for;
use super::tasks::Running;
use crate::audit::AuditLog;
use crate::core::{Effect, Msg, State, update};
use crate::domain::PreviewError;
use crate::source::{Backends, ChangeExecutor, SourceError};

/// The result of reopening the backends for a context/namespace.
pub(super) type SwitchResult = (String, Result<Backends, SourceError>);

/// What effects need from the driver.
pub(super) struct Io {
    pub tx: mpsc::Sender<Msg>,
    pub audit: AuditLog,
    pub refresh: watch::Sender<u64>,
    pub switch: mpsc::Sender<SwitchResult>,
    /// Cancelled when opsdeck must quit without waiting any longer for
    /// running actions: each writes its `interrupted` record and returns.
    pub interrupt: CancellationToken,
    /// Actions running now.
    pub inflight: Arc<std::sync::atomic::AtomicUsize>,
}

/// Apply one message and run its effects; return those that act on the
/// terminal itself (copy, suspend, theme) for the loop that owns it.
pub(super) fn handle(state: &mut State, msg: Msg, running: &Running, io: &Io) -> Vec<Effect> {
    let mut terminal = Vec::new();
    for effect in update(state, msg) {
        match effect {
            Effect::Copy { .. } | Effect::Suspend | Effect::SetTheme { .. } => {
                terminal.push(effect);
            }
            Effect::Quit => state.quit = true,
            Effect::InterruptAfter { after } => {
                let interrupt = io.interrupt.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    interrupt.cancel();
                });
            }
            Effect::SaveLogs { path, text, lines } => {
                let tx = io.tx.clone();
                tokio::spawn(async move {
                    let msg = match tokio::task::spawn_blocking(move || {
                        save_new_file(&path, &text).map(|()| path)
                    })
                    .await
                    {
                        Ok(Ok(path)) => Msg::Flash {
                            text: format!("saved {lines} log lines to {}", path.display()),
                            error: false,
                        },
                        Ok(Err(e)) => Msg::Flash {
                            text: format!("logs not saved: {e}"),
                            error: true,
                        },
                        Err(e) => Msg::Flash {
                            text: format!("logs not saved: {e}"),
                            error: true,
                        },
                    };
                    let _ = tx.send(msg).await;
                });
            }
            Effect::Refresh => {
                io.refresh.send_modify(|n| *n += 1);
            }
            Effect::RunChange {
                id,
                change: request,
            } => {
                let tx = io.tx.clone();
                let executor = running.executor.clone();
                let audit = io.audit.clone();
                let refresh = io.refresh.clone();
                let interrupt = io.interrupt.clone();
                let inflight = io.inflight.clone();
                inflight.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    let result = run_audited(&*executor, &audit, &request, &interrupt).await;
                    inflight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    refresh.send_modify(|n| *n += 1);
                    let _ = tx.send(Msg::ChangeFinished { id, result }).await;
                });
            }
            Effect::CheckChange {
                id,
                change: request,
            } => {
                let tx = io.tx.clone();
                let executor = running.executor.clone();
                tokio::spawn(async move {
                    let (allowed, preview) = match within(check(&*executor, &request)).await {
                        Ok(answer) => answer,
                        Err(e) => (Ok(()), Err(PreviewError::Unavailable(e))),
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
            Effect::Describe { id, target } => {
                let tx = io.tx.clone();
                match running.describer.clone() {
                    Some(describer) => {
                        tokio::spawn(async move {
                            let result = within(describer.describe(&target))
                                .await
                                .and_then(|r| r.map_err(|e| e.to_string()));
                            let _ = tx.send(Msg::Described { id, result }).await;
                        });
                    }
                    None => {
                        let _ = tx.try_send(Msg::Described {
                            id,
                            result: Err(format!(
                                "this session's backends cannot describe {target}"
                            )),
                        });
                    }
                }
            }
            Effect::PreviousLogs { pod } => {
                let tx = io.tx.clone();
                match running.history.clone() {
                    Some(history) => {
                        tokio::spawn(async move {
                            let result = within(history.previous(&pod.scope, &pod.name))
                                .await
                                .and_then(|r| r.map_err(|e| e.to_string()));
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
                        let _ = done.send((context, result)).await;
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
    terminal
}

/// How long a one-shot request (a check, a detail view, previous logs) may
/// go unanswered before it is reported as such: a frozen server must not
/// leave a dialog "checking…" for ever.
const ANSWER_WITHIN: Duration = Duration::from_secs(15);

/// `fut`'s output, or a message saying the server did not answer in time.
async fn within<T>(fut: impl std::future::Future<Output = T>) -> Result<T, String> {
    within_for(ANSWER_WITHIN, fut).await
}

/// Whether `request` is allowed, and its dry run. Every item of a batch
/// must be allowed; a batch has no dry run.
async fn check(
    executor: &dyn ChangeExecutor,
    request: &crate::domain::Change,
) -> (
    Result<(), String>,
    Result<Option<crate::domain::Preview>, PreviewError>,
) {
    if let crate::domain::Change::Batch { changes } = request {
        for c in changes {
            if let Err(why) = executor.allowed(c).await {
                return (Err(format!("{}: {why}", c.target())), Ok(None));
            }
        }
        return (Ok(()), Ok(None));
    }
    let allowed = executor.allowed(request).await;
    let preview = if allowed.is_ok() {
        executor.preview(request).await.map_err(|e| match e {
            SourceError::Unreachable(_) | SourceError::Throttled(_) => {
                PreviewError::Unavailable(e.to_string())
            }
            _ => PreviewError::Refused(e.to_string()),
        })
    } else {
        Ok(None)
    };
    (allowed, preview)
}

/// Write `text` to a new file; an existing file is never overwritten.
pub fn save_new_file(path: &std::path::Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saving_writes_a_new_file_and_never_overwrites_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs.txt");
        save_new_file(&path, "one\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\n");
        let err = save_new_file(&path, "two\n").unwrap_err();
        assert!(err.contains("logs.txt") && err.contains("exists"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "one\n");
    }

    #[tokio::test]
    async fn a_request_that_never_answers_is_reported_not_waited_for() {
        let limit = Duration::from_millis(50);
        let err = within_for(limit, std::future::pending::<()>())
            .await
            .unwrap_err();
        assert_eq!(err, "no answer from the server within 50ms");
        assert_eq!(within_for(limit, async { 7 }).await, Ok(7));
    }
}
