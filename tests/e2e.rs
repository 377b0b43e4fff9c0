//! End-to-end runs of the real binary in a pseudo-terminal at 80x24,
//! reading the screen through a terminal emulator. No fixed sleeps: every
//! wait is for text to appear, with a deadline.

#[path = "support/kube_proxy.rs"]
mod kube_proxy;
#[path = "support/pg.rs"]
mod pg;
#[path = "support/pty.rs"]
mod pty;

use std::time::Duration;

use pty::Session;

const T: Duration = Duration::from_secs(30);

#[test]
fn db_connections_runbook_resolves_the_incident() {
    let mut s = Session::start(&["demo", "db-connections", "--speed", "20"]);
    s.wait_for("INCIDENT", T);
    s.wait_for("orders-db", T);
    // Go to the runbook (its step list, "Terminate" included, is on screen
    // from the start: only `]` moving the step shows that it has the keys)
    // and step through it until the step with the terminate action shows.
    s.send("4");
    for step in 2..=6 {
        if s.contents().contains("[enter] Terminate") {
            break;
        }
        s.send("]");
        s.wait_for(&format!("step {step}/"), T);
    }
    s.wait_for("[enter] Terminate", T);
    s.send("\r");
    s.wait_for("Confirm destructive action", T);
    // The dialog's headline (the runbook's own line says "Terminate queries").
    s.wait_until("the terminate headline", T, |screen| {
        screen
            .lines()
            .any(|l| l.contains("terminate ") && l.contains("queries running > 10m on orders-db"))
    });
    s.wait_for("Type orders-db to confirm", T);
    // The backend has answered the permission check.
    s.wait_for("no dry run", T);
    // Enter with the wrong name does nothing.
    s.send("orders\r");
    s.wait_for("type orders-db exactly to confirm", T);
    s.send("-db\r");
    s.wait_for("done: ", T);
    s.wait_for("RESOLVED", Duration::from_secs(60));
    s.send("q");
    let status = s.wait_exit(T);
    assert!(status.success(), "{status:?}");
    s.assert_restored();

    let audit = s.audit_lines();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0]["phase"], "started");
    assert_eq!(audit[0]["action"], "terminate_queries");
    assert_eq!(audit[0]["target"], "database orders-db");
    assert!(
        audit[0]["parameters"]["sessions"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(audit[1]["phase"], "finished");
    assert_eq!(audit[1]["result"]["ok"], true);
    assert_eq!(audit[0]["id"], audit[1]["id"]);
    assert!(!audit[0]["user"].as_str().unwrap_or("").is_empty());
    let _ = s.data_dir();
}

#[test]
fn bad_deploy_rollout_undo_from_the_workloads_pane() {
    let mut s = Session::start(&["demo", "bad-deploy", "--speed", "20"]);
    s.wait_for("INCIDENT", T);
    // Filter to the deployment, select it, ask for a rollout undo.
    // Deployments only (members are listed under their group otherwise).
    s.send("1:deploy\r");
    s.send("/api");
    // Rows arrive through the watch; act only once the deployment alone is
    // listed ("/api" itself is on screen from the start, in the logs).
    s.wait_for("Workloads (1)", T);
    s.send("\r");
    s.send("u");
    s.wait_for("rollout undo deployment shop/api", T);
    // The server's dry run resolves the rollback: both revisions and both
    // images are in the dialog, and that is what runs.
    s.wait_for("server dry run", T);
    s.wait_for("-> revision", T);
    let dialog = s.contents();
    assert!(
        dialog.contains("revision 3") && dialog.contains("-> revision 2"),
        "{dialog}"
    );
    s.send("api\r");
    s.wait_for("done: ", T);
    s.wait_for("RESOLVED", Duration::from_secs(60));
    s.send("q");
    assert!(s.wait_exit(T).success());
    s.assert_restored();
    let audit = s.audit_lines();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0]["action"], "rollout_undo");
    assert_eq!(audit[0]["context"], "kube:sim");
    assert_eq!(audit[0]["parameters"]["to_revision"], 2, "{audit:?}");
    assert_eq!(audit[0]["parameters"]["plan"]["from_revision"], 3);
    assert_eq!(
        audit[0]["parameters"]["plan"]["to"],
        "registry.example.com/shop/api:1.8.2"
    );
    assert!(
        audit[0]["id"].as_str().is_some_and(|id| id.len() == 26),
        "a ULID: {audit:?}"
    );
    assert_eq!(audit[1]["result"]["ok"], true);
}

