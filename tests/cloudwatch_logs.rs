//! The CloudWatch Logs tail against moto_server over a real socket: 20,000
//! events over three log groups arrive once each and in time order, events
//! put while tailing (some of them late) arrive once despite the overlapping
//! polls, throttling injected by a proxy loses and repeats nothing, and an
//! endpoint with nothing listening is reported as unreachable. Needs
//! `./scripts/moto-venv`.

#[path = "support/aws_proxy.rs"]
mod aws_proxy;
#[path = "support/moto.rs"]
mod moto;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use opsdeck::aws::{CloudWatchTail, TailOptions, logs_client};
use opsdeck::domain::{Level, LogLine};
use opsdeck::source::{LogSource, SourceError};
use tokio::net::TcpListener;

use aws_proxy::{Proxy, Reply};
use moto::Moto;

/// PutLogEvents limits: events and bytes (message plus 26 bytes each) per call.
const PUT_MAX_EVENTS: usize = 10_000;
const PUT_MAX_BYTES: usize = 1_048_576;

/// One event put, as the tail should deliver it.
#[derive(Debug, Clone)]
struct Sent {
    /// The expected source column (`api/0123abcd`).
    source: String,
    timestamp: i64,
    /// The message as put (with its trailing newline).
    message: String,
}

/// Every event put so far, by the sequence number inside its message.
#[derive(Default)]
struct Ledger {
    sent: HashMap<u32, Sent>,
}

impl Ledger {
    fn record(&mut self, seq: u32, source: &str, timestamp: i64, message: &str) {
        let old = self.sent.insert(
            seq,
            Sent {
                source: source.to_string(),
                timestamp,
                message: message.to_string(),
            },
        );
        assert!(old.is_none(), "sequence number {seq} used twice");
    }
}

fn now_ms() -> i64 {
    i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after the epoch")
            .as_millis(),
    )
    .expect("milliseconds fit i64")
}

fn at(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).expect("time after the epoch"))
}

fn message(seq: u32) -> String {
    let level = match seq % 10 {
        0 => "ERROR",
        1 => "WARN",
        _ => "INFO",
    };
    format!("seq={seq:06} {level} order {seq} processed\n")
}

fn seq_of(line: &LogLine) -> u32 {
    line.text
        .strip_prefix("seq=")
        .and_then(|rest| rest.get(..6))
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("no sequence number in {:?}", line.text))
}

async fn create(client: &Client, group: &str, streams: &[String]) {
    client
        .create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create log group {group}: {e:?}"));
    for stream in streams {
        client
            .create_log_stream()
            .log_group_name(group)
            .log_stream_name(stream)
            .send()
            .await
            .unwrap_or_else(|e| panic!("create log stream {group}/{stream}: {e:?}"));
    }
}

/// Put `events` (timestamp, message) into one stream, in time order, in
/// batches within PutLogEvents' limits.
async fn put(client: &Client, group: &str, stream: &str, mut events: Vec<(i64, String)>) {
    events.sort_by_key(|(ts, _)| *ts);
    let mut batch: Vec<InputLogEvent> = Vec::new();
    let mut bytes = 0;
    let mut batches = Vec::new();
    for (ts, msg) in events {
        let size = msg.len() + 26;
        if batch.len() == PUT_MAX_EVENTS || bytes + size > PUT_MAX_BYTES {
            batches.push(std::mem::take(&mut batch));
            bytes = 0;
        }
        bytes += size;
        batch.push(
            InputLogEvent::builder()
                .timestamp(ts)
                .message(msg)
                .build()
                .expect("log event"),
        );
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    for batch in batches {
        let out = client
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(batch))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put log events into {group}/{stream}: {e:?}"));
        assert!(
            out.rejected_log_events_info().is_none(),
            "events rejected: {:?}",
            out.rejected_log_events_info()
        );
    }
}

/// Call `next_batch` until `want` lines in all have been collected, or fail
/// after `within`. Any error fails the test.
async fn collect(tail: &mut CloudWatchTail, got: &mut Vec<LogLine>, want: usize, within: Duration) {
    let deadline = Instant::now() + within;
    while got.len() < want {
        assert!(
            Instant::now() < deadline,
            "only {} of {want} lines arrived within {within:?}",
            got.len()
        );
        match tail.next_batch(Duration::from_millis(500)).await {
            Ok(batch) => got.extend(batch),
            Err(e) => panic!("next_batch failed after {} lines: {e}", got.len()),
        }
    }
}

