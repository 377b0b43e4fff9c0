//! Configuration: where files live, `config.toml`, and loading the theme and
//! keymap the user asked for.
//!
//! Precedence: embedded defaults < `config.toml` < command-line flags. With
//! `NO_COLOR` set (non-empty) and no theme chosen by flag or config, the `mono`
//! theme is used. Nothing is ever written on first run; a missing config
//! directory or `config.toml` is not a problem. Every mistake is collected as a
//! [`Problem`] with file, line and key; loading itself never fails.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

use crate::keymap::{Keymap, KeymapLibrary};
use crate::problem::{Problem, line_of};
use crate::theme::{Theme, ThemeLibrary};

/// Environment variable overriding the configuration directory.
pub const ENV_CONFIG_DIR: &str = "OPSDECK_CONFIG_DIR";
/// Environment variable overriding the data directory (audit log).
pub const ENV_DATA_DIR: &str = "OPSDECK_DATA_DIR";
/// Environment variable overriding the state directory (tracing log).
pub const ENV_STATE_DIR: &str = "OPSDECK_STATE_DIR";

/// The `Problem::file` used for mistakes in command-line flags.
pub const COMMAND_LINE: &str = "command line";

/// Where opsdeck keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// `config.toml`, `themes/`, `keymaps/`, `runbooks/`.
    pub config_dir: PathBuf,
    /// The audit log (`audit.jsonl`).
    pub data_dir: PathBuf,
    /// The tracing log file (`opsdeck.log`).
    pub state_dir: PathBuf,
}

impl Paths {
    /// The platform directories (`ProjectDirs` for `dev.opsdeck.opsdeck`),
    /// each overridable by `OPSDECK_CONFIG_DIR`, `OPSDECK_DATA_DIR` and
    /// `OPSDECK_STATE_DIR`; `opts.config_dir` (`--config-dir`) beats them all
    /// for the config directory. Fails (no panic) when there is no home
    /// directory and not every directory is given.
    pub fn resolve(opts: &LoadOptions) -> Result<Paths, String> {
        Paths::resolve_with(opts.config_dir.as_deref(), |k| std::env::var_os(k))
    }

    /// [`Paths::resolve`] with the flag and environment passed in (for tests).
    pub fn resolve_with(
        config_dir: Option<&Path>,
        env: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Paths, String> {
        let var = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let config = config_dir
            .map(Path::to_path_buf)
            .or_else(|| var(ENV_CONFIG_DIR));
        let (data, state) = (var(ENV_DATA_DIR), var(ENV_STATE_DIR));
        if let (Some(config_dir), Some(data_dir), Some(state_dir)) = (&config, &data, &state) {
            return Ok(Paths {
                config_dir: config_dir.clone(),
                data_dir: data_dir.clone(),
                state_dir: state_dir.clone(),
            });
        }
        let dirs = directories::ProjectDirs::from("dev", "opsdeck", "opsdeck").ok_or_else(|| {
            format!(
                "cannot find the home directory; set {ENV_CONFIG_DIR}, {ENV_DATA_DIR} and {ENV_STATE_DIR}"
            )
        })?;
        Ok(Paths {
            config_dir: config.unwrap_or_else(|| dirs.config_dir().to_path_buf()),
            data_dir: data.unwrap_or_else(|| dirs.data_dir().to_path_buf()),
            state_dir: state.unwrap_or_else(|| {
                dirs.state_dir()
                    .unwrap_or_else(|| dirs.data_local_dir())
                    .to_path_buf()
            }),
        })
    }

    /// `<data_dir>/audit.jsonl`.
    pub fn audit_log(&self) -> PathBuf {
        self.data_dir.join("audit.jsonl")
    }

    /// `<state_dir>/opsdeck.log`.
    pub fn log_file(&self) -> PathBuf {
        self.state_dir.join("opsdeck.log")
    }

    /// `<config_dir>/config.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }
}

/// The contents of `config.toml` (after command-line flags are applied, in
/// [`Loaded::config`]).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Theme name (`themes/<name>.toml` or a shipped theme).
    pub theme: Option<String>,
    /// Keymap name (`keymaps/<name>.toml` or a shipped keymap).
    pub keymap: Option<String>,
    /// Refuse every mutating action (`None`: not set, i.e. false).
    pub read_only: Option<bool>,
    /// Audit log path; `None` means `<data_dir>/audit.jsonl`.
    pub audit_log: Option<PathBuf>,
    /// PostgreSQL databases by display name: `[databases.orders-db]
    /// url = "postgres://..."` (or `orders-db = "postgres://..."`).
    #[serde(skip)]
    pub databases: BTreeMap<String, String>,
    /// `[aws]`: profile, region, clusters, log groups, metrics and alarms.
    #[serde(skip)]
    pub aws: crate::aws::AwsSettings,
}

