//! End-to-end runs of the real binary in a pseudo-terminal at 80x24,
//! reading the screen through a terminal emulator. No fixed sleeps: every
//! wait is for text to appear, with a deadline.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

const ROWS: u16 = 24;
const COLS: u16 = 80;

struct Session {
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    dir: tempfile::TempDir,
}

impl Session {
    fn start(args: &[&str]) -> Session {
        let dir = tempfile::tempdir().unwrap();
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_opsdeck"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("NO_COLOR");
        cmd.env("OPSDECK_CONFIG_DIR", dir.path().join("config"));
        cmd.env("OPSDECK_DATA_DIR", dir.path().join("data"));
        cmd.env("OPSDECK_STATE_DIR", dir.path().join("state"));
        cmd.cwd(dir.path());
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (screen.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        s.lock().unwrap().process(&buf[..n]);
                        r.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                }
            }
        });
        Session {
            screen,
            raw,
            writer,
            child,
            _master: pty.master,
            dir,
        }
    }

    fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Wait until the screen shows `text`; fail with the screen if it does not in time.
    fn wait_for(&self, text: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.contents();
            if screen.contains(text) {
                return;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {text:?}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Wait until the screen no longer shows `text`.
    fn wait_gone(&self, text: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.contents().contains(text) {
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {text:?} to go; screen:\n{}",
                    self.contents()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    fn wait_exit(&mut self, timeout: Duration) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("opsdeck did not exit; screen:\n{}", self.contents());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn audit_lines(&self) -> Vec<serde_json::Value> {
        let path: PathBuf = self.dir.path().join("data/audit.jsonl");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The terminal was handed back: alternate screen left, cursor shown, after the last frame.
    fn assert_restored(&self) {
        // The reader thread may still be draining the last bytes.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let raw = self.raw.lock().unwrap().clone();
            let text = String::from_utf8_lossy(&raw);
            let left = text.rfind("\x1b[?1049l");
            let entered = text.rfind("\x1b[?1049h");
            if let (Some(l), Some(e)) = (left, entered) {
                if l > e && text[l..].contains("\x1b[?25h") {
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "terminal not restored; tail: {:?}",
                    &text[text.len().saturating_sub(200)..]
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn data_dir(&self) -> &Path {
        self.dir.path()
    }
}

const T: Duration = Duration::from_secs(30);

#[test]
fn db_connections_runbook_resolves_the_incident() {
    let mut s = Session::start(&["demo", "db-connections", "--speed", "20"]);
    s.wait_for("INCIDENT", T);
    s.wait_for("orders-db", T);
    // Go to the runbook and walk to the step that has the terminate action.
    s.send("4");
    s.wait_for("Terminate", T);
    // Step through the runbook until the step with the terminate action shows.
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
    s.wait_for("on orders-db", T);
    s.wait_for("Type orders-db to confirm", T);
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
    s.send("1/deploy api");
    s.wait_for("/deploy api", T);
    // Rows arrive through the watch; act only once the deployment is listed.
    s.wait_for("Workloads (1)", T);
    s.send("\r");
    s.send("u");
    s.wait_for("rollout undo deployment shop/api", T);
    s.send("api\r");
    s.wait_for("done: ", T);
    s.wait_for("RESOLVED", Duration::from_secs(60));
    s.send("q");
    assert!(s.wait_exit(T).success());
    s.assert_restored();
    let audit = s.audit_lines();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0]["action"], "rollout_undo");
    assert_eq!(audit[1]["result"]["ok"], true);
}

#[test]
fn read_only_blocks_and_writes_no_audit_record() {
    let mut s = Session::start(&["--read-only", "demo", "oom-crashloop"]);
    s.wait_for("READ-ONLY", T);
    s.send("1/deploy worker");
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
fn sigterm_and_sighup_restore_the_terminal() {
    for signal in ["-TERM", "-HUP"] {
        let mut s = Session::start(&["demo", "ecs-unhealthy"]);
        s.wait_for("Workloads (", T);
        let pid = s.child.process_id().expect("child pid");
        let ok = std::process::Command::new("kill")
            .arg(signal)
            .arg(pid.to_string())
            .status()
            .unwrap();
        assert!(ok.success());
        let status = s.wait_exit(T);
        assert!(status.success(), "{signal}: {status:?}");
        s.assert_restored();
    }
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
    s.send("1/deploy worker");
    s.wait_for("Workloads (1)", T);
    s.send("\rr");
    s.wait_for("rollout restart deployment shop/worker", T);
    s.wait_for("unavailable:", T);
    s.send("y");
    s.send("\t\r");
    s.wait_for("unavailable:", T);
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
    s.send("1/pod worker");
    s.wait_for("CrashLoop", T);
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
    s.wait_for("active", T);
    s.send("T");
    s.wait_for("running longer than", T);
    s.send("\r");
    s.wait_for("running > 10m on orders-db", T);
    s.wait_for("pid ", T);
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
