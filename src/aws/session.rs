//! An `opsdeck aws` session: ECS workloads with target health, a CloudWatch
//! Logs tail and Logs Insights over the services' log groups, CloudWatch
//! metric sparklines and alarms, and the ECS actions; switchable in the app
//! to another profile or region.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2 as elbv2;

use super::describe::AwsDescriber;

use super::config::AwsSettings;
use super::ecs::{EcsExecutor, EcsWorkloads};
use super::error::map_sdk_error;
use super::insights::{CloudWatchQueries, DEFAULT_WINDOW};
use super::logs::{CloudWatchTail, TailOptions, logs_client};
use super::metrics::{AlarmFilter, AlarmSeries, CloudWatchMetrics, preset_ecs_service};
use super::sdk::{AwsOptions, sdk_config};
use crate::source::{Backends, LogSource, SourceError, Switcher};

/// Services whose CPU and memory are charted when `[[aws.metrics]]` is empty.
const PRESET_SERVICES: usize = 8;

/// Open every AWS backend of a session.
pub async fn open(opts: &AwsOptions, settings: &AwsSettings) -> Result<Backends, SourceError> {
    let config = sdk_config(opts).await;
    let Some(region) = config.region().map(ToString::to_string) else {
        return Err(SourceError::Other(
            "no AWS region: pass --region, set AWS_REGION, or set region in the profile or in [aws] of config.toml".into(),
        ));
    };
    let endpoint_override = opts.endpoint_url.is_some() || config.endpoint_url().is_some();
    super::region::check(&region, endpoint_override).map_err(SourceError::Other)?;
    let ecs = aws_sdk_ecs::Client::new(&config);
    let describe_ecs = ecs.clone();
    let workloads = EcsWorkloads::new(ecs.clone(), &region, settings.clusters.clone())
        .with_target_health(elbv2::Client::new(&config));

    // What the services run: their log groups, and (without configured
    // metrics) their CPU and memory. A failure here leaves them out; the
    // Workloads feed shows the same failure, stale-marked and retried.
    let found = match discover(&ecs, &workloads).await {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!("ECS discovery failed: {e}");
            Discovered::default()
        }
    };
    let groups = if settings.log_groups.is_empty() {
        found.log_groups.into_iter().collect()
    } else {
        settings.log_groups.clone()
    };
    let mut specs = settings.metrics.clone();
    if specs.is_empty() {
        for (cluster, service) in found.services.iter().take(PRESET_SERVICES) {
            specs.extend(preset_ecs_service(cluster, service));
        }
    }

    let logs_client = logs_client(&config);
    let mut logs: Vec<Box<dyn LogSource>> = Vec::new();
    let mut queries = None;
    if !groups.is_empty() {
        let tail = TailOptions {
            stream_prefix: settings.log_stream_prefix.clone(),
            ..TailOptions::default()
        };
        logs.push(Box::new(CloudWatchTail::new(
            logs_client.clone(),
            groups.clone(),
            tail,
        )));
        queries = Some(
            Arc::new(CloudWatchQueries::new(logs_client, groups, DEFAULT_WINDOW))
                as Arc<dyn crate::source::QueryRunner>,
        );
    }
    let metrics = CloudWatchMetrics::new(aws_sdk_cloudwatch::Client::new(&config), specs)
        .with_alarms(
            AlarmFilter {
                name_prefix: settings.alarm_prefix.clone(),
                state: None,
            },
            AlarmSeries::Active,
        );
    let profile = opts.profile.clone().unwrap_or_else(|| "default".into());
    let executor = EcsExecutor::new(ecs, format!("aws:{profile}@{region}"));
    Ok(Backends {
        target: crate::domain::Target::Aws { profile, region },
        workloads: vec![Box::new(workloads)],
        logs,
        metrics: vec![Box::new(metrics)],
        databases: Vec::new(),
        executor: Box::new(executor),
        switcher: Some(Arc::new(AwsSwitcher {
            opts: opts.clone(),
            settings: settings.clone(),
        })),
        history: None,
        queries,
        describer: Some(Arc::new(AwsDescriber {
            ecs: describe_ecs,
            autoscaling: aws_sdk_applicationautoscaling::Client::new(&config),
            elb: elbv2::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
        })),
    })
}

#[derive(Debug, Default)]
struct Discovered {
    /// `(cluster, service)`, in listing order.
    services: Vec<(String, String)>,
    /// `awslogs-group` of the services' containers.
    log_groups: BTreeSet<String>,
}

