//! CloudWatch metrics and alarms: a [`MetricSource`] that reads the metrics
//! listed in `[[aws.metrics]]` with GetMetricData and shows CloudWatch alarms
//! next to them.
//!
//! Each [`CloudWatchMetricSpec`] becomes one series over the last hour (by
//! default), one point per period, in the order of the specs; a metric without
//! data still appears, with no points. Up to [`MAX_QUERIES_PER_CALL`] metrics
//! are read per GetMetricData call.
//!
//! Alarms ([`CloudWatchMetrics::alarms`]) also become series, so the Metrics
//! pane colours them like any other: key `alarm.<name>`, unit `state`, one
//! point valued 0 (OK), 1 (INSUFFICIENT_DATA) or 2 (ALARM), warning 1 and
//! critical 2. [`AlarmSeries`] chooses which alarms are shown this way.
//!
//! In `config.toml` each `[[aws.metrics]]` entry is either a full spec or a
//! preset that expands to several:
//!
//! ```toml
//! [[aws.metrics]]
//! key = "checkout.cpu"
//! name = "checkout CPU"
//! namespace = "AWS/ECS"
//! metric = "CPUUtilization"
//! dimensions = { ClusterName = "prod", ServiceName = "checkout" }
//! stat = "Average"          # Sum, Minimum, Maximum, SampleCount, p95, p99.9, ...
//! period_secs = 60
//! unit = "%"
//! warning = 70
//! critical = 90
//!
//! [[aws.metrics]]
//! preset = "ecs_service"    # CPU and memory of an ECS service
//! cluster = "prod"
//! service = "checkout"
//!
//! [[aws.metrics]]
//! preset = "alb"            # p95 response time and target 5xx
//! load_balancer = "app/shop/50dc6c495c0c9188"
//! target_group = "targetgroup/api/6d0ecf831eec9f09"   # optional
//!
//! [[aws.metrics]]
//! preset = "rds"            # connections, CPU, freeable memory
//! db_instance = "orders-db"
//! connections_warning = 80  # optional
//! connections_critical = 95 # optional
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    AlarmType, CompositeAlarm, Dimension, Metric, MetricAlarm, MetricDataQuery, MetricDataResult,
    MetricStat, ScanBy, StateValue, StatusCode,
};
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::map_sdk_error;
use super::sdk::{AwsOptions, sdk_config};
use crate::domain::{MetricSeries, Point};
use crate::problem::Problem;
use crate::source::{MetricSource, SourceError};
use crate::toml_doc::Doc;

/// GetMetricData takes at most 500 queries per call.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// The period of a spec that names none.
pub const DEFAULT_PERIOD_SECS: u32 = 60;
/// How far back the series reach unless [`CloudWatchMetrics::with_window`] says otherwise.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60 * 60);
/// The `key` prefix of alarm series; metric spec keys may not use it.
pub const ALARM_KEY_PREFIX: &str = "alarm.";
/// DescribeAlarms page size (the API's maximum).
const ALARM_PAGE: i32 = 100;
/// CloudWatch accepts at most 30 dimensions per metric.
const MAX_DIMENSIONS: usize = 30;
/// Periods below a minute that CloudWatch accepts (high-resolution metrics).
const SHORT_PERIODS: [u32; 5] = [1, 5, 10, 20, 30];
/// Windows are aligned to whole minutes so every poll asks for the same buckets.
const ALIGN_SECS: u64 = 60;
const MIB: f64 = 1024.0 * 1024.0;

/// Default DatabaseConnections thresholds of [`preset_rds`].
pub const RDS_CONNECTIONS_WARNING: f64 = 80.0;
/// Default DatabaseConnections critical threshold of [`preset_rds`].
pub const RDS_CONNECTIONS_CRITICAL: f64 = 95.0;

// ---------------------------------------------------------------------------
// Statistics

/// The statistic of a metric query.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(try_from = "String")]
pub enum Stat {
    #[default]
    Average,
    Sum,
    Minimum,
    Maximum,
    SampleCount,
    /// A percentile, `p95` or `p99.9`.
    Percentile(f64),
    /// Another extended statistic, passed to CloudWatch as written: trimmed
    /// mean `tm99` or `TM(10%:90%)`, `wm`, `tc`, `ts`, `PR(...)`, `IQM`.
    Extended(String),
}

impl Stat {
    /// Parse a statistic as CloudWatch names it; the five basic names are
    /// accepted in any case (`average`, `Max`, ...).
    pub fn parse(text: &str) -> Result<Stat, String> {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        match lower.as_str() {
            "average" | "avg" => return Ok(Stat::Average),
            "sum" => return Ok(Stat::Sum),
            "minimum" | "min" => return Ok(Stat::Minimum),
            "maximum" | "max" => return Ok(Stat::Maximum),
            "samplecount" => return Ok(Stat::SampleCount),
            "iqm" => return Ok(Stat::Extended("IQM".into())),
            _ => {}
        }
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if let Some(rest) = lower.strip_prefix('p').filter(|r| numeric(r)) {
            return match rest.parse::<f64>() {
                Ok(p) if (0.0..=100.0).contains(&p) => Ok(Stat::Percentile(p)),
                _ => Err(format!(
                    "percentile \"{t}\" is out of range (p0 to p100, e.g. p95 or p99.9)"
                )),
            };
        }
        for prefix in ["tm", "wm", "tc", "ts", "pr"] {
            if let Some(rest) = lower.strip_prefix(prefix) {
                let number = numeric(rest)
                    && rest
                        .parse::<f64>()
                        .is_ok_and(|v| (0.0..=100.0).contains(&v));
                let range = rest.starts_with('(') && rest.ends_with(')') && rest.len() > 2;
                if number || range {
                    return Ok(Stat::Extended(t.to_string()));
                }
            }
        }
        Err(format!(
            "unknown statistic \"{t}\", expected Average, Sum, Minimum, Maximum, SampleCount or a percentile such as p95"
        ))
    }
}

impl TryFrom<String> for Stat {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Stat::parse(&value)
    }
}

impl fmt::Display for Stat {
    /// The name CloudWatch expects: `Average`, `p95`, `p99.9`, `tm99`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stat::Average => f.write_str("Average"),
            Stat::Sum => f.write_str("Sum"),
            Stat::Minimum => f.write_str("Minimum"),
            Stat::Maximum => f.write_str("Maximum"),
            Stat::SampleCount => f.write_str("SampleCount"),
            Stat::Percentile(p) => write!(f, "p{p}"),
            Stat::Extended(s) => f.write_str(s),
        }
    }
}

// ---------------------------------------------------------------------------
// Metric specs

fn default_period() -> u32 {
    DEFAULT_PERIOD_SECS
}

fn default_scale() -> f64 {
    1.0
}