/// Keep calling `next_batch` until the tail has sent `requests` more
/// FilterLogEvents requests (one per group per round), collecting what
/// comes; any error fails the test.
async fn more_rounds(
    tail: &mut CloudWatchTail,
    got: &mut Vec<LogLine>,
    proxy: &Proxy,
    requests: usize,
) {
    let until = proxy.requests(FILTER) + requests;
    let deadline = Instant::now() + Duration::from_secs(60);
    while proxy.requests(FILTER) < until {
        assert!(
            Instant::now() < deadline,
            "the tail stopped polling: {} of {until} requests",
            proxy.requests(FILTER)
        );
        match tail.next_batch(Duration::from_millis(500)).await {
            Ok(batch) => got.extend(batch),
            Err(e) => panic!("next_batch failed after {} lines: {e}", got.len()),
        }
    }
}

const FILTER: &str = "FilterLogEvents";

/// Each expected sequence number exactly once, nothing else, each line as
/// it was put: source, time, level and text without the newline.
fn assert_exactly_once(lines: &[LogLine], ledger: &Ledger, expected: &HashSet<u32>) {
    let mut seen = HashSet::new();
    for line in lines {
        let seq = seq_of(line);
        assert!(seen.insert(seq), "line {seq} delivered twice");
        assert!(expected.contains(&seq), "line {seq} was not expected here");
        let sent = &ledger.sent[&seq];
        assert_eq!(
            line.text,
            sent.message.trim_end_matches('\n'),
            "text of {seq}"
        );
        assert_eq!(line.source, sent.source, "source of {seq}");
        assert_eq!(line.time, at(sent.timestamp), "time of {seq}");
        let level = match seq % 10 {
            0 => Level::Error,
            1 => Level::Warn,
            _ => Level::Info,
        };
        assert_eq!(line.level, level, "level of {seq}");
    }
    let missing: Vec<&u32> = expected.difference(&seen).take(10).collect();
    assert!(missing.is_empty(), "lines never delivered: {missing:?}...");
    assert_eq!(lines.len(), expected.len());
}

fn assert_time_ordered(lines: &[LogLine]) {
    for pair in lines.windows(2) {
        assert!(
            pair[0].time <= pair[1].time,
            "out of order: {:?} then {:?}",
            pair[0].text,
            pair[1].text
        );
    }
}

/// Three groups with three streams each, named as ECS and Lambda name them.
fn estate() -> Vec<(String, Vec<(String, String)>)> {
    let task = |n: u32| format!("{:08x}{:08x}{:08x}{:08x}", n, n * 7, n * 13, n * 31);
    let ecs = |service: &str, base: u32| {
        (1..=3)
            .map(|i| {
                let id = task(base + i);
                (
                    format!("ecs/{service}/{id}"),
                    format!("{service}/{}", &id[..8]),
                )
            })
            .collect::<Vec<_>>()
    };
    let lambda = (1..=3)
        .map(|i| {
            let id = task(900 + i);
            (
                format!("2026/11/23/[$LATEST]{id}"),
                format!("billing/[$LATEST]{}", &id[..8]),
            )
        })
        .collect();
    vec![
        ("/aws/ecs/prod/api".to_string(), ecs("api", 100)),
        ("/aws/ecs/prod/worker".to_string(), ecs("worker", 200)),
        ("/aws/lambda/billing".to_string(), lambda),
    ]
}

