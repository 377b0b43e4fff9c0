//! Fault injection: the real binary in a PTY talks to the simulator through
//! a TCP proxy that freezes (stops forwarding without closing, as a hung
//! server looks), resets or slows its connections. Asserted on the screen:
//! each affected pane turns stale within a bound, its age is the true age
//! of its last real answer, the rows stay, and it recovers; a signal during
//! an action that cannot finish ends with the action recorded as
//! interrupted and the signal's exit status.

#[path = "support/proxy.rs"]
mod proxy;
#[path = "support/pty.rs"]
mod pty;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use proxy::Proxy;
use pty::Session;

const T: Duration = Duration::from_secs(30);
/// A hung API server must show within this: the probe asks every 4 s and
/// waits 6 s, the panes redraw every second.
const STALE_BOUND: Duration = Duration::from_secs(15);

/// `opsdeck sim serve` on a free port; stopped when dropped.
struct Sim {
    /// Holds the kubeconfigs.
    dir: tempfile::TempDir,
    child: Child,
    addr: std::net::SocketAddr,
    kubeconfig: PathBuf,
}

impl Sim {
    fn start(scenario: &str) -> Sim {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("sim.kubeconfig");
        let mut child = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .args(["sim", "serve", "--scenario", scenario, "--kubeconfig"])
            .arg(&kubeconfig)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start opsdeck sim serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("sim serve prints its address");
        let url = line
            .strip_prefix("serving http://")
            .and_then(|rest| rest.split(';').next())
            .unwrap_or_else(|| panic!("unexpected first line: {line}"));
        Sim {
            dir,
            child,
            addr: url.parse().expect("socket address"),
            kubeconfig,
        }
    }

