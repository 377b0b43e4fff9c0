//! The four panes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};
use unicode_width::UnicodeWidthStr;

use crate::core::{Pane, State};
use crate::domain::{Health, Level, LogLine, MetricSeries};
use crate::runbook::CheckResult;
use crate::sanitize;
use crate::theme::{Slot, Theme};

/// A pane's title and its state summary (`follow`, `filter: api`).
pub fn title(state: &State, pane: Pane) -> (String, String) {
    match pane {
        Pane::Workloads => {
            let w = &state.workloads;
            let mut extra = format!(
                "sort:{}{}",
                w.sort.label(),
                if w.reverse { "↑" } else { "" }
            );
            if !w.filter.is_empty() {
                extra.push_str(&format!(" /{}", sanitize::line(&w.filter)));
            }
            (format!("Workloads ({})", w.visible().len()), extra)
        }
        Pane::Logs => {
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
            if let Some(lag) = l.lag.values().max() {
                parts.push(format!("behind {}", crate::fmt::duration_short(*lag)));
            }
            ("Logs".into(), parts.join(" "))
        }
        Pane::Metrics => ("Metrics".into(), String::new()),
        Pane::Database => {
            let n = crate::core::db_rows(&state.metrics.databases).len();
            ("Database".into(), format!("{n} sessions"))
        }
        Pane::Runbook => match &state.runbook {
            Some(rb) => (
                "Runbook".into(),
                format!("step {}/{}", rb.step + 1, rb.book.steps.len()),
            ),
            None => ("Runbook".into(), String::new()),
        },
    }
}

pub fn health_slot(h: Health) -> Slot {
    match h {
        Health::Ok => Slot::HealthOk,
        Health::Warn => Slot::HealthWarn,
        Health::Critical => Slot::HealthCritical,
        Health::Unknown => Slot::HealthUnknown,
    }
}

fn placeholder(frame: &mut Frame, area: Rect, theme: &Theme, text: &str) {
    frame.render_widget(
        Paragraph::new(Span::styled(text.to_string(), theme.style(Slot::Hint))),
        area,
    );
}

pub fn workloads(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let rows = state.workloads.visible();
    if rows.is_empty() {
        let msg = if state.workloads.rows.is_empty() {
            "waiting for workloads…"
        } else {
            "no workload matches the filter"
        };
        placeholder(frame, area, theme, msg);
        return;
    }
    let wide = area.width >= 70;
    let height = area.height.saturating_sub(1) as usize;
    let sel = state.workloads.selected.min(rows.len() - 1);
    let first = sel.saturating_sub(height.saturating_sub(1));
    // Columns other than the name take this much, spacing included.
    let fixed = if wide {
        1 + 6 + 5 + 18 + 8 + 4 + 6
    } else {
        1 + 6 + 5 + 10 + 3 + 3 + 6
    };
    let name_width = (area.width as usize).saturating_sub(fixed).max(4);
    let header_cells: Vec<&str> = if wide {
        vec![
            "",
            "KIND",
            "NAMESPACE/NAME",
            "READY",
            "STATUS",
            "RESTARTS",
            "AGE",
        ]
    } else {
        vec!["", "KIND", "NAME", "READY", "STATUS", "RST", "AGE"]
    };
    let header = Row::new(header_cells).style(theme.style(Slot::Header));
    let body = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, w)| {
            let hs = theme.style(health_slot(w.health));
            let status = if w.oom_killed && !w.status.contains("OOM") {
                format!("{} (OOM)", w.status)
            } else {
                w.status.clone()
            };
            let age =
                crate::fmt::duration_short(state.now.duration_since(w.created).unwrap_or_default());
            let marker = match w.health {
                Health::Ok => "●",
                Health::Warn => "▲",
                Health::Critical => "✖",
                Health::Unknown => "?",
            };
            let mut cells = vec![Cell::from(marker).style(hs), Cell::from(w.id.kind.short())];
            let name = if wide {
                format!("{}/{}", w.id.scope, w.id.name)
            } else {
                w.id.name.clone()
            };
            cells.push(Cell::from(truncate_middle(
                &sanitize::line(&name),
                name_width,
            )));
            cells.push(Cell::from(format!("{}/{}", w.ready, w.desired)));
            cells.push(Cell::from(sanitize::line(&status)).style(hs));
            cells.push(Cell::from(w.restarts.to_string()).style(if w.restarts > 3 {
                hs
            } else {
                Style::new()
            }));
            cells.push(Cell::from(age));
            let row = Row::new(cells);
            if i == sel && state.focus == Pane::Workloads {
                row.style(theme.style(Slot::Selection))
            } else {
                row
            }
        });
    let widths: Vec<Constraint> = if wide {
        vec![
            Constraint::Length(1),
            Constraint::Length(6),
            Constraint::Fill(1),
            Constraint::Length(5),
            Constraint::Length(18),
            Constraint::Length(8),
            Constraint::Length(4),
        ]
    } else {
        vec![
            Constraint::Length(1),
            Constraint::Length(6),
            Constraint::Fill(1),
            Constraint::Length(5),
            Constraint::Length(10),
            Constraint::Length(3),
            Constraint::Length(3),
        ]
    };
    frame.render_widget(
        Table::new(body, widths).header(header).column_spacing(1),
        area,
    );
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
        let ts = humantime::format_rfc3339_seconds(line.time).to_string();
        let hms = ts.get(11..19).unwrap_or("").to_string();
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

