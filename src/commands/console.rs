//! What every console session needs besides its backends: directories,
//! opsdeck's own log, the configuration, read-only mode and the runbook;
//! then the runtime, the audit log and the UI.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::SystemTime;

use crate::audit::{AuditLog, os_user};
use crate::config::{self, LoadOptions, Paths};
use crate::core::State;
use crate::runbook::Runbook;
use crate::source::{Backends, SourceError};

/// What every console session needs besides its backends.
pub(super) struct Console {
    pub(super) paths: Paths,
    pub(super) theme: crate::theme::Theme,
    pub(super) keymap: crate::keymap::Keymap,
    pub(super) audit_log: Option<std::path::PathBuf>,
    pub(super) problems: Vec<crate::problem::Problem>,
    pub(super) read_only: bool,
    /// Why read-only was forced (a problem in a safety setting).
    pub(super) read_only_reason: Option<String>,
    /// What made the session read-only (flag, config file line, forced).
    pub(super) read_only_origin: Option<String>,
    pub(super) runbook: Option<Runbook>,
    /// Every theme, for `:theme NAME`.
    pub(super) themes: BTreeMap<String, crate::theme::Theme>,
    /// Every runbook, for `:runbook NAME`.
    pub(super) runbooks: Vec<Runbook>,
}

impl Console {
    /// What every session starts from: directories, opsdeck's own log, the
    /// configuration (with its problems) and read-only mode.
    pub(super) fn prepare(
        opts: &LoadOptions,
        read_only_flag: bool,
    ) -> Result<(Console, config::Config), ExitCode> {
        let paths = Paths::resolve(opts.config_dir.as_deref()).map_err(|e| {
            eprintln!("opsdeck: {e}");
            ExitCode::FAILURE
        })?;
        init_tracing(&paths);
        let loaded = config::load(opts);
        let read_only = read_only_flag || loaded.config.read_only.unwrap_or(false);
        let console = Console {
            paths,
            theme: loaded.theme,
            keymap: loaded.keymap,
            audit_log: loaded.config.audit_log.clone(),
            problems: loaded.problems,
            read_only,
            read_only_reason: loaded.config.read_only_reason.clone(),
            read_only_origin: loaded.config.read_only_origin(read_only_flag),
            runbook: None,
            themes: all_themes(loaded.config_dir.as_deref()),
            runbooks: all_runbooks(loaded.config_dir.as_deref()),
        };
        Ok((console, loaded.config))
    }

    /// Connect (inside the runtime), then run the UI until the user quits.
    pub(super) fn run<F, Fut>(self, connect: F) -> ExitCode
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(Option<crate::demo::Demo>, Backends), SourceError>>,
    {
        let rt = match runtime() {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        let result = rt.block_on(async move {
            let (demo, backends) = connect().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let backends = if self.read_only {
                let why = self.read_only_origin.as_deref().unwrap_or("read-only mode");
                crate::source::read_only(backends, why)
            } else {
                backends
            };
            let target = backends.target.clone();
            let mut state = State::new(self.keymap, target.clone(), SystemTime::now());
            if let Some(book) = self.runbook {
                state = state.with_runbook(book);
            }
            if let Some(sw) = &backends.switcher {
                state.contexts = sw.contexts();
                let (context_noun, namespace_noun) = sw.nouns();
                state.switch_nouns = (context_noun.into(), namespace_noun.into());
            }
            state.read_only = self.read_only;
            state.read_only_reason = self.read_only_reason;
            state.read_only_origin = self.read_only_origin;
            state.problems = self.problems;
            state.themes = self.themes.keys().cloned().collect();
            state.runbooks = self.runbooks;
            let audit_path = self
                .audit_log
                .unwrap_or_else(|| self.paths.data_dir.join("audit.jsonl"));
            let audit = AuditLog::new(audit_path, os_user(), target.label());
            let themes = crate::app::Themes {
                current: self.theme,
                all: self.themes,
            };
            let history = self.paths.state_dir.join("history.json");
            state.history = load_history(&history);
            let result = crate::app::run(state, themes, backends, audit)
                .await
                .map(|end| {
                    save_history(&history, &end.history);
                    end.exit_code
                });
            if let Some(demo) = demo {
                demo.server.shutdown().await;
            }
            result
        });
        match result {
            // Quit by a signal: 128 + its number, as a shell reports it.
            Ok(Some(code)) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            Ok(None) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "opsdeck failed");
                eprintln!("opsdeck: {e:#}");
                ExitCode::FAILURE
            }
        }
    }
}

/// The prompts' history of earlier sessions; none if there is none or it cannot be read.
fn load_history(path: &std::path::Path) -> crate::core::History {
    match std::fs::read_to_string(path) {
        Ok(text) => crate::core::History::from_json(&text).unwrap_or_else(|e| {
            tracing::warn!(path = %path.display(), error = %e, "prompt history unreadable; starting empty");
            crate::core::History::default()
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => crate::core::History::default(),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "prompt history unreadable; starting empty");
            crate::core::History::default()
        }
    }
}

/// Keep the prompts' history for the next session (a failure is only logged).
fn save_history(path: &std::path::Path, history: &crate::core::History) {
    if let Err(e) = std::fs::write(path, history.to_json()) {
        tracing::warn!(path = %path.display(), error = %e, "prompt history not saved");
    }
}

/// Every theme, shipped and the user's, resolved (their problems are
/// reported by `check-config` and, for the chosen one, at start-up).
fn all_themes(config_dir: Option<&std::path::Path>) -> BTreeMap<String, crate::theme::Theme> {
    let library = crate::theme::ThemeLibrary::new(config_dir.map(|d| d.join("themes")).as_deref());
    library
        .names()
        .into_iter()
        .filter_map(|name| library.theme(&name).map(|theme| (name, theme)))
        .collect()
}

/// Every runbook: the shipped ones, then the user's (which win on the same
/// id). Unparsable files are left out; `check-config` names their problems.
fn all_runbooks(config_dir: Option<&std::path::Path>) -> Vec<Runbook> {
    let mut books: Vec<Runbook> = crate::runbook::shipped()
        .into_iter()
        .filter_map(|(label, text)| Runbook::parse(label, text).ok())
        .collect();
    if let Some(dir) = config_dir {
        let scenarios = crate::sim::Scenario::names();
        let (mine, problems) = crate::runbook::load_dir(&dir.join("runbooks"), &scenarios);
        if !problems.is_empty() {
            tracing::warn!(
                count = problems.len(),
                "some runbooks of the config directory do not parse"
            );
        }
        for book in mine {
            books.retain(|b| b.id != book.id);
            books.push(book);
        }
    }
    books
}

/// Log to `opsdeck.log` in the state directory; never to the terminal while the UI is up.
fn init_tracing(paths: &Paths) {
    if init_tracing_file(paths).is_none() {
        // No log file is no reason to refuse to run; say so on stderr before the UI starts.
        eprintln!(
            "opsdeck: cannot write {}; running without a log",
            paths.state_dir.join("opsdeck.log").display()
        );
    }
}

fn init_tracing_file(paths: &Paths) -> Option<()> {
    std::fs::create_dir_all(&paths.state_dir).ok()?;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(paths.state_dir.join("opsdeck.log"))
        .ok()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("OPSDECK_LOG")
        .unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init()
        .ok()
}

/// The tokio runtime every command runs in; says why on failure.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("opsdeck: cannot start the runtime: {e}");
            ExitCode::FAILURE
        })
}
