//! Configuration: where files live, `config.toml`, and loading the theme and
//! keymap the user asked for.
//!
//! Precedence: embedded defaults < `config.toml` < command-line flags. With
//! `NO_COLOR` set (non-empty) and no theme chosen by flag or config, the `mono`
//! theme is used. Nothing is ever written on first run; a missing config
//! directory or `config.toml` is not a problem. Every mistake is collected as a
//! [`Problem`] with file, line and key; loading itself never fails.
//!
//! Here: `config.toml` itself; `databases` reads its `[databases]`;
//! `load` loads everything start-up needs and checks every user file.

mod databases;
mod load;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::PathBuf;

use toml::de::DeValue;

pub use databases::DatabaseEntry;
pub use load::{check, check_with, load};

use crate::keymap::Keymap;
pub use crate::paths::{ENV_CONFIG_DIR, ENV_DATA_DIR, ENV_STATE_DIR, Paths};
use crate::problem::{Place, Problem};
use crate::theme::Theme;
use crate::toml_doc::{Doc, sorted_entries};

/// The `Problem::file` used for mistakes in command-line flags.
pub const COMMAND_LINE: &str = "command line";

/// The contents of `config.toml` (after command-line flags are applied, in
/// [`Loaded::config`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Config {
    /// Theme name (`themes/<name>.toml` or a shipped theme).
    pub theme: Option<String>,
    /// Keymap name (`keymaps/<name>.toml` or a shipped keymap).
    pub keymap: Option<String>,
    /// Refuse every mutating action (`None`: not set, i.e. false).
    pub read_only: Option<bool>,
    /// Where `read_only = true` was set (config file and line, or the
    /// command line).
    pub read_only_at: Option<Place>,
    /// Set when a safety setting (`read_only`, `audit_log`) could not be
    /// read: opsdeck then runs read-only (fail-closed) and says why.
    pub read_only_reason: Option<String>,
    /// Audit log path; `None` means `<data_dir>/audit.jsonl`.
    pub audit_log: Option<PathBuf>,
    /// PostgreSQL databases by display name: `[databases.orders-db]
    /// url = "postgres://..."` (or `orders-db = "postgres://..."`).
    pub databases: BTreeMap<String, DatabaseEntry>,
    /// `[aws]`: profile, region, clusters, log groups, metrics and alarms.
    pub aws: crate::aws::AwsSettings,
}

impl Config {
    /// Fail closed: a problem in (or hiding) a safety setting makes the
    /// session read-only, with the problem as the reason.
    fn force_read_only(&mut self, problem: &Problem) {
        self.read_only = Some(true);
        if self.read_only_reason.is_none() {
            self.read_only_reason = Some(problem.to_string());
        }
    }

    /// What makes the session read-only, worded for the messages that say
    /// why an action was blocked (`started with --read-only`,
    /// `read_only = true in <file>:<line>`, ...); `None` when it is not.
    /// `flag` is the `--read-only` of the command line.
    pub fn read_only_origin(&self, flag: bool) -> Option<String> {
        let command_line = |at: &Place| at.file == COMMAND_LINE;
        if flag || self.read_only_at.as_ref().is_some_and(command_line) {
            return Some("started with --read-only".into());
        }
        if let Some(reason) = &self.read_only_reason {
            return Some(format!("a safety setting could not be read: {reason}"));
        }
        if self.read_only != Some(true) {
            return None;
        }
        Some(match &self.read_only_at {
            Some(Place {
                file,
                line: Some(line),
                ..
            }) => format!("read_only = true in {file}:{line}"),
            Some(Place { file, .. }) => format!("read_only = true in {file}"),
            None => "read_only = true in the configuration".into(),
        })
    }

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
    let doc = Doc::new(text, file);
    let root = match doc.parse() {
        Ok(t) => t,
        Err(p) => {
            out.config.force_read_only(&p);
            out.problems.push(p);
            return out;
        }
    };
    for (k, v) in sorted_entries(root.get_ref()) {
        let key = k.get_ref().as_ref();
        let ok = match (key, v.get_ref()) {
            ("theme" | "keymap" | "audit_log", DeValue::String(s)) => {
                let s = s.to_string();
                match key {
                    "theme" => out.config.theme = Some(s),
                    "keymap" => out.config.keymap = Some(s),
                    _ => out.config.audit_log = Some(PathBuf::from(s)),
                }
                true
            }
            ("read_only", DeValue::Boolean(b)) => {
                // A forced read-only (a bad audit_log above) is not undone.
                out.config.read_only = Some(*b || out.config.read_only_reason.is_some());
                out.config.read_only_at = b.then(|| Place {
                    file: file.to_string(),
                    line: Some(doc.line(k.span().start)),
                    key: Some(key.to_string()),
                });
                true
            }
            ("databases", DeValue::Table(t)) => {
                out.config.databases = databases::databases(&doc, t, &mut out.problems);
                true
            }
            ("aws", _) => {
                let (settings, problems) = crate::aws::config::settings_from_toml(v, &doc);
                out.config.aws = settings;
                out.problems.extend(problems);
                true
            }
            ("databases", _) => {
                let p = doc.wrong_type(key, "a table of databases", v);
                out.problems.push(p);
                false
            }
            ("theme" | "keymap" | "audit_log", _) => {
                let p = doc.wrong_type(key, "a string", v);
                if key == "audit_log" {
                    out.config.force_read_only(&p);
                }
                out.problems.push(p);
                false
            }
            ("read_only", _) => {
                let p = doc.wrong_type(key, "true or false", v);
                out.config.force_read_only(&p);
                out.problems.push(p);
                false
            }
            _ => {
                out.problems.push(doc.unknown_field("", k, CONFIG_FIELDS));
                false
            }
        };
        if ok {
            out.lines.insert(key.to_string(), doc.line(k.span().start));
        }
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
    /// Set when a safety setting (`read_only`, `audit_log`) could not be
    /// read: opsdeck then runs read-only (fail-closed) and says why.
    pub read_only_reason: Option<String>,
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
    opts.config_dir.clone().or_else(|| {
        Paths::resolve(opts.config_dir.as_deref())
            .ok()
            .map(|p| p.config_dir)
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_read_with_its_line() {
        let text =
            "theme = \"mono\"\nkeymap = \"vim\"\nread_only = true\naudit_log = \"/tmp/a.jsonl\"\n";
        let parsed = parse_config(text, "c.toml");
        assert!(parsed.problems.is_empty(), "{:?}", parsed.problems);
        assert_eq!(parsed.config.theme.as_deref(), Some("mono"));
        assert_eq!(parsed.config.keymap.as_deref(), Some("vim"));
        assert_eq!(parsed.config.read_only, Some(true));
        assert_eq!(parsed.config.audit_log, Some(PathBuf::from("/tmp/a.jsonl")));
        assert_eq!(parsed.lines.get("read_only"), Some(&3));
        let bad = parse_config("colour = 1", "c.toml");
        assert_eq!(bad.problems.len(), 1);
        assert!(
            bad.problems[0]
                .message
                .starts_with("unknown field \"colour\"")
        );
    }

    #[test]
    fn no_color_needs_a_value() {
        assert!(!no_color_set(None));
        assert!(!no_color_set(Some(OsStr::new(""))));
        assert!(no_color_set(Some(OsStr::new("1"))));
    }
}