fn truncate_middle(s: &str, width: usize) -> String {
    if s.width() <= width || width < 5 {
        return truncate(s, width);
    }
    let chars: Vec<char> = s.chars().collect();
    let keep = width - 1;
    let tail = keep / 2 + keep % 2;
    let head = keep - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    if out.width() <= width {
        out
    } else {
        truncate(s, width)
    }
}

pub(crate) fn truncate(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

pub fn logs(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let l = &state.logs;
    let visible = l.visible();
    let Some(bottom) = l.bottom() else {
        let msg = if l.lines.is_empty() {
            "waiting for log lines…"
        } else {
            "no line passes the filters"
        };
        placeholder(frame, area, theme, msg);
        return;
    };
    let source_width = if area.width >= 100 {
        24
    } else if area.width >= 50 {
        14
    } else {
        9
    };
    let height = area.height as usize;
    // Walk up from the bottom line until the pane is full.
    let mut rows: Vec<Line> = Vec::new();
    for &idx in visible[..=bottom].iter().rev() {
        let mut r = log_rows(&l.lines[idx], state, theme, source_width);
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

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline of the last `width` points, each bar coloured by its threshold.
fn sparkline(series: &MetricSeries, width: usize, theme: &Theme) -> Vec<Span<'static>> {
    let pts: Vec<f64> = series
        .points
        .iter()
        .rev()
        .take(width)
        .rev()
        .map(|p| p.value)
        .collect();
    if pts.is_empty() {
        return vec![Span::styled("no data", theme.style(Slot::Hint))];
    }
    let lo = pts.iter().copied().fold(f64::INFINITY, f64::min).min(0.0);
    let mut hi = pts.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if let Some(c) = series.critical {
        hi = hi.max(c);
    }
    if (hi - lo).abs() < f64::EPSILON {
        hi = lo + 1.0;
    }
    pts.iter()
        .map(|&v| {
            let idx = (((v - lo) / (hi - lo)) * 7.0).round().clamp(0.0, 7.0) as usize;
            let slot = match series.health_of(v) {
                Health::Critical => Slot::SparkCritical,
                Health::Warn => Slot::SparkWarn,
                _ => Slot::SparkLine,
            };
            Span::styled(SPARK[idx].to_string(), theme.style(slot))
        })
        .collect()
}

pub fn metrics(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let m = &state.metrics;
    if m.series.is_empty() && m.databases.is_empty() {
        placeholder(frame, area, theme, "waiting for metrics…");
        return;
    }
    let name_w = if area.width >= 60 { 22 } else { 13 };
    let value_w = 9usize;
    let spark_w = (area.width as usize)
        .saturating_sub(name_w + value_w + 2)
        .max(1);
    let mut lines: Vec<Line> = Vec::new();
    for (i, s) in m.series.iter().enumerate() {
        let name = truncate(&sanitize::line(&s.name), name_w);
        let selected = state.focus == Pane::Metrics && i == m.selected;
        let name_style = if selected {
            theme.style(Slot::Selection)
        } else {
            Style::new()
        };
        let mut spans = vec![Span::styled(format!("{name:<name_w$} "), name_style)];
        spans.extend(sparkline(s, spark_w, theme));
        let (value, slot) = match s.current() {
            Some(v) => (crate::fmt::value(v, &s.unit), health_slot(s.health_of(v))),
            None => ("–".into(), Slot::HealthUnknown),
        };
        spans.push(Span::styled(
            format!(" {value:>value_w$}"),
            theme.style(slot),
        ));
        lines.push(Line::from(spans));
    }
    for db in &m.databases {
        let used = db.sessions.len();
        let pct = if db.max_connections > 0 {
            used as f64 * 100.0 / db.max_connections as f64
        } else {
            0.0
        };
        let health = if pct >= 90.0 {
            Health::Critical
        } else if pct >= 80.0 {
            Health::Warn
        } else {
            Health::Ok
        };
        let long = db
            .sessions
            .iter()
            .filter(|s| {
                s.state == crate::domain::SessionState::Active && s.running.as_secs() >= 600
            })
            .count();
        lines.push(Line::from(vec![
            Span::styled(
                format!("{} ", sanitize::line(&db.name)),
                theme.style(Slot::Header),
            ),
            Span::styled(
                format!("{used}/{} connections", db.max_connections),
                theme.style(health_slot(health)),
            ),
            Span::styled(
                format!(" · {long} active > 10m"),
                theme.style(if long > 0 {
                    Slot::HealthWarn
                } else {
                    Slot::Hint
                }),
            ),
        ]));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

pub fn runbook(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(rb) = &state.runbook else {
        placeholder(frame, area, theme, "no runbook for this context");
        return;
    };
    let view = state.estate();
    let mut lines: Vec<Line> = Vec::new();
    for (i, step) in rb.book.steps.iter().enumerate() {
        let results: Vec<CheckResult> = step.checks.iter().map(|c| c.evaluate(&view)).collect();
        let (mark, slot) = if results.is_empty() {
            ("·", Slot::RunbookPending)
        } else if results.iter().all(|r| matches!(r, CheckResult::Pass)) {
            ("✓", Slot::RunbookDone)
        } else if results.iter().any(|r| matches!(r, CheckResult::Fail(_))) {
            ("✗", Slot::RunbookFailing)
        } else {
            ("?", Slot::RunbookPending)
        };
        let mut style = theme.style(slot);
        if i == rb.step {
            style = style.add_modifier(Modifier::BOLD);
        }
        let pointer = if i == rb.step { "▸" } else { " " };
        lines.push(Line::from(vec![
            Span::styled(format!("{pointer}{mark} "), theme.style(slot)),
            Span::styled(format!("{}. {}", i + 1, sanitize::line(&step.title)), style),
        ]));
    }
    // Step titles one line each; the selected step's details below, wrapped.
    let list_height = (lines.len() as u16).min(area.height.saturating_sub(3).max(1));
    let first = (rb.step as u16 + 1).saturating_sub(list_height) as usize;
    let list: Vec<Line> = lines.drain(..).skip(first).collect();
    let [list_area, detail_area] =
        ratatui::layout::Layout::vertical([Constraint::Length(list_height), Constraint::Fill(1)])
            .areas(area);
    frame.render_widget(Paragraph::new(list), list_area);
    if let Some(step) = rb.book.steps.get(rb.step) {
        let key = state
            .keymap
            .keys_for(
                crate::action::Mode::Runbook,
                crate::action::Action::RunAction,
            )
            .into_iter()
            .next()
            .unwrap_or_else(|| "run_action".into());
        for (i, a) in step.actions.iter().enumerate() {
            let selected = i == rb.action && state.focus == Pane::Runbook;
            let style = if selected {
                theme.style(Slot::Selection)
            } else {
                theme.style(Slot::Danger)
            };
            let lock = if state.read_only { " (read-only)" } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!("[{key}] "), theme.style(Slot::HelpKey)),
                Span::styled(format!("{}{lock}", sanitize::line(a.label())), style),
            ]));
        }
        for c in &step.checks {
            let (text, slot) = match c.evaluate(&view) {
                CheckResult::Pass => (format!("✓ {}", c.describe()), Slot::RunbookDone),
                CheckResult::Fail(why) => {
                    (format!("✗ {} — {why}", c.describe()), Slot::RunbookFailing)
                }
                CheckResult::Unknown(why) => {
                    (format!("? {} — {why}", c.describe()), Slot::RunbookPending)
                }
            };
            lines.push(Line::styled(sanitize::line(&text), theme.style(slot)));
        }
        for t in step.text.lines() {
            lines.push(Line::raw(sanitize::line(t)));
        }
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }),
        detail_area,
    );
}

