//! CloudWatch metrics and alarms: a
//! [`MetricSource`](crate::source::MetricSource) that reads the metrics
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
//!
//! The parts: [`spec`] (one metric and its statistic), [`presets`] (ready-made
//! specs), [`config`] (the `[[aws.metrics]]` entries of `config.toml`),
//! [`alarms`] (alarm states and alarms as series) and [`source`] (the
//! GetMetricData and DescribeAlarms calls).

mod alarms;
mod config;
mod presets;
mod source;
mod spec;

pub use alarms::{ALARM_KEY_PREFIX, AlarmFilter, AlarmSeries, AlarmState, AlarmStateValue};
pub use config::{metric_specs_from_toml, parse_metric_specs};
pub use presets::{
    RDS_CONNECTIONS_CRITICAL, RDS_CONNECTIONS_WARNING, preset_alb, preset_ecs_service, preset_rds,
    preset_rds_with,
};
pub use source::{
    CloudWatchMetrics, DEFAULT_WINDOW, MAX_QUERIES_PER_CALL, cloudwatch_metrics, query_window,
};
pub use spec::{CloudWatchMetricSpec, DEFAULT_PERIOD_SECS, Stat};
