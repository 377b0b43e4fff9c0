//! The CloudWatch metric source against moto_server over a real socket:
//! GetMetricData aggregates per period and thresholds, batching of more than
//! 500 metrics, alarm states from DescribeAlarms (as data and as series), and
//! an unreachable endpoint. Needs `./scripts/moto-venv`.
//!
//! moto does not compute percentiles (p95, p99) in GetMetricData; they are
//! covered by the unit tests in `src/aws/metrics.rs`.

#[path = "support/moto.rs"]
mod moto;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_cloudwatch::config::retry::RetryConfig;
use aws_sdk_cloudwatch::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_cloudwatch::error::BoxError;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, MetricDatum, StateValue, Statistic,
};
use opsdeck::aws::metrics::{DEFAULT_WINDOW, MAX_QUERIES_PER_CALL, query_window};
use opsdeck::aws::{
    AlarmFilter, AlarmSeries, AlarmStateValue, CloudWatchMetricSpec, CloudWatchMetrics, Stat,
    preset_ecs_service, preset_rds,
};
use opsdeck::domain::{Health, MetricSeries};
use opsdeck::source::{MetricSource, SourceError};

use moto::Moto;

/// Counts the GetMetricData requests a client sends and the queries in each.
#[derive(Debug, Clone, Default)]
struct GetMetricDataCalls(Arc<Mutex<Vec<usize>>>);

impl GetMetricDataCalls {
    fn queries_per_call(&self) -> Vec<usize> {
        self.0.lock().unwrap().clone()
    }
}

impl Intercept for GetMetricDataCalls {
    fn name(&self) -> &'static str {
        "GetMetricDataCalls"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let body = context.request().body().bytes().unwrap_or_default();
        let body = String::from_utf8_lossy(body);
        if body.contains("Action=GetMetricData") {
            self.0.lock().unwrap().push(body.matches(".Id=").count());
        }
        Ok(())
    }
}

async fn client(moto: &Moto) -> Client {
    Client::new(&moto.sdk_config().await)
}

async fn counting_client(moto: &Moto, calls: &GetMetricDataCalls) -> Client {
    let cfg = moto.sdk_config().await;
    let conf = aws_sdk_cloudwatch::config::Builder::from(&cfg)
        .interceptor(calls.clone())
        .build();
    Client::from_conf(conf)
}

/// The start of the minute `n` minutes before the current one, on the same
/// minute grid the source queries.
fn minute_start(now: SystemTime, n: u64) -> SystemTime {
    let (_, end) = query_window(now, DEFAULT_WINDOW);
    end - Duration::from_secs(60 * (n + 1))
}

fn datum(metric: &str, dims: &[(&str, &str)], time: SystemTime, value: f64) -> MetricDatum {
    let mut b = MetricDatum::builder()
        .metric_name(metric)
        .timestamp(DateTime::from(time))
        .value(value);
    for (name, v) in dims {
        b = b.dimensions(Dimension::builder().name(*name).value(*v).build());
    }
    b.build()
}

async fn put(client: &Client, namespace: &str, data: Vec<MetricDatum>) {
    client
        .put_metric_data()
        .namespace(namespace)
        .set_metric_data(Some(data))
        .send()
        .await
        .expect("put metric data");
}

/// Three datapoints per minute (at +5 s, +25 s, +45 s) for each `(minutes ago, values)`.
fn per_minute(
    now: SystemTime,
    metric: &str,
    dims: &[(&str, &str)],
    minutes: &[(u64, [f64; 3])],
) -> Vec<MetricDatum> {
    minutes
        .iter()
        .flat_map(|(ago, values)| {
            let start = minute_start(now, *ago);
            values
                .iter()
                .zip([5, 25, 45])
                .map(move |(v, s)| datum(metric, dims, start + Duration::from_secs(s), *v))
        })
        .collect()
}

fn values(s: &MetricSeries) -> Vec<f64> {
    s.points.iter().map(|p| p.value).collect()
}

fn healths(s: &MetricSeries) -> Vec<Health> {
    s.points.iter().map(|p| s.health_of(p.value)).collect()
}

