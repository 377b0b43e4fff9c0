//! Themes: semantic slots mapped to styles. Files live in `themes/*.toml`
//! (embedded) and the user's config directory (`<config_dir>/themes/<name>.toml`);
//! `inherits` chains them.
//!
//! File format (TOML):
//! - optional top-level `inherits = "<theme>"`;
//! - slots by dotted name, quoted (`"health.ok" = "green"`) or as tables
//!   (`[health]` / `ok = "green"`); nested tables are flattened;
//! - a value is a colour string (the foreground) or a style table whose keys
//!   are only `fg`, `bg` and `modifiers` (any subset), e.g.
//!   `selection = { fg = "black", bg = "cyan", modifiers = ["bold"] }`;
//! - colours use ratatui's `Color::from_str` (`red`, `bright-blue`, `42`,
//!   `#00ff00`, `reset`); modifiers are `bold`, `dim`, `italic`, `underlined`,
//!   `reversed`, `crossed_out`, `slow_blink`;
//! - a group name that is a prefix of slot names (`health`, `log`) may be set
//!   too and is the fallback for its members.
//!
//! Resolution: the files of the inheritance chain are merged per name, the
//! nearer file winning, a name set in a file replacing the whole style. Each
//! [`Slot`] then takes the first name set along its dotted name
//! (`health.ok`, `health`), then `base`, then the empty style; so after
//! resolution every slot has a style.
//!
//! Which file a name means:
//! - a shipped theme's `inherits = "x"` means the user's `x` if there is one,
//!   else the shipped `x` (a user's `default.toml` thus tweaks `dark-256` too);
//! - a user theme with the same name as a shipped one overrides it per slot:
//!   it implicitly inherits the shipped one (also when it says
//!   `inherits = "<its own name>"`);
//! - **a user theme with a new name and no `inherits` inherits `default`**
//!   (so a file setting two slots is a complete theme);
//! - `inherits` naming an unknown theme, or closing a cycle, is a problem;
//!   the chain then continues with the shipped `default` (unless already in it).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use toml::de::{DeTable, DeValue};

use crate::problem::{Problem, line_of};
use crate::toml_doc::{sorted_entries, syntax_problem};

macro_rules! slots {
    ($( $variant:ident = $name:literal, )+) => {
        /// A semantic place in the UI that a theme gives a style to.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Slot { $( $variant, )+ }

        impl Slot {
            pub const ALL: &'static [Slot] = &[ $( Slot::$variant, )+ ];

            /// Dotted name used in theme files (`health.ok`).
            pub fn name(self) -> &'static str {
                match self { $( Slot::$variant => $name, )+ }
            }

            pub fn from_name(s: &str) -> Option<Slot> {
                match s { $( $name => Some(Slot::$variant), )+ _ => None }
            }
        }
    };
}

slots! {
    Base = "base",
    Border = "border",
    BorderFocused = "border.focused",
    Title = "title",
    TitleFocused = "title.focused",
    Header = "header",
    Selection = "selection",
    Hint = "hint",
    HelpKey = "help.key",
    HealthOk = "health.ok",
    HealthWarn = "health.warn",
    HealthCritical = "health.critical",
    HealthUnknown = "health.unknown",
    LogTimestamp = "log.timestamp",
    LogSource = "log.source",
    LogTrace = "log.trace",
    LogDebug = "log.debug",
    LogInfo = "log.info",
    LogWarn = "log.warn",
    LogError = "log.error",
    SearchMatch = "search.match",
    SparkLine = "spark.line",
    SparkWarn = "spark.warn",
    SparkCritical = "spark.critical",
    StatusBar = "status.bar",
    StatusContext = "status.context",
    StatusReadonly = "status.readonly",
    StatusStale = "status.stale",
    StatusProblem = "status.problem",
    RunbookDone = "runbook.done",
    RunbookFailing = "runbook.failing",
    RunbookPending = "runbook.pending",
    Dialog = "dialog",
    DialogBorder = "dialog.border",
    Danger = "danger",
    Input = "input",
}

impl Slot {
    /// The slot's dotted name and each shorter prefix (`health.ok`, `health`).
    fn fallbacks(self) -> impl Iterator<Item = &'static str> {
        let name = self.name();
        std::iter::successors(Some(name), |n| n.rfind('.').map(|i| &n[..i]))
    }
}

/// True for a name a theme file may set: a slot (`health.ok`) or a group that
/// is a prefix of slot names (`health`).
pub fn is_settable(name: &str) -> bool {
    Slot::from_name(name).is_some()
        || Slot::ALL.iter().any(|s| {
            s.name()
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('.'))
        })
}