/// One CloudWatch metric shown as a series (one `[[aws.metrics]]` entry).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudWatchMetricSpec {
    /// Stable key used by runbook checks (`checkout.cpu`). Must not start with `alarm.`.
    pub key: String,
    /// Display name; empty shows the key.
    #[serde(default)]
    pub name: String,
    /// `AWS/ECS`, `AWS/ApplicationELB`, `AWS/RDS`, or a custom namespace.
    pub namespace: String,
    /// The metric name (`CPUUtilization`).
    pub metric: String,
    /// Dimension name to value (`ClusterName = "prod"`).
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    /// Average unless given.
    #[serde(default)]
    pub stat: Stat,
    /// Seconds per point: 1, 5, 10, 20, 30 or a multiple of 60.
    #[serde(default = "default_period")]
    pub period_secs: u32,
    /// Display unit (`%`, `s`, `conn`, `MiB`).
    #[serde(default)]
    pub unit: String,
    /// Every value is multiplied by this before it is shown and compared
    /// with the thresholds (`1/1048576` shows bytes as MiB).
    #[serde(default = "default_scale")]
    pub scale: f64,
    /// Warning threshold, in display units.
    #[serde(default)]
    pub warning: Option<f64>,
    /// Critical threshold, in display units.
    #[serde(default)]
    pub critical: Option<f64>,
    /// Low values are bad (free memory): thresholds are crossed at or below them.
    #[serde(default)]
    pub lower_is_worse: bool,
}

impl CloudWatchMetricSpec {
    /// A spec with no dimensions, Average over 60 s, no unit and no thresholds.
    pub fn new(key: &str, name: &str, namespace: &str, metric: &str) -> Self {
        Self {
            key: key.to_string(),
            name: name.to_string(),
            namespace: namespace.to_string(),
            metric: metric.to_string(),
            dimensions: BTreeMap::new(),
            stat: Stat::Average,
            period_secs: DEFAULT_PERIOD_SECS,
            unit: String::new(),
            scale: 1.0,
            warning: None,
            critical: None,
            lower_is_worse: false,
        }
    }

    /// Add a dimension.
    pub fn dimension(mut self, name: &str, value: &str) -> Self {
        self.dimensions.insert(name.to_string(), value.to_string());
        self
    }

    /// Set the statistic.
    pub fn stat(mut self, stat: Stat) -> Self {
        self.stat = stat;
        self
    }

    /// Set the display unit.
    pub fn unit(mut self, unit: &str) -> Self {
        self.unit = unit.to_string();
        self
    }

    /// Set the warning and critical thresholds.
    pub fn thresholds(mut self, warning: f64, critical: f64) -> Self {
        self.warning = Some(warning);
        self.critical = Some(critical);
        self
    }

    /// The name shown: `name`, or the key when it is empty.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.key
        } else {
            &self.name
        }
    }

    /// Mistakes in this spec as (field, message), empty when it is usable.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.key.trim().is_empty() {
            out.push(("key", "must not be empty".to_string()));
        } else if self.key.starts_with(ALARM_KEY_PREFIX) {
            out.push((
                "key",
                format!(
                    "\"{}\" is reserved for alarms (keys starting with \"{ALARM_KEY_PREFIX}\")",
                    self.key
                ),
            ));
        }
        if self.namespace.trim().is_empty() {
            out.push(("namespace", "must not be empty".to_string()));
        }
        if self.metric.trim().is_empty() {
            out.push(("metric", "must not be empty".to_string()));
        }
        if self.dimensions.len() > MAX_DIMENSIONS {
            out.push((
                "dimensions",
                format!(
                    "{} dimensions; CloudWatch accepts at most {MAX_DIMENSIONS}",
                    self.dimensions.len()
                ),
            ));
        }
        for (name, value) in &self.dimensions {
            if name.trim().is_empty() || value.trim().is_empty() {
                out.push((
                    "dimensions",
                    format!(
                        "dimension \"{name}\" = \"{value}\": names and values must not be empty"
                    ),
                ));
            }
        }
        let p = self.period_secs;
        if !(SHORT_PERIODS.contains(&p) || (p > 0 && p % 60 == 0)) {
            out.push((
                "period_secs",
                format!("{p} is not a CloudWatch period (1, 5, 10, 20, 30 or a multiple of 60)"),
            ));
        }
        if !self.scale.is_finite() || self.scale == 0.0 {
            out.push(("scale", "must be a non-zero number".to_string()));
        }
        for (field, t) in [("warning", self.warning), ("critical", self.critical)] {
            if t.is_some_and(|v| !v.is_finite()) {
                out.push((field, "must be a finite number".to_string()));
            }
        }
        if let (Some(w), Some(c)) = (self.warning, self.critical) {
            if self.lower_is_worse && w < c {
                out.push((
                    "warning",
                    format!("with lower_is_worse the warning ({w}) must be at or above the critical ({c})"),
                ));
            } else if !self.lower_is_worse && w > c {
                out.push((
                    "warning",
                    format!("the warning ({w}) must be at or below the critical ({c}); set lower_is_worse = true if low values are bad"),
                ));
            }
        }
        out
    }

    /// The GetMetricData query for this spec under `id`.
    fn query(&self, id: String) -> MetricDataQuery {
        let dimensions = self
            .dimensions
            .iter()
            .map(|(name, value)| Dimension::builder().name(name).value(value).build())
            .collect();
        let metric = Metric::builder()
            .namespace(&self.namespace)
            .metric_name(&self.metric)
            .set_dimensions(Some(dimensions))
            .build();
        let stat = MetricStat::builder()
            .metric(metric)
            .period(i32::try_from(self.period_secs).unwrap_or(i32::MAX))
            .stat(self.stat.to_string())
            .build();
        MetricDataQuery::builder()
            .id(id)
            .metric_stat(stat)
            .return_data(true)
            .build()
    }

    fn series(&self, points: Vec<Point>) -> MetricSeries {
        MetricSeries {
            key: self.key.clone(),
            name: self.display_name().to_string(),
            unit: self.unit.clone(),
            points,
            warning: self.warning,
            critical: self.critical,
            lower_is_worse: self.lower_is_worse,
        }
    }
}

// ---------------------------------------------------------------------------
// Presets

/// The last `/`-separated segment that is a name: `app/shop/50dc..` -> `shop`,
/// `targetgroup/api/6d0e..` -> `api`, `orders` -> `orders`.
fn short_name(dimension_value: &str) -> &str {
    let parts: Vec<&str> = dimension_value.split('/').collect();
    match parts.as_slice() {
        [_, name, _] if !name.is_empty() => name,
        _ => dimension_value,
    }
}

/// CPU and memory of an ECS service (`AWS/ECS`, Average, warning 70%,
/// critical 90%): keys `<service>.cpu` and `<service>.memory`.
pub fn preset_ecs_service(cluster: &str, service: &str) -> Vec<CloudWatchMetricSpec> {
    [
        ("cpu", "CPU", "CPUUtilization"),
        ("memory", "memory", "MemoryUtilization"),
    ]
    .into_iter()
    .map(|(suffix, label, metric)| {
        CloudWatchMetricSpec::new(
            &format!("{service}.{suffix}"),
            &format!("{service} {label}"),
            "AWS/ECS",
            metric,
        )
        .dimension("ClusterName", cluster)
        .dimension("ServiceName", service)
        .unit("%")
        .thresholds(70.0, 90.0)
    })
    .collect()
}

