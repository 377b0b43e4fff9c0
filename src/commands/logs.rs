//! `opsdeck logs`: the Logs pane's lines for a pipe. The pods of a label
//! selector or a deployment (kubeconfig) and/or CloudWatch Logs groups,
//! merged by time as the console merges them ([`OrderedStream`]), printed
//! one sanitised line each (or one JSON object each with `--json`), so they
//! can go through grep or jq as with stern or awslogs. Without `--follow`
//! it prints what was logged since `--since` and exits.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use ::kube::api::{Api, ListParams};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use tokio::sync::mpsc;

use crate::domain::{LogLine, OrderedStream, REORDER_WINDOW, log_text};
use crate::kube::{KubeOptions, LogOptions, LogSelector, map_kube_error};
use crate::source::{LogSource, SourceError};

/// The default of `--since`.
pub const DEFAULT_SINCE: &str = "10m";
/// How long `next_batch` waits before the loop looks at the clock again.
const POLL: Duration = Duration::from_millis(250);
/// A following source that failed is asked again after this long.
const RETRY: Duration = Duration::from_secs(2);

/// What `opsdeck logs` was asked for.
#[derive(Debug, Clone, Default)]
pub struct LogsArgs {
    /// `deploy/NAME` (or `deployment/NAME`).
    pub target: Option<String>,
    /// `-l app=api,tier=web`.
    pub selector: Option<String>,
    pub kubeconfig: Option<std::path::PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub log_groups: Vec<String>,
    pub log_stream_prefix: Option<String>,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub since: Option<String>,
    pub follow: bool,
    pub json: bool,
}

/// Run `opsdeck logs`: 0 when done (or stdout closed), 2 for bad
/// arguments, 1 when a source fails.
pub fn logs(args: LogsArgs) -> ExitCode {
    let since = args.since.as_deref().unwrap_or(DEFAULT_SINCE);
    let since = match humantime::parse_duration(since) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("opsdeck logs: --since {since}: {e} (examples: 30s, 10m, 2h)");
            return ExitCode::from(2);
        }
    };
    let kube = match kube_selector(&args) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("opsdeck logs: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("opsdeck logs: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(&args, kube, since)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("opsdeck logs: {}", crate::sanitize::line(&e));
            ExitCode::FAILURE
        }
    }
}

/// Which pods, if any: a selector, a deployment, or none (CloudWatch only).
fn kube_selector(args: &LogsArgs) -> Result<Option<LogSelector>, String> {
    let wants_kube = args.target.is_some() || args.selector.is_some();
    if !wants_kube && args.log_groups.is_empty() {
        return Err(
            "say whose logs: -l SELECTOR or deploy/NAME (Kubernetes), --log-group NAME (CloudWatch)"
                .into(),
        );
    }
    match (&args.target, &args.selector) {
        (Some(_), Some(_)) => Err("give either deploy/NAME or -l SELECTOR, not both".into()),
        (Some(t), None) => {
            let name = t
                .strip_prefix("deploy/")
                .or_else(|| t.strip_prefix("deployment/"))
                .filter(|n| !n.is_empty())
                .ok_or_else(|| format!("{t}: expected deploy/NAME"))?;
            Ok(Some(LogSelector::Deployment {
                namespace: String::new(),
                name: name.to_string(),
            }))
        }
        (None, Some(sel)) => parse_selector(sel).map(|m| Some(LogSelector::Labels(m))),
        (None, None) => Ok(None),
    }
}

/// `app=api,tier=web` (equality only).
fn parse_selector(sel: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for part in sel.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once("==")
            .or_else(|| part.split_once('='))
            .filter(|(k, _)| !k.is_empty() && !k.ends_with('!'))
            .ok_or_else(|| format!("-l {sel}: only key=value selectors are supported"))?;
        out.insert(k.trim().to_string(), v.trim().to_string());
    }
    if out.is_empty() {
        return Err(format!("-l {sel}: empty selector"));
    }
    Ok(out)
}

async fn run(args: &LogsArgs, kube: Option<LogSelector>, since: Duration) -> Result<(), String> {
    let mut sources: Vec<Box<dyn LogSource>> = Vec::new();
    if let Some(selector) = kube {
        sources.push(kube_source(args, selector, since).await?);
    }
    if !args.log_groups.is_empty() {
        let aws = crate::aws::AwsOptions {
            profile: args.profile.clone(),
            region: args.region.clone(),
            endpoint_url: None,
        };
        let opts = crate::aws::TailOptions {
            stream_prefix: args.log_stream_prefix.clone(),
            start: SystemTime::now().checked_sub(since),
            follow: args.follow,
            ..crate::aws::TailOptions::default()
        };
        let tail = crate::aws::cloudwatch_tail(&aws, args.log_groups.clone(), opts).await;
        sources.push(Box::new(tail));
    }
    let (tx, mut rx) = mpsc::channel(64);
    for src in sources {
        tokio::spawn(pump(src, tx.clone(), args.follow));
    }
    drop(tx);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut merged = OrderedStream::new(REORDER_WINDOW);
    loop {
        let next = tokio::time::timeout(POLL, rx.recv()).await;
        let now = SystemTime::now();
        match next {
            Ok(Some(Ok(batch))) => merged.push(batch, now),
            Ok(Some(Err(e))) if args.follow => {
                eprintln!("opsdeck logs: {} (retrying)", crate::sanitize::line(&e))
            }
            Ok(Some(Err(e))) => return Err(e),
            Ok(None) => break,
            Err(_) => {}
        }
        if !print(&mut out, merged.ready(now), args.json)? {
            return Ok(());
        }
    }
    print(&mut out, merged.finish(), args.json)?;
    Ok(())
}