#[tokio::test]
async fn tails_twenty_thousand_events_across_three_groups_once_and_in_order() {
    const TOTAL: u32 = 20_000;
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let client = Client::new(&config);
    let groups = estate();
    for (group, streams) in &groups {
        let names: Vec<String> = streams.iter().map(|(s, _)| s.clone()).collect();
        create(&client, group, &names).await;
    }

    // Event i: group i % 3, stream (i / 3) % 3, two events per timestamp,
    // 10 minutes of history ending 5 minutes ago.
    let base = now_ms() - 15 * 60 * 1000;
    let mut ledger = Ledger::default();
    let mut per_stream: HashMap<(usize, usize), Vec<(i64, String)>> = HashMap::new();
    for seq in 0..TOTAL {
        let (g, s) = ((seq % 3) as usize, ((seq / 3) % 3) as usize);
        let ts = base + i64::from(seq / 2) * 60;
        let msg = message(seq);
        ledger.record(seq, &groups[g].1[s].1, ts, &msg);
        per_stream.entry((g, s)).or_default().push((ts, msg));
    }
    for ((g, s), events) in per_stream {
        put(&client, &groups[g].0, &groups[g].1[s].0, events).await;
    }

    let opts = TailOptions {
        start: Some(at(base - 1_000)),
        page_limit: 1_000,
        poll_interval: Duration::from_millis(300),
        ..TailOptions::default()
    };
    // Through a counting proxy: the checks below wait for poll rounds, not for time.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let proxy = Proxy::forward_all(listener, format!("127.0.0.1:{}", moto.port));
    let proxied = moto::sdk_config_for(&proxy.url).await;
    let names = groups.iter().map(|(g, _)| g.clone()).collect();
    let mut tail = CloudWatchTail::new(logs_client(&proxied), names, opts);
    assert_eq!(tail.label(), "cloudwatch:/aws/ecs/prod/api +2");

    let mut got = Vec::new();
    collect(
        &mut tail,
        &mut got,
        TOTAL as usize,
        Duration::from_secs(120),
    )
    .await;
    assert_exactly_once(&got, &ledger, &(0..TOTAL).collect());
    assert_time_ordered(&got);

    // Put more while tailing: three waves of new events, each followed by
    // an event ingested late, 700 ms older than the newest of its group.
    let mut seq = TOTAL;
    let mut part2 = HashSet::new();
    for wave in 0..3 {
        let t = now_ms();
        for (group, streams) in &groups {
            let (stream, source) = &streams[wave % streams.len()];
            let mut events = Vec::new();
            for j in 0..50 {
                let ts = t + j * 10;
                let msg = message(seq);
                ledger.record(seq, source, ts, &msg);
                part2.insert(seq);
                events.push((ts, msg));
                seq += 1;
            }
            put(&client, group, stream, events).await;
        }
        // The tail delivers the whole wave (everything put so far) before
        // the late events come in: they are then older than lines it has
        // already handed out.
        let so_far = TOTAL as usize + part2.len();
        collect(&mut tail, &mut got, so_far, Duration::from_secs(60)).await;
        for (group, streams) in &groups {
            let (stream, source) = &streams[(wave + 1) % streams.len()];
            let ts = t + 49 * 10 - 700;
            let msg = message(seq);
            ledger.record(seq, source, ts, &msg);
            part2.insert(seq);
            put(&client, group, stream, vec![(ts, msg)]).await;
            seq += 1;
        }
    }
    let want = TOTAL as usize + part2.len();
    collect(&mut tail, &mut got, want, Duration::from_secs(60)).await;
    // Three more rounds re-read the overlap: nothing may come twice.
    more_rounds(&mut tail, &mut got, &proxy, 3 * groups.len()).await;
    let all: HashSet<u32> = (0..seq).collect();
    assert_exactly_once(&got, &ledger, &all);
    let second: Vec<LogLine> = got[TOTAL as usize..].to_vec();
    assert_exactly_once(&second, &ledger, &part2);
    assert_eq!(tail.lag(), None, "caught up");
}

const THROTTLED_BODY: &str = r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;

/// Throttle the 1st, 3rd and 4th FilterLogEvents request and every 5th.
fn throttle_some(n: usize) -> bool {
    n == 1 || n == 3 || n == 4 || n % 5 == 0
}

