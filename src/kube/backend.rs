//! A connection to one context ([`KubeBackend`]): the client, the shared
//! watch caches, and the sources, executor and switcher it hands out.

use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::options::{KubeOptions, TaskGuard};
use super::{
    KubeExecutor, KubeLogs, KubeMetrics, KubeWorkloads, LogOptions, config, contexts, events, logs,
    watch,
};
use crate::domain::LogLine;
use crate::source::{Backends, SourceError, Switcher};

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
        .with_liveness(self.cache.liveness.clone())
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
        KubeExecutor::new(
            self.client.clone(),
            self.user.clone(),
            format!("kube:{}", self.context),
        )
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
        let target = crate::domain::Target::Kube {
            context: self.context.clone(),
            namespace: self.namespace.clone(),
        };
        let workloads: Vec<Box<dyn crate::source::WorkloadSource>> =
            vec![Box::new(self.workloads())];
        let logs: Vec<Box<dyn crate::source::LogSource>> = vec![
            Box::new(self.logs(LogOptions::default())),
            Box::new(self.events()),
        ];
        let metrics: Vec<Box<dyn crate::source::MetricSource>> = vec![Box::new(self.metrics())];
        let executor = Box::new(self.executor());
        let this = Arc::new(self);
        Backends {
            target,
            workloads,
            logs,
            metrics,
            databases: Vec::new(),
            executor,
            switcher: Some(Arc::new(switcher)),
            history: Some(this.clone()),
            queries: None,
            describer: Some(this),
        }
    }
}

#[async_trait]
impl crate::source::Describer for KubeBackend {
    async fn describe(
        &self,
        target: &crate::domain::DetailTarget,
    ) -> Result<crate::domain::Detail, SourceError> {
        super::describe::describe(&self.client, target).await
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