/// An Application Load Balancer (`AWS/ApplicationELB`), optionally one target
/// group: p95 TargetResponseTime (warning 0.5 s, critical 1 s) and the sum of
/// HTTPCode_Target_5XX_Count per minute (warning 10, critical 50). Keys
/// `<name>.latency_p95` and `<name>.5xx_count`, where `<name>` is the target
/// group's name if given, else the load balancer's (`app/<name>/<id>`).
pub fn preset_alb(load_balancer: &str, target_group: Option<&str>) -> Vec<CloudWatchMetricSpec> {
    let base = short_name(target_group.unwrap_or(load_balancer));
    let with_dims = |spec: CloudWatchMetricSpec| {
        let spec = spec.dimension("LoadBalancer", load_balancer);
        match target_group {
            Some(tg) => spec.dimension("TargetGroup", tg),
            None => spec,
        }
    };
    vec![
        with_dims(
            CloudWatchMetricSpec::new(
                &format!("{base}.latency_p95"),
                &format!("{base} p95 latency"),
                "AWS/ApplicationELB",
                "TargetResponseTime",
            )
            .stat(Stat::Percentile(95.0))
            .unit("s")
            .thresholds(0.5, 1.0),
        ),
        with_dims(
            CloudWatchMetricSpec::new(
                &format!("{base}.5xx_count"),
                &format!("{base} target 5xx"),
                "AWS/ApplicationELB",
                "HTTPCode_Target_5XX_Count",
            )
            .stat(Stat::Sum)
            .unit("req")
            .thresholds(10.0, 50.0),
        ),
    ]
}

/// An RDS instance (`AWS/RDS`) with the default connection thresholds
/// (warning 80, critical 95); see [`preset_rds_with`].
pub fn preset_rds(db_instance_identifier: &str) -> Vec<CloudWatchMetricSpec> {
    preset_rds_with(
        db_instance_identifier,
        RDS_CONNECTIONS_WARNING,
        RDS_CONNECTIONS_CRITICAL,
    )
}

/// An RDS instance (`AWS/RDS`): DatabaseConnections (the given thresholds;
/// size them to the instance's max_connections), CPUUtilization (warning 70%,
/// critical 90%) and FreeableMemory in MiB (low is bad: warning 512 MiB,
/// critical 256 MiB). Keys `<db>.connections`, `<db>.cpu`, `<db>.freeable_memory`.
pub fn preset_rds_with(
    db_instance_identifier: &str,
    connections_warning: f64,
    connections_critical: f64,
) -> Vec<CloudWatchMetricSpec> {
    let db = db_instance_identifier;
    let spec = |suffix: &str, label: &str, metric: &str| {
        CloudWatchMetricSpec::new(
            &format!("{db}.{suffix}"),
            &format!("{db} {label}"),
            "AWS/RDS",
            metric,
        )
        .dimension("DBInstanceIdentifier", db)
    };
    let mut memory = spec("freeable_memory", "freeable memory", "FreeableMemory")
        .stat(Stat::Minimum)
        .unit("MiB")
        .thresholds(512.0, 256.0);
    memory.scale = 1.0 / MIB;
    memory.lower_is_worse = true;
    vec![
        spec("connections", "connections", "DatabaseConnections")
            .stat(Stat::Maximum)
            .unit("conn")
            .thresholds(connections_warning, connections_critical),
        spec("cpu", "CPU", "CPUUtilization")
            .unit("%")
            .thresholds(70.0, 90.0),
        memory,
    ]
}

// ---------------------------------------------------------------------------
// config.toml

/// A `preset = "ecs_service"` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EcsPreset {
    cluster: String,
    service: String,
}

/// A `preset = "alb"` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlbPreset {
    load_balancer: String,
    #[serde(default)]
    target_group: Option<String>,
}

/// A `preset = "rds"` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RdsPreset {
    db_instance: String,
    #[serde(default)]
    connections_warning: Option<f64>,
    #[serde(default)]
    connections_critical: Option<f64>,
}

const PRESETS: &str = "ecs_service, alb, rds";

/// Parse the `[[aws.metrics]]` entries of a `config.toml` text (nothing else
/// in the file is looked at). `file` is the name used in problems. Presets are
/// expanded; entries with mistakes are left out, the others kept.
pub fn parse_metric_specs(text: &str, file: &str) -> (Vec<CloudWatchMetricSpec>, Vec<Problem>) {
    let doc = Doc::new(text, file);
    let root = match doc.parse() {
        Ok(t) => t,
        Err(p) => return (Vec::new(), vec![p]),
    };
    let Some(aws) = root.get_ref().get("aws") else {
        return (Vec::new(), Vec::new());
    };
    let DeValue::Table(aws) = aws.get_ref() else {
        // What `aws` itself must be is reported where the rest of it is parsed.
        return (Vec::new(), Vec::new());
    };
    match aws.get("metrics") {
        Some(metrics) => metric_specs_from_toml(metrics, &doc, "aws.metrics"),
        None => (Vec::new(), Vec::new()),
    }
}

/// Parse an already-parsed `aws.metrics` value (an array of tables) of the
/// document; `key` is its dotted path in problems (`aws.metrics`).
pub fn metric_specs_from_toml<'i>(
    value: &Spanned<DeValue<'i>>,
    doc: &Doc<'i>,
    key: &str,
) -> (Vec<CloudWatchMetricSpec>, Vec<Problem>) {
    let mut specs: Vec<CloudWatchMetricSpec> = Vec::new();
    let mut problems = Vec::new();
    let DeValue::Array(items) = value.get_ref() else {
        problems.push(doc.wrong_type(key, &format!("an array of tables ([[{key}]])"), value));
        return (specs, problems);
    };
    // Where each key was first defined, for duplicate reports.
    let mut seen: HashMap<String, String> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("{key}[{i}]");
        let line = doc.line(item.span().start);
        let DeValue::Table(table) = item.get_ref() else {
            problems.push(doc.wrong_type(&path, "a table", item));
            continue;
        };
        let entry = Entry {
            doc,
            path: &path,
            line,
            table,
            span: item.span(),
        };
        let Some(expanded) = entry.specs(&mut problems) else {
            continue;
        };
        for mut spec in expanded {
            if spec.name.is_empty() {
                spec.name = spec.key.clone();
            }
            if let Some(first) = seen.get(&spec.key) {
                problems.push(Problem::new(
                    doc.file,
                    Some(entry.line_of_field("key")),
                    Some(path.clone()),
                    format!(
                        "duplicate metric key \"{}\" (first defined in {first})",
                        spec.key
                    ),
                ));
                continue;
            }
            seen.insert(spec.key.clone(), path.clone());
            specs.push(spec);
        }
    }
    (specs, problems)
}

/// One `[[aws.metrics]]` table being parsed.
struct Entry<'a, 'i> {
    doc: &'a Doc<'i>,
    path: &'a str,
    line: usize,
    table: &'a DeTable<'i>,
    span: std::ops::Range<usize>,
}

