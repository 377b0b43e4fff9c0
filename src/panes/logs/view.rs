//! The Logs pane's state: a bounded buffer plus follow, scroll, filters and search.

use std::collections::VecDeque;
use std::time::SystemTime;

use crate::domain::{Level, LogLine, LogOrder};

/// Lines kept in memory; older ones are dropped first.
pub const MAX_LOG_LINES: usize = 20_000;

/// A source's marker: where its line is (by time) and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamMarker {
    /// The marker line's time (its place in the buffer).
    pub time: SystemTime,
    pub lost: u32,
    /// `None`: resumed.
    pub retry_at: Option<SystemTime>,
}

#[derive(Debug, Clone)]
pub struct LogsView {
    pub lines: VecDeque<LogLine>,
    /// Lines dropped from the front since start (keeps positions stable).
    pub dropped: u64,
    /// Stick to the newest line.
    pub follow: bool,
    /// When not following: the index (into the filtered lines) shown at the bottom.
    pub anchor: usize,
    pub search: String,
    /// Show only lines containing this (ASCII case-insensitive).
    pub filter: String,
    pub min_level: Level,
    /// Show only sources containing this (a pod, task or log group).
    pub source: Option<String>,
    pub json_pretty: bool,
    pub timestamps: bool,
    /// Lines that arrived while paused.
    pub unseen: usize,
    /// Streams that are behind (catching up, or backing off), by label.
    pub lag: std::collections::BTreeMap<String, std::time::Duration>,
    /// The merge of every source's lines by time (the reorder window).
    pub order: LogOrder,
    /// Wrap long lines instead of cutting them at the pane's edge.
    pub wrap: bool,
    /// The marker line of each source whose stream was lost, by source.
    pub markers: std::collections::BTreeMap<String, StreamMarker>,
}

impl Default for LogsView {
    fn default() -> Self {
        Self {
            lines: VecDeque::new(),
            dropped: 0,
            follow: true,
            anchor: 0,
            search: String::new(),
            filter: String::new(),
            min_level: Level::Trace,
            source: None,
            json_pretty: false,
            timestamps: true,
            unseen: 0,
            lag: std::collections::BTreeMap::new(),
            order: LogOrder::default(),
            wrap: false,
            markers: std::collections::BTreeMap::new(),
        }
    }
}

impl LogsView {
    /// Take in a batch arriving at `now`: each line goes to its place in
    /// time order (within the reorder window; a later line is placed at the
    /// window's edge and counted). While paused, the line at the bottom of
    /// the pane stays there.
    pub fn push(&mut self, batch: Vec<LogLine>, now: SystemTime) {
        let placed = self.order.admit(batch, now);
        self.insert(placed);
    }

    /// Take in a piece of history fetched on request (a previous
    /// container's logs): merged by time whatever the window.
    pub fn push_history(&mut self, batch: Vec<LogLine>) {
        let placed = LogOrder::history(batch);
        self.insert(placed);
    }

    fn insert(&mut self, placed: Vec<crate::domain::Placed>) {
        let before = self.visible_len();
        // The raw index of the line at the bottom of a paused pane.
        let mut anchored = if self.follow {
            None
        } else {
            self.visible().get(self.anchor).copied()
        };
        let at = LogOrder::merge_into(&mut self.lines, placed);
        if let Some(r) = &mut anchored {
            for &p in &at {
                if p > *r {
                    break;
                }
                *r += 1;
            }
        }
        let excess = self.lines.len().saturating_sub(MAX_LOG_LINES);
        if excess > 0 {
            self.lines.drain(..excess);
            self.dropped += excess as u64;
        }
        if let Some(r) = anchored {
            let r = r.saturating_sub(excess);
            let visible = self.visible();
            self.anchor = visible
                .partition_point(|&i| i < r)
                .min(visible.len().saturating_sub(1));
            self.unseen += visible.len().saturating_sub(before);
        }
    }

    pub fn shows(&self, line: &LogLine) -> bool {
        line.level >= self.min_level
            && self
                .source
                .as_ref()
                .is_none_or(|s| line.source.contains(s.as_str()))
            && (self.filter.is_empty() || contains_ignore_ascii_case(&line.text, &self.filter))
    }

