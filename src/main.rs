//! The opsdeck command line.
#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{Parser, Subcommand};

use opsdeck::audit::{AuditLog, os_user};
use opsdeck::config::{self, LoadOptions, Paths};
use opsdeck::core::State;
use opsdeck::demo::DemoOptions;
use opsdeck::kube::KubeOptions;
use opsdeck::runbook::Runbook;
use opsdeck::session;
use opsdeck::sim::{Scenario, SimEstate, World};
use opsdeck::source::{Backends, SourceError};

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
    /// Run the console on a Kubernetes cluster from your kubeconfig.
    Kube {
        /// The kubeconfig file (default: $KUBECONFIG or ~/.kube/config).
        #[arg(long)]
        kubeconfig: Option<PathBuf>,
        /// The context (default: the kubeconfig's current context).
        #[arg(long)]
        context: Option<String>,
        /// The namespace to watch (default: the context's, else all).
        #[arg(long, short = 'n', conflicts_with = "all_namespaces")]
        namespace: Option<String>,
        /// Watch every namespace.
        #[arg(long, short = 'A')]
        all_namespaces: bool,
        /// Open this runbook (shipped, or runbooks/NAME.toml in the config directory).
        #[arg(long)]
        runbook: Option<String>,
    },
    /// Run the console on AWS: ECS services and tasks, CloudWatch Logs and
    /// Logs Insights, CloudWatch metrics and alarms. Credentials come from
    /// the default chain (environment, profiles, SSO, instance/container
    /// roles); AWS_ENDPOINT_URL is honoured. [aws] in config.toml sets defaults.
    Aws {
        /// A profile of ~/.aws/config or ~/.aws/credentials.
        #[arg(long)]
        profile: Option<String>,
        /// The region (default: AWS_REGION or the profile's).
        #[arg(long)]
        region: Option<String>,
        /// An ECS cluster to show (repeatable; default: every cluster).
        #[arg(long = "cluster")]
        clusters: Vec<String>,
        /// A CloudWatch Logs group to tail (repeatable; default: the groups the services log to).
        #[arg(long = "log-group")]
        log_groups: Vec<String>,
        /// Only log streams whose name starts with this.
        #[arg(long)]
        log_stream_prefix: Option<String>,
        /// Open this runbook (shipped, or runbooks/NAME.toml in the config directory).
        #[arg(long)]
        runbook: Option<String>,
    },
    /// Run the console on the PostgreSQL databases of config.toml and the PG* environment.
    Db {
        /// Open this runbook (shipped, or runbooks/NAME.toml in the config directory).
        #[arg(long)]
        runbook: Option<String>,
    },
    /// Check config, themes, keymaps and runbooks; print every problem; exit non-zero if any.
    CheckConfig,
    /// The simulated estate for other tools.
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
}

#[derive(Debug, Subcommand)]
enum SimCommand {
    /// Serve the simulated Kubernetes namespace as a Kubernetes API on 127.0.0.1 (for kubectl).
    Serve {
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// db-connections, oom-crashloop, bad-deploy or ecs-unhealthy.
        #[arg(long, default_value = "db-connections")]
        scenario: String,
        /// Seed of the simulation.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Scale the api deployment to this many pods (load drills).
        #[arg(long)]
        pods: Option<u32>,
        /// Where to write the kubeconfig.
        #[arg(long, default_value = "./opsdeck-sim.kubeconfig")]
        kubeconfig: PathBuf,
        /// Simulated seconds per real second.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
    },
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
        Some(Command::Db { runbook }) => db(&opts, cli.read_only, runbook.as_deref()),
        Some(Command::Aws {
            profile,
            region,
            clusters,
            log_groups,
            log_stream_prefix,
            runbook,
        }) => {
            let flags = AwsFlags {
                profile,
                region,
                clusters,
                log_groups,
                log_stream_prefix,
            };
            aws(&opts, cli.read_only, flags, runbook.as_deref())
        }
        Some(Command::Kube {
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            runbook,
        }) => {
            let namespace = if all_namespaces {
                None
            } else {
                namespace.or_else(|| context_namespace(kubeconfig.as_deref(), context.as_deref()))
            };
            let kube_opts = KubeOptions {
                kubeconfig,
                context,
                namespace,
                ..KubeOptions::default()
            };
            kube(&opts, cli.read_only, kube_opts, runbook.as_deref())
        }
        Some(Command::Sim {
            command:
                SimCommand::Serve {
                    port,
                    scenario,
                    seed,
                    pods,
                    kubeconfig,
                    speed,
                },
        }) => sim_serve(port, &scenario, seed, pods, &kubeconfig, speed),
    }
}

