//! The Logs pane's state: a bounded buffer plus follow, scroll, filters and search.

use std::collections::VecDeque;

use crate::domain::{Level, LogLine};

/// Lines kept in memory; older ones are dropped first.
pub const MAX_LOG_LINES: usize = 20_000;

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
        }
    }
}

impl LogsView {
    pub fn push(&mut self, batch: Vec<LogLine>) {
        let before = self.visible_len();
        for line in batch {
            if self.lines.len() == MAX_LOG_LINES {
                self.lines.pop_front();
                self.dropped += 1;
                if !self.follow {
                    self.anchor = self.anchor.saturating_sub(1);
                }
            }
            self.lines.push_back(line);
        }
        if !self.follow {
            self.unseen += self.visible_len().saturating_sub(before);
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

    pub fn to_top(&mut self) {
        self.follow = false;
        self.anchor = 0;
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
        );
        v.scroll(-3);
        assert!(!v.follow);
        assert_eq!(v.bottom(), Some(6));
        v.push(vec![line("a", Level::Info, "new")]);
        assert_eq!(v.bottom(), Some(6));
        assert_eq!(v.unseen, 1);
        v.push(
            (0..MAX_LOG_LINES)
                .map(|i| line("a", Level::Info, &format!("m{i}")))
                .collect(),
        );
        assert_eq!(v.lines.len(), MAX_LOG_LINES);
        assert_eq!(v.dropped, 11);
    }

    #[test]
    fn filters_and_search() {
        let mut v = LogsView::default();
        v.push(vec![
            line("api-1", Level::Info, "GET /health 200"),
            line("api-2", Level::Error, "pool timeout"),
            line("worker-1", Level::Warn, "slow Pool"),
        ]);
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
        v.to_top();
        assert!(v.jump_match(true));
        assert_eq!(v.bottom(), Some(1));
        assert!(v.jump_match(true));
        assert_eq!(v.bottom(), Some(0));
        assert!(v.jump_match(false));
        assert_eq!(v.bottom(), Some(1));
    }
}
