//! The detail views' state (a stack of opened objects) and how the top one
//! is laid out in lines: sanitised, wrapped to the width, YAML cut at the
//! width with its indentation kept. Shared by the core (scrolling, search)
//! and the UI (drawing), so both count the same lines.

use crate::domain::{Detail, DetailRow, DetailTarget, Tone};
use crate::fmt::wrap_words;
use crate::sanitize;

/// How a shown line is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineStyle {
    Heading,
    Plain,
    Ok,
    Warn,
    Bad,
    /// A related object; `true` when it is the selected one.
    Link(bool),
    Note,
}

/// One screen line of a detail view: sanitised, wrapped to the width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownLine {
    pub text: String,
    /// Bytes at the start of `text` that are a field's key.
    pub key_len: usize,
    pub style: LineStyle,
}

/// One opened object.
#[derive(Debug, Clone)]
pub struct DetailFrame {
    pub target: DetailTarget,
    /// The request whose answer this frame waits for.
    pub request: u64,
    pub loading: bool,
    pub detail: Option<Detail>,
    /// The last fetch failed (the previous content, if any, stays shown).
    pub error: Option<String>,
    pub yaml: bool,
    pub scroll: usize,
    pub search: String,
    /// Index into the matches of the current search.
    pub current: Option<usize>,
    pub link: usize,
}

/// The stack of open detail views (empty: none open).
#[derive(Debug, Clone, Default)]
pub struct DetailView {
    pub frames: Vec<DetailFrame>,
    pub(super) next_request: u64,
}

impl DetailView {
    pub fn is_open(&self) -> bool {
        !self.frames.is_empty()
    }

    pub fn top(&self) -> Option<&DetailFrame> {
        self.frames.last()
    }

    /// `deploy shop/api › pod api-7d9f-x2k4q › YAML`
    pub fn breadcrumbs(&self) -> String {
        let mut parts: Vec<String> = self
            .frames
            .iter()
            .map(|f| sanitize::line(&f.target.crumb()))
            .collect();
        if self.top().is_some_and(|f| f.yaml) {
            parts.push("YAML".into());
        }
        parts.join(" › ")
    }
}

/// The lines of the top frame at `width` columns.
pub fn lines(frame: &DetailFrame, width: usize) -> Vec<ShownLine> {
    let width = width.max(8);
    let mut out = Vec::new();
    let note = |out: &mut Vec<ShownLine>, text: &str, style: LineStyle| {
        for l in wrap_words(&sanitize::line(text), width) {
            out.push(ShownLine {
                text: l,
                key_len: 0,
                style,
            });
        }
    };
    if let Some(e) = &frame.error {
        note(&mut out, &format!("could not fetch: {e}"), LineStyle::Bad);
    }
    let Some(detail) = &frame.detail else {
        if frame.loading {
            note(
                &mut out,
                &format!("fetching {}…", frame.target),
                LineStyle::Note,
            );
        }
        return out;
    };
    if frame.yaml {
        match &detail.yaml {
            Some(yaml) => yaml_lines(&mut out, yaml, width),
            None => note(
                &mut out,
                "this backend has no YAML for this object",
                LineStyle::Note,
            ),
        }
        return out;
    }
    for section in &detail.sections {
        if !out.is_empty() {
            out.push(ShownLine {
                text: String::new(),
                key_len: 0,
                style: LineStyle::Plain,
            });
        }
        note(&mut out, &section.heading, LineStyle::Heading);
        let kw = section
            .rows
            .iter()
            .filter_map(|r| match r {
                DetailRow::Field { key, .. } => Some(unicode_width::UnicodeWidthStr::width(
                    sanitize::line(key).as_str(),
                )),
                DetailRow::Text { .. } => None,
            })
            .max()
            .unwrap_or(0)
            .min(width / 3);
        for row in &section.rows {
            match row {
                DetailRow::Field { key, value, tone } => {
                    field_lines(&mut out, key, value, *tone, kw, width);
                }
                DetailRow::Text { text, tone } => {
                    for l in wrap_words(&sanitize::line(text), width.saturating_sub(2)) {
                        out.push(ShownLine {
                            text: format!("  {l}"),
                            key_len: 0,
                            style: tone_style(*tone),
                        });
                    }
                }
            }
        }
    }
    if !detail.links.is_empty() {
        out.push(ShownLine {
            text: String::new(),
            key_len: 0,
            style: LineStyle::Plain,
        });
        note(&mut out, "Related", LineStyle::Heading);
        for (i, link) in detail.links.iter().enumerate() {
            let selected = i == frame.link;
            let mark = if selected { "▸ " } else { "  " };
            out.push(ShownLine {
                text: format!("{mark}{}", sanitize::line(&link.to_string())),
                key_len: 0,
                style: LineStyle::Link(selected),
            });
        }
    }
    out
}

fn tone_style(tone: Tone) -> LineStyle {
    match tone {
        Tone::Plain => LineStyle::Plain,
        Tone::Ok => LineStyle::Ok,
        Tone::Warn => LineStyle::Warn,
        Tone::Bad => LineStyle::Bad,
    }
}

/// `  key   value`, the value wrapped under itself; a key wider than the
/// key column gets a line of its own.
fn field_lines(
    out: &mut Vec<ShownLine>,
    key: &str,
    value: &str,
    tone: Tone,
    kw: usize,
    width: usize,
) {
    let key = sanitize::line(key);
    let key_w = unicode_width::UnicodeWidthStr::width(key.as_str());
    let indent = kw + 4;
    let avail = width.saturating_sub(indent).max(8);
    let style = tone_style(tone);
    let mut first = if key_w > kw {
        out.push(ShownLine {
            key_len: key.len() + 2,
            text: format!("  {key}"),
            style,
        });
        None
    } else {
        Some(format!("  {key}{}  ", " ".repeat(kw - key_w)))
    };
    let value = sanitize::line(value);
    for l in wrap_words(&value, avail) {
        match first.take() {
            Some(prefix) => out.push(ShownLine {
                key_len: prefix.len(),
                text: format!("{prefix}{l}"),
                style,
            }),
            None => out.push(ShownLine {
                text: format!("{}{l}", " ".repeat(indent)),
                key_len: 0,
                style,
            }),
        }
    }
}

/// YAML keeps its indentation: long lines are cut into pieces of the width.
fn yaml_lines(out: &mut Vec<ShownLine>, yaml: &str, width: usize) {
    for raw in yaml.lines() {
        let line = sanitize::line(raw);
        let chars: Vec<char> = line.chars().collect();
        if chars.is_empty() {
            out.push(ShownLine {
                text: String::new(),
                key_len: 0,
                style: LineStyle::Plain,
            });
        }
        let mut piece = String::new();
        let mut w = 0;
        for c in chars {
            let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            if w + cw > width && w > 0 {
                out.push(ShownLine {
                    text: std::mem::take(&mut piece),
                    key_len: 0,
                    style: LineStyle::Plain,
                });
                w = 0;
            }
            piece.push(c);
            w += cw;
        }
        if !piece.is_empty() {
            out.push(ShownLine {
                text: piece,
                key_len: 0,
                style: LineStyle::Plain,
            });
        }
    }
}

/// Which shown lines match the top frame's search (case-insensitive).
pub fn matches(frame: &DetailFrame, lines: &[ShownLine]) -> Vec<usize> {
    let needle = frame.search.trim().to_lowercase();
    if needle.is_empty() {
        return Vec::new();
    }
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.text.to_lowercase().contains(&needle))
        .map(|(i, _)| i)
        .collect()
}