/// Scaling the worker deployment is blocked by read-only mode, and said
/// so; opsdeck quits cleanly and nothing was audited.
fn scale_is_blocked_then_quit(s: &mut Session) {
    s.send("1:deploy\r");
    s.send("/worker");
    s.wait_for("Workloads (1)", T);
    s.send("\r");
    s.send("s");
    s.wait_for("Blocked: read-only mode", T);
    s.wait_for("scale deployment shop/worker was not run", T);
    s.send("\x1b");
    s.wait_gone("Blocked: read-only mode", T);
    s.send("q");
    assert!(s.wait_exit(T).success());
    s.assert_restored();
    assert!(!s.dir.path().join("data/audit.jsonl").exists());
}

#[test]
fn read_only_blocks_and_writes_no_audit_record() {
    let mut s = Session::start(&["--read-only", "demo", "oom-crashloop"]);
    s.wait_for("READ-ONLY", T);
    scale_is_blocked_then_quit(&mut s);
}

/// `--read-only` holds across context switches: to the viewer context and
/// back to the admin one, the header still says READ-ONLY, an action is
/// blocked, and nothing is audited.
#[test]
fn read_only_survives_a_context_switch() {
    let header = |s: &Session| s.contents().lines().next().unwrap_or("").to_string();
    let mut s = Session::start(&["--read-only", "demo", "oom-crashloop"]);
    s.wait_for("READ-ONLY", T);
    s.wait_for("kube:sim ", T);
    for (down, context) in [("j", "kube:sim-viewer"), ("k", "kube:sim ")] {
        s.send("C");
        s.wait_for("switch Kubernetes context", T);
        s.send(down);
        s.send("\r");
        s.wait_until(&format!("{context} in the header"), T, |screen| {
            screen.lines().next().is_some_and(|h| h.contains(context))
        });
        assert!(header(&s).contains("READ-ONLY"), "{}", s.contents());
    }
    scale_is_blocked_then_quit(&mut s);
}

/// An audit log that cannot be written (its directory is a file) refuses
/// the action: the dialog says so, and nothing is recorded anywhere.
#[test]
fn an_audit_log_that_cannot_be_written_refuses_the_action() {
    let config = tempfile::tempdir().unwrap();
    let blocker = config.path().join("not-a-directory");
    std::fs::write(&blocker, "").unwrap();
    let audit = blocker.join("audit.jsonl");
    std::fs::write(
        config.path().join("config.toml"),
        format!("audit_log = {:?}\n", audit.display().to_string()),
    )
    .unwrap();
    let dir = config.path().to_str().unwrap();
    let mut s = Session::start(&["--config-dir", dir, "demo", "oom-crashloop"]);
    s.wait_for("kube:sim", T);
    s.send("1:deploy\r");
    s.send("/web");
    s.wait_for("Workloads (1)", T);
    s.send("\rs");
    s.wait_for("scale deployment shop/web: new count", T);
    s.send("3\r");
    s.wait_for("scale deployment shop/web 2 -> 3", T);
    s.wait_for("server dry run", T);
    s.send("y");
    s.wait_for("not run: the audit log", T);
    s.wait_for("cannot be written", T);
    assert!(!s.contents().contains("done: "), "{}", s.contents());
    s.send("\x1b");
    s.wait_gone("cannot be written", T);
    s.send("q");
    assert!(s.wait_exit(T).success());
    s.assert_restored();
    assert!(!audit.exists());
    assert!(!s.dir.path().join("data/audit.jsonl").exists());
}

/// Switching to the read-only context in the app: the API server's access
/// review makes the action unavailable, with its reason, and nothing runs.
#[test]
fn switching_to_a_read_only_context_shows_actions_as_unavailable() {
    let mut s = Session::start(&["demo", "oom-crashloop"]);
    s.wait_for("kube:sim", T);
    s.send("C");
    s.wait_for("switch Kubernetes context", T);
    s.wait_for("sim-viewer", T);
    s.send("j");
    s.send("\r");
    s.wait_for("kube:sim-viewer", T);
    s.send("1:deploy\r");
    s.send("/worker");
    s.wait_for("Workloads (1)", T);
    s.send("\rr");
    s.wait_for("rollout restart deployment shop/worker", T);
    s.wait_for("not allowed:", T);
    s.wait_for("this action cannot be run", T);
    assert!(!s.contents().contains("Yes ("), "no Yes is offered");
    s.send("y");
    s.wait_for("cannot be run: ", T);
    s.send("\x1b");
    s.wait_gone("rollout restart deployment shop/worker", T);
    s.send("q");
    assert!(s.wait_exit(T).success());
    s.assert_restored();
    assert!(
        !s.dir.path().join("data/audit.jsonl").exists(),
        "nothing ran, nothing audited"
    );
}

