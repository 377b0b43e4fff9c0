//! Reading one keymap file into bindings and problems.

use toml::de::{DeTable, DeValue};

use super::chord::{KeyChord, parse_seq, seq_text};
use crate::action::{Action, Mode};
use crate::problem::{Problem, line_of};
use crate::toml_doc::{sorted_entries, syntax_problem};

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
