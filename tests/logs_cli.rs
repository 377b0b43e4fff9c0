//! `opsdeck logs` as a user runs it: the real binary against moto_server
//! (CloudWatch Logs), printing exact, merged, sanitised lines. Needs
//! `./scripts/moto-venv`.

#[path = "support/moto.rs"]
mod moto;

use std::process::{Command, Output};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;

use moto::Moto;

fn opsdeck_logs(moto: &Moto, home: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .arg("logs")
        .args(args)
        .env("AWS_ENDPOINT_URL", moto.url())
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("HOME", home)
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run opsdeck logs")
}

fn rfc3339(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap());
    humantime::format_rfc3339_millis(t).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn cloudwatch_groups_are_printed_merged_and_sanitised() {
    let moto = Moto::start();
    let client = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config().await);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let t = |s: i64| now - 120_000 + s * 1_000;
    let groups = [
        (
            "/ecs/api",
            "web/1",
            vec![
                (t(1), "GET /a 200"),
                (t(4), "ERROR pool timeout \u{1b}[31mred\u{1b}[0m"),
            ],
        ),
        (
            "/ecs/worker",
            "job/7",
            vec![
                (t(2), "job started"),
                (t(3), "WARN slow \u{7}bell"),
                (t(5), "job done"),
            ],
        ),
    ];
    for (group, stream, events) in &groups {
        client
            .create_log_group()
            .log_group_name(*group)
            .send()
            .await
            .unwrap();
        client
            .create_log_stream()
            .log_group_name(*group)
            .log_stream_name(*stream)
            .send()
            .await
            .unwrap();
        let events = events
            .iter()
            .map(|(ts, m)| {
                InputLogEvent::builder()
                    .timestamp(*ts)
                    .message(*m)
                    .build()
                    .unwrap()
            })
            .collect();
        client
            .put_log_events()
            .log_group_name(*group)
            .log_stream_name(*stream)
            .set_log_events(Some(events))
            .send()
            .await
            .unwrap();
    }
    // An old event, before --since, is left out.
    client
        .put_log_events()
        .log_group_name("/ecs/api")
        .log_stream_name("web/1")
        .log_events(
            InputLogEvent::builder()
                .timestamp(now - 3_600_000)
                .message("old")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .ok();
    let home = tempfile::tempdir().unwrap();
    let args = [
        "--log-group",
        "/ecs/api",
        "--log-group",
        "/ecs/worker",
        "--since",
        "10m",
    ];
    let out = opsdeck_logs(&moto, home.path(), &args);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = [
        format!("{} api/1 INFO GET /a 200", rfc3339(t(1))),
        format!("{} worker/7 INFO job started", rfc3339(t(2))),
        format!("{} worker/7 WARN WARN slow �bell", rfc3339(t(3))),
        format!("{} api/1 ERROR ERROR pool timeout red", rfc3339(t(4))),
        format!("{} worker/7 INFO job done", rfc3339(t(5))),
    ];
    assert_eq!(stdout.lines().collect::<Vec<_>>(), want);

    let json_args = [&args[..], &["--json"]].concat();
    let out = opsdeck_logs(&moto, home.path(), &json_args);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    let first = stdout.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            r#"{{"time":"{}","source":"api/1","level":"info","text":"GET /a 200"}}"#,
            rfc3339(t(1))
        )
    );
    assert_eq!(stdout.lines().count(), 5);
    assert!(!stdout.contains('\u{1b}') && !stdout.contains('\u{7}'));

    // A group that does not exist: a clear message and a failure.
    let out = opsdeck_logs(&moto, home.path(), &["--log-group", "/ecs/nope"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("opsdeck logs: cloudwatch:/ecs/nope: not found"),
        "{stderr}"
    );
}

#[test]
fn bad_arguments_are_refused_with_a_message() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .arg("logs")
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "opsdeck logs: say whose logs: -l SELECTOR or deploy/NAME (Kubernetes), --log-group NAME (CloudWatch)\n"
    );
    let out = run(&["--log-group", "g", "--since", "soon"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("opsdeck logs: --since soon:"));
}
