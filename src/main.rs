//! The opsdeck command line.
#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{Parser, Subcommand};

use opsdeck::audit::{AuditLog, os_user};
use opsdeck::config::{self, LoadOptions, Paths};
use opsdeck::core::State;
use opsdeck::runbook::Runbook;
use opsdeck::sim::backend::backends_for;
use opsdeck::sim::{Scenario, SimEstate, World};
use opsdeck::source::ReadOnlyExecutor;

/// A terminal operations console: workloads, logs, metrics and runbooks on one screen.
#[derive(Debug, Parser)]
#[command(name = "opsdeck", version, about)]
struct Cli {
    /// Theme name (default, dark-256, high-contrast, mono, or one in the config directory).
    #[arg(long, global = true)]
    theme: Option<String>,
    /// Keymap name (default, vim, or one in the config directory).
    #[arg(long, global = true)]
    keymap: Option<String>,
    /// Show every action but run none.
    #[arg(long, global = true)]
    read_only: bool,
    /// Configuration directory (default: the platform's, or $OPSDECK_CONFIG_DIR).
    #[arg(long, global = true)]
    config_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the console on the embedded incident simulator (the default).
    Demo {
        /// db-connections, oom-crashloop, bad-deploy or ecs-unhealthy.
        scenario: Option<String>,
        /// Seed of the simulation (the same seed replays the same incident).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Simulated seconds per real second (fast-forward a drill).
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
    },
    /// Check config, themes, keymaps and runbooks; print every problem; exit non-zero if any.
    CheckConfig,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let opts = LoadOptions {
        theme: cli.theme.clone(),
        keymap: cli.keymap.clone(),
        config_dir: cli.config_dir.clone(),
        ..LoadOptions::default()
    };
    match cli.command {
        Some(Command::CheckConfig) => check_config(&opts),
        Some(Command::Demo {
            scenario,
            seed,
            speed,
        }) => demo(&opts, cli.read_only, scenario.as_deref(), seed, speed),
        None => demo(&opts, cli.read_only, None, 1, 1.0),
    }
}

fn check_config(opts: &LoadOptions) -> ExitCode {
    let mut problems = config::check(opts);
    problems.extend(runbook_problems(opts));
    if problems.is_empty() {
        println!("opsdeck: configuration OK");
        ExitCode::SUCCESS
    } else {
        for p in &problems {
            println!("{p}");
        }
        eprintln!(
            "opsdeck: {} problem{} found",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
        ExitCode::FAILURE
    }
}

/// Problems in the shipped runbooks and the user's runbooks directory.
fn runbook_problems(opts: &LoadOptions) -> Vec<opsdeck::problem::Problem> {
    let mut out = Vec::new();
    for (label, text) in opsdeck::runbook::shipped() {
        if let Err(ps) = Runbook::parse(label, text) {
            out.extend(ps);
        }
    }
    if let Some(dir) = config::config_dir(opts) {
        out.extend(opsdeck::runbook::check_dir(&dir.join("runbooks")));
    }
    out
}

fn demo(
    opts: &LoadOptions,
    read_only_flag: bool,
    scenario: Option<&str>,
    seed: u64,
    speed: f64,
) -> ExitCode {
    let scenario = match scenario {
        None => Scenario::DbConnections,
        Some(name) => match Scenario::from_name(name) {
            Some(s) => s,
            None => {
                let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
                eprintln!(
                    "opsdeck: unknown scenario \"{name}\"; choose one of: {}",
                    names.join(", ")
                );
                return ExitCode::from(2);
            }
        },
    };
    let paths = match Paths::resolve(opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("opsdeck: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _guard = init_tracing(&paths);
    let loaded = config::load(opts);
    let read_only = read_only_flag || loaded.config.read_only.unwrap_or(false);

    // The incident has been developing for 12 minutes when the console opens.
    let prewarm = Duration::from_secs(12 * 60);
    let start = SystemTime::now()
        .checked_sub(prewarm)
        .unwrap_or_else(SystemTime::now);
    let mut world = World::new(scenario, seed, start);
    world.step(prewarm);
    let mut backends = backends_for(SimEstate::new(world, speed));
    if read_only {
        backends.executor = Box::new(ReadOnlyExecutor);
    }
    let context = backends.context.clone();
    let mut problems = loaded.problems;
    let mut state = State::new(loaded.keymap, context.clone(), SystemTime::now());
    match opsdeck::runbook::for_scenario(scenario.name()) {
        Ok(Some(book)) => state = state.with_runbook(book),
        Ok(None) => {}
        Err(ps) => problems.extend(ps),
    }
    state.read_only = read_only;
    state.problems = problems;
    let audit_path = loaded
        .config
        .audit_log
        .clone()
        .unwrap_or_else(|| paths.data_dir.join("audit.jsonl"));
    let audit = AuditLog::new(audit_path, os_user(), context);
    tracing::info!(
        scenario = scenario.name(),
        read_only,
        "opsdeck demo starting"
    );

    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("opsdeck: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(opsdeck::app::run(state, loaded.theme, backends, audit)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "opsdeck failed");
            eprintln!("opsdeck: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Log to `opsdeck.log` in the state directory; never to the terminal while the UI is up.
fn init_tracing(paths: &Paths) -> Option<()> {
    std::fs::create_dir_all(&paths.state_dir).ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(paths.state_dir.join("opsdeck.log"))
        .ok()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("OPSDECK_LOG")
        .unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init()
        .ok()
}
