//! `opsdeck sim serve`: the simulated estate as a Kubernetes API for other tools.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use super::console::runtime;
use crate::domain::{Change, WorkloadKind, WorkloadRef};
use crate::sim::kube_api::{ApiServer, ServeOptions};
use crate::sim::{Scenario, SimEstate, World};

/// `opsdeck sim serve`: the simulated namespace as a Kubernetes API until Ctrl-C/SIGTERM.
pub fn sim_serve(
    port: u16,
    scenario: &str,
    seed: u64,
    pods: Option<u32>,
    kubeconfig: &Path,
    speed: f64,
) -> ExitCode {
    let Some(scenario) = Scenario::from_name(scenario) else {
        let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
        eprintln!(
            "opsdeck: unknown scenario \"{scenario}\"; choose one of: {}",
            names.join(", ")
        );
        return ExitCode::from(2);
    };
    let prewarm = Duration::from_secs(12 * 60);
    let start = SystemTime::now()
        .checked_sub(prewarm)
        .unwrap_or_else(SystemTime::now);
    let mut world = World::new(scenario, seed, start);
    world.step(prewarm);
    if let Some(n) = pods {
        let target = WorkloadRef::new(WorkloadKind::Deployment, "shop", "api");
        let from = world.k8s().deployment("api").map_or(0, |d| d.replicas);
        if let Err(e) = world.apply(&Change::Scale {
            target,
            from,
            to: n,
        }) {
            eprintln!("opsdeck: cannot scale api to {n}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let estate = SimEstate::new(world, speed);
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    rt.block_on(async move {
        let server = match ApiServer::start(estate, ServeOptions { port }).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("opsdeck: cannot listen on 127.0.0.1:{port}: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let Err(e) = server.write_kubeconfig(kubeconfig) {
            eprintln!("opsdeck: cannot write {}: {e}", kubeconfig.display());
            server.shutdown().await;
            return ExitCode::FAILURE;
        }
        println!(
            "serving {}; kubeconfig written to {}",
            server.url(),
            kubeconfig.display()
        );
        wait_for_stop().await;
        server.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// Ctrl-C or SIGTERM.
async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
