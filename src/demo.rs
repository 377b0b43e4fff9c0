//! `opsdeck demo`: the simulated estate, reached the way a real one is.
//!
//! The estate's Kubernetes part is served by the embedded API server on
//! loopback and read through the kube backend, exactly as a real cluster
//! would be; its ECS service, database and metrics come from the simulator's
//! own sources until their real backends are wired to simulators too.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use crate::kube::KubeOptions;
use crate::sim::backend::backends_without_kubernetes;
use crate::sim::kube_api::{ApiServer, ServeOptions};
use crate::sim::{Scenario, SimEstate, World};
use crate::source::{Backends, RoutingExecutor, SourceError, Switcher};

/// The Kubernetes context and namespace the demo starts in.
pub const CONTEXT: &str = "sim";
pub const NAMESPACE: &str = "shop";

/// How the demo's estate is built.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub scenario: Scenario,
    pub seed: u64,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// How long the incident has been developing when the console opens.
    pub prewarm: Duration,
    /// Where the embedded API server's kubeconfig is written.
    pub kubeconfig: PathBuf,
}

/// A running demo: keep it alive as long as its backends are used.
pub struct Demo {
    pub server: ApiServer,
    pub estate: SimEstate,
    pub kubeconfig: PathBuf,
}

/// Build the estate, serve its Kubernetes API on loopback and connect to it.
pub async fn start(opts: &DemoOptions) -> Result<(Demo, Backends), SourceError> {
    let start = SystemTime::now()
        .checked_sub(opts.prewarm)
        .unwrap_or_else(SystemTime::now);
    let mut world = World::new(opts.scenario, opts.seed, start);
    world.step(opts.prewarm);
    let estate = SimEstate::new(world, opts.speed);
    let server = ApiServer::start(estate.clone(), ServeOptions::default())
        .await
        .map_err(|e| {
            SourceError::Other(format!("cannot start the embedded Kubernetes API: {e}"))
        })?;
    if let Some(dir) = opts.kubeconfig.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| SourceError::Other(format!("cannot create {}: {e}", dir.display())))?;
    }
    server.write_kubeconfig(&opts.kubeconfig).map_err(|e| {
        SourceError::Other(format!("cannot write {}: {e}", opts.kubeconfig.display()))
    })?;
    let switcher = Arc::new(DemoSwitcher {
        kubeconfig: opts.kubeconfig.clone(),
        estate: estate.clone(),
        scenario: opts.scenario,
    });
    let backends = switcher.open(CONTEXT, Some(NAMESPACE)).await?;
    Ok((
        Demo {
            server,
            estate,
            kubeconfig: opts.kubeconfig.clone(),
        },
        backends,
    ))
}

/// Opens the demo's backends for a context/namespace of the embedded API.
struct DemoSwitcher {
    kubeconfig: PathBuf,
    estate: SimEstate,
    scenario: Scenario,
}

fn kube_options(kubeconfig: &Path, context: &str, namespace: Option<&str>) -> KubeOptions {
    KubeOptions {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        context: Some(context.to_string()),
        namespace: namespace.map(str::to_string),
        ..KubeOptions::default()
    }
}

#[async_trait]
impl Switcher for DemoSwitcher {
    fn contexts(&self) -> Vec<String> {
        crate::kube::contexts(&kube_options(&self.kubeconfig, CONTEXT, None)).unwrap_or_default()
    }

    async fn open(&self, context: &str, namespace: Option<&str>) -> Result<Backends, SourceError> {
        let kube =
            crate::kube::backends(kube_options(&self.kubeconfig, context, namespace)).await?;
        let sim = backends_without_kubernetes(self.estate.clone());
        let mut workloads = kube.workloads;
        workloads.extend(sim.workloads);
        let mut logs = kube.logs;
        logs.extend(sim.logs);
        let mut metrics = sim.metrics;
        metrics.extend(kube.metrics);
        let self_switcher: Arc<dyn Switcher> = Arc::new(DemoSwitcher {
            kubeconfig: self.kubeconfig.clone(),
            estate: self.estate.clone(),
            scenario: self.scenario,
        });
        Ok(Backends {
            target: crate::domain::Target::Demo {
                scenario: self.scenario.name().to_string(),
                context: kube.target.context().unwrap_or(context).to_string(),
                namespace: namespace.map(str::to_string),
            },
            workloads,
            logs,
            metrics,
            databases: sim.databases,
            executor: Box::new(RoutingExecutor {
                kubernetes: Some(kube.executor),
                databases: Vec::new(),
                other: Some(sim.executor),
            }),
            switcher: Some(self_switcher),
            history: kube.history,
            queries: None,
            describer: Some(Arc::new(crate::source::RoutingDescriber {
                kubernetes: kube.describer,
                other: sim.describer,
            })),
        })
    }
}