/// `p` on a crash-looping pod shows its previous container's logs, fetched
/// from the API server (`kubectl logs --previous`).
#[test]
fn previous_logs_of_a_crash_looping_pod() {
    let mut s = Session::start(&["demo", "oom-crashloop"]);
    s.wait_for("kube:sim", T);
    s.send("1:pods\r");
    s.send("/worker");
    // The two worker pods alone (CrashLoop shows from the start).
    s.wait_for("Workloads (2)", T);
    assert!(s.contents().contains("CrashLoop"), "{}", s.contents());
    s.send("\r");
    s.send("p");
    // The pane switches to the previous container's lines, paused.
    s.wait_for("(previous)", T);
    s.wait_for("Logs paused", T);
    s.send("q");
    assert!(s.wait_exit(T).success());
    s.assert_restored();
}

/// The Database pane's threshold terminate, end to end: prompt, confirmation
/// listing the pids, typed name, audit record with the per-pid results.
#[test]
fn database_pane_terminates_queries_over_a_threshold() {
    let mut s = Session::start(&["demo", "db-connections", "--speed", "20"]);
    s.wait_for("INCIDENT", T);
    s.send("5");
    s.wait_for("5 Database", T);
    // Sessions are listed: a row `PID active RUNNING QUERY`.
    s.wait_until("an active session row", T, |screen| {
        screen.lines().any(|l| {
            let l = l.replace('│', " ");
            let words: Vec<&str> = l.split_whitespace().collect();
            words
                .windows(2)
                .any(|w| w[0].parse::<u32>().is_ok() && w[1] == "active")
        })
    });
    s.send("T");
    s.wait_for("running longer than", T);
    s.send("\r");
    s.wait_for("running > 10m on orders-db", T);
    s.wait_for("pid ", T);
    s.wait_for("no dry run", T);
    s.send("orders-db\r");
    s.wait_for("done: terminated", T);
    s.send("q");
    assert!(s.wait_exit(T).success());
    s.assert_restored();
    let audit = s.audit_lines();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0]["action"], "terminate_queries");
    assert_eq!(audit[0]["parameters"]["rule"]["older_than"], "10m");
    let details = audit[1]["result"]["details"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        !details.is_empty()
            && details
                .iter()
                .all(|d| d.as_str().is_some_and(|d| d.starts_with("pid "))),
        "{details:?}"
    );
}

/// ctrl-z under a job-control shell: opsdeck hands the terminal back
/// (alternate screen left, cursor shown) and stops; the shell runs on; `fg`
/// continues it and the whole screen is drawn again.
#[test]
fn ctrl_z_suspends_and_fg_redraws() {
    let script = r#"set -m
"$OPSDECK" demo ecs-unhealthy
echo "shell: opsdeck is stopped"
read -r _
fg
echo "shell: opsdeck exited $?"
read -r _
"#;
    let mut s = Session::start_program("bash", &["-c", script], &[]);
    s.wait_for("Workloads (", T);
    s.send("\x1a");
    s.wait_for("shell: opsdeck is stopped", T);
    s.assert_restored();
    assert!(!s.contents().contains("Workloads ("), "{}", s.contents());
    s.send("\r");
    // Redrawn whole, borders and header included (not only what changed).
    s.wait_for("┌ 1 Workloads (", T);
    s.wait_for("INCIDENT", T);
    // It takes keys again: a command, then quit.
    s.send(":svc\r");
    s.wait_for("Workloads: ecs-services only (1)", T);
    s.send("q");
    s.wait_for("shell: opsdeck exited 0", T);
    s.assert_restored();
    s.send("\r");
    assert!(s.wait_exit(T).success());
    // The command is kept for the next session's up arrow.
    let history = std::fs::read_to_string(s.dir.path().join("state/history.json")).unwrap();
    let history: serde_json::Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history["command"], serde_json::json!(["svc"]));
}

/// The cursor is the object, not the row: in oom-crashloop, choose the web
/// deployment, let the rows refresh and re-sort under it, scale it, and the
/// audited target is web. Then ctrl-c quits and restores the terminal.
#[test]
fn the_chosen_deployment_is_the_one_scaled_after_refreshes_and_resorting() {
    let mut s = Session::start(&["demo", "oom-crashloop"]);
    s.wait_for("kube:sim", T);
    s.send("1:deploy\r");
    s.wait_for("Workloads (3)", T);
    // Worst first: worker, then api and web: the third row is web.
    s.send("jj");
    s.send("\x12"); // ctrl-r: refresh now
    s.send("o"); // sort by name: api, web, worker; the cursor follows web
    s.wait_for("sort:name", T);
    s.send("\x12");
    std::thread::sleep(Duration::from_millis(1500));
    s.send("s");
    s.wait_for("scale deployment shop/web: new count", T);
    s.send("3\r");
    s.wait_for("scale deployment shop/web 2 -> 3", T);
    s.wait_for("server dry run", T);
    s.send("y");
    s.wait_for("done: ", T);
    s.send("\x03"); // ctrl-c
    assert!(s.wait_exit(T).success());
    s.assert_restored();
    let audit = s.audit_lines();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0]["target"], "deployment shop/web");
    assert_eq!(audit[0]["parameters"]["to"], 3);
    assert_eq!(audit[1]["result"]["ok"], true);
}