/// Read one source until it ends (or for ever when following), sending
/// its batches; without `--follow` an error ends it.
async fn pump(
    mut src: Box<dyn LogSource>,
    tx: mpsc::Sender<Result<Vec<LogLine>, String>>,
    follow: bool,
) {
    while !src.ended() {
        let next = src.next_batch(POLL).await;
        for st in src.stream_states() {
            let what = match st.retry_at {
                Some(at) => {
                    let wait = at.duration_since(SystemTime::now()).unwrap_or_default();
                    format!("retrying in {}s", wait.as_millis().div_ceil(1000))
                }
                None => "resumed".to_string(),
            };
            let source = crate::sanitize::line(&st.source);
            eprintln!(
                "opsdeck logs: {source}: log stream lost {}×; {what}",
                st.lost
            );
        }
        match next {
            Ok(batch) if batch.is_empty() => {}
            Ok(batch) => {
                if tx.send(Ok(batch)).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                if tx.send(Err(format!("{}: {e}", src.label()))).await.is_err() || !follow {
                    return;
                }
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

/// Print lines; false when stdout is closed (`| head`).
fn print(out: &mut impl Write, lines: Vec<LogLine>, json: bool) -> Result<bool, String> {
    if lines.is_empty() {
        return Ok(true);
    }
    let mut write = || -> std::io::Result<()> {
        for line in &lines {
            let text = if json {
                log_text::json(line)
            } else {
                log_text::plain(line)
            };
            writeln!(out, "{text}")?;
        }
        out.flush()
    };
    match write() {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(format!("writing to stdout: {e}")),
    }
}

/// The pods' log source, after checking that the cluster answers (and the
/// deployment exists), so a wrong context fails at once rather than wait.
async fn kube_source(
    args: &LogsArgs,
    selector: LogSelector,
    since: Duration,
) -> Result<Box<dyn LogSource>, String> {
    let namespace = args
        .namespace
        .clone()
        .or_else(|| super::context_namespace(args.kubeconfig.as_deref(), args.context.as_deref()))
        .unwrap_or_else(|| "default".to_string());
    let opts = KubeOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        namespace: Some(namespace.clone()),
        ..KubeOptions::default()
    };
    let backend = crate::kube::connect(opts)
        .await
        .map_err(|e| e.to_string())?;
    let client = backend.client();
    let selector = match selector {
        LogSelector::Deployment { name, .. } => {
            let api: Api<Deployment> = Api::namespaced(client, &namespace);
            api.get(&name)
                .await
                .map_err(|e| describe(&map_kube_error(&format!("deploy/{name}"), &e)))?;
            LogSelector::Deployment {
                namespace: namespace.clone(),
                name,
            }
        }
        other => {
            let api: Api<Pod> = Api::namespaced(client, &namespace);
            api.list(&ListParams::default().limit(1))
                .await
                .map_err(|e| describe(&map_kube_error("listing pods", &e)))?;
            other
        }
    };
    Ok(Box::new(backend.logs(LogOptions {
        selector,
        tail_lines: None,
        since: Some(since),
        follow: args.follow,
        ..LogOptions::default()
    })))
}

fn describe(e: &SourceError) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_are_key_value_pairs() {
        let m = parse_selector("app=api, tier==web").unwrap();
        assert_eq!(m.get("app").map(String::as_str), Some("api"));
        assert_eq!(m.get("tier").map(String::as_str), Some("web"));
        assert!(parse_selector("app!=api").is_err());
        assert!(parse_selector("app in (a,b)").is_err());
        assert!(parse_selector(",").is_err());
    }

    #[test]
    fn a_source_must_be_named_and_a_target_be_a_deployment() {
        let none = LogsArgs::default();
        assert!(kube_selector(&none).unwrap_err().contains("say whose logs"));
        let pod = LogsArgs {
            target: Some("pod/api-1".into()),
            ..LogsArgs::default()
        };
        assert_eq!(
            kube_selector(&pod).unwrap_err(),
            "pod/api-1: expected deploy/NAME"
        );
        let cw = LogsArgs {
            log_groups: vec!["/ecs/api".into()],
            ..LogsArgs::default()
        };
        assert_eq!(kube_selector(&cw), Ok(None));
    }
}
