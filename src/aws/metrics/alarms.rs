//! CloudWatch alarms: their states as the SDK reports them, the filter of
//! the alarms listed, and alarms as series for the Metrics pane (see the
//! [module docs](super)).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{CompositeAlarm, MetricAlarm, StateValue};
use serde::Deserialize;

use crate::domain::{MetricSeries, Point};

/// The `key` prefix of alarm series; metric spec keys may not use it.
pub use crate::domain::ALARM_KEY_PREFIX;

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

    pub(super) fn to_sdk(self) -> StateValue {
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

/// Which alarms [`CloudWatchMetrics::alarms`](super::CloudWatchMetrics::alarms) lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlarmFilter {
    /// Only alarms whose name starts with this.
    pub name_prefix: Option<String>,
    /// Only alarms in this state.
    pub state: Option<AlarmStateValue>,
}

impl AlarmFilter {
    pub(super) fn matches(&self, alarm: &AlarmState) -> bool {
        self.name_prefix
            .as_deref()
            .is_none_or(|p| alarm.name.starts_with(p))
            && self.state.is_none_or(|s| alarm.state == s)
    }
}

/// Which alarms [`MetricSource::metrics`](crate::source::MetricSource::metrics)
/// appends as series.
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

/// A CloudWatch timestamp as a `SystemTime` (the epoch when absent).
pub(super) fn to_system_time(t: Option<&DateTime>) -> SystemTime {
    t.and_then(|t| SystemTime::try_from(*t).ok())
        .unwrap_or(UNIX_EPOCH)
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

pub(super) fn metric_alarm(a: &MetricAlarm) -> Option<AlarmState> {
    Some(AlarmState {
        name: non_empty(a.alarm_name())?,
        state: AlarmStateValue::from_sdk(a.state_value()),
        reason: a.state_reason().unwrap_or_default().to_string(),
        updated: to_system_time(a.state_updated_timestamp()),
        metric: non_empty(a.metric_name()),
        namespace: non_empty(a.namespace()),
    })
}

pub(super) fn composite_alarm(a: &CompositeAlarm) -> Option<AlarmState> {
    Some(AlarmState {
        name: non_empty(a.alarm_name())?,
        state: AlarmStateValue::from_sdk(a.state_value()),
        reason: a.state_reason().unwrap_or_default().to_string(),
        updated: to_system_time(a.state_updated_timestamp()),
        metric: None,
        namespace: None,
    })
}

/// Alarms as series (see the [module docs](super)), sorted by name so rows keep
/// their place as states change.
pub(super) fn alarm_series(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Health;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
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
}
