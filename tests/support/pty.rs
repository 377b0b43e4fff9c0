//! The real binary in a pseudo-terminal at 80x24, its screen read through a
//! terminal emulator. No fixed sleeps: every wait is for text to appear,
//! with a deadline.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

const ROWS: u16 = 24;
const COLS: u16 = 80;

pub struct Session {
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    pub child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    pub dir: tempfile::TempDir,
}

impl Session {
    pub fn start(args: &[&str]) -> Session {
        Session::start_with_env(args, &[])
    }

    /// Start with extra environment variables.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Session {
        Session::start_program(env!("CARGO_BIN_EXE_opsdeck"), args, env)
    }

    /// Start with extra environment variables, and without `remove`.
    pub fn start_without_env(args: &[&str], env: &[(&str, &str)], remove: &[&str]) -> Session {
        Session::spawn(env!("CARGO_BIN_EXE_opsdeck"), args, env, remove)
    }

    /// Run another program (a shell running opsdeck, say) in the same set-up:
    /// `$OPSDECK` names the binary.
    pub fn start_program(program: &str, args: &[&str], env: &[(&str, &str)]) -> Session {
        Session::spawn(program, args, env, &[])
    }

    fn spawn(program: &str, args: &[&str], env: &[(&str, &str)], remove: &[&str]) -> Session {
        let dir = tempfile::tempdir().unwrap();
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.env("OPSDECK", env!("CARGO_BIN_EXE_opsdeck"));
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("NO_COLOR");
        cmd.env("OPSDECK_CONFIG_DIR", dir.path().join("config"));
        cmd.env("OPSDECK_DATA_DIR", dir.path().join("data"));
        cmd.env("OPSDECK_STATE_DIR", dir.path().join("state"));
        cmd.cwd(dir.path());
        for k in remove {
            cmd.env_remove(k);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
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

    pub fn contents(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Wait until the screen shows `text`; fail with the screen if it does not in time.
    pub fn wait_for(&self, text: &str, timeout: Duration) {
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

    /// Wait until `check` holds for the screen; fail with `what` and the
    /// screen if it does not in time.
    pub fn wait_until(&self, what: &str, timeout: Duration, check: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.contents();
            if check(&screen) {
                return;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Every byte the program has written to the terminal so far.
    pub fn raw(&self) -> Vec<u8> {
        self.raw.lock().unwrap().clone()
    }

    /// Wait until the screen no longer shows `text`.
    pub fn wait_gone(&self, text: &str, timeout: Duration) {
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

    pub fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> portable_pty::ExitStatus {
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

    pub fn audit_lines(&self) -> Vec<serde_json::Value> {
        let path: PathBuf = self.dir.path().join("data/audit.jsonl");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The terminal was handed back: alternate screen left, cursor shown, after the last frame.
    pub fn assert_restored(&self) {
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

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }
}
