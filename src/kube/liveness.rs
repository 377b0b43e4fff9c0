//! Whether the API server answers at all. Watches and log streams of a
//! hung server (stopped, or a connection that no longer forwards) simply
//! go quiet, which looks like a calm cluster; so a probe asks `/version`
//! every few seconds with a short timeout, and the sources answering from
//! caches and streams report its failure instead of their quiet data.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use super::config::map_kube_error;
use crate::source::SourceError;

/// How often the probe asks, and how long it waits for an answer: a hung
/// server is noticed within their sum.
const PROBE_EVERY: Duration = Duration::from_secs(4);
const PROBE_TIMEOUT: Duration = Duration::from_secs(6);

/// The probe's latest verdict.
#[derive(Debug, Default)]
pub struct Liveness {
    state: Mutex<Probed>,
}

#[derive(Debug, Default)]
struct Probed {
    /// The latest probe's failure; None while the server answers (or
    /// before the first probe has finished).
    failure: Option<SourceError>,
    /// The last answer.
    answered: Option<SystemTime>,
}

impl Liveness {
    /// Start probing with `client` until `cancel` fires.
    pub fn start(client: ::kube::Client, cancel: CancellationToken) -> Arc<Liveness> {
        let this = Arc::new(Liveness::default());
        let live = this.clone();
        tokio::spawn(async move {
            loop {
                let answer = tokio::select! {
                    () = cancel.cancelled() => return,
                    a = tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()) => a,
                };
                let failure = match answer {
                    Ok(Ok(_)) => None,
                    Ok(Err(e)) => Some(map_kube_error("asking the API server its version", &e)),
                    Err(_) => Some(SourceError::Unreachable(format!(
                        "the API server did not answer within {}s",
                        PROBE_TIMEOUT.as_secs()
                    ))),
                };
                if let Some(f) = &failure {
                    tracing::warn!(error = %f, "API server probe failed");
                }
                live.set(failure);
                tokio::select! {
                    () = cancel.cancelled() => return,
                    () = tokio::time::sleep(PROBE_EVERY) => {}
                }
            }
        });
        this
    }

    fn set(&self, failure: Option<SourceError>) {
        if let Ok(mut p) = self.state.lock() {
            if failure.is_none() {
                p.answered = Some(SystemTime::now());
            }
            p.failure = failure;
        }
    }

    /// The latest probe's failure, or the server's silence for longer than
    /// a probe takes (a probe still waiting on a hung server).
    pub fn check(&self) -> Result<(), SourceError> {
        let Ok(p) = self.state.lock() else {
            return Ok(());
        };
        if let Some(e) = &p.failure {
            return Err(e.clone());
        }
        let silent = p
            .answered
            .and_then(|t| t.elapsed().ok())
            .filter(|s| *s > PROBE_EVERY + Duration::from_secs(2));
        match silent {
            Some(s) => Err(SourceError::Unreachable(format!(
                "the API server has not answered for {}s",
                s.as_secs()
            ))),
            None => Ok(()),
        }
    }

    /// When the API server last answered a probe.
    pub fn answered(&self) -> Option<SystemTime> {
        self.state.lock().ok().and_then(|p| p.answered)
    }
}
