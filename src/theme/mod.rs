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
//! - `inherits` naming an unknown theme, closing a cycle (a user theme that
//!   inherits itself with no shipped theme of its name to override is a
//!   cycle), or making the chain longer than [`MAX_INHERITS`] files is a
//!   problem; the chain then continues with the shipped `default` (unless
//!   already in it).

mod parse;
mod slots;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use ratatui::style::Style;

pub use parse::{ThemeFile, parse_theme};
pub use slots::{MODIFIERS, Slot, is_settable};

use crate::problem::{Problem, some_names};

/// The shipped themes: (name, file text).
pub const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("dark-256", include_str!("../../themes/dark-256.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// How many theme files one inheritance chain may have: a longer chain is
/// cut there, with a problem.
pub const MAX_INHERITS: usize = 32;

/// The `Problem::file` of a shipped theme.
pub fn shipped_file(name: &str) -> String {
    format!("embedded:themes/{name}.toml")
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// At most [`MAX_INHERITS`] files are followed.
    pub fn resolve(&self, name: &str) -> Option<(Theme, Vec<Problem>)> {
        self.resolve_with(name, true)
    }

    /// Every problem of the user's theme files: each file's own, once, and
    /// those of each user theme's inheritance (unknown names, cycles, chains
    /// too long). Linear in the files, however many themes inherit a file
    /// with many problems.
    pub fn user_problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        for (name, file) in &self.files.user {
            out.extend(file.problems.iter().cloned());
            if let Some((_, chain)) = self.resolve_with(name, false) {
                out.extend(chain);
            }
        }
        out
    }

    /// The theme of this name, resolved, without its problems.
    pub fn theme(&self, name: &str) -> Option<Theme> {
        self.resolve_with(name, false).map(|(t, _)| t)
    }

    /// [`ThemeLibrary::resolve`]; with `file_problems` false, only the
    /// problems of the inheritance itself.
    fn resolve_with(&self, name: &str, file_problems: bool) -> Option<(Theme, Vec<Problem>)> {
        let mut node = self.lookup(name)?;
        let mut chain: Vec<(String, Origin)> = Vec::new();
        let mut seen: HashSet<(String, Origin)> = HashSet::new();
        let mut problems = Vec::new();
        loop {
            chain.push(node.clone());
            seen.insert(node.clone());
            let Some(file) = self.file(&node) else { break };
            if file_problems {
                problems.extend(file.problems.iter().cloned());
            }
            let next = self.next_in_chain(&node, file, &chain, &seen, &mut problems);
            match next {
                Some(n) if !seen.contains(&n) => node = n,
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

    /// The file `node` inherits (`file` is its file, `chain` the files so
    /// far, nearest last); a problem for an unknown name, a cycle or a chain
    /// too long, after which the chain goes on with the shipped `default`.
    fn next_in_chain(
        &self,
        node: &(String, Origin),
        file: &ThemeFile,
        chain: &[(String, Origin)],
        seen: &HashSet<(String, Origin)>,
        problems: &mut Vec<Problem>,
    ) -> Option<(String, Origin)> {
        let shipped_default = ("default".to_string(), Origin::Shipped);
        let Some((parent, line)) = &file.inherits else {
            return match node.1 {
                Origin::User if self.files.shipped.contains_key(&node.0) => {
                    Some((node.0.clone(), Origin::Shipped))
                }
                Origin::User => self.lookup("default"),
                Origin::Shipped => None,
            };
        };
        let problem = |message: String| {
            Problem::new(&file.file, Some(*line), Some("inherits".into()), message)
        };
        // A user theme naming itself means the shipped theme it overrides;
        // with none to override, it names itself: a cycle.
        let target = if node.1 == Origin::User && *parent == node.0 {
            Some(if self.files.shipped.contains_key(parent) {
                (parent.clone(), Origin::Shipped)
            } else {
                node.clone()
            })
        } else {
            self.lookup(parent)
        };
        match target {
            None => {
                problems.push(problem(format!(
                    "unknown theme \"{parent}\" (available: {})",
                    some_names(&self.names())
                )));
                Some(shipped_default)
            }
            Some(t) if seen.contains(&t) => {
                let start = chain.iter().position(|c| *c == t).unwrap_or(0);
                let mut names: Vec<&str> = chain[start..].iter().map(|c| c.0.as_str()).collect();
                names.push(&t.0);
                problems.push(problem(format!(
                    "inheritance cycle: {}",
                    names.join(" -> ")
                )));
                Some(shipped_default)
            }
            Some(_) if chain.len() >= MAX_INHERITS => {
                problems.push(problem(format!(
                    "inheritance chain longer than {MAX_INHERITS} themes (from \"{}\"); \"{parent}\" and what it inherits are left out",
                    chain[0].0
                )));
                Some(shipped_default)
            }
            Some(t) => Some(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::{Color, Modifier};

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