impl Config {
    /// The audit log to write: `audit_log` if set, else `<data_dir>/audit.jsonl`.
    pub fn audit_log_path(&self, paths: &Paths) -> PathBuf {
        self.audit_log.clone().unwrap_or_else(|| paths.audit_log())
    }
}

const CONFIG_FIELDS: &[&str] = &[
    "theme",
    "keymap",
    "read_only",
    "audit_log",
    "databases",
    "aws",
];

/// A parsed `config.toml` with the line of each field (for later problems).
#[derive(Debug, Clone, Default)]
pub struct ConfigFile {
    pub config: Config,
    /// 1-based line of each field that was set.
    pub lines: BTreeMap<String, usize>,
    pub problems: Vec<Problem>,
}

/// Parse `config.toml` text. `file` is the name used in problems. Fields with
/// mistakes are left at their defaults; the others are kept.
pub fn parse_config(text: &str, file: &str) -> ConfigFile {
    let mut out = ConfigFile::default();
    let root = match DeTable::parse(text) {
        Ok(t) => t,
        Err(e) => {
            out.problems.push(syntax_problem(file, text, &e));
            return out;
        }
    };
    for (k, v) in sorted_entries(root.get_ref()) {
        let key = k.get_ref().as_ref();
        let line = line_of(text, k.span().start);
        let problem = |msg: String| Problem::new(file, Some(line), Some(key.to_string()), msg);
        match (key, v.get_ref()) {
            ("theme" | "keymap" | "audit_log", DeValue::String(s)) => {
                let s = s.to_string();
                match key {
                    "theme" => out.config.theme = Some(s),
                    "keymap" => out.config.keymap = Some(s),
                    _ => out.config.audit_log = Some(PathBuf::from(s)),
                }
            }
            ("read_only", DeValue::Boolean(b)) => out.config.read_only = Some(*b),
            ("databases", DeValue::Table(t)) => {
                for (name, v) in sorted_entries(t) {
                    let name_str = name.get_ref().to_string();
                    let line = line_of(text, name.span().start);
                    let url = match v.get_ref() {
                        DeValue::String(s) => Some(s.to_string()),
                        DeValue::Table(fields) => {
                            let mut url = None;
                            for (fk, fv) in sorted_entries(fields) {
                                let fkey = fk.get_ref().to_string();
                                let fline = line_of(text, fk.span().start);
                                let at = format!("databases.{name_str}.{fkey}");
                                match (fkey.as_str(), fv.get_ref()) {
                                    ("url", DeValue::String(s)) => url = Some(s.to_string()),
                                    ("url", other) => out.problems.push(Problem::new(
                                        file,
                                        Some(fline),
                                        Some(at),
                                        format!("expected a string, found {}", other.type_str()),
                                    )),
                                    _ => out.problems.push(Problem::new(
                                        file,
                                        Some(fline),
                                        Some(at),
                                        format!("unknown field \"{fkey}\", expected url"),
                                    )),
                                }
                            }
                            if url.is_none() {
                                out.problems.push(Problem::new(
                                    file,
                                    Some(line),
                                    Some(format!("databases.{name_str}")),
                                    "missing url (a postgres:// URL or key=value connection string)",
                                ));
                            }
                            url
                        }
                        other => {
                            out.problems.push(Problem::new(
                                file,
                                Some(line),
                                Some(format!("databases.{name_str}")),
                                format!(
                                    "expected a connection string or a table with url, found {}",
                                    other.type_str()
                                ),
                            ));
                            None
                        }
                    };
                    if let Some(url) = url {
                        out.config.databases.insert(name_str, url);
                    }
                }
            }
            ("aws", _) => {
                let (settings, problems) = crate::aws::config::settings_from_toml(v, text, file);
                out.config.aws = settings;
                out.problems.extend(problems);
            }
            ("databases", other) => {
                out.problems.push(problem(format!(
                    "expected a table of databases, found {}",
                    other.type_str()
                )));
                continue;
            }
            ("theme" | "keymap" | "audit_log", other) => {
                out.problems.push(problem(format!(
                    "expected a string, found {}",
                    other.type_str()
                )));
                continue;
            }
            ("read_only", other) => {
                out.problems.push(problem(format!(
                    "expected true or false, found {}",
                    other.type_str()
                )));
                continue;
            }
            _ => {
                out.problems.push(problem(format!(
                    "unknown field \"{key}\", expected one of {}",
                    CONFIG_FIELDS.join(", ")
                )));
                continue;
            }
        }
        out.lines.insert(key.to_string(), line);
    }
    out
}

