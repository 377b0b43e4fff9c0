//! Drawing the Logs pane: the merged lines, newest at the bottom, with
//! sources, levels, search hits and JSON made readable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::core::Feed;
use crate::core::State;
use crate::domain::{Level, LogLine};
use crate::panes::widgets::{feed_placeholder, placeholder, truncate_middle};
use crate::sanitize;
use crate::theme::{Slot, Theme};

/// The pane's title and its state summary.
pub fn title(state: &State) -> (String, String) {
    {
        let l = &state.logs;
        let mut parts = vec![if l.follow {
            "follow".to_string()
        } else if l.unseen > 0 {
            format!("paused +{}", l.unseen)
        } else {
            "paused".to_string()
        }];
        if l.min_level > Level::Trace {
            parts.push(format!("≥{}", l.min_level.label()));
        }
        if let Some(s) = &l.source {
            // Both ends matter: the pod's suffix and a "(previous)" marker.
            let s = sanitize::line(s);
            let short = match s.rsplit_once(" (") {
                Some((name, marker)) => format!("{} ({marker}", truncate_middle(name, 10)),
                None => truncate_middle(&s, 18),
            };
            parts.push(format!("src:{short}"));
        }
        if !l.filter.is_empty() {
            parts.push(format!("&{}", sanitize::line(&l.filter)));
        }
        if !l.search.is_empty() {
            parts.push(format!(
                "/{} ({})",
                sanitize::line(&l.search),
                l.match_count()
            ));
        }
        if l.json_pretty {
            parts.push("json".into());
        }
        if l.wrap {
            parts.push("wrap".into());
        }
        if l.order.late() > 0 {
            // Lines that came later than the reorder window: not in time order.
            parts.push(format!(
                "{} late>{}",
                l.order.late(),
                crate::fmt::duration_short(l.order.window())
            ));
        }
        if let Some(lag) = l.lag.values().max() {
            parts.push(format!("behind {}", crate::fmt::duration_short(*lag)));
        }
        ("Logs".into(), parts.join(" "))
    }
}

/// Draw the pane.
pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let l = &state.logs;
    let visible = l.visible();
    let Some(bottom) = l.bottom() else {
        if l.lines.is_empty() {
            feed_placeholder(
                frame,
                area,
                theme,
                state,
                Feed::Logs,
                "waiting for log lines…",
            );
        } else {
            placeholder(frame, area, theme, "no line passes the filters");
        }
        return;
    };
    let width = usize::from(area.width);
    let height = area.height as usize;
    // Walk up from the bottom line until the pane is full.
    let mut rows: Vec<Line> = Vec::new();
    for &idx in visible[..=bottom].iter().rev() {
        let mut r = display_rows(&l.lines[idx], state, theme, width);
        if l.matches(&l.lines[idx]) && !l.follow && visible[bottom] == idx {
            for line in &mut r {
                *line = line
                    .clone()
                    .patch_style(Style::new().add_modifier(Modifier::BOLD));
            }
        }
        while let Some(last) = r.pop() {
            rows.push(last);
        }
        if rows.len() >= height {
            break;
        }
    }
    rows.truncate(height);
    rows.reverse();
    frame.render_widget(Paragraph::new(rows), area);
}

/// The width of the source column in a pane `width` columns wide.
fn source_width(width: usize) -> usize {
    if width >= 100 {
        24
    } else if width >= 50 {
        14
    } else {
        9
    }
}

/// The screen rows of one log line in a pane `width` columns wide: one
/// (cut at the edge), several when JSON is pretty-printed, and more when
/// wrapping, continuation rows indented under the text.
pub fn display_rows(
    line: &LogLine,
    state: &State,
    theme: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let l = &state.logs;
    let source_width = source_width(width);
    let rows = log_rows(line, state, theme, source_width);
    if !l.wrap {
        return rows;
    }
    let mut prefix = if l.timestamps { 9 } else { 0 };
    if l.source.is_none() {
        prefix += source_width + 1;
    }
    let indent = if prefix + 20 <= width { prefix } else { 2 };
    rows.into_iter()
        .flat_map(|r| wrap(r, width, indent))
        .collect()
}

/// How many screen rows `line` takes in the focused pane `width` wide.
pub fn row_count(line: &LogLine, state: &State, width: usize) -> usize {
    let plain = Theme {
        name: String::new(),
        styles: std::collections::HashMap::new(),
    };
    display_rows(line, state, &plain, width).len()
}

