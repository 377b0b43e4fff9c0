//! One CloudWatch metric shown as a series ([`CloudWatchMetricSpec`], one
//! `[[aws.metrics]]` entry), its statistic ([`Stat`]), its validation and
//! its GetMetricData query.

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use serde::Deserialize;

use super::alarms::ALARM_KEY_PREFIX;
use crate::domain::{MetricSeries, Point};

/// The period of a spec that names none.
pub const DEFAULT_PERIOD_SECS: u32 = 60;
/// CloudWatch accepts at most 30 dimensions per metric.
const MAX_DIMENSIONS: usize = 30;
/// Periods below a minute that CloudWatch accepts (high-resolution metrics).
const SHORT_PERIODS: [u32; 5] = [1, 5, 10, 20, 30];

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
    pub(super) fn query(&self, id: String) -> MetricDataQuery {
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

    pub(super) fn series(&self, points: Vec<Point>) -> MetricSeries {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
