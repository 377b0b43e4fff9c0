//! Small drawing helpers every pane uses: health colours, placeholders,
//! truncation that keeps what matters, sparkline bars.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::text::{Line, Text};
use ratatui::widgets::{Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use crate::core::{Feed, State};
use crate::domain::{Health, MetricSeries};
use crate::theme::{Slot, Theme};

pub fn health_slot(h: Health) -> Slot {
    match h {
        Health::Ok => Slot::HealthOk,
        Health::Warn => Slot::HealthWarn,
        Health::Critical => Slot::HealthCritical,
        Health::Unknown => Slot::HealthUnknown,
    }
}

pub fn placeholder(frame: &mut Frame, area: Rect, theme: &Theme, text: &str) {
    frame.render_widget(
        Paragraph::new(Span::styled(text.to_string(), theme.style(Slot::Hint)))
            .wrap(Wrap { trim: true }),
        area,
    );
}

/// The placeholder of a pane that `feed` fills while it has nothing to
/// show: `waiting`, or, for each source that has never answered and whose
/// last attempt failed, that failure in full, wrapped (missing
/// credentials, a host that does not resolve: what is wrong and what to do).
pub fn feed_placeholder(
    frame: &mut Frame,
    area: Rect,
    theme: &Theme,
    state: &State,
    feed: Feed,
    waiting: &str,
) {
    let mut lines = Vec::new();
    for s in state.feeds.of(feed) {
        let Some(error) = s.error.as_deref().filter(|_| s.last_ok.is_none()) else {
            continue;
        };
        lines.push(Line::from(Span::styled(
            format!(
                "cannot load {}: {}",
                crate::sanitize::line(&s.source),
                crate::sanitize::line(error)
            ),
            theme.style(Slot::Danger),
        )));
        lines.push(Line::from(Span::styled(
            format!("retrying ({} failed so far)", s.failures),
            theme.style(Slot::Hint),
        )));
    }
    if lines.is_empty() {
        placeholder(frame, area, theme, waiting);
        return;
    }
    frame.render_widget(
        Paragraph::new(Text::from(lines)).wrap(Wrap { trim: false }),
        area,
    );
}

/// Shorten to `width` columns keeping both ends (`api-7d9f…x2k4q`): pod and
/// task names differ at the end.
pub fn truncate_middle(s: &str, width: usize) -> String {
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

/// Shorten to `width` columns, marking the cut with `…`.
pub fn truncate(s: &str, width: usize) -> String {
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

pub use crate::fmt::wrap_words;

pub const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline of the last `width` points, each bar coloured by its threshold.
pub fn sparkline(series: &MetricSeries, width: usize, theme: &Theme) -> Vec<Span<'static>> {
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