#[tokio::test]
async fn throttling_is_absorbed_without_losing_or_repeating_events() {
    const TOTAL: u32 = 3_000;
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let client = Client::new(&config);
    let groups = estate();
    let groups = &groups[..2];
    for (group, streams) in groups {
        let names: Vec<String> = streams.iter().map(|(s, _)| s.clone()).collect();
        create(&client, group, &names).await;
    }
    let base = now_ms() - 10 * 60 * 1000;
    let mut ledger = Ledger::default();
    let mut per_stream: HashMap<(usize, usize), Vec<(i64, String)>> = HashMap::new();
    for seq in 0..TOTAL {
        let (g, s) = ((seq % 2) as usize, ((seq / 2) % 3) as usize);
        let ts = base + i64::from(seq) * 50;
        let msg = message(seq);
        ledger.record(seq, &groups[g].1[s].1, ts, &msg);
        per_stream.entry((g, s)).or_default().push((ts, msg));
    }
    for ((g, s), events) in per_stream {
        put(&client, &groups[g].0, &groups[g].1[s].0, events).await;
    }

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let proxy = Proxy::start(listener, format!("127.0.0.1:{}", moto.port), |r| {
        if r.operation == FILTER && throttle_some(r.n) {
            Reply::json(400, THROTTLED_BODY)
        } else {
            None
        }
    });
    let proxied = moto::sdk_config_for(&proxy.url).await;
    let conf = aws_sdk_cloudwatchlogs::config::Builder::from(&proxied)
        .retry_config(RetryConfig::disabled())
        .build();
    let opts = TailOptions {
        start: Some(at(base - 1_000)),
        page_limit: 300,
        poll_interval: Duration::from_millis(200),
        requests_per_second: 20.0,
        ..TailOptions::default()
    };
    let names = groups.iter().map(|(g, _)| g.clone()).collect();
    let mut tail = CloudWatchTail::new(Client::from_conf(conf), names, opts);

    let deadline = Instant::now() + Duration::from_secs(120);
    let mut got: Vec<LogLine> = Vec::new();
    let mut lag_while_throttled = 0;
    while got.len() < TOTAL as usize {
        assert!(
            Instant::now() < deadline,
            "only {} of {TOTAL} lines arrived",
            got.len()
        );
        // A short wait, so that calls return while a retry is pending.
        match tail.next_batch(Duration::from_millis(50)).await {
            Ok(batch) => got.extend(batch),
            Err(e) => panic!("throttling must not surface as an error: {e}"),
        }
        if proxy.answered(FILTER) > 0 && tail.lag().is_some() {
            lag_while_throttled += 1;
        }
    }
    // Two more rounds re-read the overlap: nothing may come twice.
    more_rounds(&mut tail, &mut got, &proxy, 2 * groups.len()).await;
    assert_exactly_once(&got, &ledger, &(0..TOTAL).collect());
    assert_time_ordered(&got);
    let throttled = proxy.answered(FILTER);
    let requests = proxy.requests(FILTER);
    eprintln!(
        "{throttled} of {requests} FilterLogEvents requests throttled; \
         lag reported on {lag_while_throttled} calls"
    );
    assert!(
        throttled >= 3,
        "the proxy throttled {throttled} of {requests} requests"
    );
    assert!(
        proxy.forwarded(FILTER) >= 10,
        "the round was paged (300 events a page)"
    );
    assert!(
        lag_while_throttled > 0,
        "lag() was never reported while throttled"
    );
}

#[tokio::test]
async fn nothing_listening_is_unreachable_and_the_tail_resumes_later() {
    let port = moto::free_port();
    let config = moto::sdk_config_for(&format!("http://127.0.0.1:{port}")).await;
    let start = now_ms() - 60_000;
    let opts = TailOptions {
        start: Some(at(start)),
        stream_prefix: Some("web/".to_string()),
        poll_interval: Duration::from_millis(200),
        ..TailOptions::default()
    };
    let mut tail = CloudWatchTail::new(logs_client(&config), vec!["/app/web".into()], opts);
    match tail.next_batch(Duration::from_secs(5)).await {
        Err(SourceError::Unreachable(msg)) => {
            assert!(msg.contains("/app/web"), "names the group: {msg}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }

    // Something starts answering on that port: the same tail carries on.
    let moto = Moto::start();
    let client = Client::new(&moto.sdk_config().await);
    let streams = ["web/1".to_string(), "worker/1".to_string()];
    create(&client, "/app/web", &streams).await;
    let mut ledger = Ledger::default();
    let mut web = Vec::new();
    let mut worker = Vec::new();
    for seq in 0..20u32 {
        let ts = start + 1_000 + i64::from(seq) * 100;
        let msg = message(seq);
        if seq % 2 == 0 {
            ledger.record(seq, "web/1", ts, &msg);
            web.push((ts, msg));
        } else {
            worker.push((ts, msg));
        }
    }
    put(&client, "/app/web", "web/1", web).await;
    put(&client, "/app/web", "worker/1", worker).await;
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| panic!("bind 127.0.0.1:{port} again: {e}"));
    let proxy = Proxy::forward_all(listener, format!("127.0.0.1:{}", moto.port));

    let mut got = Vec::new();
    collect(&mut tail, &mut got, 10, Duration::from_secs(30)).await;
    // Two more rounds: the other stream's events never come.
    more_rounds(&mut tail, &mut got, &proxy, 2).await;
    // Only the `web/` stream, each line once.
    assert_exactly_once(&got, &ledger, &(0..20).step_by(2).collect());
    assert_time_ordered(&got);
}
