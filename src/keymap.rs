//! Keymaps: per-mode tables from key sequences to actions.
//!
//! File format (TOML), one table per [`Mode`] (`[global]`, `[logs]`, ...):
//! `"ctrl-d" = "half_page_down"`, a list for several actions
//! (`x = ["a", "b"]`), `"none"` to unbind a key of the shipped map, and
//! multi-key sequences written space-separated (`"g g" = "top"`).
//!
//! Key syntax: a single character (`q`, `G`, `?`), or a name (`space`,
//! `enter`, `esc`, `tab`, `backtab`, `backspace`, `delete`, `insert`, `up`,
//! `down`, `left`, `right`, `pgup`, `pgdown`, `home`, `end`, `f1`..`f12`),
//! with `ctrl-`, `alt-` and `shift-` prefixes. Names and prefixes are
//! case-insensitive; characters keep their case (`G` is `shift-g`), except
//! with `ctrl-`, where `ctrl-D` is `ctrl-d` (terminals cannot tell them apart).
//!
//! Merging: the user's `<config_dir>/keymaps/<name>.toml` is applied key by
//! key onto the shipped map of that name (or onto `default` for a new name).
//! A user binding replaces the shipped binding of the same sequence and also
//! any shipped binding it would make unreachable or that would make it
//! unreachable (binding `g` drops a shipped `g g`). Within one file, a key
//! bound twice (after normalisation) or a key that is a prefix of another
//! key is a problem; the later binding is kept.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use toml::de::{DeTable, DeValue};

use crate::action::{Action, Mode};
use crate::problem::{Problem, line_of};
use crate::toml_doc::{sorted_entries, syntax_problem};