async fn discover(
    ecs: &aws_sdk_ecs::Client,
    workloads: &EcsWorkloads,
) -> Result<Discovered, SourceError> {
    let mut out = Discovered::default();
    let mut task_defs = BTreeSet::new();
    for cluster in workloads.cluster_names().await? {
        for svc in workloads.services(&cluster).await? {
            if let Some(name) = svc.service_name() {
                out.services.push((cluster.clone(), name.to_string()));
            }
            if let Some(td) = svc.task_definition() {
                task_defs.insert(td.to_string());
            }
        }
    }
    for td in task_defs {
        let described = ecs
            .describe_task_definition()
            .task_definition(&td)
            .send()
            .await
            .map_err(|e| map_sdk_error(&format!("describe task definition {td}"), e))?;
        let containers = described
            .task_definition()
            .map(|t| t.container_definitions())
            .unwrap_or_default();
        for c in containers {
            if let Some(group) = c
                .log_configuration()
                .and_then(|l| l.options())
                .and_then(|o| o.get("awslogs-group"))
            {
                out.log_groups.insert(group.clone());
            }
        }
    }
    Ok(out)
}

/// Reopens the session for another profile (the picker) or region (the prompt).
struct AwsSwitcher {
    opts: AwsOptions,
    settings: AwsSettings,
}

#[async_trait]
impl Switcher for AwsSwitcher {
    fn contexts(&self) -> Vec<String> {
        profiles(&|k| std::env::var(k).ok())
    }

    fn nouns(&self) -> (&'static str, &'static str) {
        ("AWS profile", "AWS region")
    }

    async fn open(&self, context: &str, region: Option<&str>) -> Result<Backends, SourceError> {
        let mut opts = self.opts.clone();
        opts.profile = Some(context.to_string());
        if let Some(r) = region {
            opts.region = Some(r.to_string());
        }
        open(&opts, &self.settings).await
    }
}

/// The profile names of the shared config and credentials files
/// (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/`), sorted.
pub fn profiles(var: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let home = var("HOME").map(PathBuf::from);
    let file = |env: &str, name: &str| {
        var(env)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
    };
    let mut names = BTreeSet::new();
    if let Some(text) =
        file("AWS_CONFIG_FILE", "config").and_then(|p| std::fs::read_to_string(p).ok())
    {
        names.extend(profile_names(&text, true));
    }
    if let Some(text) = file("AWS_SHARED_CREDENTIALS_FILE", "credentials")
        .and_then(|p| std::fs::read_to_string(p).ok())
    {
        names.extend(profile_names(&text, false));
    }
    names.into_iter().collect()
}

/// Section names of an AWS shared file: `[profile x]` and `[default]` in the
/// config file, `[x]` in the credentials file (`[sso-session x]` and other
/// sections are not profiles).
pub fn profile_names(text: &str, config_file: bool) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let inner = l.strip_prefix('[')?.strip_suffix(']')?.trim();
            if !config_file {
                return Some(inner.to_string());
            }
            if inner == "default" {
                return Some(inner.to_string());
            }
            inner
                .strip_prefix("profile")
                .filter(|rest| rest.starts_with(char::is_whitespace))
                .map(|rest| rest.trim().to_string())
        })
        .filter(|n| !n.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_sections_are_read_from_both_files() {
        let config = "[default]\nregion = eu-west-1\n[profile prod]\nsso_session = corp\n[sso-session corp]\n[profile  staging ]\n";
        assert_eq!(
            profile_names(config, true),
            vec!["default", "prod", "staging"]
        );
        assert_eq!(
            profile_names("[default]\naws_access_key_id=x\n[ci]\n", false),
            vec!["default", "ci"]
        );
    }

    #[test]
    fn profiles_come_from_the_files_the_environment_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("config");
        let creds = dir.path().join("credentials");
        std::fs::write(&config, "[profile prod]\n[default]\n").expect("write");
        std::fs::write(&creds, "[ci]\n[prod]\n").expect("write");
        let vars = |k: &str| match k {
            "AWS_CONFIG_FILE" => Some(config.display().to_string()),
            "AWS_SHARED_CREDENTIALS_FILE" => Some(creds.display().to_string()),
            _ => None,
        };
        assert_eq!(profiles(&vars), vec!["ci", "default", "prod"]);
        // No files at all: no profiles, no error.
        assert!(profiles(&|_| None).is_empty());
    }
}