/// What the command line asks for. `Default` means "nothing given".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// `--theme`.
    pub theme: Option<String>,
    /// `--keymap`.
    pub keymap: Option<String>,
    /// `--config-dir`; `None` resolves [`Paths`] from the environment.
    pub config_dir: Option<PathBuf>,
    /// `--read-only` (`Some(true)` forces it on).
    pub read_only: Option<bool>,
    /// `--audit-log`.
    pub audit_log: Option<PathBuf>,
    /// Whether `NO_COLOR` is set; `None` reads the process environment
    /// (tests pass `Some(..)` so they never depend on it).
    pub no_color: Option<bool>,
}

impl LoadOptions {
    fn no_color(&self) -> bool {
        self.no_color
            .unwrap_or_else(|| no_color_set(std::env::var_os("NO_COLOR").as_deref()))
    }
}

/// The configuration directory: `opts.config_dir`, else `OPSDECK_CONFIG_DIR`,
/// else the platform's; `None` if there is no home directory.
pub fn config_dir(opts: &LoadOptions) -> Option<PathBuf> {
    opts.config_dir
        .clone()
        .or_else(|| Paths::resolve(opts).ok().map(|p| p.config_dir))
}

/// `NO_COLOR` counts only when set to a non-empty value (<https://no-color.org>).
pub fn no_color_set(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// Where the chosen theme name came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// A command-line flag.
    Flag(String),
    /// `config.toml`, with the line of the field.
    ConfigFile(String, Option<usize>),
    /// `NO_COLOR` is set and nothing else chose a theme: `mono`.
    NoColor,
    /// Nothing chose: `default`.
    Default,
}

impl Choice {
    /// The name this choice selects.
    pub fn name(&self) -> &str {
        match self {
            Choice::Flag(n) | Choice::ConfigFile(n, _) => n,
            Choice::NoColor => "mono",
            Choice::Default => "default",
        }
    }
}

/// Decide the theme: flag, then config, then `mono` if `NO_COLOR`, then `default`.
pub fn choose_theme(flag: Option<&str>, config: Option<&str>, no_color: bool) -> Choice {
    match (flag, config) {
        (Some(f), _) => Choice::Flag(f.to_string()),
        (None, Some(c)) => Choice::ConfigFile(c.to_string(), None),
        (None, None) if no_color => Choice::NoColor,
        (None, None) => Choice::Default,
    }
}

/// Everything start-up needs.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// `config.toml` with command-line flags applied.
    pub config: Config,
    /// The configuration directory used, if any could be found.
    pub config_dir: Option<PathBuf>,
    pub theme: Theme,
    pub keymap: Keymap,
    /// Everything wrong, for the status bar.
    pub problems: Vec<Problem>,
}

/// Load config, theme and keymap. Never fails: mistakes become problems and
/// the shipped defaults fill in.
pub fn load(opts: &LoadOptions) -> Loaded {
    load_inner(opts).0
}

/// Everything [`load`] reports, plus every theme and keymap file in the user's
/// config directory (even unselected ones). Duplicates are removed.
pub fn check(opts: &LoadOptions) -> Vec<Problem> {
    check_with(opts, |_| Vec::new())
}

