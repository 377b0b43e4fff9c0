//! Reading one theme file into styles by slot name, and its problems.

use std::collections::BTreeMap;

use ratatui::style::{Color, Style};
use toml::de::{DeTable, DeValue};

use super::slots::{MODIFIERS, is_settable};
use crate::problem::{Lines, Problem};
use crate::toml_doc::{Doc, sorted_entries};

/// The fields of a style table.
const STYLE_FIELDS: &[&str] = &["fg", "bg", "modifiers"];

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
        text: Lines::new(text),
        out: ThemeFile {
            file: file.to_string(),
            ..ThemeFile::default()
        },
        lines: BTreeMap::new(),
    };
    match Doc::new(text, file).parse() {
        Ok(root) => p.table("", root.get_ref()),
        Err(problem) => p.out.problems.push(problem),
    }
    p.out
}

struct ThemeParser {
    /// Where the file's lines start.
    text: Lines,
    out: ThemeFile,
    /// Line each name was set on (to report names set twice).
    lines: BTreeMap<String, usize>,
}

impl ThemeParser {
    fn line(&self, offset: usize) -> usize {
        self.text.line(offset)
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
            if let DeValue::Table(t) = v.get_ref() {
                if !is_style_table(&name, t) {
                    self.table(&name, t);
                    continue;
                }
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
                (field, _) if !STYLE_FIELDS.contains(&field) => {
                    let kline = self.line(k.span().start);
                    self.problem(
                        kline,
                        &key,
                        format!(
                            "unknown field \"{field}\" in the style of \"{name}\", expected one of {}",
                            STYLE_FIELDS.join(", ")
                        ),
                    )
                }
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

/// Whether a table set at `name` is a style (`{ fg, bg, modifiers }`) rather
/// than a group of slots (`[health]` with `ok = ...`): it is when it has a
/// style field and no slot under `name`, or when `name` is a slot with no
/// slots under it (so a mistyped field is reported as a field of that
/// slot's style, not as an unknown slot).
fn is_style_table(name: &str, t: &DeTable<'_>) -> bool {
    let keys = || t.keys().map(|k| k.get_ref().as_ref());
    let member = |k: &str| is_settable(&format!("{name}.{k}"));
    if keys().any(member) {
        return keys().all(|k| STYLE_FIELDS.contains(&k));
    }
    keys().any(|k| STYLE_FIELDS.contains(&k)) || super::slots::is_leaf_slot(name)
}