/// One key with its modifiers, normalised (shift folded into the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl KeyChord {
    /// Normalise: shift is folded into characters (`shift-g` is `G`) and
    /// into `backtab` (`shift-tab`); with ctrl, letters are lower case (`ctrl-D` is `ctrl-d`).
    pub fn new(code: KeyCode, modifiers: KeyModifiers) -> Self {
        let mut modifiers = modifiers;
        let mut code = code;
        match code {
            KeyCode::Char(c) => {
                if modifiers.contains(KeyModifiers::CONTROL) {
                    code = KeyCode::Char(c.to_ascii_lowercase());
                } else if modifiers.contains(KeyModifiers::SHIFT) {
                    code = KeyCode::Char(c.to_ascii_uppercase());
                }
                modifiers.remove(KeyModifiers::SHIFT);
            }
            KeyCode::Tab | KeyCode::BackTab
                if code == KeyCode::BackTab || modifiers.contains(KeyModifiers::SHIFT) =>
            {
                code = KeyCode::BackTab;
                modifiers.remove(KeyModifiers::SHIFT);
            }
            _ => {}
        }
        Self { code, modifiers }
    }

    /// Parse one key (`ctrl-d`, `G`, `shift-tab`, `f5`). The error says why,
    /// without repeating the key.
    pub fn parse(text: &str) -> Result<KeyChord, String> {
        if text.is_empty() {
            return Err("empty key".to_string());
        }
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            let found = [
                ("ctrl-", KeyModifiers::CONTROL),
                ("alt-", KeyModifiers::ALT),
                ("shift-", KeyModifiers::SHIFT),
            ]
            .into_iter()
            .find(|(p, _)| lower.starts_with(p));
            let Some((prefix, m)) = found else { break };
            if rest.len() == prefix.len() {
                return Err(format!("no key after \"{rest}\""));
            }
            modifiers |= m;
            rest = &rest[prefix.len()..];
        }
        let mut chars = rest.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Ok(KeyChord::new(KeyCode::Char(c), modifiers));
        }
        let lower = rest.to_ascii_lowercase();
        let code = match lower.as_str() {
            "space" => KeyCode::Char(' '),
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" | "ins" => KeyCode::Insert,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdown" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            f if f.starts_with('f') => match f[1..].parse::<u8>() {
                Ok(n @ 1..=12) => KeyCode::F(n),
                _ => return Err(format!("unknown key name \"{rest}\"")),
            },
            _ => return Err(format!("unknown key name \"{rest}\"")),
        };
        Ok(KeyChord::new(code, modifiers))
    }

    pub fn from_event(ev: &KeyEvent) -> Self {
        Self::new(ev.code, ev.modifiers)
    }
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            write!(f, "ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            write!(f, "alt-")?;
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            write!(f, "shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => write!(f, "space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => write!(f, "enter"),
            KeyCode::Esc => write!(f, "esc"),
            KeyCode::Tab => write!(f, "tab"),
            KeyCode::BackTab => write!(f, "backtab"),
            KeyCode::Backspace => write!(f, "backspace"),
            KeyCode::Up => write!(f, "up"),
            KeyCode::Down => write!(f, "down"),
            KeyCode::Left => write!(f, "left"),
            KeyCode::Right => write!(f, "right"),
            KeyCode::PageUp => write!(f, "pgup"),
            KeyCode::PageDown => write!(f, "pgdown"),
            KeyCode::Home => write!(f, "home"),
            KeyCode::End => write!(f, "end"),
            KeyCode::Delete => write!(f, "delete"),
            KeyCode::Insert => write!(f, "insert"),
            KeyCode::F(n) => write!(f, "f{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// What a key sequence means in one mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    Actions(Vec<Action>),
    /// A prefix of a longer binding: wait for the next key.
    Pending,
    Unbound,
}

/// Bindings per mode.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keymap {
    pub name: String,
    pub modes: HashMap<Mode, HashMap<Vec<KeyChord>, Vec<Action>>>,
}

impl Keymap {
    /// Look a sequence up in one mode's table only (the core walks the layers).
    pub fn resolve(&self, mode: Mode, seq: &[KeyChord]) -> Resolved {
        let Some(table) = self.modes.get(&mode) else {
            return Resolved::Unbound;
        };
        if let Some(actions) = table.get(seq) {
            return Resolved::Actions(actions.clone());
        }
        if table
            .keys()
            .any(|k| k.len() > seq.len() && k.starts_with(seq))
        {
            Resolved::Pending
        } else {
            Resolved::Unbound
        }
    }

    /// Every binding of a mode as (`"g g"`, actions), sorted by key text.
    pub fn bindings(&self, mode: Mode) -> Vec<(String, Vec<Action>)> {
        let mut out: Vec<(String, Vec<Action>)> = self
            .modes
            .get(&mode)
            .map(|t| t.iter().map(|(k, a)| (seq_text(k), a.clone())).collect())
            .unwrap_or_default();
        out.sort();
        out
    }

    /// The keys bound to `action` in `mode`, shortest first (for hints).
    pub fn keys_for(&self, mode: Mode, action: Action) -> Vec<String> {
        let mut keys: Vec<String> = self
            .modes
            .get(&mode)
            .map(|t| {
                t.iter()
                    .filter(|(_, a)| a.contains(&action))
                    .map(|(k, _)| seq_text(k))
                    .collect()
            })
            .unwrap_or_default();
        keys.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
        keys
    }
}

/// `g g`, `ctrl-d`.
pub fn seq_text(seq: &[KeyChord]) -> String {
    seq.iter()
        .map(|k| k.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parse a space-separated key sequence (`g g`, `ctrl-w l`). A lone space
/// (`" "`) is the space key. The error is a full problem message.
pub fn parse_seq(text: &str) -> Result<Vec<KeyChord>, String> {
    if text == " " {
        return Ok(vec![KeyChord::new(KeyCode::Char(' '), KeyModifiers::NONE)]);
    }
    let parts: Vec<&str> = text.split_whitespace().collect();
    if parts.is_empty() {
        return Err(format!("bad key \"{text}\": empty key"));
    }
    parts
        .iter()
        .map(|p| {
            KeyChord::parse(p).map_err(|why| {
                if parts.len() == 1 {
                    format!("bad key \"{text}\": {why}")
                } else {
                    format!("bad key \"{text}\": \"{p}\": {why}")
                }
            })
        })
        .collect()
}

/// The shipped keymaps: (name, file text).
pub const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../keymaps/default.toml")),
    ("vim", include_str!("../keymaps/vim.toml")),
];

/// The `Problem::file` of a shipped keymap.
pub fn shipped_file(name: &str) -> String {
    format!("embedded:keymaps/{name}.toml")
}

/// One binding as written in a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub mode: Mode,
    pub seq: Vec<KeyChord>,
    /// Empty means `"none"`: unbind.
    pub actions: Vec<Action>,
    /// The key as written (`Ctrl-D`).
    pub key: String,
    /// 1-based line.
    pub line: usize,
}

/// One parsed keymap file: its valid bindings in file order (after dropping
/// those overridden by a later conflicting binding) and its problems.
#[derive(Debug, Clone, Default)]
pub struct KeymapFile {
    pub file: String,
    pub bindings: Vec<Binding>,
    pub problems: Vec<Problem>,
}

/// Parse one keymap file. Never fails: mistakes become problems and the
/// binding concerned is skipped.
pub fn parse_keymap(text: &str, file: &str) -> KeymapFile {
    let mut out = KeymapFile {
        file: file.to_string(),
        ..KeymapFile::default()
    };
    let root = match DeTable::parse(text) {
        Ok(t) => t,
        Err(e) => {
            out.problems.push(syntax_problem(file, text, &e));
            return out;
        }
    };
    let problem = |line: usize, key: String, message: String| {
        Problem::new(file, Some(line), Some(key), message)
    };
    for (mk, mv) in sorted_entries(root.get_ref()) {
        let mode_name = mk.get_ref().as_ref();
        let mline = line_of(text, mk.span().start);
        let Some(mode) = Mode::from_name(mode_name) else {
            let names: Vec<&str> = Mode::ALL.iter().map(|m| m.name()).collect();
            out.problems.push(problem(
                mline,
                mode_name.to_string(),
                format!(
                    "unknown mode \"{mode_name}\", expected one of {}",
                    names.join(", ")
                ),
            ));
            continue;
        };
        let DeValue::Table(table) = mv.get_ref() else {
            out.problems.push(problem(
                mline,
                mode_name.to_string(),
                format!(
                    "expected a table of key bindings, found {}",
                    mv.get_ref().type_str()
                ),
            ));
            continue;
        };
        let mut kept: Vec<Binding> = Vec::new();
        for (k, v) in sorted_entries(table) {
            let key = k.get_ref().as_ref();
            let dotted = format!("{mode_name}.{key}");
            let line = line_of(text, k.span().start);
            let seq = match parse_seq(key) {
                Ok(s) => s,
                Err(msg) => {
                    out.problems.push(problem(line, dotted, msg));
                    continue;
                }
            };
            let items: Vec<(&DeValue<'_>, usize)> = match v.get_ref() {
                DeValue::Array(a) if !a.is_empty() => a
                    .iter()
                    .map(|i| (i.get_ref(), line_of(text, i.span().start)))
                    .collect(),
                DeValue::String(_) => vec![(v.get_ref(), line_of(text, v.span().start))],
                other => {
                    out.problems.push(problem(
                        line,
                        dotted,
                        format!(
                            "expected an action name or a list of action names, found {}",
                            if other.is_array() {
                                "an empty list"
                            } else {
                                other.type_str()
                            }
                        ),
                    ));
                    continue;
                }
            };
            let mut actions = Vec::new();
            let mut unbind = false;
            let mut ok = true;
            for (item, iline) in &items {
                let DeValue::String(name) = item else {
                    out.problems.push(problem(
                        *iline,
                        dotted.clone(),
                        format!("expected an action name, found {}", item.type_str()),
                    ));
                    ok = false;
                    continue;
                };
                if name == "none" {
                    unbind = true;
                } else if let Some(a) = Action::from_name(name) {
                    actions.push(a);
                } else {
                    out.problems.push(problem(
                        *iline,
                        dotted.clone(),
                        format!("unknown action \"{name}\""),
                    ));
                    ok = false;
                }
            }
            if unbind && items.len() > 1 {
                out.problems.push(problem(
                    line,
                    dotted.clone(),
                    "\"none\" cannot be combined with actions".to_string(),
                ));
                ok = false;
            }
            if !ok {
                continue;
            }
            let binding = Binding {
                mode,
                seq,
                actions,
                key: key.to_string(),
                line,
            };
            // Conflicts with earlier bindings in this mode: the later one wins.
            let mut i = 0;
            while i < kept.len() {
                let other = &kept[i];
                let same = other.seq == binding.seq;
                let prefix = !same
                    && !other.actions.is_empty()
                    && !binding.actions.is_empty()
                    && (other.seq.starts_with(&binding.seq) || binding.seq.starts_with(&other.seq));
                if same {
                    out.problems.push(problem(
                        line,
                        dotted.clone(),
                        format!(
                            "key conflict: \"{}\" is bound twice in [{mode_name}] (lines {} and {line})",
                            seq_text(&binding.seq),
                            other.line
                        ),
                    ));
                } else if prefix {
                    let ((short, sline), (long, lline)) = if other.seq.len() < binding.seq.len() {
                        ((&other.seq, other.line), (&binding.seq, line))
                    } else {
                        ((&binding.seq, line), (&other.seq, other.line))
                    };
                    out.problems.push(problem(
                        line,
                        dotted.clone(),
                        format!(
                            "prefix conflict: \"{}\" (line {sline}) is the start of \"{}\" (line {lline}) in [{mode_name}]",
                            seq_text(short),
                            seq_text(long),
                        ),
                    ));
                }
                if same || prefix {
                    kept.remove(i);
                } else {
                    i += 1;
                }
            }
            kept.push(binding);
        }
        out.bindings.extend(kept);
    }
    out
}

impl Keymap {
    /// Apply a file's bindings key by key (see the module docs for the rules).
    pub fn apply(&mut self, file: &KeymapFile) {
        for b in &file.bindings {
            let table = self.modes.entry(b.mode).or_default();
            if b.actions.is_empty() {
                table.remove(&b.seq);
                continue;
            }
            table.retain(|k, _| !(k.starts_with(&b.seq) || b.seq.starts_with(k)));
            table.insert(b.seq.clone(), b.actions.clone());
        }
    }

    /// A shipped keymap (ignoring the user's files).
    pub fn shipped(name: &str) -> Option<Keymap> {
        KeymapLibrary::new(None).resolve(name).map(|(k, _)| k)
    }
}

/// The shipped keymaps and the user's keymap files, parsed once.
#[derive(Debug, Clone)]
pub struct KeymapLibrary {
    files: crate::library::Library<KeymapFile>,
}

impl KeymapLibrary {
    /// The shipped keymaps plus every `*.toml` in `user_dir` (if given; a
    /// missing directory is fine).
    pub fn new(user_dir: Option<&Path>) -> Self {
        let files = crate::library::Library::new(SHIPPED, shipped_file, parse_keymap, user_dir);
        Self { files }
    }

    /// Problems reading the user's keymap directory or its files.
    pub fn problems(&self) -> &[Problem] {
        &self.files.problems
    }

    /// Add (or replace) a user keymap from text; `file` names it in problems.
    pub fn add_user(&mut self, name: &str, text: &str, file: &str) {
        self.files.add_user(name, text, file);
    }

    /// Every keymap name, shipped and user, sorted and unique.
    pub fn names(&self) -> Vec<String> {
        self.files.names()
    }

    /// Names of the user's keymap files.
    pub fn user_names(&self) -> Vec<String> {
        self.files.user_names()
    }

    /// The shipped map of this name (or `default` for a new name) with the
    /// user's file of this name applied. `None` if neither exists.
    pub fn resolve(&self, name: &str) -> Option<(Keymap, Vec<Problem>)> {
        let user = self.files.user.get(name);
        let base = self
            .files
            .shipped
            .get(name)
            .or_else(|| user.and_then(|_| self.files.shipped.get("default")))?;
        let mut keymap = Keymap {
            name: name.to_string(),
            modes: HashMap::new(),
        };
        let mut problems = base.problems.clone();
        keymap.apply(base);
        if let Some(u) = user {
            problems.extend(u.problems.iter().cloned());
            keymap.apply(u);
        }
        Some((keymap, problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode, m: KeyModifiers) -> KeyChord {
        KeyChord::new(code, m)
    }

    #[test]
    fn parse_examples() {
        let none = KeyModifiers::NONE;
        let ctrl = KeyModifiers::CONTROL;
        assert_eq!(KeyChord::parse("q"), Ok(k(KeyCode::Char('q'), none)));
        assert_eq!(KeyChord::parse("G"), Ok(k(KeyCode::Char('G'), none)));
        assert_eq!(KeyChord::parse("shift-g"), Ok(k(KeyCode::Char('G'), none)));
        assert_eq!(KeyChord::parse("Ctrl-D"), Ok(k(KeyCode::Char('d'), ctrl)));
        assert_eq!(KeyChord::parse("ctrl--"), Ok(k(KeyCode::Char('-'), ctrl)));
        assert_eq!(KeyChord::parse("-"), Ok(k(KeyCode::Char('-'), none)));
        assert_eq!(KeyChord::parse("SPACE"), Ok(k(KeyCode::Char(' '), none)));
        assert_eq!(KeyChord::parse("shift-tab"), Ok(k(KeyCode::BackTab, none)));
        assert_eq!(KeyChord::parse("backtab"), Ok(k(KeyCode::BackTab, none)));
        assert_eq!(KeyChord::parse("f12"), Ok(k(KeyCode::F(12), none)));
        assert_eq!(
            KeyChord::parse("alt-shift-up"),
            Ok(k(KeyCode::Up, KeyModifiers::ALT | KeyModifiers::SHIFT))
        );
        assert_eq!(
            KeyChord::parse("ctrl-"),
            Err("no key after \"ctrl-\"".to_string())
        );
        assert_eq!(
            KeyChord::parse("f13"),
            Err("unknown key name \"f13\"".to_string())
        );
        assert_eq!(
            KeyChord::parse("ctrl-foo"),
            Err("unknown key name \"foo\"".to_string())
        );
        assert!(KeyChord::parse("").is_err());
    }

    #[test]
    fn crossterm_events_match_parsed_keys() {
        // What terminals send for shift-tab, G and ctrl-shift-d.
        let ev = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(
            KeyChord::from_event(&ev),
            KeyChord::parse("backtab").unwrap()
        );
        let ev = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(KeyChord::from_event(&ev), KeyChord::parse("G").unwrap());
        let ev = KeyEvent::new(
            KeyCode::Char('D'),
            KeyModifiers::CONTROL | KeyModifiers::SHIFT,
        );
        assert_eq!(
            KeyChord::from_event(&ev),
            KeyChord::parse("ctrl-d").unwrap()
        );
    }

    #[test]
    fn display_round_trips() {
        let mods = [
            KeyModifiers::NONE,
            KeyModifiers::CONTROL,
            KeyModifiers::ALT,
            KeyModifiers::SHIFT,
            KeyModifiers::CONTROL | KeyModifiers::ALT,
            KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT,
        ];
        let mut codes: Vec<KeyCode> = "aZ09?/-[] !~".chars().map(KeyCode::Char).collect();
        codes.extend([
            KeyCode::Enter,
            KeyCode::Esc,
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Backspace,
            KeyCode::Delete,
            KeyCode::Insert,
            KeyCode::Up,
            KeyCode::Down,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::PageUp,
            KeyCode::PageDown,
            KeyCode::Home,
            KeyCode::End,
            KeyCode::F(1),
            KeyCode::F(12),
        ]);
        let mut checked = 0;
        for code in codes {
            for m in mods {
                let chord = KeyChord::new(code, m);
                let text = chord.to_string();
                assert_eq!(KeyChord::parse(&text), Ok(chord), "{text}");
                // And the text is already canonical.
                assert_eq!(KeyChord::parse(&text).map(|c| c.to_string()), Ok(text));
                checked += 1;
            }
        }
        assert!(checked > 150);
    }

    #[test]
    fn sequences() {
        let seq = parse_seq("g g").unwrap();
        assert_eq!(seq_text(&seq), "g g");
        assert_eq!(
            parse_seq(" ").map(|s| seq_text(&s)),
            Ok("space".to_string())
        );
        assert_eq!(
            parse_seq("g ctrl-"),
            Err("bad key \"g ctrl-\": \"ctrl-\": no key after \"ctrl-\"".to_string())
        );
    }

    #[test]
    fn user_binding_drops_prefix_conflicting_shipped_ones() {
        let mut km = Keymap::default();
        km.apply(&parse_keymap(
            "[logs]\n\"g g\" = \"top\"\n\"g e\" = \"bottom\"\nx = \"quit\"\n",
            "a",
        ));
        km.apply(&parse_keymap("[logs]\ng = \"refresh\"\n", "b"));
        let g = parse_seq("g").unwrap();
        assert_eq!(
            km.resolve(Mode::Logs, &g),
            Resolved::Actions(vec![Action::Refresh])
        );
        assert_eq!(km.bindings(Mode::Logs).len(), 2);
    }

    #[test]
    fn unbind_does_not_count_as_prefix_conflict() {
        let f = parse_keymap("[logs]\ng = \"none\"\n\"g g\" = \"top\"\n", "a");
        assert!(f.problems.is_empty(), "{:?}", f.problems);
        assert_eq!(f.bindings.len(), 2);
    }
}
