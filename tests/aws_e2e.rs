//! `opsdeck aws` end to end: the real binary in a pseudo-terminal against
//! moto_server, found through AWS_ENDPOINT_URL and the default credential
//! chain (environment variables). The ECS service, its CloudWatch log group
//! (found from the task definition's awslogs-group), its CPU sparkline, a
//! Logs Insights query and an audited scale all show on the screen.
//! Needs `./scripts/moto-venv`.

#[path = "support/ec2.rs"]
mod ec2;
#[path = "support/moto.rs"]
mod moto;
#[path = "support/pty.rs"]
mod pty;

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, LaunchType, LogConfiguration, LogDriver,
};

use moto::Moto;
use pty::Session;

const T: Duration = Duration::from_secs(40);

/// Cluster `prod`, service `checkout` (desired 2) whose container logs to
/// `/ecs/checkout`, three log events there, and a CPU of 95 % for the service.
async fn estate(moto: &Moto) {
    let config = moto.sdk_config().await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    ecs.create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .expect("create cluster");
    let mut options = HashMap::new();
    options.insert("awslogs-group".to_string(), "/ecs/checkout".to_string());
    options.insert("awslogs-region".to_string(), "us-east-1".to_string());
    options.insert("awslogs-stream-prefix".to_string(), "web".to_string());
    ecs.register_task_definition()
        .family("checkout")
        .requires_compatibilities(Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .container_definitions(
            ContainerDefinition::builder()
                .name("checkout")
                .image("checkout:1.4")
                .memory(256)
                .essential(true)
                .log_configuration(
                    LogConfiguration::builder()
                        .log_driver(LogDriver::Awslogs)
                        .set_options(Some(options))
                        .build()
                        .expect("log configuration"),
                )
                .build(),
        )
        .send()
        .await
        .expect("register task definition");
    ecs.create_service()
        .cluster("prod")
        .service_name("checkout")
        .task_definition("checkout:1")
        .desired_count(2)
        .launch_type(LaunchType::Fargate)
        .send()
        .await
        .expect("create service");

    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    logs.create_log_group()
        .log_group_name("/ecs/checkout")
        .send()
        .await
        .expect("create log group");
    logs.create_log_stream()
        .log_group_name("/ecs/checkout")
        .log_stream_name("web/checkout/1")
        .send()
        .await
        .expect("create log stream");
    let now_ms = i64::try_from(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms");
    let mut put = logs
        .put_log_events()
        .log_group_name("/ecs/checkout")
        .log_stream_name("web/checkout/1");
    for (i, text) in [
        "INFO checkout ready on :8080",
        "ERROR payment gateway timeout order=17",
        "WARN retrying order=17",
    ]
    .iter()
    .enumerate()
    {
        put = put.log_events(
            InputLogEvent::builder()
                .timestamp(now_ms - 60_000 + i64::try_from(i).expect("i") * 1000)
                .message(*text)
                .build()
                .expect("event"),
        );
    }
    put.send().await.expect("put log events");

    let cw = aws_sdk_cloudwatch::Client::new(&config);
    let mut put = cw.put_metric_data().namespace("AWS/ECS");
    for minutes_ago in 1..=5u64 {
        put = put.metric_data(
            MetricDatum::builder()
                .metric_name("CPUUtilization")
                .dimensions(
                    Dimension::builder()
                        .name("ClusterName")
                        .value("prod")
                        .build(),
                )
                .dimensions(
                    Dimension::builder()
                        .name("ServiceName")
                        .value("checkout")
                        .build(),
                )
                .timestamp((SystemTime::now() - Duration::from_secs(minutes_ago * 60)).into())
                .value(95.0)
                .build(),
        );
    }
    put.send().await.expect("put metric data");
}

#[test]
fn the_aws_session_shows_ecs_logs_metrics_and_runs_an_audited_scale() {
    let moto = Moto::start();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(estate(&moto));
    let url = moto.url();
    let mut s = Session::start_with_env(
        &["aws", "--region", "us-east-1"],
        &moto::session_env(&url)
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    );
    s.wait_for("aws:default@us-east-1", T);
    s.wait_for("checkout", T);
    // The log group came from the task definition; its events are tailed.
    s.wait_for("ERROR payment gateway", T);
    // The CPU sparkline, from GetMetricData: the series is named as soon as
    // it is configured; its value (95%) shows only once data points came.
    s.wait_until("the checkout CPU series with its 95% value", T, |screen| {
        screen
            .lines()
            .any(|l| l.contains("checkout CPU") && l.contains("95%"))
    });

    // Logs Insights over the discovered group.
    s.send("2I");
    s.wait_for("Logs Insights query over /ecs/checkout", T);
    // Replace the default query with one moto answers.
    s.send(&"\x7f".repeat(300));
    s.send("fields @message | limit 2\r");
    // The status line counts the rows, and the table shows one of the
    // group's events (the dialog covers the Logs pane, and its own query
    // text names @message, so neither of those would prove results came).
    s.wait_for("complete", T);
    s.wait_for(" · 2 rows · ", T);
    s.wait_until("a result row with an event's message", T, |screen| {
        [
            "INFO checkout ready on :8080",
            "ERROR payment gateway timeout",
            "WARN retrying order=17",
        ]
        .iter()
        .any(|m| screen.contains(m))
    });
    s.send("\x1b");
    s.wait_gone("Logs Insights", T);

    // Scale the service 2 -> 3 behind its confirmation; audited twice.
    s.send("1/checkout\r");
    s.wait_for("/checkout", T);
    s.send("s");
    s.wait_for("new count", T);
    s.send("3\r");
    s.wait_for("scale ecs-service prod/checkout 2 -> 3", T);
    s.send("y");
    s.wait_for("done: scaled", T);
    s.send("q");
    assert!(s.wait_exit(T).success());
    s.assert_restored();
    let audit = s.audit_lines();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0]["action"], "scale");
    assert_eq!(audit[1]["result"]["ok"], true);

    // The change reached the (simulated) AWS account.
    let desired = rt.block_on(async {
        let ecs = aws_sdk_ecs::Client::new(&moto.sdk_config().await);
        ecs.describe_services()
            .cluster("prod")
            .services("checkout")
            .send()
            .await
            .expect("describe")
            .services()[0]
            .desired_count()
    });
    assert_eq!(desired, 3);
}