/// [`check`] with more checks run on the config directory (runbooks):
/// `extra` gets the config directory (if any) and returns its problems.
pub fn check_with(
    opts: &LoadOptions,
    extra: impl FnOnce(Option<&Path>) -> Vec<Problem>,
) -> Vec<Problem> {
    let (loaded, themes, keymaps) = load_inner(opts);
    let mut problems = loaded.problems;
    for name in themes.user_names() {
        if let Some((_, p)) = themes.resolve(&name) {
            problems.extend(p);
        }
    }
    for name in keymaps.user_names() {
        if let Some((_, p)) = keymaps.resolve(&name) {
            problems.extend(p);
        }
    }
    problems.extend(extra(loaded.config_dir.as_deref()));
    dedup(problems)
}

fn load_inner(opts: &LoadOptions) -> (Loaded, ThemeLibrary, KeymapLibrary) {
    let mut problems = Vec::new();
    let config_dir = match (&opts.config_dir, Paths::resolve(opts)) {
        (Some(d), _) => Some(d.clone()),
        (None, Ok(p)) => Some(p.config_dir),
        (None, Err(e)) => {
            problems.push(Problem::new("environment", None, None, e));
            None
        }
    };

    let mut file = ConfigFile::default();
    let mut config_name = String::new();
    if let Some(dir) = &config_dir {
        let path = dir.join("config.toml");
        config_name = path.display().to_string();
        match fs::read_to_string(&path) {
            Ok(text) => file = parse_config(&text, &config_name),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => problems.push(Problem::new(
                &config_name,
                None,
                None,
                format!("cannot read: {e}"),
            )),
        }
    }
    problems.append(&mut file.problems);

    let mut config = file.config.clone();
    if opts.theme.is_some() {
        config.theme.clone_from(&opts.theme);
    }
    if opts.keymap.is_some() {
        config.keymap.clone_from(&opts.keymap);
    }
    if opts.read_only.is_some() {
        config.read_only = opts.read_only;
    }
    if opts.audit_log.is_some() {
        config.audit_log.clone_from(&opts.audit_log);
    }

    let themes = ThemeLibrary::new(config_dir.as_deref().map(|d| d.join("themes")).as_deref());
    problems.extend(themes.problems().iter().cloned());
    let mut choice = choose_theme(
        opts.theme.as_deref(),
        file.config.theme.as_deref(),
        opts.no_color(),
    );
    if let Choice::ConfigFile(_, line) = &mut choice {
        *line = file.lines.get("theme").copied();
    }
    let theme = match themes.resolve(choice.name()) {
        Some((t, p)) => {
            problems.extend(p);
            t
        }
        None => {
            problems.push(unknown_name(
                &choice,
                &config_name,
                "theme",
                &themes.names(),
            ));
            let (t, p) = themes
                .resolve("default")
                .unwrap_or_else(|| (Theme::default(), Vec::new()));
            problems.extend(p);
            t
        }
    };

    let keymaps = KeymapLibrary::new(config_dir.as_deref().map(|d| d.join("keymaps")).as_deref());
    problems.extend(keymaps.problems().iter().cloned());
    let keymap_choice = match (&opts.keymap, &file.config.keymap) {
        (Some(f), _) => Choice::Flag(f.clone()),
        (None, Some(c)) => Choice::ConfigFile(c.clone(), file.lines.get("keymap").copied()),
        (None, None) => Choice::Default,
    };
    let keymap = match keymaps.resolve(keymap_choice.name()) {
        Some((k, p)) => {
            problems.extend(p);
            k
        }
        None => {
            problems.push(unknown_name(
                &keymap_choice,
                &config_name,
                "keymap",
                &keymaps.names(),
            ));
            let (k, p) = keymaps
                .resolve("default")
                .unwrap_or_else(|| (Keymap::default(), Vec::new()));
            problems.extend(p);
            k
        }
    };

    let loaded = Loaded {
        config,
        config_dir,
        theme,
        keymap,
        problems: dedup(problems),
    };
    (loaded, themes, keymaps)
}

fn unknown_name(choice: &Choice, config_file: &str, what: &str, known: &[String]) -> Problem {
    let message = format!(
        "unknown {what} \"{}\"; using \"default\" (available: {})",
        choice.name(),
        known.join(", ")
    );
    match choice {
        Choice::ConfigFile(_, line) => {
            Problem::new(config_file, *line, Some(what.to_string()), message)
        }
        _ => Problem::new(COMMAND_LINE, None, Some(format!("--{what}")), message),
    }
}