#[tokio::test]
async fn datapoints_become_series_with_aggregates_per_period_and_health() {
    let moto = Moto::start();
    let client = client(&moto).await;
    let now = SystemTime::now();
    let ecs_dims = [("ClusterName", "prod"), ("ServiceName", "checkout")];
    let mut ecs = per_minute(
        now,
        "CPUUtilization",
        &ecs_dims,
        &[
            (4, [40.0, 50.0, 60.0]),
            (3, [60.0, 70.0, 80.0]),
            (2, [85.0, 90.0, 95.0]),
            (1, [94.0, 95.0, 96.0]),
        ],
    );
    // Another service (other dimensions) and an old point (outside the window).
    ecs.extend(per_minute(
        now,
        "CPUUtilization",
        &[("ClusterName", "prod"), ("ServiceName", "worker")],
        &[(2, [1.0, 2.0, 3.0])],
    ));
    ecs.push(datum(
        "CPUUtilization",
        &ecs_dims,
        now - Duration::from_secs(2 * 3600),
        99.0,
    ));
    put(&client, "AWS/ECS", ecs).await;
    let rds_dims = [("DBInstanceIdentifier", "orders-db")];
    put(
        &client,
        "AWS/RDS",
        per_minute(
            now,
            "DatabaseConnections",
            &rds_dims,
            &[
                (4, [10.0, 40.0, 30.0]),
                (3, [60.0, 85.0, 70.0]),
                (2, [90.0, 97.0, 50.0]),
                (1, [20.0, 22.0, 21.0]),
            ],
        ),
    )
    .await;

    let ecs_specs = preset_ecs_service("prod", "checkout");
    let rds_connections = preset_rds("orders-db").remove(0);
    let connections = |key: &str, stat: Stat| {
        let mut s = rds_connections.clone().stat(stat);
        s.key = key.to_string();
        s
    };
    let specs = vec![
        ecs_specs[0].clone(),
        ecs_specs[1].clone(),
        rds_connections.clone(),
        connections("c.sum", Stat::Sum),
        connections("c.min", Stat::Minimum),
        connections("c.avg", Stat::Average),
        connections("c.count", Stat::SampleCount),
    ];
    let source = CloudWatchMetrics::new(client, specs.clone())
        .with_alarms(AlarmFilter::default(), AlarmSeries::Off);
    assert_eq!(source.label(), "cloudwatch:us-east-1");
    let series = source.metrics().await.expect("metrics");

    let keys: Vec<&str> = series.iter().map(|s| s.key.as_str()).collect();
    let want: Vec<&str> = specs.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, want, "one series per spec, in spec order");

    let minutes: Vec<SystemTime> = (1..=4).rev().map(|n| minute_start(now, n)).collect();
    let cpu = &series[0];
    assert_eq!(cpu.name, "checkout CPU");
    assert_eq!(cpu.unit, "%");
    assert_eq!((cpu.warning, cpu.critical), (Some(70.0), Some(90.0)));
    let times: Vec<SystemTime> = cpu.points.iter().map(|p| p.time).collect();
    assert_eq!(times, minutes, "one point per minute, ascending");
    assert_eq!(values(cpu), [50.0, 70.0, 90.0, 95.0]);
    assert_eq!(
        healths(cpu),
        [Health::Ok, Health::Warn, Health::Critical, Health::Critical]
    );
    assert_eq!(cpu.health(), Health::Critical);

    let memory = &series[1];
    assert_eq!(memory.key, "checkout.memory");
    assert!(memory.points.is_empty(), "no data, still listed");
    assert_eq!(memory.health(), Health::Unknown);

    let conn = &series[2];
    assert_eq!(conn.key, "orders-db.connections");
    assert_eq!(
        conn.points.iter().map(|p| p.time).collect::<Vec<_>>(),
        minutes
    );
    assert_eq!(values(conn), [40.0, 85.0, 97.0, 22.0], "Maximum per minute");
    assert_eq!(
        healths(conn),
        [Health::Ok, Health::Warn, Health::Critical, Health::Ok]
    );
    assert_eq!(conn.health(), Health::Ok);

    assert_eq!(values(&series[3]), [80.0, 215.0, 237.0, 63.0], "Sum");
    assert_eq!(values(&series[4]), [10.0, 60.0, 50.0, 20.0], "Minimum");
    let avg = values(&series[5]);
    let want_avg = [80.0 / 3.0, 215.0 / 3.0, 79.0, 21.0];
    assert!(
        avg.iter().zip(want_avg).all(|(a, b)| (a - b).abs() < 1e-9),
        "Average: {avg:?}"
    );
    assert_eq!(values(&series[6]), [3.0; 4], "SampleCount");
}