/// The Database pane: connections against max_connections (sparkline,
/// warning 80% / critical 90%), sessions by state, blocked/blocking pairs,
/// then the sessions with the longest-running active queries first.
pub fn database(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    use crate::domain::SessionState;
    let dbs = &state.metrics.databases;
    if dbs.is_empty() {
        placeholder(frame, area, theme, "no database in this session");
        return;
    }
    let mut lines: Vec<Line> = Vec::new();
    for db in dbs {
        let used = db.sessions.len() as u32;
        let max = db.max_connections.max(1);
        let pct = |n: u32| n as f64 * 100.0 / max as f64;
        let health_of = |n: u32| {
            let p = pct(n);
            if p >= 90.0 {
                Health::Critical
            } else if p >= 80.0 {
                Health::Warn
            } else {
                Health::Ok
            }
        };
        let mut spans = vec![
            Span::styled(
                format!("{} ", sanitize::line(&db.name)),
                theme.style(Slot::Header),
            ),
            Span::styled(
                format!(
                    "{used}/{} connections ({:.0}%) ",
                    db.max_connections,
                    pct(used)
                ),
                theme.style(health_slot(health_of(used))),
            ),
        ];
        let width =
            (area.width as usize).saturating_sub(spans.iter().map(|s| s.width()).sum::<usize>());
        if let Some(h) = state.database.history_of(&db.name) {
            let pts: Vec<u32> = h.iter().rev().take(width).rev().copied().collect();
            for n in pts {
                let idx = ((pct(n) / 100.0) * 7.0).round().clamp(0.0, 7.0) as usize;
                let slot = match health_of(n) {
                    Health::Critical => Slot::SparkCritical,
                    Health::Warn => Slot::SparkWarn,
                    _ => Slot::SparkLine,
                };
                spans.push(Span::styled(SPARK[idx].to_string(), theme.style(slot)));
            }
        }
        lines.push(Line::from(spans));
        let count = |st: SessionState| db.sessions.iter().filter(|s| s.state == st).count();
        lines.push(Line::styled(
            format!(
                "active {} · idle {} · idle in transaction {} · other {}",
                count(SessionState::Active),
                count(SessionState::Idle),
                count(SessionState::IdleInTransaction),
                count(SessionState::Other)
            ),
            theme.style(Slot::Hint),
        ));
        // Grouped by blocker: the sessions worth looking at first.
        let mut blockers: Vec<(i32, Vec<i32>)> = Vec::new();
        for waiter in db.sessions.iter().filter(|s| !s.blocked_by.is_empty()) {
            for &b in &waiter.blocked_by {
                match blockers.iter_mut().find(|(p, _)| *p == b) {
                    Some((_, w)) => w.push(waiter.pid),
                    None => blockers.push((b, vec![waiter.pid])),
                }
            }
        }
        blockers.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
        let pairs: Vec<String> = blockers
            .iter()
            .map(|(b, waiters)| {
                let w: Vec<String> = waiters.iter().map(|p| p.to_string()).collect();
                format!("{b} blocks {} ({})", waiters.len(), w.join(", "))
            })
            .collect();
        if !pairs.is_empty() {
            lines.push(Line::styled(
                format!("locks: {}", pairs.join("; ")),
                theme.style(Slot::HealthWarn),
            ));
        }
    }
    let rows = crate::core::db_rows(dbs);
    let head = lines.len() as u16;
    let [top, table_area] =
        ratatui::layout::Layout::vertical([Constraint::Length(head), Constraint::Fill(1)])
            .areas(area);
    frame.render_widget(Paragraph::new(lines), top);
    if rows.is_empty() || table_area.height < 2 {
        return;
    }
    let wide = area.width >= 100;
    let height = table_area.height.saturating_sub(1) as usize;
    let sel = state.database.selected.min(rows.len() - 1);
    let first = sel.saturating_sub(height.saturating_sub(1));
    let header: Vec<&str> = if wide {
        vec![
            "PID",
            "USER",
            "APPLICATION",
            "CLIENT",
            "STATE",
            "WAIT",
            "RUNNING",
            "QUERY",
        ]
    } else {
        vec!["PID", "STATE", "RUNNING", "QUERY"]
    };
    let body = rows
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, (_, s))| {
            let long = s.state == SessionState::Active && s.running.as_secs() >= 600;
            let state_style = if long {
                theme.style(Slot::HealthCritical)
            } else if !s.blocked_by.is_empty() || s.state == SessionState::IdleInTransaction {
                theme.style(Slot::HealthWarn)
            } else {
                Style::new()
            };
            let running = if s.state == SessionState::Active {
                crate::fmt::duration_ms(s.running)
            } else {
                String::new()
            };
            let query = sanitize::line(&s.query);
            let mut cells = vec![Cell::from(s.pid.to_string())];
            if wide {
                cells.push(Cell::from(sanitize::line(&s.user)));
                cells.push(Cell::from(sanitize::line(&s.application)));
                cells.push(Cell::from(sanitize::line(&s.client)));
            }
            cells.push(Cell::from(s.state.label()).style(state_style));
            if wide {
                cells.push(Cell::from(sanitize::line(
                    s.wait_event.as_deref().unwrap_or(""),
                )));
            }
            cells.push(Cell::from(running).style(state_style));
            cells.push(Cell::from(query));
            let row = Row::new(cells);
            if i == sel && state.focus == Pane::Database {
                row.style(theme.style(Slot::Selection))
            } else {
                row
            }
        });
    let widths: Vec<Constraint> = if wide {
        vec![
            Constraint::Length(6),
            Constraint::Length(10),
            Constraint::Length(12),
            Constraint::Length(15),
            Constraint::Length(19),
            Constraint::Length(12),
            Constraint::Length(8),
            Constraint::Fill(1),
        ]
    } else {
        vec![
            Constraint::Length(6),
            Constraint::Length(8),
            Constraint::Length(7),
            Constraint::Fill(1),
        ]
    };
    frame.render_widget(
        Table::new(body, widths)
            .header(Row::new(header).style(theme.style(Slot::Header)))
            .column_spacing(1),
        table_area,
    );
}