/// The shipped themes: (name, file text).
pub const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../themes/default.toml")),
    ("dark-256", include_str!("../themes/dark-256.toml")),
    (
        "high-contrast",
        include_str!("../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../themes/mono.toml")),
];

/// The `Problem::file` of a shipped theme.
pub fn shipped_file(name: &str) -> String {
    format!("embedded:themes/{name}.toml")
}

/// Modifier names accepted in theme files.
pub const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("reversed", Modifier::REVERSED),
    ("crossed_out", Modifier::CROSSED_OUT),
    ("slow_blink", Modifier::SLOW_BLINK),
];

/// A resolved theme: every slot has a style.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub styles: HashMap<Slot, Style>,
}

impl Default for Theme {
    /// The shipped `default` theme.
    fn default() -> Self {
        Theme::shipped("default")
            .unwrap_or_else(|| Theme::from_entries("default", &BTreeMap::new()))
    }
}

impl Theme {
    /// The style of a slot; a slot the theme leaves out falls back along its
    /// dotted name (`health.ok` -> `health`) and finally to `base`.
    pub fn style(&self, slot: Slot) -> Style {
        if let Some(s) = self.styles.get(&slot) {
            return *s;
        }
        slot.fallbacks()
            .filter_map(Slot::from_name)
            .chain([Slot::Base])
            .find_map(|s| self.styles.get(&s).copied())
            .unwrap_or_default()
    }

    /// A theme with no colours at all: bold, reverse and underline only (the
    /// shipped `mono`).
    pub fn mono() -> Theme {
        Theme::shipped("mono").unwrap_or_else(|| Theme::from_entries("mono", &BTreeMap::new()))
    }

    /// A shipped theme, ignoring the user's files.
    pub fn shipped(name: &str) -> Option<Theme> {
        ThemeLibrary::new(None).resolve(name).map(|(t, _)| t)
    }

    /// Resolve every slot from merged name -> style entries.
    fn from_entries(name: &str, entries: &BTreeMap<String, Style>) -> Theme {
        let base = entries.get("base").copied().unwrap_or_default();
        let styles = Slot::ALL
            .iter()
            .map(|&slot| {
                let style = slot
                    .fallbacks()
                    .find_map(|n| entries.get(n).copied())
                    .unwrap_or(base);
                (slot, style)
            })
            .collect();
        Theme {
            name: name.to_string(),
            styles,
        }
    }
}

/// One parsed theme file, before inheritance.
#[derive(Debug, Clone, Default)]
pub struct ThemeFile {
    /// The file as shown in problems.
    pub file: String,
    /// `inherits` and its 1-based line.
    pub inherits: Option<(String, usize)>,
    /// Settable name (slot or group) -> style.
    pub entries: BTreeMap<String, Style>,
    pub problems: Vec<Problem>,
}

/// Parse one theme file. Never fails: mistakes become problems and the entry
/// concerned is skipped (or kept without the bad part).
pub fn parse_theme(text: &str, file: &str) -> ThemeFile {
    let mut p = ThemeParser {
        text,
        out: ThemeFile {
            file: file.to_string(),
            ..ThemeFile::default()
        },
        lines: BTreeMap::new(),
    };
    match DeTable::parse(text) {
        Ok(root) => p.table("", root.get_ref()),
        Err(e) => p.out.problems.push(syntax_problem(file, text, &e)),
    }
    p.out
}

struct ThemeParser<'t> {
    text: &'t str,
    out: ThemeFile,
    /// Line each name was set on (to report names set twice).
    lines: BTreeMap<String, usize>,
}