impl<'i> Entry<'_, 'i> {
    fn line_of_field(&self, field: &str) -> usize {
        self.table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == field)
            .map_or(self.line, |(k, _)| self.doc.line(k.span().start))
    }

    fn problem(&self, field: Option<&str>, message: impl Into<String>) -> Problem {
        let (line, key) = match field {
            Some(f) => (self.line_of_field(f), format!("{}.{f}", self.path)),
            None => (self.line, self.path.to_string()),
        };
        Problem::new(self.doc.file, Some(line), Some(key), message)
    }

    /// Deserialize the table (minus `skip`) as `T`, a problem on failure
    /// located at the field the error points into.
    fn deserialize<T: for<'de> Deserialize<'de>>(&self, skip: Option<&str>) -> Result<T, Problem> {
        let skip: Vec<&str> = skip.into_iter().collect();
        self.doc
            .deserialize(self.table, self.span.clone(), self.path, &skip)
    }

    /// `Some(())` when every field has a value; a problem for each empty one.
    fn filled(&self, problems: &mut Vec<Problem>, fields: &[(&str, &str)]) -> Option<()> {
        let before = problems.len();
        for (field, value) in fields {
            if value.trim().is_empty() {
                problems.push(self.problem(Some(field), "must not be empty"));
            }
        }
        (problems.len() == before).then_some(())
    }

    /// The specs of this entry (a preset expands to several), or `None` after
    /// pushing its problems.
    fn specs(&self, problems: &mut Vec<Problem>) -> Option<Vec<CloudWatchMetricSpec>> {
        let preset = self
            .table
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == "preset")
            .map(|(_, v)| v.get_ref());
        let specs = match preset {
            None => {
                let spec: CloudWatchMetricSpec =
                    self.deserialize(None).map_err(|p| problems.push(p)).ok()?;
                let issues = spec.validate();
                if !issues.is_empty() {
                    for (field, message) in issues {
                        problems.push(self.problem(Some(field), message));
                    }
                    return None;
                }
                return Some(vec![spec]);
            }
            Some(DeValue::String(name)) => match name.as_ref() {
                "ecs_service" => {
                    let p: EcsPreset = self
                        .deserialize(Some("preset"))
                        .map_err(|p| problems.push(p))
                        .ok()?;
                    self.filled(
                        problems,
                        &[("cluster", &p.cluster), ("service", &p.service)],
                    )?;
                    preset_ecs_service(&p.cluster, &p.service)
                }
                "alb" => {
                    let p: AlbPreset = self
                        .deserialize(Some("preset"))
                        .map_err(|p| problems.push(p))
                        .ok()?;
                    let tg = p.target_group.as_deref();
                    let mut fields = vec![("load_balancer", p.load_balancer.as_str())];
                    fields.extend(tg.map(|tg| ("target_group", tg)));
                    self.filled(problems, &fields)?;
                    preset_alb(&p.load_balancer, tg)
                }
                "rds" => {
                    let p: RdsPreset = self
                        .deserialize(Some("preset"))
                        .map_err(|p| problems.push(p))
                        .ok()?;
                    self.filled(problems, &[("db_instance", &p.db_instance)])?;
                    let warning = p.connections_warning.unwrap_or(RDS_CONNECTIONS_WARNING);
                    let critical = p.connections_critical.unwrap_or(RDS_CONNECTIONS_CRITICAL);
                    if warning > critical {
                        problems.push(self.problem(
                            Some("connections_warning"),
                            format!(
                                "the warning ({warning}) must be at or below the critical ({critical})"
                            ),
                        ));
                        return None;
                    }
                    preset_rds_with(&p.db_instance, warning, critical)
                }
                other => {
                    problems.push(self.problem(
                        Some("preset"),
                        format!("unknown preset \"{other}\", expected one of {PRESETS}"),
                    ));
                    return None;
                }
            },
            Some(other) => {
                problems.push(self.problem(
                    Some("preset"),
                    format!("expected a string, found {}", other.type_str()),
                ));
                return None;
            }
        };
        // Presets are built from user values (names, thresholds): check them too.
        let mut ok = true;
        for spec in &specs {
            for (field, message) in spec.validate() {
                ok = false;
                problems.push(self.problem(None, format!("{}: {field}: {message}", spec.key)));
            }
        }
        ok.then_some(specs)
    }
}

// ---------------------------------------------------------------------------
// Alarms

/// The state of a CloudWatch alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmStateValue {
    Ok,
    InsufficientData,
    Alarm,
}

impl AlarmStateValue {
    /// `OK`, `INSUFFICIENT_DATA` or `ALARM`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmStateValue::Ok => "OK",
            AlarmStateValue::InsufficientData => "INSUFFICIENT_DATA",
            AlarmStateValue::Alarm => "ALARM",
        }
    }

    /// The value of the alarm's series: 0 OK, 1 INSUFFICIENT_DATA, 2 ALARM.
    pub fn level(self) -> f64 {
        match self {
            AlarmStateValue::Ok => 0.0,
            AlarmStateValue::InsufficientData => 1.0,
            AlarmStateValue::Alarm => 2.0,
        }
    }

    fn from_sdk(state: Option<&StateValue>) -> Self {
        match state {
            Some(StateValue::Ok) => AlarmStateValue::Ok,
            Some(StateValue::Alarm) => AlarmStateValue::Alarm,
            // INSUFFICIENT_DATA, missing, or a state this version does not know.
            _ => AlarmStateValue::InsufficientData,
        }
    }

    fn to_sdk(self) -> StateValue {
        match self {
            AlarmStateValue::Ok => StateValue::Ok,
            AlarmStateValue::InsufficientData => StateValue::InsufficientData,
            AlarmStateValue::Alarm => StateValue::Alarm,
        }
    }
}

impl fmt::Display for AlarmStateValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A CloudWatch alarm and its current state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmState {
    pub name: String,
    pub state: AlarmStateValue,
    /// Why it is in this state, as CloudWatch words it.
    pub reason: String,
    /// When the state last changed (the epoch when CloudWatch does not say).
    pub updated: SystemTime,
    /// The metric watched (`CPUUtilization`); `None` for metric-math and composite alarms.
    pub metric: Option<String>,
    /// The metric's namespace (`AWS/ECS`).
    pub namespace: Option<String>,
}

/// Which alarms [`CloudWatchMetrics::alarms`] lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlarmFilter {
    /// Only alarms whose name starts with this.
    pub name_prefix: Option<String>,
    /// Only alarms in this state.
    pub state: Option<AlarmStateValue>,
}

impl AlarmFilter {
    fn matches(&self, alarm: &AlarmState) -> bool {
        self.name_prefix
            .as_deref()
            .is_none_or(|p| alarm.name.starts_with(p))
            && self.state.is_none_or(|s| alarm.state == s)
    }
}

/// Which alarms [`MetricSource::metrics`] appends as series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmSeries {
    /// None: DescribeAlarms is not called by `metrics()`.
    Off,
    /// Alarms not in OK, and alarms whose state changed within the window (so
    /// a recovery stays visible, green, for a while).
    #[default]
    Active,
    /// Every alarm the filter lets through.
    All,
}

