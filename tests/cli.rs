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
