//! The Kubernetes backend: kube-rs clients behind opsdeck's source traits.
//!
//! One [`KubeBackend`] holds a client for one kubeconfig context and the
//! reflectors (watch-fed caches) of pods, deployments and ReplicaSets in one
//! namespace (or all of them). The trait objects it hands out share those
//! caches; when the last of them is dropped, every background task stops.
//!
//! - [`config`]: kubeconfig, contexts, client, error mapping.
//! - [`convert`]: pure conversions from API objects to [`crate::domain`] rows.
//! - [`watch`]: the reflector tasks and the workload source.
//! - [`logs`]: following the logs of many pods at once.
//! - [`actions`]: the executor (scale, rollout undo/restart, delete pod),
//!   its server-side dry run and its access review.
//! - [`metrics`]: pod metrics from `metrics.k8s.io` when the cluster serves it.

pub mod actions;
pub mod config;
pub mod convert;
pub mod events;
pub mod logs;
pub mod metrics;
pub mod watch;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::domain::LogLine;
use crate::source::{Backends, SourceError, Switcher};

pub use actions::KubeExecutor;
pub use config::{connect_client, contexts, map_kube_error};
pub use logs::{KubeLogs, LogOptions, LogSelector};
pub use metrics::KubeMetrics;
pub use watch::{KubeWorkloads, WatchPhase};

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

/// A connection to one context: the client and the shared watch caches.
///
/// Cloning is cheap; the background tasks stop when the last clone and the
/// last source handed out by it are dropped.
#[derive(Clone)]
pub struct KubeBackend {
    client: ::kube::Client,
    context: String,
    user: String,
    namespace: Option<String>,
    cache: Arc<watch::Caches>,
    guard: Arc<TaskGuard>,
}

/// Cancels the backend's background tasks when dropped.
pub(crate) struct TaskGuard {
    token: CancellationToken,
    _drop: DropGuard,
}

impl TaskGuard {
    fn new() -> Arc<TaskGuard> {
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

/// Connect to the context `opts` names and start watching pods, deployments
/// and ReplicaSets. The watches start in the background: this only fails
/// when the kubeconfig cannot be read or has no such context.
pub async fn connect(opts: KubeOptions) -> Result<KubeBackend, SourceError> {
    let connected = config::connect_client(&opts).await?;
    let guard = TaskGuard::new();
    let cache = Arc::new(watch::Caches::start(
        connected.client.clone(),
        opts.namespace.as_deref(),
        &opts,
        guard.token(),
    ));
    Ok(KubeBackend {
        client: connected.client,
        context: connected.context,
        user: connected.user,
        namespace: opts.namespace,
        cache,
        guard,
    })
}

impl KubeBackend {
    /// The kubeconfig context this backend talks to.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The kubeconfig user (auth info) of the context.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The watched namespace (`None`: all namespaces).
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// A token that fires once this backend and every source it handed out
    /// have been dropped, i.e. when its background tasks stop.
    pub fn stopped(&self) -> CancellationToken {
        self.guard.token()
    }

    /// The client, for callers that need more than the traits offer.
    pub fn client(&self) -> ::kube::Client {
        self.client.clone()
    }

    /// `kube:<context>`, or `kube:<context>/<namespace>`.
    pub fn label(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("kube:{}/{ns}", self.context),
            None => format!("kube:{}", self.context),
        }
    }

    /// Workload rows answered from the reflector caches.
    pub fn workloads(&self) -> KubeWorkloads {
        KubeWorkloads::new(self.label(), self.cache.clone(), self.guard.clone())
    }

    /// Follow the logs of the pods `opts` selects.
    pub fn logs(&self, opts: LogOptions) -> KubeLogs {
        KubeLogs::start(
            self.label(),
            self.client.clone(),
            self.cache.clone(),
            opts,
            self.guard.clone(),
        )
    }

    /// Events of the watched namespace(s), as log lines.
    pub fn events(&self) -> events::KubeEvents {
        events::KubeEvents::start(
            self.label(),
            self.client.clone(),
            self.namespace.as_deref(),
            self.guard.clone(),
        )
    }

    /// Pod metrics from metrics.k8s.io (empty when the cluster lacks it).
    pub fn metrics(&self) -> KubeMetrics {
        KubeMetrics::new(
            self.label(),
            self.client.clone(),
            self.namespace.clone(),
            self.cache.clone(),
            self.guard.clone(),
        )
    }

    /// The action executor for this context.
    pub fn executor(&self) -> KubeExecutor {
        KubeExecutor::new(self.client.clone(), self.user.clone())
    }

    /// The logs of the previous (terminated) instance of a container.
    pub async fn previous_logs(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
    ) -> Result<Vec<LogLine>, SourceError> {
        logs::previous_logs(&self.client, namespace, pod, container).await
    }

    /// Every opsdeck backend for this connection.
    pub fn into_backends(self, opts: &KubeOptions) -> Backends {
        let switcher = KubeSwitcher {
            base: opts.clone(),
            contexts: contexts(opts).unwrap_or_else(|_| vec![self.context.clone()]),
        };
        Backends {
            target: crate::domain::Target::Kube {
                context: self.context.clone(),
                namespace: self.namespace.clone(),
            },
            workloads: vec![Box::new(self.workloads())],
            logs: vec![
                Box::new(self.logs(LogOptions::default())),
                Box::new(self.events()),
            ],
            metrics: vec![Box::new(self.metrics())],
            databases: Vec::new(),
            executor: Box::new(self.executor()),
            switcher: Some(Arc::new(switcher)),
            history: Some(Arc::new(self)),
            queries: None,
        }
    }
}

#[async_trait]
impl crate::source::LogHistory for KubeBackend {
    async fn previous(&self, namespace: &str, pod: &str) -> Result<Vec<LogLine>, SourceError> {
        self.previous_logs(namespace, pod, None).await
    }
}

/// Connect and assemble the opsdeck backends for one context.
pub async fn backends(opts: KubeOptions) -> Result<Backends, SourceError> {
    let backend = connect(opts.clone()).await?;
    Ok(backend.into_backends(&opts))
}

/// Switches between the contexts of one kubeconfig.
pub struct KubeSwitcher {
    base: KubeOptions,
    contexts: Vec<String>,
}

impl KubeSwitcher {
    pub fn new(base: KubeOptions) -> Result<KubeSwitcher, SourceError> {
        let contexts = contexts(&base)?;
        Ok(KubeSwitcher { base, contexts })
    }
}

#[async_trait]
impl Switcher for KubeSwitcher {
    fn contexts(&self) -> Vec<String> {
        self.contexts.clone()
    }

    async fn open(&self, context: &str, namespace: Option<&str>) -> Result<Backends, SourceError> {
        let opts = KubeOptions {
            context: Some(context.to_string()),
            namespace: namespace.map(str::to_string),
            ..self.base.clone()
        };
        backends(opts).await
    }
}