fn to_system_time(t: Option<&DateTime>) -> SystemTime {
    t.and_then(|t| SystemTime::try_from(*t).ok())
        .unwrap_or(UNIX_EPOCH)
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

fn metric_alarm(a: &MetricAlarm) -> Option<AlarmState> {
    Some(AlarmState {
        name: non_empty(a.alarm_name())?,
        state: AlarmStateValue::from_sdk(a.state_value()),
        reason: a.state_reason().unwrap_or_default().to_string(),
        updated: to_system_time(a.state_updated_timestamp()),
        metric: non_empty(a.metric_name()),
        namespace: non_empty(a.namespace()),
    })
}

fn composite_alarm(a: &CompositeAlarm) -> Option<AlarmState> {
    Some(AlarmState {
        name: non_empty(a.alarm_name())?,
        state: AlarmStateValue::from_sdk(a.state_value()),
        reason: a.state_reason().unwrap_or_default().to_string(),
        updated: to_system_time(a.state_updated_timestamp()),
        metric: None,
        namespace: None,
    })
}

/// Alarms as series (see the module docs), sorted by name so rows keep
/// their place as states change.
fn alarm_series(
    alarms: &[AlarmState],
    mode: AlarmSeries,
    now: SystemTime,
    window: Duration,
) -> Vec<MetricSeries> {
    let since = now.checked_sub(window).unwrap_or(UNIX_EPOCH);
    let mut shown: Vec<&AlarmState> = alarms
        .iter()
        .filter(|a| match mode {
            AlarmSeries::Off => false,
            AlarmSeries::Active => a.state != AlarmStateValue::Ok || a.updated >= since,
            AlarmSeries::All => true,
        })
        .collect();
    shown.sort_by(|a, b| a.name.cmp(&b.name));
    shown
        .into_iter()
        .map(|a| MetricSeries {
            key: format!("{ALARM_KEY_PREFIX}{}", a.name),
            name: format!("alarm {}", a.name),
            unit: "state".to_string(),
            points: vec![Point {
                time: a.updated,
                value: a.state.level(),
            }],
            warning: Some(AlarmStateValue::InsufficientData.level()),
            critical: Some(AlarmStateValue::Alarm.level()),
            lower_is_worse: false,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The source

/// Metric series from CloudWatch GetMetricData, plus alarm states.
#[derive(Debug, Clone)]
pub struct CloudWatchMetrics {
    client: Client,
    label: String,
    specs: Vec<CloudWatchMetricSpec>,
    window: Duration,
    alarm_filter: AlarmFilter,
    alarm_series: AlarmSeries,
}

/// Open the CloudWatch metric source for `specs` with the default credential
/// chain and [`AwsOptions`].
pub async fn cloudwatch_metrics(
    opts: &AwsOptions,
    specs: Vec<CloudWatchMetricSpec>,
) -> CloudWatchMetrics {
    let config = sdk_config(opts).await;
    CloudWatchMetrics::new(Client::new(&config), specs)
}

impl CloudWatchMetrics {
    /// Series for `specs` over the last hour; alarms as [`AlarmSeries::Active`],
    /// unfiltered. The label names the client's region (`cloudwatch:eu-west-1`).
    pub fn new(client: Client, specs: Vec<CloudWatchMetricSpec>) -> Self {
        let region = client
            .config()
            .region()
            .map_or_else(|| "no-region".to_string(), ToString::to_string);
        Self {
            client,
            label: format!("cloudwatch:{region}"),
            specs,
            window: DEFAULT_WINDOW,
            alarm_filter: AlarmFilter::default(),
            alarm_series: AlarmSeries::default(),
        }
    }

    /// How far back the series reach (rounded up to whole minutes, at least one).
    pub fn with_window(mut self, window: Duration) -> Self {
        let minutes = window.as_secs().div_ceil(ALIGN_SECS).max(1);
        self.window = Duration::from_secs(minutes * ALIGN_SECS);
        self
    }

    /// Which alarms are listed, and which of them `metrics()` shows as series.
    pub fn with_alarms(mut self, filter: AlarmFilter, series: AlarmSeries) -> Self {
        self.alarm_filter = filter;
        self.alarm_series = series;
        self
    }

    /// The specs, in the order their series come back.
    pub fn specs(&self) -> &[CloudWatchMetricSpec] {
        &self.specs
    }

    /// The window of the series.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// One series per spec, in spec order, over the window ending now
    /// (without alarms).
    pub async fn metric_series(&self) -> Result<Vec<MetricSeries>, SourceError> {
        self.metric_series_at(SystemTime::now()).await
    }

    async fn metric_series_at(&self, now: SystemTime) -> Result<Vec<MetricSeries>, SourceError> {
        if self.specs.is_empty() {
            return Ok(Vec::new());
        }
        let (start, end) = query_window(now, self.window);
        let mut results = Vec::new();
        for (n, batch) in self.specs.chunks(MAX_QUERIES_PER_CALL).enumerate() {
            let offset = n * MAX_QUERIES_PER_CALL;
            results.extend(self.fetch_batch(offset, batch, start, end).await?);
        }
        Ok(series_from_results(&self.specs, &results))
    }

    /// One GetMetricData request (all its pages) for `batch`, whose first
    /// spec is `specs[offset]`.
    async fn fetch_batch(
        &self,
        offset: usize,
        batch: &[CloudWatchMetricSpec],
        start: SystemTime,
        end: SystemTime,
    ) -> Result<Vec<MetricDataResult>, SourceError> {
        let queries: Vec<MetricDataQuery> = batch
            .iter()
            .enumerate()
            .map(|(i, spec)| spec.query(query_id(offset + i)))
            .collect();
        let what = format!(
            "get metric data ({} to {} of {})",
            offset + 1,
            offset + batch.len(),
            self.specs.len()
        );
        let mut results = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let sent = token.clone();
            let page = self
                .client
                .get_metric_data()
                .set_metric_data_queries(Some(queries.clone()))
                .start_time(DateTime::from(start))
                .end_time(DateTime::from(end))
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| map_sdk_error(&what, e))?;
            for m in page.messages() {
                tracing::warn!(
                    code = m.code().unwrap_or_default(),
                    "{what}: {}",
                    m.value().unwrap_or_default()
                );
            }
            for r in page.metric_data_results() {
                let failed = matches!(
                    r.status_code(),
                    Some(StatusCode::Forbidden | StatusCode::InternalError)
                );
                if failed {
                    tracing::warn!(
                        id = r.id().unwrap_or_default(),
                        "{what}: {:?}: {:?}",
                        r.status_code(),
                        r.messages()
                    );
                }
            }
            results.extend(page.metric_data_results().iter().cloned());
            match page.next_token() {
                Some(t) if !t.is_empty() && sent.as_deref() != Some(t) => {
                    token = Some(t.to_string());
                }
                _ => break,
            }
        }
        Ok(results)
    }

    /// The alarms the filter lets through (metric and composite alarms,
    /// DescribeAlarms paged), sorted by name.
    pub async fn alarms(&self) -> Result<Vec<AlarmState>, SourceError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let sent = token.clone();
            let page = self
                .client
                .describe_alarms()
                .alarm_types(AlarmType::MetricAlarm)
                .alarm_types(AlarmType::CompositeAlarm)
                .set_alarm_name_prefix(self.alarm_filter.name_prefix.clone())
                .set_state_value(self.alarm_filter.state.map(AlarmStateValue::to_sdk))
                .max_records(ALARM_PAGE)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| map_sdk_error("describe alarms", e))?;
            out.extend(page.metric_alarms().iter().filter_map(metric_alarm));
            out.extend(page.composite_alarms().iter().filter_map(composite_alarm));
            match page.next_token() {
                Some(t) if !t.is_empty() && sent.as_deref() != Some(t) => {
                    token = Some(t.to_string());
                }
                _ => break,
            }
        }
        // The filter is applied here as well: not every endpoint combines
        // a name prefix with a state.
        out.retain(|a| self.alarm_filter.matches(a));
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out.dedup_by(|a, b| a.name == b.name);
        Ok(out)
    }
}

