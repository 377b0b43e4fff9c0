//! The command line, run as a user would: `check-config`, `--version`, bad arguments.

#[path = "support/kubectl.rs"]
mod kubectl;

use std::path::Path;
use std::process::{Command, Output};

fn opsdeck(config_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(args)
        .env("OPSDECK_CONFIG_DIR", config_dir)
        .env("OPSDECK_DATA_DIR", config_dir.join("data"))
        .env("OPSDECK_STATE_DIR", config_dir.join("state"))
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn check_config_passes_on_an_empty_config_dir() {
    let dir = tempfile::tempdir().unwrap();
    let out = opsdeck(dir.path(), &["check-config"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "opsdeck: configuration OK\n"
    );
    // Nothing is written to the config dir on a run.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn check_config_reports_every_mistake_with_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "keymaps/default.toml",
        "[logs]\nf = \"toggle_follow\"\n\"ctrl-x\" = \"scrol_down\"\n",
    );
    write(
        dir.path(),
        "themes/mine.toml",
        "inherits = \"default\"\n\"helth.ok\" = \"green\"\n",
    );
    write(
        dir.path(),
        "runbooks/mine.toml",
        "id = \"x\"\ntitle = \"X\"\n\n[[steps]]\ntitle = \"s\"\n[[steps.actions]]\nlabel = \"l\"\nkind = \"scael\"\n",
    );
    let out = opsdeck(dir.path(), &["check-config"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let d = dir.path().display();
    assert!(
        stdout.contains(&format!(
            "{d}/keymaps/default.toml:3: logs.ctrl-x: unknown action \"scrol_down\""
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{d}/themes/mine.toml:2: helth.ok: unknown slot \"helth.ok\""
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{d}/runbooks/mine.toml:8:")),
        "{stdout}"
    );
    assert!(stdout.contains("steps[0].actions[0].kind"), "{stdout}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("3 problems found"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bad_config_toml_is_reported_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "config.toml",
        "theme = \"default\"\nread_only = \"yes\"\n[oops\n",
    );
    let out = opsdeck(dir.path(), &["check-config"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("config.toml:3"), "{stdout}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn version_and_unknown_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let out = opsdeck(dir.path(), &["--version"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("opsdeck {}", env!("CARGO_PKG_VERSION"))
    );
    let out = opsdeck(dir.path(), &["demo", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "opsdeck: unknown scenario \"nope\"; choose one of: db-connections, oom-crashloop, bad-deploy, ecs-unhealthy"
    );
}

/// `--help` names every way in and the options they share; `kube --help`
/// and `db --help` name theirs. Help goes to stdout and exits 0.
#[test]
fn help_names_the_entry_points_and_their_options() {
    let dir = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| {
        let out = opsdeck(dir.path(), args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        assert!(out.stderr.is_empty(), "{args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let top = help(&["--help"]);
    assert!(top.starts_with("A terminal operations console"), "{top}");
    assert!(top.contains("Usage: opsdeck [OPTIONS] [COMMAND]"), "{top}");
    let commands: Vec<&str> = top
        .lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        commands,
        [
            "demo",
            "kube",
            "aws",
            "db",
            "check-config",
            "logs",
            "completions",
            "man",
            "sim",
            "help"
        ],
        "{top}"
    );
    for option in [
        "--theme <THEME>",
        "--keymap <KEYMAP>",
        "--read-only",
        "--config-dir <CONFIG_DIR>",
        "--version",
    ] {
        assert!(top.contains(option), "{option} missing:\n{top}");
    }
    assert_eq!(help(&["help"]), top, "`help` is `--help`");

    let kube = help(&["kube", "--help"]);
    assert!(
        kube.starts_with("Run the console on a Kubernetes cluster from your kubeconfig"),
        "{kube}"
    );
    assert!(kube.contains("Usage: opsdeck kube [OPTIONS]"), "{kube}");
    for option in [
        "--kubeconfig <KUBECONFIG>",
        "--context <CONTEXT>",
        "-n, --namespace <NAMESPACE>",
        "-A, --all-namespaces",
        "--runbook <RUNBOOK>",
        "--read-only",
    ] {
        assert!(kube.contains(option), "{option} missing:\n{kube}");
    }
    let db = help(&["db", "--help"]);
    assert!(
        db.starts_with(
            "Run the console on the PostgreSQL databases of config.toml and the PG* environment"
        ),
        "{db}"
    );
    assert!(db.contains("Usage: opsdeck db [OPTIONS]"), "{db}");
    for option in [
        "--runbook <RUNBOOK>",
        "--read-only",
        "--config-dir <CONFIG_DIR>",
    ] {
        assert!(db.contains(option), "{option} missing:\n{db}");
    }
    assert!(!db.contains("--kubeconfig"), "{db}");

    // A namespace and all namespaces at once is a usage error (exit 2).
    let out = opsdeck(dir.path(), &["kube", "-n", "shop", "-A"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot be used with"), "{err}");
}

/// `opsdeck sim serve` serves a drill that the real kubectl can use, and stops on SIGTERM.
#[test]
fn sim_serve_serves_kubectl_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("drill.kubeconfig");
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args([
            "sim",
            "serve",
            "--scenario",
            "oom-crashloop",
            "--pods",
            "4",
            "--kubeconfig",
        ])
        .arg(&kubeconfig)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("serving http://127.0.0.1:"), "{line}");
    assert!(
        line.trim_end()
            .ends_with(&format!("kubeconfig written to {}", kubeconfig.display())),
        "{line}"
    );
    let out = Command::new(kubectl::kubectl())
        .args(["get", "deploy", "-n", "shop", "--no-headers"])
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", dir.path())
        .output()
        .expect("kubectl runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let api = stdout
        .lines()
        .find(|l| l.starts_with("api "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        api.split_whitespace()
            .nth(1)
            .is_some_and(|ready| ready.ends_with("/4")),
        "--pods 4 scaled api: {api}"
    );
    assert!(stdout.lines().any(|l| l.starts_with("worker ")), "{stdout}");
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn completions_for_bash_zsh_and_fish_name_the_subcommands_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = opsdeck(dir.path(), &["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        for word in ["demo", "kube", "aws", "check-config", "completions", "man"] {
            assert!(script.contains(word), "{shell}: {word} missing");
        }
        // fish writes a long flag as `-l name`.
        for flag in ["read-only", "all-namespaces", "kubeconfig"] {
            let spelt = if shell == "fish" {
                format!("-l {flag}")
            } else {
                format!("--{flag}")
            };
            assert!(script.contains(&spelt), "{shell}: {spelt} missing");
        }
    }
    // The shell names are checked by clap.
    let out = opsdeck(dir.path(), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values: bash"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn man_page_is_roff_with_the_options_and_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let out = opsdeck(dir.path(), &["man"]);
    assert!(out.status.success());
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains(".TH opsdeck 1"), "{page}");
    for word in [
        ".SH NAME",
        ".SH SYNOPSIS",
        "read\\-only",
        "check\\-config",
        "completions",
    ] {
        assert!(page.contains(word), "{word} missing:\n{page}");
    }
}

#[test]
fn a_made_up_aws_region_is_refused_at_start_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["aws", "--region", "xx-fake-9"])
        .env("OPSDECK_CONFIG_DIR", dir.path())
        .env("OPSDECK_DATA_DIR", dir.path().join("data"))
        .env("OPSDECK_STATE_DIR", dir.path().join("state"))
        .env("AWS_CONFIG_FILE", dir.path().join("none"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ENDPOINT_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"xx-fake-9\" is not a known AWS region"),
        "{err}"
    );
    assert!(
        err.contains("--region") && err.contains("AWS_REGION"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "the terminal was not taken");
}

/// `check-config` run with a deadline (a file that blocks the reader would
/// otherwise hang the test), without the `PG*` environment.
fn check_config_within(config_dir: &Path, timeout: std::time::Duration) -> Output {
    use std::time::Instant;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsdeck"));
    cmd.arg("check-config")
        .env("OPSDECK_CONFIG_DIR", config_dir)
        .env("OPSDECK_DATA_DIR", config_dir.join("data"))
        .env("OPSDECK_STATE_DIR", config_dir.join("state"))
        .env_remove("NO_COLOR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (var, _) in opsdeck::pg::ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.env_remove("PGSERVICE");
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + timeout;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "check-config did not finish within {timeout:?}:\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

const DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// check-config opens every database as start-up does: a connection string
/// start-up refuses is reported at its file, line and key, password masked.
#[test]
fn check_config_reports_databases_that_start_up_cannot_open() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "config.toml",
        r#"[databases]
good = "postgres://app@db.internal/orders"
mode = "postgres://app:hunter2@db/orders?sslmode=bogus"
v6 = "postgres://app:hunter2@[::1"
pct = "postgres://app:hun%ZZter2@db/orders"

[databases.cert]
url = "host=db user=app password=hunter2 sslcert=/x"

[databases.root]
url = "host=db password=hunter2 sslmode=verify-full sslrootcert=/nonexistent/ca.pem"
"#,
    );
    let out = check_config_within(dir.path(), DEADLINE);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let c = format!("{}/config.toml", dir.path().display());
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{stdout}");
    assert_eq!(
        lines[0],
        format!(
            r#"{c}:3: databases.mode: invalid connection string for mode (postgres://app:***@db/orders?sslmode=bogus): invalid sslmode "bogus": expected disable, allow, prefer, require, verify-ca or verify-full"#
        )
    );
    assert_eq!(
        lines[1],
        format!(
            r#"{c}:4: databases.v6: invalid connection string for v6 (postgres://app:***@[::1): unterminated IPv6 address in "[::1""#
        )
    );
    assert_eq!(
        lines[2],
        format!(
            "{c}:5: databases.pct: invalid connection string for pct (postgres://app:***@db/orders): invalid percent-encoding (a % must be followed by two hex digits)"
        )
    );
    assert_eq!(
        lines[3],
        format!(
            "{c}:8: databases.cert.url: invalid connection string for cert (host=db user=app password=*** sslcert=/x): option `sslcert` is not supported by opsdeck"
        )
    );
    assert!(
        lines[4].starts_with(&format!("{c}:11: databases.root.url: root (")),
        "{}",
        lines[4]
    );
    assert!(
        lines[4].ends_with("cannot read sslrootcert /nonexistent/ca.pem: it does not exist"),
        "{}",
        lines[4]
    );
    assert!(
        !stdout.contains("hunter2") && !stdout.contains("hun%ZZ"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("5 problems found"));
}

/// No escape sequence or control character in any user file reaches the
/// terminal through check-config: its bytes are checked.
#[test]
fn check_config_prints_no_control_bytes_from_files() {
    const EVIL: &str = r#"\u001b]0;pwned\u0007\u001b[2J"#;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "config.toml",
        &format!(
            "theme = \"nope{EVIL}\"\n\"{EVIL}\" = 1\n[databases]\n\"db{EVIL}\" = \"postgres://u@h/d?sslmode={EVIL}\\u009b31m\"\n"
        ),
    );
    write(
        dir.path(),
        "themes/mine.toml",
        &format!("\"{EVIL}\" = \"red\"\nborder = \"\\u009b2J\"\n"),
    );
    write(
        dir.path(),
        "themes/named\u{1b}[2J.toml",
        "border = \"red\"\n",
    );
    write(
        dir.path(),
        "keymaps/default.toml",
        &format!("[global]\n\"{EVIL}\" = \"quit\"\nx = \"a\\u0007\"\n"),
    );
    write(
        dir.path(),
        "runbooks/r.toml",
        &format!("id = \"r\"\ntitle = \"R\"\n\"{EVIL}\" = 1\n[[steps]]\ntitle = \"s\"\n"),
    );
    let out = check_config_within(dir.path(), DEADLINE);
    assert_eq!(out.status.code(), Some(1));
    for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8(bytes.clone()).unwrap();
        let bad: Vec<char> = text
            .chars()
            .filter(|&c| (c.is_control() && c != '\n') || c == '\u{7f}')
            .collect();
        assert!(bad.is_empty(), "{name} has {bad:?}:\n{text:?}");
    }
    // Every problem is still reported, each on its own line.
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Each control character is shown escaped, so the key can be found.
    let e = r#"\u{1b}]0;pwned\u{7}\u{1b}[2J"#;
    for needle in [
        format!("config.toml:1: theme: unknown theme \"nope{e}\""),
        format!("config.toml:2: {e}: unknown field \"{e}\""),
        format!("config.toml:4: databases.db{e}: invalid connection string"),
        format!("themes/mine.toml:1: {e}: unknown slot \"{e}\""),
        r#"themes/mine.toml:2: border: bad colour "\u{9b}2J""#.to_string(),
        format!("keymaps/default.toml:2: global.{e}: bad key"),
        r#"keymaps/default.toml:3: global.x: unknown action "a\u{7}""#.to_string(),
        format!("runbooks/r.toml:3: {e}: unknown field \"{e}\""),
        r#"named\u{1b}[2J"#.to_string(),
    ] {
        assert!(stdout.contains(&needle), "{needle} missing:\n{stdout}");
    }
}

/// Only regular text files are read: a named pipe, a device, a directory,
/// a symbolic link loop or a binary file is reported, naming it, and
/// check-config finishes.
#[cfg(unix)]
#[test]
fn check_config_reads_only_regular_text_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fifo = |p: &Path| {
        let ok = Command::new("mkfifo").arg(p).status().unwrap().success();
        assert!(ok, "mkfifo {}", p.display());
    };
    fifo(&d.join("config.toml"));
    std::fs::create_dir_all(d.join("themes")).unwrap();
    fifo(&d.join("themes/pipe.toml"));
    std::fs::create_dir_all(d.join("themes/dir.toml")).unwrap();
    std::fs::write(
        d.join("themes/bin.toml"),
        b"border = \"red\"\n\xff\xfe = 1\n",
    )
    .unwrap();
    std::fs::create_dir_all(d.join("keymaps")).unwrap();
    std::os::unix::fs::symlink("loop.toml", d.join("keymaps/loop.toml")).unwrap();
    std::fs::create_dir_all(d.join("runbooks")).unwrap();
    // Reading /dev/zero never ends.
    std::os::unix::fs::symlink("/dev/zero", d.join("runbooks/zero.toml")).unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(d.join("runbooks/sock.toml")).unwrap();

    let out = check_config_within(d, DEADLINE);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let p = d.display();
    let expected = [
        format!("{p}/config.toml: is a named pipe (FIFO), not a regular file; not read"),
        format!("{p}/themes/bin.toml:2: not UTF-8 text (byte 0xff at offset 15); not read"),
        format!("{p}/themes/dir.toml: is a directory, not a regular file; not read"),
        format!("{p}/themes/pipe.toml: is a named pipe (FIFO), not a regular file; not read"),
        format!("{p}/keymaps/loop.toml: is a symbolic link that cannot be followed ("),
        format!("{p}/runbooks/sock.toml: is a socket, not a regular file; not read"),
        format!("{p}/runbooks/zero.toml: is a character device, not a regular file; not read"),
    ];
    for line in &expected {
        assert!(
            stdout.lines().any(|l| l.starts_with(line.as_str())),
            "{line} missing:\n{stdout}"
        );
    }
    assert_eq!(stdout.lines().count(), expected.len(), "{stdout}");
}
