//! Whether the API server answers at all. Watches and log streams of a
//! hung server (stopped, or a connection that no longer forwards) simply
//! go quiet, which looks like a calm cluster; so a probe asks `/version`
//! every few seconds with a short timeout, and the sources answering from
//! caches and streams report its failure instead of their quiet data.

use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    /// The latest probe's failure; None while the server answers (or
    /// before the first probe has finished).
    failure: Mutex<Option<SourceError>>,
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
        if let Ok(mut f) = self.failure.lock() {
            *f = failure;
        }
    }

    /// The latest probe's failure, if it failed.
    pub fn check(&self) -> Result<(), SourceError> {
        match self.failure.lock().ok().and_then(|f| f.clone()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