#[async_trait]
impl MetricSource for CloudWatchMetrics {
    fn label(&self) -> String {
        self.label.clone()
    }

    /// The spec series, then the alarm series ([`AlarmSeries`]). Fails when
    /// either GetMetricData or DescribeAlarms does.
    async fn metrics(&self) -> Result<Vec<MetricSeries>, SourceError> {
        let now = SystemTime::now();
        let mut out = self.metric_series_at(now).await?;
        if self.alarm_series != AlarmSeries::Off {
            let alarms = self.alarms().await?;
            out.extend(alarm_series(&alarms, self.alarm_series, now, self.window));
        }
        Ok(out)
    }
}

/// The query id of the spec at `index`: `m0`, `m1`, ... (CloudWatch ids must
/// match `^[a-z][a-zA-Z0-9_]*$`).
fn query_id(index: usize) -> String {
    format!("m{index}")
}

fn spec_index(id: &str) -> Option<usize> {
    id.strip_prefix('m')?.parse().ok()
}

/// The window `[start, end)` ending after the current minute, on whole minutes.
pub fn query_window(now: SystemTime, window: Duration) -> (SystemTime, SystemTime) {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let end = (secs / ALIGN_SECS + 1) * ALIGN_SECS;
    let minutes = window.as_secs().div_ceil(ALIGN_SECS).max(1);
    let start = end.saturating_sub(minutes * ALIGN_SECS);
    (
        UNIX_EPOCH + Duration::from_secs(start),
        UNIX_EPOCH + Duration::from_secs(end),
    )
}

