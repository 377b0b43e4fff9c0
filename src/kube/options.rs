//! Where to connect and what to watch, and the guard that stops a
//! connection's background tasks.

use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::{CancellationToken, DropGuard};

/// Where to connect and what to watch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeOptions {
    /// The kubeconfig file; `None` reads `$KUBECONFIG` or `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// The context to use; `None` is the kubeconfig's current context.
    pub context: Option<String>,
    /// The namespace to watch; `None` watches all namespaces.
    pub namespace: Option<String>,
    /// Start watches with a streaming list (`sendInitialEvents=true`, the
    /// initial-events-end bookmark) instead of a paged list.
    pub streaming_lists: bool,
    /// Server-side timeout of each watch request in seconds (`None`: the
    /// watcher's default, 290 s). Watches end and resume after it.
    pub watch_timeout_secs: Option<u32>,
}

/// Cancels the backend's background tasks when dropped.
pub(crate) struct TaskGuard {
    token: CancellationToken,
    _drop: DropGuard,
}

impl TaskGuard {
    pub(crate) fn new() -> Arc<TaskGuard> {
        let token = CancellationToken::new();
        Arc::new(TaskGuard {
            _drop: token.clone().drop_guard(),
            token,
        })
    }

    pub(crate) fn token(&self) -> CancellationToken {
        self.token.clone()
    }
}