impl ThemeParser<'_> {
    fn line(&self, offset: usize) -> usize {
        line_of(self.text, offset)
    }

    fn problem(&mut self, line: usize, key: &str, message: String) {
        self.out.problems.push(Problem::new(
            &self.out.file,
            Some(line),
            Some(key.to_string()),
            message,
        ));
    }

    fn table(&mut self, prefix: &str, table: &DeTable<'_>) {
        for (k, v) in sorted_entries(table) {
            let key = k.get_ref().as_ref();
            let name = if prefix.is_empty() {
                key.to_string()
            } else {
                format!("{prefix}.{key}")
            };
            let line = self.line(k.span().start);
            if name == "inherits" {
                match v.get_ref() {
                    DeValue::String(s) => self.out.inherits = Some((s.to_string(), line)),
                    other => self.problem(
                        line,
                        &name,
                        format!("expected a theme name, found {}", other.type_str()),
                    ),
                }
                continue;
            }
            match v.get_ref() {
                DeValue::Table(t)
                    if !t
                        .keys()
                        .all(|k| ["fg", "bg", "modifiers"].contains(&k.get_ref().as_ref())) =>
                {
                    self.table(&name, t);
                    continue;
                }
                _ => {}
            }
            if !is_settable(&name) {
                self.problem(line, &name, format!("unknown slot \"{name}\""));
                continue;
            }
            let style = match v.get_ref() {
                DeValue::String(s) => {
                    let vline = self.line(v.span().start);
                    self.colour(vline, &name, s).map(|c| Style::new().fg(c))
                }
                DeValue::Table(t) => Some(self.style_table(&name, t)),
                other => {
                    self.problem(
                        line,
                        &name,
                        format!(
                            "expected a colour or a style table {{ fg, bg, modifiers }}, found {}",
                            other.type_str()
                        ),
                    );
                    None
                }
            };
            if let Some(first) = self.lines.get(&name).copied() {
                self.problem(
                    line,
                    &name,
                    format!("\"{name}\" is set twice (lines {first} and {line})"),
                );
            }
            self.lines.insert(name.clone(), line);
            if let Some(style) = style {
                self.out.entries.insert(name, style);
            }
        }
    }

    fn colour(&mut self, line: usize, key: &str, s: &str) -> Option<Color> {
        match s.parse::<Color>() {
            Ok(c) => Some(c),
            Err(_) => {
                self.problem(
                    line,
                    key,
                    format!("bad colour \"{s}\": expected a name (red, bright-blue), a number 0-255 or #rrggbb"),
                );
                None
            }
        }
    }

    fn style_table(&mut self, name: &str, t: &DeTable<'_>) -> Style {
        let mut style = Style::new();
        for (k, v) in sorted_entries(t) {
            let field = k.get_ref().as_ref();
            let key = format!("{name}.{field}");
            let line = self.line(v.span().start);
            match (field, v.get_ref()) {
                ("fg", DeValue::String(s)) => {
                    if let Some(c) = self.colour(line, &key, s) {
                        style = style.fg(c);
                    }
                }
                ("bg", DeValue::String(s)) => {
                    if let Some(c) = self.colour(line, &key, s) {
                        style = style.bg(c);
                    }
                }
                ("modifiers", DeValue::Array(items)) => {
                    for item in items.iter() {
                        let iline = self.line(item.span().start);
                        style = self.modifier(iline, &key, item.get_ref(), style);
                    }
                }
                ("modifiers", DeValue::String(_)) => {
                    style = self.modifier(line, &key, v.get_ref(), style)
                }
                ("modifiers", other) => self.problem(
                    line,
                    &key,
                    format!("expected a list of modifiers, found {}", other.type_str()),
                ),
                (_, other) => self.problem(
                    line,
                    &key,
                    format!("expected a colour, found {}", other.type_str()),
                ),
            }
        }
        style
    }

    fn modifier(&mut self, line: usize, key: &str, v: &DeValue<'_>, style: Style) -> Style {
        let DeValue::String(s) = v else {
            self.problem(
                line,
                key,
                format!("expected a modifier name, found {}", v.type_str()),
            );
            return style;
        };
        match MODIFIERS.iter().find(|(n, _)| *n == s.as_ref()) {
            Some((_, m)) => style.add_modifier(*m),
            None => {
                let names: Vec<&str> = MODIFIERS.iter().map(|(n, _)| *n).collect();
                self.problem(
                    line,
                    key,
                    format!("bad modifier \"{s}\": expected one of {}", names.join(", ")),
                );
                style
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Shipped,
    User,
}

/// The shipped themes and the user's theme files, parsed once.
#[derive(Debug, Clone)]
pub struct ThemeLibrary {
    files: crate::library::Library<ThemeFile>,
}

impl ThemeLibrary {
    /// The shipped themes plus every `*.toml` in `user_dir` (if given; a
    /// missing directory is fine).
    pub fn new(user_dir: Option<&Path>) -> Self {
        let files = crate::library::Library::new(SHIPPED, shipped_file, parse_theme, user_dir);
        Self { files }
    }

    /// Problems reading the user's theme directory or its files.
    pub fn problems(&self) -> &[Problem] {
        &self.files.problems
    }

    /// Add (or replace) a user theme from text; `file` names it in problems.
    pub fn add_user(&mut self, name: &str, text: &str, file: &str) {
        self.files.add_user(name, text, file);
    }

    /// Every theme name, shipped and user, sorted and unique.
    pub fn names(&self) -> Vec<String> {
        self.files.names()
    }

    /// Names of the user's theme files.
    pub fn user_names(&self) -> Vec<String> {
        self.files.user_names()
    }

    fn file(&self, node: &(String, Origin)) -> Option<&ThemeFile> {
        match node.1 {
            Origin::Shipped => self.files.shipped.get(&node.0),
            Origin::User => self.files.user.get(&node.0),
        }
    }

    /// What a name refers to from outside a chain: the user's file first.
    fn lookup(&self, name: &str) -> Option<(String, Origin)> {
        if self.files.user.contains_key(name) {
            Some((name.to_string(), Origin::User))
        } else if self.files.shipped.contains_key(name) {
            Some((name.to_string(), Origin::Shipped))
        } else {
            None
        }
    }

    /// Resolve a theme with its inheritance chain. `None` if no theme has this
    /// name; otherwise the theme and the problems of every file in the chain.
    pub fn resolve(&self, name: &str) -> Option<(Theme, Vec<Problem>)> {
        let mut node = self.lookup(name)?;
        let mut chain: Vec<(String, Origin)> = Vec::new();
        let mut problems = Vec::new();
        let shipped_default = ("default".to_string(), Origin::Shipped);
        loop {
            chain.push(node.clone());
            let Some(file) = self.file(&node) else { break };
            problems.extend(file.problems.iter().cloned());
            let next = match (&file.inherits, node.1) {
                (Some((parent, line)), origin) => {
                    let target = if origin == Origin::User && *parent == node.0 {
                        self.files
                            .shipped
                            .contains_key(parent)
                            .then(|| (parent.clone(), Origin::Shipped))
                    } else {
                        self.lookup(parent)
                    };
                    let problem = |message: String| {
                        Problem::new(
                            &file.file,
                            Some(*line),
                            Some("inherits".to_string()),
                            message,
                        )
                    };
                    match target {
                        None => {
                            problems.push(problem(format!(
                                "unknown theme \"{parent}\" (available: {})",
                                self.names().join(", ")
                            )));
                            Some(shipped_default.clone())
                        }
                        Some(t) if chain.contains(&t) => {
                            let start = chain.iter().position(|c| *c == t).unwrap_or(0);
                            let mut names: Vec<&str> =
                                chain[start..].iter().map(|c| c.0.as_str()).collect();
                            names.push(&t.0);
                            problems.push(problem(format!(
                                "inheritance cycle: {}",
                                names.join(" -> ")
                            )));
                            Some(shipped_default.clone())
                        }
                        Some(t) => Some(t),
                    }
                }
                (None, Origin::User) if self.files.shipped.contains_key(&node.0) => {
                    Some((node.0.clone(), Origin::Shipped))
                }
                (None, Origin::User) => self.lookup("default"),
                (None, Origin::Shipped) => None,
            };
            match next {
                Some(n) if !chain.contains(&n) => node = n,
                _ => break,
            }
        }
        let mut entries = BTreeMap::new();
        for node in chain.iter().rev() {
            if let Some(f) = self.file(node) {
                entries.extend(f.entries.iter().map(|(k, v)| (k.clone(), *v)));
            }
        }
        Some((Theme::from_entries(name, &entries), problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_walks_dotted_names() {
        let f = parse_theme(
            "base = { fg = \"white\" }\nhealth = \"red\"\n\"health.ok\" = \"green\"\n",
            "t.toml",
        );
        assert!(f.problems.is_empty(), "{:?}", f.problems);
        let t = Theme::from_entries("t", &f.entries);
        assert_eq!(t.style(Slot::HealthOk).fg, Some(Color::Green));
        assert_eq!(t.style(Slot::HealthWarn).fg, Some(Color::Red));
        assert_eq!(t.style(Slot::LogInfo).fg, Some(Color::White));
    }

    #[test]
    fn groups_are_settable_but_partial_words_are_not() {
        assert!(is_settable("health"));
        assert!(is_settable("health.ok"));
        assert!(!is_settable("heal"));
        assert!(!is_settable("health.ok.x"));
    }

    #[test]
    fn style_table_and_modifiers() {
        let f = parse_theme(
            "[selection]\nfg = \"black\"\nbg = \"#00ff00\"\nmodifiers = [\"bold\", \"reversed\"]\n",
            "t.toml",
        );
        assert!(f.problems.is_empty(), "{:?}", f.problems);
        let s = f.entries["selection"];
        assert_eq!(s.fg, Some(Color::Black));
        assert_eq!(s.bg, Some(Color::Rgb(0, 255, 0)));
        assert!(s.add_modifier.contains(Modifier::BOLD | Modifier::REVERSED));
    }

    #[test]
    fn style_falls_back_for_hand_built_themes() {
        let mut styles = HashMap::new();
        styles.insert(Slot::Base, Style::new().fg(Color::Blue));
        styles.insert(Slot::Border, Style::new().fg(Color::Red));
        let t = Theme {
            name: "x".into(),
            styles,
        };
        assert_eq!(t.style(Slot::BorderFocused).fg, Some(Color::Red));
        assert_eq!(t.style(Slot::HealthOk).fg, Some(Color::Blue));
    }
}