#[tokio::test]
async fn more_than_500_metrics_take_two_calls_and_all_come_back_in_order() {
    let moto = Moto::start();
    let calls = GetMetricDataCalls::default();
    let client = counting_client(&moto, &calls).await;
    let now = SystemTime::now();
    let n = 620;
    let minute = minute_start(now, 1) + Duration::from_secs(10);
    let data: Vec<MetricDatum> = (0..n)
        .filter(|i| i % 7 != 3)
        .map(|i| datum("Load", &[("Index", &i.to_string())], minute, i as f64))
        .collect();
    put(&client, "Custom/Batch", data).await;
    // Reverse order, so the series order can only come from the specs.
    let specs: Vec<CloudWatchMetricSpec> = (0..n)
        .rev()
        .map(|i| {
            CloudWatchMetricSpec::new(&format!("load.{i}"), "", "Custom/Batch", "Load")
                .dimension("Index", &i.to_string())
                .stat(Stat::Maximum)
        })
        .collect();
    let source = CloudWatchMetrics::new(client, specs)
        .with_window(Duration::from_secs(5 * 60))
        .with_alarms(AlarmFilter::default(), AlarmSeries::Off);
    let series = source.metrics().await.expect("metrics");

    assert_eq!(calls.queries_per_call(), [MAX_QUERIES_PER_CALL, n - 500]);
    assert_eq!(series.len(), n);
    for (s, i) in series.iter().zip((0..n).rev()) {
        assert_eq!(s.key, format!("load.{i}"));
        assert_eq!(s.name, format!("load.{i}"));
        if i % 7 == 3 {
            assert!(s.points.is_empty(), "{} has no data", s.key);
        } else {
            assert_eq!(values(s), [i as f64], "{}", s.key);
        }
    }
}

async fn put_alarm(client: &Client, name: &str, namespace: &str, metric: &str) {
    client
        .put_metric_alarm()
        .alarm_name(name)
        .namespace(namespace)
        .metric_name(metric)
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(90.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .expect("put metric alarm");
}

async fn set_state(client: &Client, name: &str, state: StateValue, reason: &str) {
    client
        .set_alarm_state()
        .alarm_name(name)
        .state_value(state)
        .state_reason(reason)
        .send()
        .await
        .expect("set alarm state");
}

#[tokio::test]
async fn alarms_are_listed_and_shown_as_series() {
    let moto = Moto::start();
    let client = client(&moto).await;
    let before = SystemTime::now() - Duration::from_secs(5);
    put_alarm(&client, "shop-checkout-cpu", "AWS/ECS", "CPUUtilization").await;
    put_alarm(
        &client,
        "shop-orders-db-connections",
        "AWS/RDS",
        "DatabaseConnections",
    )
    .await;
    put_alarm(
        &client,
        "shop-api-5xx",
        "AWS/ApplicationELB",
        "HTTPCode_Target_5XX_Count",
    )
    .await;
    put_alarm(&client, "batch-queue-depth", "Custom/Batch", "Depth").await;
    set_state(
        &client,
        "shop-checkout-cpu",
        StateValue::Alarm,
        "Threshold Crossed: 1 datapoint [97.0] >= 90.0",
    )
    .await;
    set_state(
        &client,
        "shop-orders-db-connections",
        StateValue::InsufficientData,
        "no datapoints",
    )
    .await;

    let cpu = preset_ecs_service("prod", "checkout").remove(0);
    let shop = AlarmFilter {
        name_prefix: Some("shop-".into()),
        state: None,
    };
    let source = CloudWatchMetrics::new(client.clone(), vec![cpu])
        .with_alarms(shop.clone(), AlarmSeries::All);

    let alarms = source.alarms().await.expect("alarms");
    let got: Vec<(&str, AlarmStateValue)> =
        alarms.iter().map(|a| (a.name.as_str(), a.state)).collect();
    assert_eq!(
        got,
        [
            ("shop-api-5xx", AlarmStateValue::Ok),
            ("shop-checkout-cpu", AlarmStateValue::Alarm),
            (
                "shop-orders-db-connections",
                AlarmStateValue::InsufficientData
            ),
        ]
    );
    let checkout = &alarms[1];
    assert_eq!(
        checkout.reason,
        "Threshold Crossed: 1 datapoint [97.0] >= 90.0"
    );
    assert_eq!(checkout.metric.as_deref(), Some("CPUUtilization"));
    assert_eq!(checkout.namespace.as_deref(), Some("AWS/ECS"));
    assert!(checkout.updated >= before, "{:?}", checkout.updated);

    let series = source.metrics().await.expect("metrics");
    let keys: Vec<&str> = series.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "checkout.cpu",
            "alarm.shop-api-5xx",
            "alarm.shop-checkout-cpu",
            "alarm.shop-orders-db-connections",
        ],
        "the metric series, then the alarms by name"
    );
    let alarm_series = &series[2];
    assert_eq!(alarm_series.name, "alarm shop-checkout-cpu");
    assert_eq!(alarm_series.unit, "state");
    assert_eq!(alarm_series.current(), Some(2.0));
    assert_eq!(alarm_series.points[0].time, checkout.updated);
    let health: Vec<Health> = series[1..].iter().map(MetricSeries::health).collect();
    assert_eq!(health, [Health::Ok, Health::Critical, Health::Warn]);

    // Only alarms in ALARM.
    let firing = CloudWatchMetrics::new(client.clone(), Vec::new()).with_alarms(
        AlarmFilter {
            name_prefix: None,
            state: Some(AlarmStateValue::Alarm),
        },
        AlarmSeries::All,
    );
    let names: Vec<String> = firing
        .alarms()
        .await
        .expect("alarms in ALARM")
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["shop-checkout-cpu"]);
    // A prefix and a state together.
    let none = CloudWatchMetrics::new(client.clone(), Vec::new()).with_alarms(
        AlarmFilter {
            name_prefix: Some("batch-".into()),
            state: Some(AlarmStateValue::Alarm),
        },
        AlarmSeries::All,
    );
    assert!(none.alarms().await.expect("alarms").is_empty());

    // Active: everything changed within the window is shown; all four are new.
    let active = CloudWatchMetrics::new(client.clone(), Vec::new())
        .with_alarms(AlarmFilter::default(), AlarmSeries::Active);
    assert_eq!(active.metrics().await.expect("metrics").len(), 4);
    // Off: no alarm series at all.
    let off = CloudWatchMetrics::new(client, Vec::new()).with_alarms(shop, AlarmSeries::Off);
    assert!(off.metrics().await.expect("metrics").is_empty());
}

