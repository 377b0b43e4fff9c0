//! Logs Insights against moto_server over a real socket: a query over two
//! log groups runs to completion and comes back as a table, and the driver's
//! query follower stops a query it is told to cancel. moto (5.2) has no
//! StopQuery: a proxy in front of it answers StopQuery the way CloudWatch
//! does, once with success and once with an error, and records what was
//! asked. Needs `./scripts/moto-venv`.

#[path = "support/aws_proxy.rs"]
mod aws_proxy;
#[path = "support/moto.rs"]
mod moto;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use opsdeck::aws::CloudWatchQueries;
use opsdeck::core::Msg;
use opsdeck::domain::QueryStatus;
use opsdeck::source::{QueryRunner, SourceError};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use aws_proxy::{Proxy, Reply};
use moto::Moto;

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("clock")
            .as_millis(),
    )
    .expect("ms")
}

/// Two groups with three events each, the newest `order-5` (timestamps in
/// the last minutes, so inside the query window).
async fn groups(client: &Client) -> Vec<String> {
    let base = now_ms() - 5 * 60_000;
    let mut names = Vec::new();
    for (g, group) in ["/ecs/checkout", "/ecs/payments"].into_iter().enumerate() {
        client
            .create_log_group()
            .log_group_name(group)
            .send()
            .await
            .expect("create group");
        client
            .create_log_stream()
            .log_group_name(group)
            .log_stream_name("web/1")
            .send()
            .await
            .expect("create stream");
        let mut put = client
            .put_log_events()
            .log_group_name(group)
            .log_stream_name("web/1");
        for i in 0..3 {
            let n = i * 2 + g;
            put = put.log_events(
                InputLogEvent::builder()
                    .timestamp(base + i64::try_from(n).expect("n") * 1000)
                    .message(format!("ERROR order-{n} failed"))
                    .build()
                    .expect("event"),
            );
        }
        put.send().await.expect("put events");
        names.push(group.to_string());
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_over_two_groups_comes_back_as_a_table() {
    let moto = Moto::start();
    let client = Client::new(&moto.sdk_config().await);
    let names = groups(&client).await;
    let runner = CloudWatchQueries::new(client, names.clone(), Duration::from_secs(3600));
    assert_eq!(runner.groups(), names);

    let id = runner
        .start("fields @timestamp, @message | sort @timestamp desc | limit 4")
        .await
        .expect("start");
    let mut results = runner.results(&id).await.expect("results");
    for _ in 0..50 {
        if results.status.is_done() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        results = runner.results(&id).await.expect("results");
    }
    assert_eq!(results.status, QueryStatus::Complete);
    assert_eq!(results.columns, vec!["@timestamp", "@message"]);
    // Newest first, over both groups, limited to 4.
    let messages: Vec<&str> = results.rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        messages,
        vec![
            "ERROR order-5 failed",
            "ERROR order-4 failed",
            "ERROR order-3 failed",
            "ERROR order-2 failed"
        ]
    );

    // A group that does not exist: the start fails with a readable error.
    let missing = CloudWatchQueries::new(
        Client::new(&moto.sdk_config().await),
        vec!["/ecs/nope".into()],
        Duration::from_secs(3600),
    );
    let err = missing.start("fields @message").await;
    assert!(
        matches!(&err, Err(SourceError::Other(m) | SourceError::NotFound(m)) if m.contains("start Logs Insights query")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_follower_reports_the_finished_table() {
    let moto = Moto::start();
    let client = Client::new(&moto.sdk_config().await);
    let names = groups(&client).await;
    let runner: Arc<dyn QueryRunner> = Arc::new(CloudWatchQueries::new(
        client,
        names,
        Duration::from_secs(3600),
    ));

    // Followed to completion: the last message carries the finished table.
    let (tx, mut rx) = mpsc::channel(16);
    opsdeck::app::follow_query(
        runner.clone(),
        7,
        "fields @message | limit 2".into(),
        CancellationToken::new(),
        tx,
    )
    .await;
    let mut last = None;
    while let Ok(m) = rx.try_recv() {
        last = Some(m);
    }
    match last {
        Some(Msg::Query {
            generation: 7,
            update: Ok(r),
        }) => {
            assert_eq!(r.status, QueryStatus::Complete);
            assert_eq!(r.rows.len(), 2);
        }
        other => panic!("expected the finished results, got {other:?}"),
    }
}

/// `queryId` of a request body (`{"queryId":"..."}`).
fn query_id(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).expect("a JSON request");
    v["queryId"].as_str().expect("a queryId").to_string()
}

/// A runner whose requests go through a proxy that answers StopQuery with
/// `status` and `body` itself.
async fn behind_proxy(
    moto: &Moto,
    status: u16,
    body: &'static str,
) -> (Arc<dyn QueryRunner>, Proxy) {
    let client = Client::new(&moto.sdk_config().await);
    let names = groups(&client).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let proxy = Proxy::start(listener, format!("127.0.0.1:{}", moto.port), move |r| {
        if r.operation == "StopQuery" {
            Reply::json(status, body)
        } else {
            None
        }
    });
    let proxied = Client::new(&moto::sdk_config_for(&proxy.url).await);
    let runner = Arc::new(CloudWatchQueries::new(
        proxied,
        names,
        Duration::from_secs(3600),
    ));
    (runner, proxy)
}

/// Follow `runner`'s query with every result reported as still running,
/// cancel it after its first answer, and return the flashes it sent.
async fn cancel_a_running_query(runner: Arc<dyn QueryRunner>) -> Vec<(String, bool)> {
    let (tx, mut rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let follower = tokio::spawn(opsdeck::app::follow_query(
        Arc::new(StillRunning(runner)),
        8,
        "fields @message".into(),
        cancel.clone(),
        tx,
    ));
    let first = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("a first answer");
    assert!(
        matches!(&first, Some(Msg::Query { generation: 8, update: Ok(r) }) if r.status == QueryStatus::Running),
        "{first:?}"
    );
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(30), follower)
        .await
        .expect("the follower ends")
        .expect("no panic");
    let mut flashes = Vec::new();
    while let Ok(m) = rx.try_recv() {
        if let Msg::Flash { text, error } = m {
            flashes.push((text, error));
        }
    }
    flashes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_query_is_stopped_in_cloudwatch() {
    let moto = Moto::start();
    let (runner, proxy) = behind_proxy(&moto, 200, r#"{"success":true}"#).await;

    // The runner sends StopQuery for the query it names.
    let id = runner.start("fields @message").await.expect("start");
    runner.stop(&id).await.expect("stopped");
    assert_eq!(
        proxy
            .bodies("StopQuery")
            .iter()
            .map(|b| query_id(b))
            .collect::<Vec<_>>(),
        [id]
    );

    // The follower, cancelled, stops the query it was following (the one
    // whose results it polled) and says so.
    let flashes = cancel_a_running_query(runner).await;
    let polled: Vec<String> = proxy
        .bodies("GetQueryResults")
        .iter()
        .map(|b| query_id(b))
        .collect();
    let stops = proxy.bodies("StopQuery");
    assert_eq!(stops.len(), 2, "{stops:?}");
    assert_eq!(
        Some(&query_id(&stops[1])),
        polled.last(),
        "the followed query is stopped"
    );
    assert_eq!(
        flashes,
        [("Logs Insights query stopped".to_string(), false)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_stop_is_reported_not_swallowed() {
    let moto = Moto::start();
    let (runner, proxy) = behind_proxy(
        &moto,
        400,
        r#"{"__type":"ResourceNotFoundException","message":"The query does not exist"}"#,
    )
    .await;
    let id = runner.start("fields @message").await.expect("start");
    let err = runner.stop(&id).await;
    assert!(
        matches!(&err, Err(e) if e.to_string().contains("stop Logs Insights query")),
        "{err:?}"
    );
    let flashes = cancel_a_running_query(runner).await;
    assert_eq!(proxy.answered("StopQuery"), 2);
    assert!(
        matches!(flashes.as_slice(), [(t, true)] if t.starts_with("StopQuery failed") && t.contains("runs on in CloudWatch")),
        "{flashes:?}"
    );
}

/// The moto-backed runner, with every result reported as still running.
struct StillRunning(Arc<dyn QueryRunner>);

#[async_trait::async_trait]
impl QueryRunner for StillRunning {
    fn groups(&self) -> Vec<String> {
        self.0.groups()
    }
    async fn start(&self, query: &str) -> Result<String, SourceError> {
        self.0.start(query).await
    }
    async fn results(&self, id: &str) -> Result<opsdeck::domain::QueryResults, SourceError> {
        let mut r = self.0.results(id).await?;
        r.status = QueryStatus::Running;
        Ok(r)
    }
    async fn stop(&self, id: &str) -> Result<(), SourceError> {
        self.0.stop(id).await
    }
}

/// CloudWatch answers `{"success": false}` when it did not stop the query:
/// that is reported, not shown as stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_that_cloudwatch_declines_is_reported() {
    let moto = Moto::start();
    let (runner, proxy) = behind_proxy(&moto, 200, r#"{"success":false}"#).await;
    let id = runner.start("fields @message").await.expect("start");
    let err = runner.stop(&id).await.expect_err("not stopped");
    assert!(
        err.to_string()
            .contains(&format!("CloudWatch did not stop Logs Insights query {id}")),
        "{err}"
    );
    assert_eq!(proxy.answered("StopQuery"), 1);
}