    /// A copy of the simulator's kubeconfig whose server is `proxy`.
    fn kubeconfig_via(&self, proxy: &Proxy) -> PathBuf {
        let text = std::fs::read_to_string(&self.kubeconfig).expect("kubeconfig");
        let direct = format!("https://{}", self.addr);
        assert!(text.contains(&direct), "{text}");
        let path = self.dir.path().join("via-proxy.kubeconfig");
        std::fs::write(&path, text.replace(&direct, &proxy.url("https"))).expect("write");
        path
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `opsdeck kube` on the simulator's oom-crashloop drill, through a proxy.
fn kube_via_proxy() -> (Sim, Proxy, Session) {
    let sim = Sim::start("oom-crashloop");
    let proxy = Proxy::start(sim.addr);
    let kc = sim.kubeconfig_via(&proxy);
    let s = Session::start(&["kube", "--kubeconfig", kc.to_str().unwrap()]);
    (sim, proxy, s)
}

/// The title row of the pane whose title contains `name`.
fn title(s: &Session, name: &str) -> String {
    s.contents()
        .lines()
        .find(|l| l.contains(name))
        .unwrap_or_default()
        .to_string()
}

/// The age in a `STALE 12s` title, in seconds.
fn stale_age(title: &str) -> Option<u64> {
    let rest = &title[title.find("STALE ")? + 6..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let unit = rest[digits.len()..].chars().next()?;
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        's' => n,
        'm' => n * 60,
        _ => return None,
    })
}

/// Wait until `check` holds for the pane titled `name`; return its title.
fn wait_title(s: &Session, name: &str, within: Duration, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + within;
    loop {
        let t = title(s, name);
        if check(&t) {
            return t;
        }
        if Instant::now() > deadline {
            panic!(
                "{name}: not as expected within {within:?}; screen:\n{}",
                s.contents()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_hung_api_server_turns_workloads_and_logs_stale_with_true_ages_then_recovers() {
    let (_sim, proxy, mut s) = kube_via_proxy();
    s.wait_for("deploy api", T);
    s.wait_for("request completed", T);
    assert!(!title(&s, "1 Workloads").contains("STALE"));

    proxy.freeze();
    let frozen = Instant::now();
    let w = wait_title(&s, "1 Workloads", STALE_BOUND, |t| t.contains("STALE"));
    let l = wait_title(&s, "2 Logs", STALE_BOUND, |t| t.contains("STALE"));
    assert!(frozen.elapsed() < STALE_BOUND);
    // The rows stay on screen, marked, and the cause is in the status bar.
    assert!(s.contents().contains("deploy api"), "{}", s.contents());
    assert!(s.contents().contains("problem"), "{}", s.contents());
    // The age is that of the last real answer: it keeps growing while the
    // probe and the pollers keep retrying.
    let first = stale_age(&w).unwrap_or_else(|| panic!("{w}"));
    assert!(stale_age(&l).is_some(), "{l}");
    std::thread::sleep(Duration::from_secs(6));
    let later = stale_age(&title(&s, "1 Workloads")).unwrap();
    assert!(later >= first + 5, "{first} then {later}");
    assert!(
        later + 3 >= frozen.elapsed().as_secs(),
        "the age ({later}s) counts from before the freeze ({:?} ago)",
        frozen.elapsed()
    );

    proxy.pass();
    wait_title(&s, "1 Workloads", T, |t| !t.contains("STALE"));
    wait_title(&s, "2 Logs", T, |t| !t.contains("STALE"));
    s.send("q");
    assert!(s.wait_exit(T).success());
    s.assert_restored();
}

#[test]
fn reset_connections_show_their_error_and_the_console_recovers() {
    let (_sim, proxy, mut s) = kube_via_proxy();
    s.wait_for("deploy api", T);
    proxy.reset();
    wait_title(&s, "1 Workloads", STALE_BOUND, |t| t.contains("STALE"));
    // The problems view names what failed, in full.
    s.send("!");
    s.wait_for("Problems (", T);
    s.wait_for("workloads kube:sim", T);
    s.send("\x1b");
    s.wait_gone("Problems (", T);
    proxy.pass();
    wait_title(&s, "1 Workloads", T, |t| !t.contains("STALE"));
    s.send("q");
    assert!(s.wait_exit(T).success());
}

#[test]
fn a_slow_server_is_slow_not_stale() {
    let (_sim, proxy, mut s) = kube_via_proxy();
    s.wait_for("deploy api", T);
    // Every chunk half a second late: answers still come well within the
    // timeouts, so nothing is marked.
    proxy.slow(Duration::from_millis(500));
    let until = Instant::now() + Duration::from_secs(12);
    while Instant::now() < until {
        let t = title(&s, "1 Workloads");
        assert!(!t.contains("STALE"), "{t}\n{}", s.contents());
        std::thread::sleep(Duration::from_millis(200));
    }
    proxy.pass();
    s.send("q");
    assert!(s.wait_exit(T).success());
}

#[test]
fn sigterm_during_an_action_that_cannot_finish_records_it_interrupted_and_exits_143() {
    let (_sim, proxy, mut s) = kube_via_proxy();
    s.wait_for("deploy api", T);
    s.send("1:deploy\r");
    s.wait_for("Workloads (3)", T);
    s.send("/web");
    s.wait_for("Workloads (1)", T);
    s.send("\r");
    s.send("s");
    s.wait_for("scale deployment shop/web: new count", T);
    s.send("3\r");
    s.wait_for("scale deployment shop/web 2 -> 3", T);
    s.wait_for("server dry run", T);
    // The server hangs as the action is confirmed.
    proxy.freeze();
    s.send("y");
    s.wait_for("running", T);
    s.send("q");
    s.wait_for("waiting for \"scale deployment shop/web", T);
    let pid = s.child.process_id().expect("pid");
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    s.wait_for("SIGTERM: quitting once", T);
    let status = s.wait_exit(T);
    assert_eq!(status.exit_code(), 143, "{status:?}");
    s.assert_restored();
    let audit = s.audit_lines();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0]["phase"], "started");
    assert_eq!(audit[1]["phase"], "finished");
    assert_eq!(audit[1]["id"], audit[0]["id"]);
    assert_eq!(audit[1]["result"]["interrupted"], true, "{audit:?}");
    proxy.pass();
}

#[test]
fn signals_without_an_action_exit_with_128_plus_the_signal() {
    for (signal, code) in [("-TERM", 143), ("-HUP", 129), ("-INT", 130)] {
        let mut s = Session::start(&["demo", "ecs-unhealthy"]);
        s.wait_for("Workloads (", T);
        let pid = s.child.process_id().expect("child pid");
        let ok = Command::new("kill")
            .arg(signal)
            .arg(pid.to_string())
            .status()
            .unwrap();
        assert!(ok.success());
        let status = s.wait_exit(T);
        assert_eq!(status.exit_code(), code, "{signal}: {status:?}");
        s.assert_restored();
    }
}

#[path = "support/pg.rs"]
mod pg;

/// Two databases, one behind a proxy that freezes: only that one turns
/// stale (the pane says 1 of 2) and is listed as a problem; the other keeps
/// answering on its own cadence; both recover.
#[test]
fn a_hung_database_is_stale_alone_and_never_holds_up_the_other() {
    let server = pg::PgServer::start();
    let proxy = Proxy::start(format!("127.0.0.1:{}", server.port).parse().unwrap());
    let config = tempfile::tempdir().unwrap();
    let direct = server.superuser_url();
    let via_proxy = direct.replace(
        &format!("127.0.0.1:{}", server.port),
        &proxy.addr.to_string(),
    );
    std::fs::write(
        config.path().join("config.toml"),
        format!("[databases]\norders = \"{direct}\"\nbilling = \"{via_proxy}\"\n"),
    )
    .unwrap();
    let mut s = Session::start_with_env(
        &["db"],
        &[("OPSDECK_CONFIG_DIR", config.path().to_str().unwrap())],
    );
    s.send("5");
    s.wait_for("5 Database", T);
    s.wait_for("billing", T);
    s.wait_for("orders", T);
    assert!(!title(&s, "5 Database").contains("STALE"));

    proxy.freeze();
    let frozen = Instant::now();
    let t = wait_title(&s, "5 Database", Duration::from_secs(20), |t| {
        t.contains("(1 of 2)")
    });
    assert!(t.contains("STALE"), "{t}");
    assert!(frozen.elapsed() < Duration::from_secs(20));
    s.send("!");
    s.wait_for("database pg:billing", T);
    let listed = s.contents();
    assert!(!listed.contains("database pg:orders"), "{listed}");
    s.send("\x1b");
    // Never more than one stale: orders keeps being polled meanwhile.
    let until = Instant::now() + Duration::from_secs(8);
    while Instant::now() < until {
        let t = title(&s, "5 Database");
        assert!(!t.contains("(2 of 2)"), "{t}");
        std::thread::sleep(Duration::from_millis(200));
    }
    proxy.pass();
    wait_title(&s, "5 Database", T, |t| !t.contains("STALE"));
    s.send("q");
    assert!(s.wait_exit(T).success());
}

#[path = "support/moto.rs"]
#[allow(dead_code)]
mod moto;

/// moto behind a proxy that freezes: the ECS workloads turn stale within
/// the poll timeout (the SDK would retry for longer), then recover.
#[test]
fn a_hung_aws_endpoint_turns_ecs_workloads_stale_then_recovers() {
    let moto = moto::Moto::start();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let config = moto.sdk_config().await;
        let ecs = aws_sdk_ecs::Client::new(&config);
        ecs.create_cluster()
            .cluster_name("prod")
            .send()
            .await
            .expect("create cluster");
        ecs.register_task_definition()
            .family("checkout")
            .container_definitions(
                aws_sdk_ecs::types::ContainerDefinition::builder()
                    .name("checkout")
                    .image("checkout:1.4")
                    .memory(256)
                    .build(),
            )
            .send()
            .await
            .expect("register task definition");
        ecs.create_service()
            .cluster("prod")
            .service_name("checkout")
            .task_definition("checkout")
            .desired_count(1)
            .send()
            .await
            .expect("create service");
    });
    let proxy = Proxy::start(format!("127.0.0.1:{}", moto.port).parse().unwrap());
    let url = proxy.url("http");
    let mut s = Session::start_with_env(
        &["aws", "--region", "us-east-1"],
        &moto::session_env(&url)
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    );
    s.wait_for("checkout", T);
    assert!(!title(&s, "1 Workloads").contains("STALE"));
    proxy.freeze();
    let frozen = Instant::now();
    wait_title(&s, "1 Workloads", Duration::from_secs(25), |t| {
        t.contains("STALE")
    });
    assert!(frozen.elapsed() < Duration::from_secs(25));
    assert!(s.contents().contains("checkout"), "rows stay");
    proxy.pass();
    wait_title(&s, "1 Workloads", T, |t| !t.contains("STALE"));
    s.send("q");
    assert!(s.wait_exit(T).success());
}

/// A user the API server forbids to list (403): kubectl and opsdeck say the
/// same; the panes say "never connected" and show the server's reason.
#[test]
fn a_forbidden_watch_is_shown_in_the_pane_with_the_servers_reason() {
    let sim = Sim::start("oom-crashloop");
    let dir = &sim.dir;
    let text = std::fs::read_to_string(&sim.kubeconfig).unwrap();
    assert!(text.contains("opsdeck-sim-admin"), "{text}");
    let kc = dir.path().join("nobody.kubeconfig");
    std::fs::write(&kc, text.replace("opsdeck-sim-admin", "opsdeck-sim-nobody")).unwrap();
    let kubectl = std::env::var_os("KUBECTL").unwrap_or_else(|| "kubectl".into());
    let out = Command::new(kubectl)
        .args(["get", "pods", "-n", "shop"])
        .env("KUBECONFIG", &kc)
        .env("HOME", dir.path())
        .output()
        .expect("kubectl is required (install it or set KUBECTL)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(
            "pods is forbidden: User \"sim-nobody\" cannot list resource \"pods\" in API group \"\" in the namespace \"shop\""
        ),
        "{stderr}"
    );
    let mut s = Session::start(&["kube", "--kubeconfig", kc.to_str().unwrap()]);
    let t = wait_title(&s, "1 Workloads", T, |t| t.contains("never connected"));
    assert!(!t.contains("STALE"), "{t}");
    s.wait_for("cannot load kube:sim", T);
    s.wait_for("forbidden", T);
    s.send("q");
    assert!(s.wait_exit(T).success());
}