/// Wait until the screen, its wrapped lines joined, shows `text`.
fn wait_for_words(s: &Session, text: &str, timeout: Duration) -> String {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let words = s
            .contents()
            .replace('│', " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if words.contains(text) {
            return words;
        }
        if std::time::Instant::now() > deadline {
            panic!("timed out waiting for {text:?}; screen:\n{}", s.contents());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A database whose connection string cannot be used does not stop the
/// console: it starts, and the Database pane says what is wrong with that
/// entry (file, line, key; no password), on every poll.
#[test]
fn a_bad_database_entry_fails_in_its_pane_and_the_console_runs() {
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("config.toml"),
        "[databases]\norders = \"postgres://app:hunter2@db/orders?sslmode=bogus\"\n",
    )
    .unwrap();
    let dir = config.path().to_str().unwrap();
    let pg: Vec<&str> = opsdeck::pg::ENV_VARS
        .iter()
        .map(|(var, _)| *var)
        .chain(["PGSERVICE"])
        .collect();
    let mut s = Session::start_without_env(&["--config-dir", dir, "db"], &[], &pg);
    // The console is up (its header names the session); then the Database
    // pane, zoomed.
    s.wait_for(" postgres ", T);
    s.send("5");
    s.send("z");
    let words = wait_for_words(
        &s,
        "databases.orders: invalid connection string for orders",
        T,
    );
    assert!(words.contains("config.toml:2"), "{words}");
    let words = wait_for_words(&s, "invalid sslmode \"bogus\"", T);
    assert!(!words.contains("hunter2"), "{words}");
    // It keeps failing with that error on every poll, and says so.
    let failures = |words: &str| -> u32 {
        let (_, after) = words.split_once("retrying (").expect("a retry count");
        after.split(' ').next().unwrap().parse().unwrap()
    };
    let first = failures(&wait_for_words(&s, "failed so far", T));
    let deadline = std::time::Instant::now() + T;
    loop {
        let words = wait_for_words(&s, "invalid sslmode \"bogus\"", T);
        if failures(&words) > first {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no new poll: {words}");
        std::thread::sleep(Duration::from_millis(25));
    }
    s.send("q");
    assert!(s.wait_exit(T).success());
    s.assert_restored();
}

/// A simulated cluster behind `opsdeck kube`, on this test's runtime.
struct KubeSim {
    rt: tokio::runtime::Runtime,
    server: opsdeck::sim::kube_api::ApiServer,
    dir: tempfile::TempDir,
}

impl KubeSim {
    fn start(scenario: opsdeck::sim::Scenario) -> KubeSim {
        use opsdeck::sim::kube_api::{ApiServer, ServeOptions};
        use opsdeck::sim::{SimEstate, World};
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let start = std::time::SystemTime::now() - Duration::from_secs(12 * 60);
        let mut world = World::new(scenario, 1, start);
        world.step(Duration::from_secs(12 * 60));
        let server = rt
            .block_on(ApiServer::start(
                SimEstate::new(world, 1.0),
                ServeOptions::default(),
            ))
            .expect("the simulator serves");
        KubeSim {
            rt,
            server,
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// A kubeconfig file for `url` (the server itself, or a proxy in front of it).
    fn kubeconfig_for(&self, url: &str) -> String {
        let path = self
            .dir
            .path()
            .join(format!("kubeconfig-{}", self.server.addr().port()));
        std::fs::write(&path, opsdeck::sim::kube_api::kubeconfig_for(url)).expect("kubeconfig");
        path.to_string_lossy().into_owned()
    }
}

/// `opsdeck kube` on a cluster without metrics-server (`metrics.k8s.io`
/// hidden by a proxy): the workloads and logs come, and the Metrics pane
/// says why it has nothing instead of waiting for ever.
#[test]
fn kube_without_the_metrics_api_says_so_in_the_metrics_pane() {
    let sim = KubeSim::start(opsdeck::sim::Scenario::DbConnections);
    let proxy = sim.rt.block_on(kube_proxy::HidingProxy::start(
        sim.server.addr().to_string(),
        "metrics.k8s.io",
    ));
    let kubeconfig = sim.kubeconfig_for(&proxy.url);
    let mut s = Session::start(&["kube", "--kubeconfig", &kubeconfig, "--context", "sim"]);
    s.wait_for("kube:sim", T);
    s.wait_for("deploy api", T);
    s.wait_for("request completed", T);
    s.wait_for("no pod metrics", T);
    s.wait_for("metrics.k8s.io", T);
    assert!(
        !s.contents().contains("waiting for metrics"),
        "{}",
        s.contents()
    );
    s.send("q");
    assert!(s.wait_exit(T).success());
    s.assert_restored();
}

/// `opsdeck kube` on a cluster from a kubeconfig (the simulator over TLS):
/// workloads, logs and metrics.k8s.io series show, and a scale runs against
/// the API server, audited with the kubeconfig context.
#[test]
fn opsdeck_kube_runs_on_the_kubeconfigs_cluster() {
    let sim = KubeSim::start(opsdeck::sim::Scenario::OomCrashloop);
    let kubeconfig = sim.kubeconfig_for(&sim.server.https_url());
    let mut s = Session::start(&["kube", "--kubeconfig", &kubeconfig, "--context", "sim"]);
    s.wait_until("kube:sim in the header", T, |screen| {
        screen
            .lines()
            .next()
            .is_some_and(|h| h.contains("kube:sim"))
    });
    s.wait_for("deploy worker", T);
    s.wait_for("CrashLoop", T);
    s.wait_for("request completed", T);
    // A series from metrics.k8s.io, with its value.
    s.wait_until("the api CPU series with a value", T, |screen| {
        screen
            .lines()
            .any(|l| l.contains("api CPU") && l.contains("mCPU"))
    });
    s.send("1:deploy\r");
    s.send("/web");
    s.wait_for("Workloads (1)", T);
    s.send("\rs");
    s.wait_for("scale deployment shop/web: new count", T);
    s.send("3\r");
    s.wait_for("server dry run", T);
    s.send("y");
    s.wait_for("done: ", T);
    s.send("q");
    assert!(s.wait_exit(T).success());
    s.assert_restored();
    let replicas = opsdeck::sim::kube_api::normalised_deployment(
        sim.server.estate(),
        "shop",
        "web",
    )["spec"]["replicas"]
        .clone();
    assert_eq!(replicas, 3, "the API server's deployment was scaled");
    let audit = s.audit_lines();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0]["context"], "kube:sim");
    assert_eq!(audit[0]["target"], "deployment shop/web");
    assert_eq!(audit[1]["result"]["ok"], true);
}

/// `opsdeck db` on the databases of config.toml (a real PostgreSQL): the
/// Database pane lists a sleeping session, and cancelling its query from
/// the console cancels it on the server, audited with the database.
#[test]
fn opsdeck_db_runs_on_the_databases_of_config_toml() {
    let server = pg::PgServer::start();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let sleeper = rt.block_on(server.sleeper("e2e-sleeper"));
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("config.toml"),
        format!("[databases]\norders-db = {:?}\n", server.superuser_url()),
    )
    .unwrap();
    let dir = config.path().to_str().unwrap();
    let mut s = Session::start(&["--config-dir", dir, "db"]);
    s.wait_for("orders-db", T);
    s.send("5");
    s.wait_for("5 Database", T);
    s.wait_for("SELECT pg_", T);
    // The sessions are sorted by running time: find the sleeper's row.
    let mine = format!("cancel the query of pid {} on orders-db", sleeper.pid());
    for _ in 0..10 {
        s.send("c");
        s.wait_for("cancel the query of pid", T);
        if s.contents().contains(&mine) {
            break;
        }
        s.send("\x1b");
        s.wait_gone("cancel the query of pid", T);
        s.send("j");
    }
    s.wait_for(&mine, T);
    s.wait_until("the server's answer to the check", T, |screen| {
        !screen.contains("checking permission")
    });
    s.send("y");
    s.wait_for("done: ", T);
    let err = rt
        .block_on(sleeper.outcome())
        .expect_err("the sleep was cancelled");
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::QUERY_CANCELED),
        "{err:?}"
    );
    s.send("q");
    assert!(s.wait_exit(T).success());
    s.assert_restored();
    let audit = s.audit_lines();
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert_eq!(audit[0]["action"], "cancel_query");
    assert_eq!(audit[0]["context"], "pg:orders-db");
    assert_eq!(audit[1]["result"]["ok"], true);
}