/// `opsdeck sim serve`: the simulated namespace as a Kubernetes API until Ctrl-C/SIGTERM.
fn sim_serve(
    port: u16,
    scenario: &str,
    seed: u64,
    pods: Option<u32>,
    kubeconfig: &std::path::Path,
    speed: f64,
) -> ExitCode {
    use opsdeck::domain::{Change, WorkloadKind, WorkloadRef};
    use opsdeck::sim::kube_api::{ApiServer, ServeOptions};

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
    let scenarios = Scenario::names();
    for (label, text) in opsdeck::runbook::shipped() {
        if let Err(ps) = Runbook::parse_for(label, text, &scenarios) {
            out.extend(ps);
        }
    }
    if let Some(dir) = config::config_dir(opts) {
        out.extend(opsdeck::runbook::check_dir(
            &dir.join("runbooks"),
            &scenarios,
        ));
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
    let (mut console, _config) = match Console::prepare(opts, read_only_flag) {
        Ok(c) => c,
        Err(code) => return code,
    };
    console.runbook = match opsdeck::runbook::for_scenario(scenario.name()) {
        Ok(book) => book,
        Err(ps) => {
            console.problems.extend(ps);
            None
        }
    };
    let demo_opts = DemoOptions {
        scenario,
        seed,
        speed,
        // The incident has been developing for 12 minutes when the console opens.
        prewarm: Duration::from_secs(12 * 60),
        kubeconfig: console.paths.state_dir.join("demo.kubeconfig"),
    };
    tracing::info!(
        scenario = scenario.name(),
        read_only = console.read_only,
        "opsdeck demo starting"
    );
    console.run(|| async move {
        let (demo, backends) = opsdeck::demo::start(&demo_opts).await?;
        Ok((Some(demo), backends))
    })
}

/// `opsdeck kube`: the console on a real cluster from the kubeconfig.
fn kube(
    opts: &LoadOptions,
    read_only_flag: bool,
    kube_opts: KubeOptions,
    runbook: Option<&str>,
) -> ExitCode {
    let (console, _, dbs) = match open_session(opts, read_only_flag, runbook) {
        Ok(c) => c,
        Err(code) => return code,
    };
    console.run(|| async move {
        let backends = opsdeck::kube::backends(kube_opts).await?;
        Ok((None, session::attach(backends, dbs)?))
    })
}

/// What every session on real backends starts with: the console (with the
/// `--runbook` it names), the configuration, and the databases of
/// `config.toml` and the `PG*` environment.
fn open_session(
    opts: &LoadOptions,
    read_only_flag: bool,
    runbook: Option<&str>,
) -> Result<(Console, config::Config, session::DbFactory), ExitCode> {
    let (mut console, config) = Console::prepare(opts, read_only_flag)?;
    console.runbook = named_runbook(opts, runbook, &mut console.problems);
    let dbs = session::postgres(session::database_options(&config.databases, |k| {
        std::env::var(k).ok()
    }));
    Ok((console, config, dbs))
}

/// The `opsdeck aws` flags, each overriding `[aws]` of config.toml.
struct AwsFlags {
    profile: Option<String>,
    region: Option<String>,
    clusters: Vec<String>,
    log_groups: Vec<String>,
    log_stream_prefix: Option<String>,
}

/// `opsdeck aws`: the console on ECS and CloudWatch (plus configured databases).
fn aws(
    opts: &LoadOptions,
    read_only_flag: bool,
    flags: AwsFlags,
    runbook: Option<&str>,
) -> ExitCode {
    let (console, config, dbs) = match open_session(opts, read_only_flag, runbook) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut settings = config.aws.clone();
    if !flags.clusters.is_empty() {
        settings.clusters = flags.clusters;
    }
    if !flags.log_groups.is_empty() {
        settings.log_groups = flags.log_groups;
    }
    if flags.log_stream_prefix.is_some() {
        settings.log_stream_prefix = flags.log_stream_prefix;
    }
    let aws_opts = opsdeck::aws::AwsOptions {
        profile: flags.profile.or_else(|| settings.profile.clone()),
        region: flags.region.or_else(|| settings.region.clone()),
        endpoint_url: None,
    };
    console.run(|| async move {
        let backends = opsdeck::aws::session::open(&aws_opts, &settings).await?;
        Ok((None, session::attach(backends, dbs)?))
    })
}

/// `opsdeck db`: the console on databases only.
fn db(opts: &LoadOptions, read_only_flag: bool, runbook: Option<&str>) -> ExitCode {
    let (console, _, dbs) = match open_session(opts, read_only_flag, runbook) {
        Ok(c) => c,
        Err(code) => return code,
    };
    console.run(|| async move { Ok((None, session::databases_only(dbs, "postgres")?)) })
}

/// A runbook by name: the user's `runbooks/NAME.toml` first, then a shipped one.
fn named_runbook(
    opts: &LoadOptions,
    name: Option<&str>,
    problems: &mut Vec<opsdeck::problem::Problem>,
) -> Option<Runbook> {
    let name = name?;
    if let Some(dir) = config::config_dir(opts) {
        let (books, ps) = opsdeck::runbook::load_dir(&dir.join("runbooks"), &Scenario::names());
        problems.extend(ps);
        if let Some(b) = books.into_iter().find(|b| b.id == name) {
            return Some(b);
        }
    }
    for (label, text) in opsdeck::runbook::shipped() {
        if let Ok(b) = Runbook::parse(label, text) {
            if b.id == name {
                return Some(b);
            }
        }
    }
    problems.push(opsdeck::problem::Problem::new(
        "--runbook",
        None,
        None,
        format!("no runbook \"{name}\""),
    ));
    None
}

/// The namespace a kubeconfig context names, if any.
fn context_namespace(
    kubeconfig: Option<&std::path::Path>,
    context: Option<&str>,
) -> Option<String> {
    let probe = KubeOptions {
        kubeconfig: kubeconfig.map(std::path::Path::to_path_buf),
        ..KubeOptions::default()
    };
    let kc = opsdeck::kube::config::read_kubeconfig(&probe).ok()?;
    let name = context.map(str::to_string).or(kc.current_context.clone())?;
    kc.contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.namespace.clone())
}