    /// Indices into `lines` of the lines passing the filters.
    pub fn visible(&self) -> Vec<usize> {
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, l)| self.shows(l))
            .map(|(i, _)| i)
            .collect()
    }

    pub fn visible_len(&self) -> usize {
        self.lines.iter().filter(|l| self.shows(l)).count()
    }

    /// Index (into the visible lines) shown at the bottom of the pane.
    pub fn bottom(&self) -> Option<usize> {
        let n = self.visible_len();
        if n == 0 {
            None
        } else if self.follow {
            Some(n - 1)
        } else {
            Some(self.anchor.min(n - 1))
        }
    }

    /// Scroll by `delta` lines (negative = towards older lines). Scrolling up pauses follow;
    /// reaching the bottom resumes it.
    pub fn scroll(&mut self, delta: isize) {
        let n = self.visible_len();
        if n == 0 {
            return;
        }
        let cur = self.bottom().unwrap_or(0) as isize;
        let target = (cur + delta).clamp(0, n as isize - 1) as usize;
        if target == n - 1 && delta > 0 {
            self.set_follow(true);
        } else {
            self.follow = false;
            self.anchor = target;
        }
    }

    pub fn set_follow(&mut self, follow: bool) {
        if follow {
            self.follow = true;
            self.unseen = 0;
        } else if self.follow {
            self.anchor = self.visible_len().saturating_sub(1);
            self.follow = false;
        }
    }

    /// Show the first lines: as many as fill `rows` screen rows, given the
    /// rows each visible line takes (more than one when wrapped or pretty).
    pub fn to_top(&mut self, rows: usize, height: impl Fn(&LogLine) -> usize) {
        self.anchor = self.top_anchor(rows, height);
        self.follow = false;
    }

    /// The bottom line (index into the visible lines) of the first page.
    pub fn top_anchor(&self, rows: usize, height: impl Fn(&LogLine) -> usize) -> usize {
        let mut used = 0;
        let mut anchor = 0;
        for (pos, line) in self.lines.iter().filter(|l| self.shows(l)).enumerate() {
            used += height(line).max(1);
            if used > rows && pos > 0 {
                break;
            }
            anchor = pos;
            if used >= rows {
                break;
            }
        }
        anchor
    }

    /// The line at the bottom of the pane (the newest when following).
    pub fn current(&self) -> Option<&LogLine> {
        let pos = self.bottom()?;
        self.lines.iter().filter(|l| self.shows(l)).nth(pos)
    }

    /// Does this raw line match the search (ASCII case-insensitive, as highlighted)?
    pub fn matches(&self, line: &LogLine) -> bool {
        !self.search.is_empty() && contains_ignore_ascii_case(&line.text, &self.search)
    }

    /// Jump to the next (`forward`) or previous match from the current bottom line.
    /// Returns false when there is no match.
    pub fn jump_match(&mut self, forward: bool) -> bool {
        if self.search.is_empty() {
            return false;
        }
        let visible = self.visible();
        let cur = self.bottom().unwrap_or(0);
        let hit = |&(_, &i): &(usize, &usize)| self.matches(&self.lines[i]);
        let found = if forward {
            visible
                .iter()
                .enumerate()
                .skip(cur + 1)
                .find(hit)
                .or_else(|| visible.iter().enumerate().take(cur + 1).find(hit))
        } else {
            visible
                .iter()
                .enumerate()
                .take(cur)
                .rev()
                .find(hit)
                .or_else(|| visible.iter().enumerate().skip(cur).rev().find(hit))
        };
        match found {
            Some((pos, _)) => {
                self.follow = false;
                self.anchor = pos;
                true
            }
            None => false,
        }
    }

    /// Number of visible lines matching the search.
    pub fn match_count(&self) -> usize {
        if self.search.is_empty() {
            return 0;
        }
        self.lines
            .iter()
            .filter(|l| self.shows(l) && self.matches(l))
            .count()
    }

    /// Distinct sources seen, sorted, for cycling the source filter.
    pub fn sources(&self) -> Vec<String> {
        let mut s: Vec<String> = self.lines.iter().map(|l| l.source.clone()).collect();
        s.sort();
        s.dedup();
        s
    }
}

/// Substring test ignoring ASCII case (byte offsets stay valid for highlighting).
pub fn contains_ignore_ascii_case(hay: &str, needle: &str) -> bool {
    hay.to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn line(src: &str, level: Level, text: &str) -> LogLine {
        LogLine {
            source: src.into(),
            time: SystemTime::UNIX_EPOCH,
            level,
            text: text.into(),
        }
    }

    #[test]
    fn buffer_is_bounded_and_paused_view_stays_put() {
        let mut v = LogsView::default();
        v.push(
            (0..10)
                .map(|i| line("a", Level::Info, &format!("l{i}")))
                .collect(),
            SystemTime::UNIX_EPOCH,
        );
        v.scroll(-3);
        assert!(!v.follow);
        assert_eq!(v.bottom(), Some(6));
        v.push(vec![line("a", Level::Info, "new")], SystemTime::UNIX_EPOCH);
        assert_eq!(v.bottom(), Some(6));
        assert_eq!(v.unseen, 1);
        v.push(
            (0..MAX_LOG_LINES)
                .map(|i| line("a", Level::Info, &format!("m{i}")))
                .collect(),
            SystemTime::UNIX_EPOCH,
        );
        assert_eq!(v.lines.len(), MAX_LOG_LINES);
        assert_eq!(v.dropped, 11);
    }

    #[test]
    fn filters_and_search() {
        let mut v = LogsView::default();
        v.push(
            vec![
                line("api-1", Level::Info, "GET /health 200"),
                line("api-2", Level::Error, "pool timeout"),
                line("worker-1", Level::Warn, "slow Pool"),
            ],
            SystemTime::UNIX_EPOCH,
        );
        v.min_level = Level::Warn;
        assert_eq!(v.visible(), vec![1, 2]);
        v.source = Some("api".into());
        assert_eq!(v.visible(), vec![1]);
        v.source = None;
        v.filter = "POOL".into();
        assert_eq!(v.visible(), vec![1, 2]);
        v.filter = "slow".into();
        assert_eq!(v.visible(), vec![2]);
        v.filter.clear();
        v.search = "pool".into();
        assert_eq!(v.match_count(), 2);
        v.to_top(1, |_| 1);
        assert!(v.jump_match(true));
        assert_eq!(v.bottom(), Some(1));
        assert!(v.jump_match(true));
        assert_eq!(v.bottom(), Some(0));
        assert!(v.jump_match(false));
        assert_eq!(v.bottom(), Some(1));
    }
}