/// Results (of every batch and page) back to one series per spec, in spec
/// order; values scaled, points in ascending time.
fn series_from_results(
    specs: &[CloudWatchMetricSpec],
    results: &[MetricDataResult],
) -> Vec<MetricSeries> {
    let mut points: Vec<Vec<Point>> = vec![Vec::new(); specs.len()];
    for r in results {
        let Some(i) = r.id().and_then(spec_index).filter(|&i| i < specs.len()) else {
            continue;
        };
        let scale = specs[i].scale;
        points[i].extend(
            r.timestamps()
                .iter()
                .zip(r.values())
                .filter(|(_, v)| v.is_finite())
                .map(|(t, v)| Point {
                    time: to_system_time(Some(t)),
                    value: v * scale,
                }),
        );
    }
    specs
        .iter()
        .zip(points)
        .map(|(spec, mut pts)| {
            pts.sort_by_key(|p| p.time);
            pts.dedup_by_key(|p| p.time);
            spec.series(pts)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Health;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn result(id: &str, points: &[(u64, f64)]) -> MetricDataResult {
        MetricDataResult::builder()
            .id(id)
            .set_timestamps(Some(
                points
                    .iter()
                    .map(|(t, _)| DateTime::from_secs(*t as i64))
                    .collect(),
            ))
            .set_values(Some(points.iter().map(|(_, v)| *v).collect()))
            .status_code(StatusCode::Complete)
            .build()
    }

    fn many(n: usize) -> Vec<CloudWatchMetricSpec> {
        (0..n)
            .map(|i| {
                CloudWatchMetricSpec::new(&format!("s{i}"), "", "Custom/Test", "Load")
                    .dimension("Index", &i.to_string())
            })
            .collect()
    }

    #[test]
    fn stats_parse_and_print_as_cloudwatch_names() {
        for (text, want, shown) in [
            ("Average", Stat::Average, "Average"),
            ("sum", Stat::Sum, "Sum"),
            ("MAX", Stat::Maximum, "Maximum"),
            ("Minimum", Stat::Minimum, "Minimum"),
            ("SampleCount", Stat::SampleCount, "SampleCount"),
            ("p95", Stat::Percentile(95.0), "p95"),
            ("P99.9", Stat::Percentile(99.9), "p99.9"),
            ("p0", Stat::Percentile(0.0), "p0"),
            ("tm99", Stat::Extended("tm99".into()), "tm99"),
            (
                "TM(10%:90%)",
                Stat::Extended("TM(10%:90%)".into()),
                "TM(10%:90%)",
            ),
            ("iqm", Stat::Extended("IQM".into()), "IQM"),
        ] {
            let got = Stat::parse(text).unwrap();
            assert_eq!(got, want, "{text}");
            assert_eq!(got.to_string(), shown, "{text}");
        }
        assert!(Stat::parse("p101").unwrap_err().contains("out of range"));
        assert!(
            Stat::parse("median")
                .unwrap_err()
                .contains("unknown statistic")
        );
        assert!(Stat::parse("p").is_err());
        assert!(Stat::parse("tm").is_err());
    }

    #[test]
    fn queries_carry_id_stat_period_and_dimensions() {
        let spec = preset_alb("app/shop/50dc", Some("targetgroup/api/6d0e")).remove(0);
        let q = spec.query(query_id(7));
        assert_eq!(q.id(), Some("m7"));
        assert_eq!(q.return_data(), Some(true));
        let stat = q.metric_stat().unwrap();
        assert_eq!(stat.stat(), Some("p95"));
        assert_eq!(stat.period(), Some(60));
        let metric = stat.metric().unwrap();
        assert_eq!(metric.namespace(), Some("AWS/ApplicationELB"));
        assert_eq!(metric.metric_name(), Some("TargetResponseTime"));
        let dims: Vec<(&str, &str)> = metric
            .dimensions()
            .iter()
            .map(|d| (d.name().unwrap(), d.value().unwrap()))
            .collect();
        assert_eq!(
            dims,
            [
                ("LoadBalancer", "app/shop/50dc"),
                ("TargetGroup", "targetgroup/api/6d0e")
            ]
        );
    }

    #[test]
    fn ids_are_valid_and_batches_hold_at_most_500() {
        let specs = many(620);
        let batches: Vec<usize> = specs.chunks(MAX_QUERIES_PER_CALL).map(<[_]>::len).collect();
        assert_eq!(batches, [500, 120]);
        for i in [0, 9, 499, 500, 619] {
            let id = query_id(i);
            let mut chars = id.chars();
            assert!(chars.next().is_some_and(|c| c.is_ascii_lowercase()));
            assert!(chars.all(|c| c.is_ascii_alphanumeric() || c == '_'));
            assert_eq!(spec_index(&id), Some(i));
        }
    }

    #[test]
    fn window_is_whole_minutes_and_includes_the_current_one() {
        let (start, end) = query_window(at(1_000_030), Duration::from_secs(3600));
        assert_eq!(end, at(1_000_080));
        assert_eq!(start, at(1_000_080 - 3600));
        let (start, end) = query_window(at(120), Duration::from_secs(90));
        assert_eq!((start, end), (at(60), at(180)));
        assert_eq!(
            query_window(at(30), Duration::from_secs(3600)).0,
            UNIX_EPOCH
        );
    }

    #[test]
    fn results_map_back_by_id_in_spec_order_with_pages_merged() {
        let mut specs = many(3);
        specs[1].scale = 0.5;
        let results = [
            // m2 first, m1 split over two pages and out of order, an unknown id.
            result("m2", &[(60, 1.0)]),
            result("m1", &[(180, 30.0), (120, 20.0)]),
            result("zz", &[(60, 9.0)]),
            result("m9", &[(60, 9.0)]),
            result("m1", &[(60, 10.0), (240, f64::NAN)]),
        ];
        let series = series_from_results(&specs, &results);
        let keys: Vec<&str> = series.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["s0", "s1", "s2"]);
        assert!(
            series[0].points.is_empty(),
            "a metric without data is still listed"
        );
        assert_eq!(series[0].name, "s0");
        let s1: Vec<(SystemTime, f64)> =
            series[1].points.iter().map(|p| (p.time, p.value)).collect();
        assert_eq!(s1, [(at(60), 5.0), (at(120), 10.0), (at(180), 15.0)]);
        assert_eq!(series[2].current(), Some(1.0));
    }

    #[test]
    fn presets_have_the_expected_metrics_and_thresholds() {
        let ecs = preset_ecs_service("prod", "checkout");
        assert_eq!(ecs.len(), 2);
        assert_eq!(ecs[0].key, "checkout.cpu");
        assert_eq!(ecs[0].metric, "CPUUtilization");
        assert_eq!(ecs[1].key, "checkout.memory");
        assert_eq!(ecs[1].metric, "MemoryUtilization");
        for s in &ecs {
            assert_eq!(s.namespace, "AWS/ECS");
            assert_eq!(s.stat, Stat::Average);
            assert_eq!((s.warning, s.critical), (Some(70.0), Some(90.0)));
            assert_eq!(s.dimensions["ClusterName"], "prod");
            assert_eq!(s.dimensions["ServiceName"], "checkout");
            assert!(s.validate().is_empty());
        }

        let alb = preset_alb("app/shop/50dc6c495c0c9188", None);
        assert_eq!(alb[0].key, "shop.latency_p95");
        assert_eq!(alb[0].stat, Stat::Percentile(95.0));
        assert_eq!((alb[0].warning, alb[0].critical), (Some(0.5), Some(1.0)));
        assert_eq!(alb[1].key, "shop.5xx_count");
        assert_eq!(alb[1].metric, "HTTPCode_Target_5XX_Count");
        assert_eq!(alb[1].stat, Stat::Sum);
        assert_eq!((alb[1].warning, alb[1].critical), (Some(10.0), Some(50.0)));
        assert!(!alb[0].dimensions.contains_key("TargetGroup"));
        let tg = preset_alb("app/shop/1", Some("targetgroup/api/2"));
        assert_eq!(tg[0].key, "api.latency_p95");
        assert_eq!(tg[1].dimensions["TargetGroup"], "targetgroup/api/2");

        let rds = preset_rds("orders-db");
        let keys: Vec<&str> = rds.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "orders-db.connections",
                "orders-db.cpu",
                "orders-db.freeable_memory"
            ]
        );
        assert_eq!((rds[0].warning, rds[0].critical), (Some(80.0), Some(95.0)));
        assert_eq!((rds[1].warning, rds[1].critical), (Some(70.0), Some(90.0)));
        assert!(
            rds.iter()
                .all(|s| s.dimensions["DBInstanceIdentifier"] == "orders-db")
        );
        assert!(rds.iter().all(|s| s.validate().is_empty()));
        let custom = preset_rds_with("orders-db", 400.0, 450.0);
        assert_eq!(
            (custom[0].warning, custom[0].critical),
            (Some(400.0), Some(450.0))
        );
    }

    #[test]
    fn freeable_memory_is_shown_in_mib_and_low_is_bad() {
        let spec = preset_rds("orders-db").remove(2);
        assert!(spec.lower_is_worse);
        let gib = 1024.0 * MIB;
        let series = series_from_results(
            std::slice::from_ref(&spec),
            &[result(
                "m0",
                &[(60, 2.0 * gib), (120, 400.0 * MIB), (180, 200.0 * MIB)],
            )],
        );
        let s = &series[0];
        assert_eq!(s.unit, "MiB");
        let values: Vec<f64> = s.points.iter().map(|p| p.value).collect();
        assert_eq!(values, [2048.0, 400.0, 200.0]);
        assert_eq!(s.health_of(2048.0), Health::Ok);
        assert_eq!(s.health_of(400.0), Health::Warn);
        assert_eq!(s.health(), Health::Critical);
    }

    #[test]
    fn validation_names_the_field() {
        let mut s = CloudWatchMetricSpec::new("alarm.x", "", "", "CPU").thresholds(90.0, 70.0);
        s.period_secs = 45;
        s.scale = 0.0;
        let fields: Vec<&str> = s.validate().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            ["key", "namespace", "period_secs", "scale", "warning"]
        );
        let mut low = CloudWatchMetricSpec::new("m", "", "N", "M").thresholds(256.0, 512.0);
        low.lower_is_worse = true;
        assert_eq!(low.validate()[0].0, "warning");
        for p in [1, 5, 10, 20, 30, 60, 300, 3600] {
            let mut ok = CloudWatchMetricSpec::new("m", "", "N", "M");
            ok.period_secs = p;
            assert!(ok.validate().is_empty(), "{p}");
        }
    }

    fn alarm(name: &str, state: AlarmStateValue, updated: u64) -> AlarmState {
        AlarmState {
            name: name.into(),
            state,
            reason: String::new(),
            updated: at(updated),
            metric: None,
            namespace: None,
        }
    }

    #[test]
    fn alarm_series_by_mode() {
        use AlarmStateValue::*;
        let now = at(10_000);
        let alarms = [
            alarm("c-old-ok", Ok, 1_000),
            alarm("b-alarm", Alarm, 1_000),
            alarm("a-recovered", Ok, 9_000),
            alarm("d-nodata", InsufficientData, 1_000),
        ];
        let hour = Duration::from_secs(3600);
        let active = alarm_series(&alarms, AlarmSeries::Active, now, hour);
        let keys: Vec<&str> = active.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(
            keys,
            ["alarm.a-recovered", "alarm.b-alarm", "alarm.d-nodata"]
        );
        let health: Vec<Health> = active.iter().map(MetricSeries::health).collect();
        assert_eq!(health, [Health::Ok, Health::Critical, Health::Warn]);
        assert_eq!(active[1].name, "alarm b-alarm");
        assert_eq!(active[1].unit, "state");
        assert_eq!(
            active[1].points,
            [Point {
                time: at(1_000),
                value: 2.0
            }]
        );
        assert_eq!(alarm_series(&alarms, AlarmSeries::All, now, hour).len(), 4);
        assert!(alarm_series(&alarms, AlarmSeries::Off, now, hour).is_empty());
    }

    #[test]
    fn alarms_convert_from_the_sdk() {
        let a = MetricAlarm::builder()
            .alarm_name("api-cpu")
            .state_value(StateValue::Alarm)
            .state_reason("Threshold Crossed")
            .state_updated_timestamp(DateTime::from_secs(1_000))
            .metric_name("CPUUtilization")
            .namespace("AWS/ECS")
            .build();
        let got = metric_alarm(&a).unwrap();
        assert_eq!(got.state, AlarmStateValue::Alarm);
        assert_eq!(got.reason, "Threshold Crossed");
        assert_eq!(got.updated, at(1_000));
        assert_eq!(got.metric.as_deref(), Some("CPUUtilization"));
        assert_eq!(got.namespace.as_deref(), Some("AWS/ECS"));
        let c = CompositeAlarm::builder().alarm_name("shop-down").build();
        let got = composite_alarm(&c).unwrap();
        assert_eq!(got.state, AlarmStateValue::InsufficientData);
        assert_eq!(got.metric, None);
        assert!(metric_alarm(&MetricAlarm::builder().build()).is_none());
        let filter = AlarmFilter {
            name_prefix: Some("api-".into()),
            state: Some(AlarmStateValue::Ok),
        };
        assert!(!filter.matches(&alarm("api-x", AlarmStateValue::Alarm, 0)));
        assert!(!filter.matches(&alarm("db-x", AlarmStateValue::Ok, 0)));
        assert!(filter.matches(&alarm("api-x", AlarmStateValue::Ok, 0)));
    }

    const CONFIG: &str = r#"theme = "default"

