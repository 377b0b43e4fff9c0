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

/// `opsdeck logs` against the simulated Kubernetes API (`opsdeck sim
/// serve`'s server, started here on a free port), the world frozen so its
/// lines are known: every expected line exactly, in time order, and the
/// command ends by itself without `-f`.
mod sim {
    use std::path::Path;
    use std::process::{Command, Output};
    use std::time::{Duration, SystemTime};

    use opsdeck::domain::{LogLine, log_text};
    use opsdeck::kube::convert::parse_log_line;
    use opsdeck::sim::kube_api::{ApiServer, ServeOptions};
    use opsdeck::sim::{Scenario, SimEstate, World};

    fn world() -> World {
        let start = SystemTime::now() - Duration::from_secs(12 * 60);
        let mut w = World::new(Scenario::DbConnections, 7, start);
        w.step(Duration::from_secs(12 * 60));
        w
    }

    /// What the reader prints for the world's lines of pods named `prefix…`
    /// logged at or after `from`, sorted by time.
    fn expected(w: &World, prefix: &str, from: SystemTime) -> Vec<String> {
        let mut lines: Vec<LogLine> = w
            .logs_since(0)
            .0
            .into_iter()
            .filter(|l| l.source.starts_with(prefix) && l.time >= from)
            .map(|l| {
                let raw = format!("{} {}", humantime::format_rfc3339_nanos(l.time), l.text);
                parse_log_line(&l.source, &raw, l.time)
            })
            .collect();
        lines.sort_by_key(|l| l.time);
        lines.iter().map(log_text::plain).collect()
    }

    async fn run(kubeconfig: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsdeck"));
        cmd.arg("logs")
            .args(["--kubeconfig", kubeconfig.to_str().unwrap(), "-n", "shop"])
            .args(args);
        let started = std::time::Instant::now();
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "without -f it ends"
        );
        out
    }

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deployment_and_selector_logs_print_the_worlds_lines_and_end() {
        let w = world();
        let now = w.now();
        let estate = SimEstate::new(w.clone(), 0.0);
        let server = ApiServer::start(estate, ServeOptions { port: 0 })
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        server.write_kubeconfig(&kubeconfig).unwrap();

        for (args, prefix, since) in [
            (vec!["deploy/api", "--since", "2m"], "api-", 120),
            (vec!["-l", "app=api", "--since", "5m"], "api-", 300),
            (vec!["-l", "app=web", "--since", "30s"], "web-", 30),
        ] {
            let out = run(&kubeconfig, &args).await;
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{args:?}: {stderr}");
            let got: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string)
                .collect();
            let want = expected(&w, prefix, now - Duration::from_secs(since));
            assert!(!want.is_empty(), "{args:?}: the world logged nothing");
            // Every line exactly once (lines of one instant may come in
            // either pod's order), and in time order.
            assert_eq!(sorted(got.clone()), sorted(want), "{args:?}");
            let times: Vec<&str> = got.iter().map(|l| &l[..24]).collect();
            assert!(times.windows(2).all(|t| t[0] <= t[1]), "{args:?}: {got:?}");
        }
        server.shutdown().await;
    }

    /// The simulator cuts a pod's log at `sinceTime` as the API server does.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_simulator_honours_since_time_and_since_seconds() {
        use k8s_openapi::api::core::v1::Pod;
        use kube::api::{Api, ListParams, LogParams};

        let w = world();
        let now = w.now();
        let estate = SimEstate::new(w.clone(), 0.0);
        let server = ApiServer::start(estate, ServeOptions { port: 0 })
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        server.write_kubeconfig(&kubeconfig).unwrap();
        let backend = opsdeck::kube::connect(opsdeck::kube::KubeOptions {
            kubeconfig: Some(kubeconfig.clone()),
            namespace: Some("shop".into()),
            ..opsdeck::kube::KubeOptions::default()
        })
        .await
        .unwrap();
        let client = backend.client();
        let pods: Api<Pod> = Api::namespaced(client, "shop");
        let list = pods
            .list(&ListParams::default().labels("app=api"))
            .await
            .unwrap();
        let pod = list.items[0].metadata.name.clone().unwrap();
        let all = pods
            .logs(
                &pod,
                &LogParams {
                    timestamps: true,
                    ..LogParams::default()
                },
            )
            .await
            .unwrap();
        // sinceTime has whole seconds on the wire (metav1.Time).
        let secs = (now - Duration::from_secs(60))
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let cut = std::time::UNIX_EPOCH + Duration::from_secs(secs);
        let by_time = pods
            .logs(
                &pod,
                &LogParams {
                    timestamps: true,
                    since_time: Some(k8s_openapi::jiff::Timestamp::try_from(cut).unwrap()),
                    ..LogParams::default()
                },
            )
            .await
            .unwrap();
        let by_seconds = pods
            .logs(
                &pod,
                &LogParams {
                    timestamps: true,
                    since_seconds: Some(60),
                    ..LogParams::default()
                },
            )
            .await
            .unwrap();
        let after = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| {
                    let stamp = l.split(' ').next().unwrap();
                    humantime::parse_rfc3339_weak(stamp).unwrap() >= cut
                })
                .map(str::to_string)
                .collect()
        };
        let want = after(&all);
        assert!(!want.is_empty() && want.len() < all.lines().count());
        assert_eq!(by_time.lines().collect::<Vec<_>>(), want);
        // sinceSeconds counts back from the server's now (the frozen world's).
        let from_now = now - Duration::from_secs(60);
        let want: Vec<&str> = all
            .lines()
            .filter(|l| {
                humantime::parse_rfc3339_weak(l.split(' ').next().unwrap()).unwrap() >= from_now
            })
            .collect();
        assert_eq!(by_seconds.lines().collect::<Vec<_>>(), want);
        server.shutdown().await;
    }
}
