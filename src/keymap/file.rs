//! Reading one keymap file into bindings and problems.

use std::collections::HashMap;

use toml::de::DeValue;

use super::chord::{KeyChord, parse_seq, seq_text};
use super::prefix::Extensions;
use crate::action::{Action, Mode};
use crate::problem::Problem;
use crate::toml_doc::{Doc, sorted_entries};

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
    /// The 1-based line of each mode's table.
    pub mode_lines: HashMap<Mode, usize>,
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
    let doc = Doc::new(text, file);
    let root = match doc.parse() {
        Ok(t) => t,
        Err(p) => {
            out.problems.push(p);
            return out;
        }
    };
    let problem = |line: usize, key: String, message: String| {
        Problem::new(file, Some(line), Some(key), message)
    };
    for (mk, mv) in sorted_entries(root.get_ref()) {
        let mode_name = mk.get_ref().as_ref();
        let mline = doc.line(mk.span().start);
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
        out.mode_lines.insert(mode, mline);
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
        let mut kept = Kept::default();
        for (k, v) in sorted_entries(table) {
            let key = k.get_ref().as_ref();
            let dotted = format!("{mode_name}.{key}");
            let line = doc.line(k.span().start);
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
                    .map(|i| (i.get_ref(), doc.line(i.span().start)))
                    .collect(),
                DeValue::String(_) => vec![(v.get_ref(), doc.line(v.span().start))],
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
            for other in kept.conflicts(&binding) {
                let message = if other.seq == binding.seq {
                    format!(
                        "key conflict: \"{}\" is bound twice in [{mode_name}] (lines {} and {line})",
                        seq_text(&binding.seq),
                        other.line
                    )
                } else {
                    let ((short, sline), (long, lline)) = if other.seq.len() < binding.seq.len() {
                        ((&other.seq, other.line), (&binding.seq, line))
                    } else {
                        ((&binding.seq, line), (&other.seq, other.line))
                    };
                    format!(
                        "prefix conflict: \"{}\" (line {sline}) is the start of \"{}\" (line {lline}) in [{mode_name}]",
                        seq_text(short),
                        seq_text(long),
                    )
                };
                out.problems.push(problem(line, dotted.clone(), message));
            }
            kept.push(binding);
        }
        out.bindings.extend(kept.into_bindings());
    }
    out
}

/// The bindings of one mode kept so far, in file order, indexed so that a
/// new binding's conflicts are found without looking at every other one.
#[derive(Default)]
struct Kept {
    /// In file order; `None` once dropped by a later conflicting binding.
    bindings: Vec<Option<Binding>>,
    /// The live binding of each sequence.
    exact: HashMap<Vec<KeyChord>, usize>,
    /// The sequences of live bindings that bind actions (an unbinding
    /// `"none"` is no prefix conflict).
    binding_actions: Extensions,
}

impl Kept {
    /// Remove and return (in file order) the bindings `binding` conflicts
    /// with: the same sequence, or, both binding actions, one starting with
    /// the other.
    fn conflicts(&mut self, binding: &Binding) -> Vec<Binding> {
        let mut found: Vec<usize> = self.exact.get(&binding.seq).copied().into_iter().collect();
        if !binding.actions.is_empty() {
            for n in 1..binding.seq.len() {
                if let Some(&i) = self.exact.get(&binding.seq[..n]) {
                    if self.bindings[i]
                        .as_ref()
                        .is_some_and(|b| !b.actions.is_empty())
                    {
                        found.push(i);
                    }
                }
            }
            for seq in self.binding_actions.longer(&binding.seq) {
                found.extend(self.exact.get(&seq).copied());
            }
        }
        found.sort_unstable();
        found.dedup();
        let mut out = Vec::with_capacity(found.len());
        for i in found {
            if let Some(b) = self.bindings[i].take() {
                self.exact.remove(&b.seq);
                self.binding_actions.remove(&b.seq);
                out.push(b);
            }
        }
        out
    }

    fn push(&mut self, binding: Binding) {
        self.exact.insert(binding.seq.clone(), self.bindings.len());
        if !binding.actions.is_empty() {
            self.binding_actions.add(&binding.seq);
        }
        self.bindings.push(Some(binding));
    }

    fn into_bindings(self) -> impl Iterator<Item = Binding> {
        self.bindings.into_iter().flatten()
    }
}
