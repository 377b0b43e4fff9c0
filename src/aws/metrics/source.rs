//! The metric source: GetMetricData for every spec (batches of up to
//! [`MAX_QUERIES_PER_CALL`] queries, all pages), the results merged back into
//! one series per spec, and DescribeAlarms for the alarms.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{AlarmType, MetricDataQuery, MetricDataResult, ScanBy, StatusCode};

use super::alarms::{
    AlarmFilter, AlarmSeries, AlarmState, AlarmStateValue, alarm_series, composite_alarm,
    metric_alarm, to_system_time,
};
use super::spec::CloudWatchMetricSpec;
use crate::aws::error::map_sdk_error;
use crate::aws::sdk::{AwsOptions, sdk_config};
use crate::domain::{MetricSeries, Point};
use crate::source::{MetricSource, SourceError};

/// GetMetricData takes at most 500 queries per call.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// How far back the series reach unless [`CloudWatchMetrics::with_window`] says otherwise.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(60 * 60);
/// DescribeAlarms page size (the API's maximum).
const ALARM_PAGE: i32 = 100;
/// Windows are aligned to whole minutes so every poll asks for the same buckets.
const ALIGN_SECS: u64 = 60;

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
    use crate::aws::metrics::presets::{MIB, preset_alb, preset_rds};
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
}
