//! One marker line per log stream that was lost, updated in place.
//!
//! A crash-looping pod loses its log stream again and again; a new line
//! each time would push everything else out of the pane. Instead each
//! source has at most one marker line, `— api-7d9f-x2k4q: stream lost 14× ·
//! next retry in 8s —`: a new loss moves it to the time of that loss with
//! the new count, the clock updates its countdown, and when the stream has
//! stayed open again it says `resumed` where it is.

use std::time::SystemTime;

use super::view::{LogsView, StreamMarker};
use crate::domain::{Level, LogLine, StreamState};

/// Marker lines start with this (and end with ` —`).
pub const MARKER_PREFIX: &str = "— ";

/// The marker's text at `now`.
pub fn marker_text(source: &str, m: &StreamMarker, now: SystemTime) -> String {
    let tail = match m.retry_at {
        None => "resumed".to_string(),
        Some(at) => match at.duration_since(now) {
            // Whole seconds, rounded up: "in 0s" never shows.
            Ok(d) if !d.is_zero() => {
                let secs = d.as_millis().div_ceil(1000);
                let secs = u64::try_from(secs).unwrap_or(u64::MAX);
                let d = std::time::Duration::from_secs(secs);
                format!("next retry in {}", crate::fmt::duration_short(d))
            }
            _ => "retrying".to_string(),
        },
    };
    format!(
        "{MARKER_PREFIX}{source}: stream lost {}× · {tail} —",
        m.lost
    )
}

impl LogsView {
    /// Apply a stream's new state at `now`.
    pub fn stream_state(&mut self, st: StreamState, now: SystemTime) {
        let StreamState {
            source,
            lost,
            retry_at,
        } = st;
        if retry_at.is_none() {
            // Resumed: say so where the marker is (no marker: nothing to say).
            if let Some(m) = self.markers.get_mut(&source) {
                m.lost = lost;
                m.retry_at = None;
                let m = m.clone();
                self.rewrite_marker(&source, &m, now);
            }
            return;
        }
        if let Some(old) = self.markers.remove(&source) {
            self.remove_marker_line(&source, old.time);
        }
        let m = StreamMarker {
            time: now,
            lost,
            retry_at,
        };
        let line = LogLine {
            source: source.clone(),
            time: now,
            level: Level::Warn,
            text: marker_text(&source, &m, now),
        };
        self.markers.insert(source, m);
        self.push(vec![line], now);
    }

    /// The clock moved: the countdowns of the streams being retried.
    pub fn refresh_markers(&mut self, now: SystemTime) {
        let waiting: Vec<(String, StreamMarker)> = self
            .markers
            .iter()
            .filter(|(_, m)| m.retry_at.is_some())
            .map(|(s, m)| (s.clone(), m.clone()))
            .collect();
        for (source, m) in waiting {
            self.rewrite_marker(&source, &m, now);
        }
    }

    fn marker_index(&self, source: &str, time: SystemTime) -> Option<usize> {
        self.lines.iter().rposition(|l| {
            l.time == time && l.source == source && l.text.starts_with(MARKER_PREFIX)
        })
    }

    fn rewrite_marker(&mut self, source: &str, m: &StreamMarker, now: SystemTime) {
        if let Some(i) = self.marker_index(source, m.time) {
            let text = marker_text(source, m, now);
            if let Some(line) = self.lines.get_mut(i) {
                line.text = text;
                line.level = if m.retry_at.is_some() {
                    Level::Warn
                } else {
                    Level::Info
                };
            }
        }
    }

    /// Take a marker line out, keeping a paused pane on the same line.
    fn remove_marker_line(&mut self, source: &str, time: SystemTime) {
        let Some(i) = self.marker_index(source, time) else {
            return;
        };
        if !self.follow {
            let visible = self.visible();
            if let Some(pos) = visible.iter().position(|&v| v == i) {
                if pos < self.anchor {
                    self.anchor -= 1;
                }
            }
        }
        self.lines.remove(i);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_text_counts_down_and_says_resumed() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut m = StreamMarker {
            time: t0,
            lost: 14,
            retry_at: Some(t0 + Duration::from_secs(8)),
        };
        assert_eq!(
            marker_text("api-7d9f-x2k4q", &m, t0),
            "— api-7d9f-x2k4q: stream lost 14× · next retry in 8s —"
        );
        assert_eq!(
            marker_text("api", &m, t0 + Duration::from_secs(9)),
            "— api: stream lost 14× · retrying —"
        );
        m.retry_at = None;
        assert_eq!(
            marker_text("api", &m, t0),
            "— api: stream lost 14× · resumed —"
        );
    }
}
