//! Log lines and metric series as every backend delivers them.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::workload::Health;

/// Log severity, ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn label(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }

    /// Guess a level from the text of a line: a JSON `level`/`severity`
    /// field, or a level word among the first few words.
    pub fn sniff(text: &str) -> Level {
        let head: String = text
            .chars()
            .take(160)
            .collect::<String>()
            .to_ascii_lowercase();
        for (word, level) in [
            ("error", Level::Error),
            ("fatal", Level::Error),
            ("panic", Level::Error),
            ("warn", Level::Warn),
            ("debug", Level::Debug),
            ("trace", Level::Trace),
            ("info", Level::Info),
        ] {
            for key in ["\"level\":\"", "\"severity\":\"", "\"lvl\":\"", "level="] {
                if head.contains(&format!("{key}{word}")) {
                    return level;
                }
            }
        }
        let first: Vec<&str> = head
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .take(4)
            .collect();
        for (words, level) in [
            (
                &["error", "err", "fatal", "panic", "crit", "critical"][..],
                Level::Error,
            ),
            (&["warn", "warning"][..], Level::Warn),
            (&["debug"][..], Level::Debug),
            (&["trace"][..], Level::Trace),
        ] {
            if first.iter().any(|w| words.contains(w)) {
                return level;
            }
        }
        Level::Info
    }
}

/// One log line from any source. `text` is raw and untrusted: it is sanitised
/// when it is rendered, never before (search and JSON formatting see the original).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Pod/container, ECS task or log group/stream.
    pub source: String,
    pub time: SystemTime,
    pub level: Level,
    pub text: String,
}

/// The key prefix of a series that is a CloudWatch alarm's state (`alarm.NAME`).
pub const ALARM_KEY_PREFIX: &str = "alarm.";

/// The state word of an alarm series' value (0 OK, 1 INSUFFICIENT_DATA, 2 ALARM).
pub fn alarm_state_word(v: f64) -> &'static str {
    if v >= 1.5 {
        "ALARM"
    } else if v >= 0.5 {
        "INSUFFICIENT_DATA"
    } else {
        "OK"
    }
}

/// Where a followed log stream stands after losing its connection: lost
/// `lost` times since it was first followed, tried again at `retry_at`;
/// `retry_at` is `None` once the stream has stayed open again (resumed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamState {
    /// The same label as its lines' `source`.
    pub source: String,
    pub lost: u32,
    pub retry_at: Option<SystemTime>,
}

/// One point of a metric series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub time: SystemTime,
    pub value: f64,
}

/// A metric series with its thresholds. A threshold is crossed when the value
/// is at or above it (or at or below it when `lower_is_worse`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSeries {
    /// Stable key used by runbook checks, e.g. `orders-db.connections`.
    pub key: String,
    /// Display name.
    pub name: String,
    pub unit: String,
    pub points: Vec<Point>,
    pub warning: Option<f64>,
    pub critical: Option<f64>,
    pub lower_is_worse: bool,
}

impl MetricSeries {
    pub fn current(&self) -> Option<f64> {
        self.points.last().map(|p| p.value)
    }

    /// Health of a value against this series' thresholds.
    pub fn health_of(&self, v: f64) -> Health {
        let crossed = |t: f64| {
            if self.lower_is_worse { v <= t } else { v >= t }
        };
        match (self.critical, self.warning) {
            (Some(c), _) if crossed(c) => Health::Critical,
            (_, Some(w)) if crossed(w) => Health::Warn,
            _ => Health::Ok,
        }
    }

    pub fn health(&self) -> Health {
        self.current()
            .map_or(Health::Unknown, |v| self.health_of(v))
    }
}
