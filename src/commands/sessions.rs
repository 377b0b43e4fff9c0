//! The console commands: `demo`, `kube`, `aws` and `db` each open their
//! session's backends and run the console on them.

use std::process::ExitCode;
use std::time::Duration;

use super::console::Console;
use crate::config::{self, LoadOptions};
use crate::demo::DemoOptions;
use crate::kube::KubeOptions;
use crate::runbook::Runbook;
use crate::session;
use crate::sim::Scenario;

pub fn demo(
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
    console.runbook = match crate::runbook::for_scenario(scenario.name()) {
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
        let (demo, backends) = crate::demo::start(&demo_opts).await?;
        Ok((Some(demo), backends))
    })
}

/// `opsdeck kube`: the console on a real cluster from the kubeconfig.
pub fn kube(
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
        let backends = crate::kube::backends(kube_opts).await?;
        Ok((None, session::attach(backends, dbs)?))
    })
}

/// What every session on real backends starts with: the console (with the
/// `--runbook` it names), the configuration, and the databases of
/// `config.toml` and the `PG*` environment.
pub fn open_session(
    opts: &LoadOptions,
    read_only_flag: bool,
    runbook: Option<&str>,
) -> Result<(Console, config::Config, session::DbFactory), ExitCode> {
    let (mut console, config) = Console::prepare(opts, read_only_flag)?;
    console.runbook = named_runbook(opts, runbook, &mut console.problems);
    let specs = session::database_specs(&config.databases, |k| std::env::var(k).ok());
    // A database that cannot be used is a problem and a failing source; the rest starts.
    console.problems.extend(session::database_problems(&specs));
    Ok((console, config, session::postgres(specs)))
}

/// The `opsdeck aws` flags, each overriding `[aws]` of config.toml.
pub struct AwsFlags {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub clusters: Vec<String>,
    pub log_groups: Vec<String>,
    pub log_stream_prefix: Option<String>,
}

/// `opsdeck aws`: the console on ECS and CloudWatch (plus configured databases).
pub fn aws(
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
    let aws_opts = crate::aws::AwsOptions {
        profile: flags.profile.or_else(|| settings.profile.clone()),
        region: flags.region.or_else(|| settings.region.clone()),
        endpoint_url: None,
    };
    console.run(|| async move {
        let backends = crate::aws::session::open(&aws_opts, &settings).await?;
        Ok((None, session::attach(backends, dbs)?))
    })
}

/// `opsdeck db`: the console on databases only.
pub fn db(opts: &LoadOptions, read_only_flag: bool, runbook: Option<&str>) -> ExitCode {
    let (console, _, dbs) = match open_session(opts, read_only_flag, runbook) {
        Ok(c) => c,
        Err(code) => return code,
    };
    console.run(|| async move { Ok((None, session::databases_only(dbs, "postgres")?)) })
}

/// A runbook by name: the user's `runbooks/NAME.toml` first, then a shipped one.
pub fn named_runbook(
    opts: &LoadOptions,
    name: Option<&str>,
    problems: &mut Vec<crate::problem::Problem>,
) -> Option<Runbook> {
    let name = name?;
    if let Some(dir) = config::config_dir(opts) {
        let (books, ps) = crate::runbook::load_dir(&dir.join("runbooks"), &Scenario::names());
        problems.extend(ps);
        if let Some(b) = books.into_iter().find(|b| b.id == name) {
            return Some(b);
        }
    }
    for (label, text) in crate::runbook::shipped() {
        if let Ok(b) = Runbook::parse(label, text) {
            if b.id == name {
                return Some(b);
            }
        }
    }
    problems.push(crate::problem::Problem::new(
        "--runbook",
        None,
        None,
        format!("no runbook \"{name}\""),
    ));
    None
}

/// The namespace a kubeconfig context names, if any.
pub fn context_namespace(
    kubeconfig: Option<&std::path::Path>,
    context: Option<&str>,
) -> Option<String> {
    let probe = KubeOptions {
        kubeconfig: kubeconfig.map(std::path::Path::to_path_buf),
        ..KubeOptions::default()
    };
    let kc = crate::kube::config::read_kubeconfig(&probe).ok()?;
    let name = context.map(str::to_string).or(kc.current_context.clone())?;
    kc.contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| c.namespace.clone())
}
