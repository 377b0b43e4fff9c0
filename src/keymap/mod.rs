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

mod chord;
mod file;
mod prefix;

use std::collections::HashMap;
use std::path::Path;

pub use chord::{KeyChord, parse_seq, seq_text};
pub use file::{Binding, KeymapFile, parse_keymap};
use prefix::Extensions;

use crate::action::{Action, Mode};
use crate::problem::{Place, Problem};

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

/// The shipped keymaps: (name, file text).
pub const SHIPPED: &[(&str, &str)] = &[
    ("default", include_str!("../../keymaps/default.toml")),
    ("vim", include_str!("../../keymaps/vim.toml")),
];

/// The `Problem::file` of a shipped keymap.
pub fn shipped_file(name: &str) -> String {
    format!("embedded:keymaps/{name}.toml")
}

impl Keymap {
    /// Apply a file's bindings key by key (see the module docs for the rules).
    pub fn apply(&mut self, file: &KeymapFile) {
        // Per mode, the table's sequences by prefix, built when first needed.
        let mut indexes: HashMap<Mode, Extensions> = HashMap::new();
        for b in &file.bindings {
            let table = self.modes.entry(b.mode).or_default();
            let index = indexes
                .entry(b.mode)
                .or_insert_with(|| Extensions::of(table.keys()));
            let mut drop = index.longer(&b.seq);
            drop.extend((1..=b.seq.len()).map(|n| b.seq[..n].to_vec()));
            if b.actions.is_empty() {
                drop = vec![b.seq.clone()];
            }
            for seq in drop {
                if table.remove(&seq).is_some() {
                    index.remove(&seq);
                }
            }
            if !b.actions.is_empty() {
                table.insert(b.seq.clone(), b.actions.clone());
                index.add(&b.seq);
            }
        }
    }

    /// What a keymap must bind in `[global]` (the layer under every other):
    /// a key to quit and a key for help. `None` when both are bound; else
    /// the problem, at `at` (the `[global]` of the file that made it), that
    /// refuses the keymap.
    pub fn missing_essentials(&self, at: &Place) -> Option<Problem> {
        let missing: Vec<&str> = [Action::Quit, Action::Help]
            .into_iter()
            .filter(|&a| self.keys_for(Mode::Global, a).is_empty())
            .map(Action::name)
            .collect();
        if missing.is_empty() {
            return None;
        }
        Some(at.problem(format!(
            "keymap \"{}\" leaves no key for {} in [global]; it is not used, the default keymap is",
            self.name,
            missing.join(" or ")
        )))
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

    /// The `[global]` table that makes the keymap of this name what it is,
    /// for problems: the user's file if there is one, else the shipped one.
    pub fn global_of(&self, name: &str) -> Place {
        let file = self
            .files
            .user
            .get(name)
            .or_else(|| self.files.shipped.get(name));
        Place {
            file: file.map_or_else(|| shipped_file(name), |f| f.file.clone()),
            line: file.and_then(|f| f.mode_lines.get(&Mode::Global).copied()),
            key: Some(Mode::Global.name().to_string()),
        }
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
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

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