/// Cut a row into rows of at most `width` columns; rows after the first
/// start with `indent` spaces.
fn wrap(row: Line<'static>, width: usize, indent: usize) -> Vec<Line<'static>> {
    use unicode_width::UnicodeWidthChar;
    if row.width() <= width || width <= indent + 1 {
        return vec![row];
    }
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for span in row.spans {
        let mut text = String::new();
        for c in span.content.chars() {
            let cw = c.width().unwrap_or(0);
            if used + cw > width {
                if !text.is_empty() {
                    spans.push(Span::styled(std::mem::take(&mut text), span.style));
                }
                out.push(Line::from(std::mem::take(&mut spans)));
                spans.push(Span::raw(" ".repeat(indent)));
                used = indent;
            }
            text.push(c);
            used += cw;
        }
        if !text.is_empty() {
            spans.push(Span::styled(text, span.style));
        }
    }
    if !spans.is_empty() {
        out.push(Line::from(spans));
    }
    out
}

fn level_slot(l: Level) -> Slot {
    match l {
        Level::Trace => Slot::LogTrace,
        Level::Debug => Slot::LogDebug,
        Level::Info => Slot::LogInfo,
        Level::Warn => Slot::LogWarn,
        Level::Error => Slot::LogError,
    }
}

/// Split already-sanitised text into spans, highlighting every
/// (ASCII case-insensitive) occurrence of `needle`.
fn highlight<'a>(text: String, needle: &str, base: Style, hit: Style) -> Vec<Span<'a>> {
    if needle.is_empty() {
        return vec![Span::styled(text, base)];
    }
    let hay = text.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(off) = hay[pos..].find(&needle) {
        let start = pos + off;
        let end = start + needle.len();
        if start > pos {
            out.push(Span::styled(text[pos..start].to_string(), base));
        }
        out.push(Span::styled(text[start..end].to_string(), hit));
        pos = end;
    }
    if pos < text.len() {
        out.push(Span::styled(text[pos..].to_string(), base));
    }
    out
}

/// The display rows of one log line (several when JSON is pretty-printed).
fn log_rows(
    line: &LogLine,
    state: &State,
    theme: &Theme,
    source_width: usize,
) -> Vec<Line<'static>> {
    let l = &state.logs;
    let mut prefix = Vec::new();
    if l.timestamps {
        let hms = crate::fmt::clock(line.time);
        prefix.push(Span::styled(
            format!("{hms} "),
            theme.style(Slot::LogTimestamp),
        ));
    }
    if l.source.is_none() && source_width > 0 {
        let src = sanitize::line(&line.source);
        let src = truncate_middle(&src, source_width);
        prefix.push(Span::styled(
            format!("{src:<source_width$} "),
            theme.style(Slot::LogSource),
        ));
    }
    let base = theme.style(level_slot(line.level));
    let hit = theme.style(Slot::SearchMatch);
    let pretty = if l.json_pretty {
        pretty_json(&line.text)
    } else {
        None
    };
    if pretty.is_none() {
        if let Some(compact) = compact_json(&line.text) {
            let mut spans = prefix;
            spans.extend(highlight(sanitize::line(&compact), &l.search, base, hit));
            return vec![Line::from(spans)];
        }
    }
    match pretty {
        Some(rows) => rows
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let mut spans = if i == 0 {
                    prefix.clone()
                } else {
                    vec![Span::raw("  ")]
                };
                spans.extend(highlight(sanitize::line(&r), &l.search, base, hit));
                Line::from(spans)
            })
            .collect(),
        None => {
            let mut spans = prefix;
            spans.extend(highlight(sanitize::line(&line.text), &l.search, base, hit));
            vec![Line::from(spans)]
        }
    }
}

/// Pretty-printed rows of a JSON object line, or None if it is not one.
pub fn pretty_json(text: &str) -> Option<Vec<String>> {
    let t = text.trim();
    if !t.starts_with('{') {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(t).ok()?;
    let s = serde_json::to_string_pretty(&v).ok()?;
    Some(s.lines().map(str::to_string).collect())
}

/// Shorten to `width` columns keeping both ends (`api-7d9f…x2k4q`): pod and
/// task names differ at the end.
/// Keys that carry the time or level, already shown in their own columns.
const JSON_TIME_KEYS: [&str; 6] = ["ts", "time", "timestamp", "@timestamp", "t", "datetime"];
const JSON_LEVEL_KEYS: [&str; 4] = ["level", "lvl", "severity", "loglevel"];
const JSON_MESSAGE_KEYS: [&str; 4] = ["msg", "message", "event", "error"];

/// A JSON object line as `message key=value ...`, without its time and level
/// (shown in their own columns), or None if it is not a JSON object.
pub fn compact_json(text: &str) -> Option<String> {
    let t = text.trim();
    if !t.starts_with('{') {
        return None;
    }
    let serde_json::Value::Object(map) = serde_json::from_str::<serde_json::Value>(t).ok()? else {
        return None;
    };
    let mut parts: Vec<String> = Vec::new();
    // The level shows as colour; say it in words too unless it is plain info.
    let level = JSON_LEVEL_KEYS
        .iter()
        .find_map(|k| map.get(*k).and_then(|v| v.as_str()));
    if let Some(l) = level.filter(|l| !l.eq_ignore_ascii_case("info")) {
        parts.push(l.to_ascii_uppercase());
    }
    let message = JSON_MESSAGE_KEYS
        .iter()
        .find_map(|k| map.get(*k).and_then(|v| v.as_str()).map(|m| (*k, m)));
    if let Some((_, m)) = message {
        parts.push(m.to_string());
    }
    for (k, v) in &map {
        let skip = JSON_TIME_KEYS.contains(&k.as_str())
            || JSON_LEVEL_KEYS.contains(&k.as_str())
            || message.is_some_and(|(mk, _)| mk == k);
        if skip {
            continue;
        }
        match v {
            serde_json::Value::String(s) => parts.push(format!("{k}={s}")),
            other => parts.push(format!("{k}={other}")),
        }
    }
    Some(parts.join(" "))
}