/// No credentials anywhere, and an endpoint that refuses connections: the
/// Workloads pane says that credentials are missing and what to do, in
/// full, instead of "waiting for workloads…".
#[test]
fn without_credentials_the_pane_says_what_is_wrong_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let credentials = dir.path().join("credentials");
    std::fs::write(&config, "").unwrap();
    std::fs::write(&credentials, "").unwrap();
    let mut s = Session::start_without_env(
        &["aws", "--region", "us-east-1"],
        &[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
        &[
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_ROLE_ARN",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        ],
    );
    s.wait_for("no AWS credentials found", T);
    s.wait_for("aws sso login", T);
    let screen = s.contents();
    assert!(!screen.contains("waiting for workloads"), "{screen}");
    assert!(screen.contains("AWS_ACCESS_KEY_ID"), "{screen}");
    s.send("q");
    s.wait_exit(T);
}

/// An ECS cluster `staging` with service `service` in `region`, as `key`.
async fn service_in(url: &str, region: &str, key: &(String, String, String), service: &str) {
    use aws_config::{BehaviorVersion, Region};
    let config = aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(aws_sdk_ecs::config::Credentials::new(
            key.0.clone(),
            key.1.clone(),
            Some(key.2.clone()),
            None,
            "test",
        ))
        .region(Region::new(region.to_string()))
        .endpoint_url(url)
        .load()
        .await;
    let ecs = aws_sdk_ecs::Client::new(&config);
    ecs.create_cluster()
        .cluster_name("staging")
        .send()
        .await
        .expect("create cluster");
    ecs.register_task_definition()
        .family(service)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .container_definitions(
            ContainerDefinition::builder()
                .name(service)
                .image(format!("{service}:2.0"))
                .memory(256)
                .essential(true)
                .build(),
        )
        .send()
        .await
        .expect("register task definition");
    ecs.create_service()
        .cluster("staging")
        .service_name(service)
        .task_definition(format!("{service}:1"))
        .desired_count(1)
        .launch_type(LaunchType::Fargate)
        .send()
        .await
        .expect("create service");
}

/// Switching in the app: `C` picks another profile from the shared config
/// and credentials files (the current region stays), `ctrl-n` another region; each
/// time the session reopens with that profile's credentials in that region.
/// The `ops` profile's credentials belong to another account (moto keeps
/// accounts apart by access key), so each step shows a different service.
#[test]
fn profile_and_region_switches_reopen_the_session() {
    let moto = Moto::start();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(estate(&moto));
    let url = moto.url();
    let ops = ec2::assume_role(moto.port, "111111111111");
    rt.block_on(service_in(&url, "us-east-1", &ops, "billing"));
    rt.block_on(service_in(&url, "us-west-2", &ops, "reports"));
    let files = tempfile::tempdir().unwrap();
    let config = files.path().join("config");
    let credentials = files.path().join("credentials");
    std::fs::write(&config, "[default]\nregion = us-east-1\n\n[profile ops]\n").unwrap();
    std::fs::write(
        &credentials,
        format!(
            "[default]\naws_access_key_id = test\naws_secret_access_key = test\n\n\
             [ops]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            ops.0, ops.1, ops.2
        ),
    )
    .unwrap();
    let mut s = Session::start_without_env(
        &["aws"],
        &[
            ("AWS_ENDPOINT_URL", url.as_str()),
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
        &[
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
        ],
    );
    let header = |target: &'static str| {
        move |screen: &str| screen.lines().next().is_some_and(|h| h.contains(target))
    };
    // The Workloads pane lists exactly this one service.
    let only_service = |name: &'static str| {
        move |screen: &str| {
            let services: Vec<&str> = screen
                .lines()
                .filter_map(|l| l.split("│").nth(1))
                .filter(|cell| {
                    cell.trim_start_matches(['●', '✖', '▲', ' '])
                        .starts_with("svc ")
                })
                .collect();
            services.len() == 1 && services[0].contains(name)
        }
    };
    s.wait_until("aws:default@us-east-1", T, header("aws:default@us-east-1"));
    s.wait_until("the checkout service alone", T, only_service("checkout"));

    // Another profile, the same region: the other account's service.
    s.send("C");
    s.wait_for("switch AWS profile", T);
    s.wait_for("ops", T);
    s.send("j\r");
    s.wait_until("aws:ops@us-east-1", T, header("aws:ops@us-east-1"));
    s.wait_until("the billing service alone", T, only_service("billing"));

    // Another region, the same profile.
    s.send("\x0e");
    s.wait_for("us-east-1", T);
    s.send("us-west-2\r");
    s.wait_until("aws:ops@us-west-2", T, header("aws:ops@us-west-2"));
    s.wait_until("the reports service alone", T, only_service("reports"));
    s.send("q");
    assert!(s.wait_exit(T).success());
    s.assert_restored();
}