fn dedup(problems: Vec<Problem>) -> Vec<Problem> {
    let mut out: Vec<Problem> = Vec::with_capacity(problems.len());
    for p in problems {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

// ---- helpers shared by theme.rs and keymap.rs ----

/// A problem for a TOML syntax error, at the line of the error's span.
pub(crate) fn syntax_problem(file: &str, text: &str, err: &toml::de::Error) -> Problem {
    let line = err.span().map(|s| line_of(text, s.start));
    Problem::new(
        file,
        line,
        None,
        format!("TOML syntax error: {}", err.message().trim()),
    )
}

type Entry<'a, 'i> = (&'a Spanned<DeString<'i>>, &'a Spanned<DeValue<'i>>);

/// A table's entries in file order (the map itself is sorted by key).
pub(crate) fn sorted_entries<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut v: Vec<Entry<'a, 'i>> = table.iter().collect();
    v.sort_by_key(|(k, _)| k.span().start);
    v
}

/// A user file read from a directory: name (file stem), display path, text.
pub(crate) struct UserFile {
    pub name: String,
    pub file: String,
    pub text: String,
}

/// Read every `*.toml` in `dir` (sorted by name). A missing directory is fine.
pub(crate) fn read_toml_dir(dir: &Path) -> (Vec<UserFile>, Vec<Problem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return (files, problems),
        Err(e) => {
            problems.push(Problem::new(
                dir.display().to_string(),
                None,
                None,
                format!("cannot read directory: {e}"),
            ));
            return (files, problems);
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension() == Some(OsStr::new("toml")))
        .collect();
    paths.sort();
    for path in paths {
        let file = path.display().to_string();
        let Some(name) = path.file_stem().and_then(OsStr::to_str) else {
            problems.push(Problem::new(
                file,
                None,
                None,
                "file name is not valid UTF-8",
            ));
            continue;
        };
        match fs::read_to_string(&path) {
            Ok(text) => files.push(UserFile {
                name: name.to_string(),
                file,
                text,
            }),
            Err(e) => problems.push(Problem::new(file, None, None, format!("cannot read: {e}"))),
        }
    }
    (files, problems)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn env_overrides_paths() {
        let env = |k: &str| match k {
            ENV_CONFIG_DIR => Some(OsString::from("/c")),
            ENV_DATA_DIR => Some(OsString::from("/d")),
            ENV_STATE_DIR => Some(OsString::from("/s")),
            _ => None,
        };
        let p = Paths::resolve_with(None, env).unwrap();
        assert_eq!(p.config_dir, PathBuf::from("/c"));
        assert_eq!(p.audit_log(), PathBuf::from("/d/audit.jsonl"));
        assert_eq!(p.log_file(), PathBuf::from("/s/opsdeck.log"));
    }

    #[test]
    fn empty_env_value_is_ignored() {
        let env = |k: &str| (k == ENV_CONFIG_DIR).then(OsString::new);
        if let Ok(p) = Paths::resolve_with(None, env) {
            assert_ne!(p.config_dir, PathBuf::new());
        }
    }

    #[test]
    fn config_dir_flag_beats_env() {
        let env = |k: &str| Some(OsString::from(format!("/{k}")));
        let p = Paths::resolve_with(Some(Path::new("/flag")), env).unwrap();
        assert_eq!(p.config_dir, PathBuf::from("/flag"));
        assert_eq!(p.data_dir, PathBuf::from(format!("/{ENV_DATA_DIR}")));
    }

    #[test]
    fn serde_and_parser_agree() {
        let text =
            "theme = \"mono\"\nkeymap = \"vim\"\nread_only = true\naudit_log = \"/tmp/a.jsonl\"\n";
        let via_serde: Config = toml::from_str(text).unwrap();
        let parsed = parse_config(text, "c.toml");
        assert!(parsed.problems.is_empty());
        assert_eq!(parsed.config, via_serde);
        assert_eq!(parsed.lines.get("read_only"), Some(&3));
        assert!(toml::from_str::<Config>("colour = 1").is_err());
    }

    #[test]
    fn no_color_needs_a_value() {
        assert!(!no_color_set(None));
        assert!(!no_color_set(Some(OsStr::new(""))));
        assert!(no_color_set(Some(OsStr::new("1"))));
    }
}
