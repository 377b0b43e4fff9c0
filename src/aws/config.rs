//! The `[aws]` table of `config.toml`: what an `opsdeck aws` session shows.
//! The `[[aws.metrics]]` entries in it are parsed by [`super::metrics`].

use toml::de::DeValue;

use super::metrics::{CloudWatchMetricSpec, metric_specs_from_toml};
use crate::problem::Problem;
use crate::toml_doc::{Doc, Value, sorted_entries};

/// The `[aws]` table of `config.toml`: what an `opsdeck aws` session shows.
/// Command-line flags override `profile`, `region`, `clusters` and `log_groups`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AwsSettings {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// ECS clusters to show; every cluster of the account and region when empty.
    pub clusters: Vec<String>,
    /// CloudWatch Logs groups to tail and query; when empty, the groups the
    /// services' task definitions log to (`awslogs-group`).
    pub log_groups: Vec<String>,
    /// Only log streams whose name starts with this.
    pub log_stream_prefix: Option<String>,
    /// Show alarms whose name starts with this (every alarm when unset).
    pub alarm_prefix: Option<String>,
    /// `[[aws.metrics]]`: sparklines with thresholds.
    pub metrics: Vec<CloudWatchMetricSpec>,
}

const AWS_FIELDS: &[&str] = &[
    "profile",
    "region",
    "clusters",
    "log_groups",
    "log_stream_prefix",
    "alarm_prefix",
    "metrics",
];

/// Parse the `[aws]` table (`value`) of a `config.toml` document.
/// Mistakes are reported with file, line and key; the rest is kept.
pub fn settings_from_toml<'i>(value: &Value<'i>, doc: &Doc<'i>) -> (AwsSettings, Vec<Problem>) {
    let mut out = AwsSettings::default();
    let mut problems = Vec::new();
    let DeValue::Table(table) = value.get_ref() else {
        problems.push(doc.wrong_type("aws", "a table ([aws])", value));
        return (out, problems);
    };
    for (k, v) in sorted_entries(table) {
        let key = k.get_ref().to_string();
        let at = format!("aws.{key}");
        match (key.as_str(), v.get_ref()) {
            ("profile", DeValue::String(s)) => out.profile = Some(s.to_string()),
            ("region", DeValue::String(s)) => out.region = Some(s.to_string()),
            ("log_stream_prefix", DeValue::String(s)) => {
                out.log_stream_prefix = Some(s.to_string())
            }
            ("alarm_prefix", DeValue::String(s)) => out.alarm_prefix = Some(s.to_string()),
            ("profile" | "region" | "log_stream_prefix" | "alarm_prefix", _) => {
                problems.push(doc.wrong_type(&at, "a string", v))
            }
            ("clusters" | "log_groups", DeValue::Array(items)) => {
                let mut names = Vec::new();
                for item in items {
                    match item.get_ref() {
                        DeValue::String(s) if !s.is_empty() => names.push(s.to_string()),
                        _ => problems.push(doc.wrong_type(&at, "a non-empty string", item)),
                    }
                }
                if key == "clusters" {
                    out.clusters = names;
                } else {
                    out.log_groups = names;
                }
            }
            ("clusters" | "log_groups", _) => {
                problems.push(doc.wrong_type(&at, "an array of strings", v))
            }
            ("metrics", _) => {
                let (specs, p) = metric_specs_from_toml(v, doc, "aws.metrics");
                out.metrics = specs;
                problems.extend(p);
            }
            _ => problems.push(doc.unknown_field("aws", k, AWS_FIELDS)),
        }
    }
    (out, problems)
}