[aws]
region = "eu-west-1"

[[aws.metrics]]
key = "checkout.cpu"
namespace = "AWS/ECS"
metric = "CPUUtilization"
dimensions = { ClusterName = "prod", ServiceName = "checkout" }
unit = "%"
warning = 70
critical = 90

[[aws.metrics]]
key = "api.latency"
name = "api p99"
namespace = "AWS/ApplicationELB"
metric = "TargetResponseTime"
stat = "p99"
period_secs = 300
scale = 1000
unit = "ms"

[[aws.metrics]]
preset = "ecs_service"
cluster = "prod"
service = "worker"

[[aws.metrics]]
preset = "alb"
load_balancer = "app/shop/50dc"

[[aws.metrics]]
preset = "rds"
db_instance = "orders-db"
connections_warning = 400
connections_critical = 450
"#;

    #[test]
    fn config_specs_and_presets_parse() {
        let (specs, problems) = parse_metric_specs(CONFIG, "config.toml");
        assert!(problems.is_empty(), "{problems:?}");
        let keys: Vec<&str> = specs.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "checkout.cpu",
                "api.latency",
                "worker.cpu",
                "worker.memory",
                "shop.latency_p95",
                "shop.5xx_count",
                "orders-db.connections",
                "orders-db.cpu",
                "orders-db.freeable_memory",
            ]
        );
        let cpu = &specs[0];
        assert_eq!(cpu.name, "checkout.cpu", "the name defaults to the key");
        assert_eq!(cpu.stat, Stat::Average);
        assert_eq!(cpu.period_secs, 60);
        assert_eq!((cpu.warning, cpu.critical), (Some(70.0), Some(90.0)));
        assert_eq!(cpu.dimensions.len(), 2);
        let lat = &specs[1];
        assert_eq!(lat.stat, Stat::Percentile(99.0));
        assert_eq!((lat.period_secs, lat.scale), (300, 1000.0));
        assert_eq!(specs[6].critical, Some(450.0));
        // Serde alone reads a full spec the same way.
        let direct: CloudWatchMetricSpec = toml::from_str(
            "key = \"checkout.cpu\"\nnamespace = \"AWS/ECS\"\nmetric = \"CPUUtilization\"\n\
             dimensions = { ClusterName = \"prod\", ServiceName = \"checkout\" }\n\
             unit = \"%\"\nwarning = 70\ncritical = 90\nname = \"checkout.cpu\"\n",
        )
        .unwrap();
        assert_eq!(&direct, cpu);
        assert!(parse_metric_specs("theme = \"x\"\n", "c.toml").0.is_empty());
    }

    fn problems_of(text: &str) -> Vec<String> {
        let (_, problems) = parse_metric_specs(text, "c.toml");
        problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn config_mistakes_have_file_line_and_key() {
        let text = r#"[[aws.metrics]]
key = "a"
namespace = "AWS/ECS"
metric = "CPUUtilization"
stat = "median"

[[aws.metrics]]
key = "b"
namespace = "AWS/ECS"
metrik = "CPUUtilization"

[[aws.metrics]]
key = "c"
metric = "CPUUtilization"

[[aws.metrics]]
key = "d"
namespace = "AWS/ECS"
metric = "CPUUtilization"
period_secs = 45
warning = 90
critical = 70

[[aws.metrics]]
preset = "lambda"

[[aws.metrics]]
preset = "rds"
db = "orders"

[[aws.metrics]]
key = "e"
namespace = "N"
metric = "M"

[[aws.metrics]]
key = "e"
namespace = "N"
metric = "M2"
"#;
        let got = problems_of(text);
        let want = [
            "c.toml:5: aws.metrics[0].stat: unknown statistic \"median\", expected Average, Sum, Minimum, Maximum, SampleCount or a percentile such as p95",
            "c.toml:10: aws.metrics[1].metrik: unknown field \"metrik\", expected one of",
            "c.toml:12: aws.metrics[2]: missing field \"namespace\"",
            "c.toml:20: aws.metrics[3].period_secs: 45 is not a CloudWatch period",
            "c.toml:21: aws.metrics[3].warning: the warning (90) must be at or below the critical (70)",
            "c.toml:25: aws.metrics[4].preset: unknown preset \"lambda\", expected one of ecs_service, alb, rds",
            "c.toml:29: aws.metrics[5].db: unknown field \"db\", expected",
            "c.toml:37: aws.metrics[7]: duplicate metric key \"e\" (first defined in aws.metrics[6])",
        ];
        assert_eq!(got.len(), want.len(), "{got:#?}");
        for (g, w) in got.iter().zip(want) {
            assert!(g.starts_with(w), "got  {g}\nwant {w}");
        }
        let (specs, _) = parse_metric_specs(text, "c.toml");
        let keys: Vec<&str> = specs.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(keys, ["e"], "entries with mistakes are left out");
    }

    #[test]
    fn config_shape_mistakes() {
        assert_eq!(
            problems_of("[aws]\nmetrics = 3\n"),
            ["c.toml:2: aws.metrics: expected an array of tables ([[aws.metrics]]), found integer"]
        );
        assert_eq!(
            problems_of("[aws]\nmetrics = [1]\n"),
            ["c.toml:2: aws.metrics[0]: expected a table, found integer"]
        );
        assert_eq!(
            problems_of("[[aws.metrics]]\npreset = 1\n"),
            ["c.toml:2: aws.metrics[0].preset: expected a string, found integer"]
        );
        assert_eq!(
            problems_of(
                "[[aws.metrics]]\npreset = \"ecs_service\"\ncluster = \"prod\"\nservice = \"\"\n"
            ),
            ["c.toml:4: aws.metrics[0].service: must not be empty"]
        );
        assert_eq!(
            problems_of(
                "[[aws.metrics]]\npreset = \"rds\"\ndb_instance = \"orders-db\"\nconnections_warning = 500\n"
            ),
            [
                "c.toml:4: aws.metrics[0].connections_warning: the warning (500) must be at or below the critical (95)"
            ]
        );
        assert!(problems_of("[[aws.metrics]\n")[0].contains("TOML syntax error"));
    }
}
