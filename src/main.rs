//! The opsdeck command line.
#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use opsdeck::commands::{
    AwsFlags, aws, check_config, context_namespace, db, demo, kube, sim_serve,
};
use opsdeck::config::LoadOptions;
use opsdeck::kube::KubeOptions;

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
    /// Print the logs of pods (deploy/NAME or -l SELECTOR) and/or CloudWatch
    /// Logs groups, merged by time, one sanitised line each (for grep, jq).
    Logs(LogsCli),
    /// Print the shell completion script for SHELL to standard output
    /// (e.g. `opsdeck completions bash > ~/.local/share/bash-completion/completions/opsdeck`).
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to standard output (e.g. `opsdeck man | man -l -`).
    Man,
    /// The simulated estate for other tools.
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
}

/// `opsdeck logs` (its logic is in `commands::logs`).
#[derive(Debug, clap::Args)]
struct LogsCli {
    /// deploy/NAME: the pods of a deployment.
    target: Option<String>,
    /// Pods with these labels (key=value,...).
    #[arg(long, short = 'l')]
    selector: Option<String>,
    /// The kubeconfig file (default: $KUBECONFIG or ~/.kube/config).
    #[arg(long)]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: the current one).
    #[arg(long)]
    context: Option<String>,
    /// The namespace (default: the context's, else "default").
    #[arg(long, short = 'n')]
    namespace: Option<String>,
    /// A CloudWatch Logs group (repeatable).
    #[arg(long = "log-group")]
    log_groups: Vec<String>,
    /// Only CloudWatch log streams whose name starts with this.
    #[arg(long)]
    log_stream_prefix: Option<String>,
    /// AWS profile.
    #[arg(long)]
    profile: Option<String>,
    /// AWS region.
    #[arg(long)]
    region: Option<String>,
    /// How far back to start: 30s, 10m, 2h (default 10m).
    #[arg(long)]
    since: Option<String>,
    /// Keep printing new lines (they wait up to 5 s to be put in time order).
    #[arg(long, short = 'f')]
    follow: bool,
    /// One JSON object per line: time, source, level, text.
    #[arg(long)]
    json: bool,
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
        Some(Command::Logs(a)) => opsdeck::commands::logs(opsdeck::commands::LogsArgs {
            target: a.target,
            selector: a.selector,
            kubeconfig: a.kubeconfig,
            context: a.context,
            namespace: a.namespace,
            log_groups: a.log_groups,
            log_stream_prefix: a.log_stream_prefix,
            profile: a.profile,
            region: a.region,
            since: a.since,
            follow: a.follow,
            json: a.json,
        }),
        Some(Command::Completions { shell }) => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "opsdeck", &mut script);
            print_out(&script)
        }
        Some(Command::Man) => man_page(),
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

/// `opsdeck man`: the man page, generated from the same definitions as `--help`.
fn man_page() -> ExitCode {
    let mut page = Vec::new();
    match clap_mangen::Man::new(Cli::command()).render(&mut page) {
        Ok(()) => print_out(&page),
        Err(e) => {
            eprintln!("opsdeck: cannot render the man page: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Write generated text to standard output (a closed pipe, as with `| head`, is no error).
fn print_out(bytes: &[u8]) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("opsdeck: cannot write to standard output: {e}");
            ExitCode::FAILURE
        }
    }
}
