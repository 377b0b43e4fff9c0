//! Log lines of many sources in time order, with a bounded reorder window.
//!
//! Sources deliver their lines in order each, but not in step with one
//! another: a pod's history arrives after another pod's, CloudWatch ingests
//! late, a batch from one stream waits behind another's. A line may still go
//! before lines that arrived less than the window ago (by wall clock); once
//! a batch has been there a whole window, the order up to its newest line is
//! final (the *floor*). A line older than the floor is *late*: it is placed
//! at the floor (right after the final lines) and counted, so the UI can say
//! so. Every line's place is therefore `max(time, floor when it arrived)`,
//! a key that never goes back: the lines stay sorted by it.
//!
//! The console keeps every line in one buffer and inserts into it
//! ([`LogOrder::merge_into`]); `opsdeck logs` prints a line once its place
//! is final ([`OrderedStream`]). Both use the same [`LogOrder`]. No I/O.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use super::LogLine;

/// How long after it arrived a line may still have others put before it.
pub const REORDER_WINDOW: Duration = Duration::from_secs(5);

/// The reorder window's bookkeeping: when each batch arrived and up to
/// which log time the order is final.
#[derive(Debug, Clone)]
pub struct LogOrder {
    window: Duration,
    /// The order of lines at or before this log time is final.
    floor: Option<SystemTime>,
    /// Batches still inside the window: arrival time, newest log time.
    batches: VecDeque<(SystemTime, SystemTime)>,
    /// Lines that arrived older than the floor, since the start.
    late: u64,
}

/// A line with its place: its time, or the floor if it came late.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    pub key: SystemTime,
    pub late: bool,
    pub line: LogLine,
}

impl Default for LogOrder {
    fn default() -> Self {
        Self::new(REORDER_WINDOW)
    }
}

impl LogOrder {
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            floor: None,
            batches: VecDeque::new(),
            late: 0,
        }
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// Lines that came later than the window allows, since the start.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Up to which log time the order is final.
    pub fn floor(&self) -> Option<SystemTime> {
        self.floor
    }

    /// The clock moved: batches that arrived a window or more before `now`
    /// make the order final up to their newest line.
    pub fn settle(&mut self, now: SystemTime) {
        while let Some(&(arrived, newest)) = self.batches.front() {
            let age = now.duration_since(arrived).unwrap_or_default();
            if age < self.window {
                break;
            }
            self.batches.pop_front();
            self.floor = Some(self.floor.map_or(newest, |f| f.max(newest)));
        }
    }

    /// Take in a batch arriving at `now`: each line with its place, sorted
    /// by it (lines of equal place keep their arrival order).
    pub fn admit(&mut self, batch: Vec<LogLine>, now: SystemTime) -> Vec<Placed> {
        self.settle(now);
        let Some(newest) = batch.iter().map(|l| l.time).max() else {
            return Vec::new();
        };
        let mut placed: Vec<Placed> = batch
            .into_iter()
            .map(|line| {
                let late = self.floor.is_some_and(|f| line.time < f);
                let key = match self.floor {
                    Some(f) if late => f,
                    _ => line.time,
                };
                Placed { key, late, line }
            })
            .collect();
        self.late += placed.iter().filter(|p| p.late).count() as u64;
        placed.sort_by_key(|p| p.key);
        self.batches.push_back((now, newest));
        placed
    }

    /// Lines fetched on request (a previous container's logs): placed by
    /// their own time whatever the window, and never counted late.
    pub fn history(batch: Vec<LogLine>) -> Vec<Placed> {
        let mut placed: Vec<Placed> = batch
            .into_iter()
            .map(|line| Placed {
                key: line.time,
                late: false,
                line,
            })
            .collect();
        placed.sort_by_key(|p| p.key);
        placed
    }

    /// Merge lines sorted by [`admit`](Self::admit) into `lines` (kept in
    /// the same order). Only the lines newer than the batch's first place
    /// move. Returns the final indices of the new lines, ascending.
    pub fn merge_into(lines: &mut VecDeque<LogLine>, placed: Vec<Placed>) -> Vec<usize> {
        let Some(first) = placed.first().map(|p| p.key) else {
            return Vec::new();
        };
        // A line already in place is after `first` only if its own time is:
        // a late line's place is a floor no newer than `first`.
        let mut pos = lines.len();
        while pos > 0 && lines[pos - 1].time > first {
            pos -= 1;
        }
        let mut tail = lines.split_off(pos).into_iter().peekable();
        let mut new = placed.into_iter().peekable();
        let mut at = Vec::new();
        loop {
            let take_new = match (tail.peek(), new.peek()) {
                (Some(old), Some(p)) => p.key < old.time,
                (None, Some(_)) => true,
                (_, None) => break,
            };
            if take_new {
                if let Some(p) = new.next() {
                    at.push(lines.len());
                    lines.push_back(p.line);
                }
            } else if let Some(old) = tail.next() {
                lines.push_back(old);
            }
        }
        lines.extend(tail);
        at
    }
}