/// What every console session needs besides its backends.
struct Console {
    paths: Paths,
    theme: opsdeck::theme::Theme,
    keymap: opsdeck::keymap::Keymap,
    audit_log: Option<std::path::PathBuf>,
    problems: Vec<opsdeck::problem::Problem>,
    read_only: bool,
    runbook: Option<Runbook>,
}

impl Console {
    /// What every session starts from: directories, opsdeck's own log, the
    /// configuration (with its problems) and read-only mode.
    fn prepare(
        opts: &LoadOptions,
        read_only_flag: bool,
    ) -> Result<(Console, config::Config), ExitCode> {
        let paths = Paths::resolve(opts.config_dir.as_deref()).map_err(|e| {
            eprintln!("opsdeck: {e}");
            ExitCode::FAILURE
        })?;
        init_tracing(&paths);
        let loaded = config::load(opts);
        let read_only = read_only_flag || loaded.config.read_only.unwrap_or(false);
        let console = Console {
            paths,
            theme: loaded.theme,
            keymap: loaded.keymap,
            audit_log: loaded.config.audit_log.clone(),
            problems: loaded.problems,
            read_only,
            runbook: None,
        };
        Ok((console, loaded.config))
    }

    /// Connect (inside the runtime), then run the UI until the user quits.
    fn run<F, Fut>(self, connect: F) -> ExitCode
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<
                Output = Result<(Option<opsdeck::demo::Demo>, Backends), SourceError>,
            >,
    {
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
        let result = rt.block_on(async move {
            let (demo, backends) = connect().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let backends = if self.read_only {
                opsdeck::source::read_only(backends)
            } else {
                backends
            };
            let target = backends.target.clone();
            let mut state = State::new(self.keymap, target.clone(), SystemTime::now());
            if let Some(book) = self.runbook {
                state = state.with_runbook(book);
            }
            if let Some(sw) = &backends.switcher {
                state.contexts = sw.contexts();
                let (context_noun, namespace_noun) = sw.nouns();
                state.switch_nouns = (context_noun.into(), namespace_noun.into());
            }
            state.read_only = self.read_only;
            state.problems = self.problems;
            let audit_path = self
                .audit_log
                .unwrap_or_else(|| self.paths.data_dir.join("audit.jsonl"));
            let audit = AuditLog::new(audit_path, os_user(), target.label());
            let result = opsdeck::app::run(state, self.theme, backends, audit).await;
            if let Some(demo) = demo {
                demo.server.shutdown().await;
            }
            result
        });
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "opsdeck failed");
                eprintln!("opsdeck: {e:#}");
                ExitCode::FAILURE
            }
        }
    }
}

/// Log to `opsdeck.log` in the state directory; never to the terminal while the UI is up.
fn init_tracing(paths: &Paths) {
    if init_tracing_file(paths).is_none() {
        // No log file is no reason to refuse to run; say so on stderr before the UI starts.
        eprintln!(
            "opsdeck: cannot write {}; running without a log",
            paths.state_dir.join("opsdeck.log").display()
        );
    }
}

fn init_tracing_file(paths: &Paths) -> Option<()> {
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