#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let port = moto::free_port();
    let cfg = moto::sdk_config_for(&format!("http://127.0.0.1:{port}")).await;
    let conf = aws_sdk_cloudwatch::config::Builder::from(&cfg)
        .retry_config(RetryConfig::disabled())
        .build();
    let source = CloudWatchMetrics::new(
        Client::from_conf(conf),
        preset_ecs_service("prod", "checkout"),
    );
    match source.metrics().await {
        Err(SourceError::Unreachable(msg)) => {
            assert!(msg.contains("get metric data"), "{msg}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(matches!(
        source.alarms().await,
        Err(SourceError::Unreachable(_))
    ));
}

/// An alarm's detail: its state word, reason, threshold and history.
#[tokio::test]
async fn alarm_detail_says_state_reason_threshold_and_history() {
    use opsdeck::aws::describe::AwsDescriber;
    use opsdeck::domain::DetailTarget;
    use opsdeck::source::Describer;
    let moto = Moto::start();
    let client = client(&moto).await;
    put_alarm(&client, "shop-checkout-cpu", "AWS/ECS", "CPUUtilization").await;
    set_state(
        &client,
        "shop-checkout-cpu",
        StateValue::Alarm,
        "Threshold Crossed: 1 datapoint [97.0] was >= 90.0",
    )
    .await;
    let cfg = moto.sdk_config().await;
    let d = AwsDescriber {
        ecs: aws_sdk_ecs::Client::new(&cfg),
        autoscaling: aws_sdk_applicationautoscaling::Client::new(&cfg),
        elb: aws_sdk_elasticloadbalancingv2::Client::new(&cfg),
        cloudwatch: client.clone(),
    };
    let detail = d
        .describe(&DetailTarget::Alarm {
            name: "shop-checkout-cpu".into(),
        })
        .await
        .expect("describe alarm");
    let text = detail.plain_lines().join("\n");
    for needle in [
        "state: ALARM",
        "reason: Threshold Crossed: 1 datapoint [97.0] was >= 90.0",
        "metric: AWS/ECS CPUUtilization (Average)",
        "threshold: GreaterThanOrEqualToThreshold 90 for 1 period(s) of 60s",
        "History (newest first)",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    let missing = d
        .describe(&DetailTarget::Alarm {
            name: "no-such-alarm".into(),
        })
        .await;
    assert!(matches!(
        missing,
        Err(opsdeck::source::SourceError::NotFound(_))
    ));
}