/// Lines handed out once their order is final, for a consumer that cannot
/// take a line back (a pipe): `opsdeck logs`.
#[derive(Debug, Clone, Default)]
pub struct OrderedStream {
    order: LogOrder,
    pending: VecDeque<LogLine>,
}

impl OrderedStream {
    pub fn new(window: Duration) -> Self {
        Self {
            order: LogOrder::new(window),
            pending: VecDeque::new(),
        }
    }

    /// Take in a batch arriving at `now`.
    pub fn push(&mut self, batch: Vec<LogLine>, now: SystemTime) {
        let placed = self.order.admit(batch, now);
        LogOrder::merge_into(&mut self.pending, placed);
    }

    /// The lines whose place is final at `now`, in order.
    pub fn ready(&mut self, now: SystemTime) -> Vec<LogLine> {
        self.order.settle(now);
        let Some(floor) = self.order.floor() else {
            return Vec::new();
        };
        let n = self
            .pending
            .iter()
            .position(|l| l.time > floor)
            .unwrap_or(self.pending.len());
        self.pending.drain(..n).collect()
    }

    /// Every line left, in order (the sources have ended).
    pub fn finish(&mut self) -> Vec<LogLine> {
        self.pending.drain(..).collect()
    }

    /// Lines that came later than the window allows.
    pub fn late(&self) -> u64 {
        self.order.late()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Level;

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + s)
    }

    fn line(src: &str, s: u64) -> LogLine {
        LogLine {
            source: src.into(),
            time: at(s),
            level: Level::Info,
            text: format!("{src}@{s}"),
        }
    }

    fn texts(lines: &VecDeque<LogLine>) -> Vec<String> {
        lines.iter().map(|l| l.text.clone()).collect()
    }

    #[test]
    fn histories_arriving_one_after_the_other_are_merged() {
        let mut order = LogOrder::default();
        let mut lines = VecDeque::new();
        let a = order.admit(vec![line("a", 10), line("a", 20), line("a", 30)], at(100));
        LogOrder::merge_into(&mut lines, a);
        let b = order.admit(vec![line("b", 5), line("b", 25)], at(101));
        let at_ = LogOrder::merge_into(&mut lines, b);
        assert_eq!(texts(&lines), ["b@5", "a@10", "a@20", "b@25", "a@30"]);
        assert_eq!(at_, [0, 3]);
        assert_eq!(order.late(), 0);
    }

    #[test]
    fn a_line_later_than_the_window_goes_to_the_floor_and_is_counted() {
        let mut order = LogOrder::new(Duration::from_secs(5));
        let mut lines = VecDeque::new();
        LogOrder::merge_into(&mut lines, order.admit(vec![line("a", 10)], at(10)));
        LogOrder::merge_into(&mut lines, order.admit(vec![line("a", 12)], at(12)));
        // At 16 the first batch is final (floor 10), the second is not.
        let placed = order.admit(vec![line("b", 3), line("b", 11)], at(16));
        assert_eq!(order.floor(), Some(at(10)));
        assert!(placed[0].late && !placed[1].late);
        LogOrder::merge_into(&mut lines, placed);
        assert_eq!(texts(&lines), ["a@10", "b@3", "b@11", "a@12"]);
        assert_eq!(order.late(), 1);
        // A line at the floor itself is not late and goes after it.
        let placed = order.admit(vec![line("c", 10)], at(16));
        assert!(!placed[0].late);
        LogOrder::merge_into(&mut lines, placed);
        assert_eq!(texts(&lines), ["a@10", "b@3", "c@10", "b@11", "a@12"]);
    }

    #[test]
    fn the_stream_hands_out_lines_once_final_and_everything_at_the_end() {
        let mut s = OrderedStream::new(Duration::from_secs(5));
        s.push(vec![line("a", 1), line("a", 4)], at(4));
        assert!(s.ready(at(8)).is_empty());
        s.push(vec![line("b", 2), line("b", 9)], at(8));
        let out: Vec<String> = s.ready(at(9)).into_iter().map(|l| l.text).collect();
        assert_eq!(out, ["a@1", "b@2", "a@4"]);
        s.push(vec![line("a", 10)], at(10));
        let out: Vec<String> = s.finish().into_iter().map(|l| l.text).collect();
        assert_eq!(out, ["b@9", "a@10"]);
    }
}
