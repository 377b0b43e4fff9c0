//! The poll rounds over every group of a tail: which group to ask next and
//! from when, de-duplication of the events seen in the overlap, and the merge
//! of the groups' events in timestamp order. No I/O: pages go in, ordered
//! lines come out.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;

use crate::domain::{Level, LogLine};

/// Event ids remembered per group at most. Past this the oldest are
/// forgotten first; only a group ingesting more than half of this within
/// the overlap could then see a line twice.
const MAX_SEEN_PER_GROUP: usize = 200_000;
/// A hexadecimal run at least this long at the end of a stream name is an
/// id (ECS task, Lambda instance) and is shortened in the source column.
const LONG_ID: usize = 24;
/// How many digits of such an id are kept.
const SHORT_ID: usize = 8;

/// One log event as the merge sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Event {
    pub(super) stream: String,
    /// Milliseconds since the epoch.
    pub(super) timestamp: i64,
    pub(super) ingestion: i64,
    pub(super) id: String,
    pub(super) message: String,
}

impl Event {
    pub(super) fn from_sdk(e: &FilteredLogEvent) -> Event {
        let stream = e.log_stream_name().unwrap_or_default().to_string();
        let timestamp = e.timestamp().or(e.ingestion_time()).unwrap_or(0);
        let ingestion = e.ingestion_time().unwrap_or(timestamp);
        let message = e.message().unwrap_or_default().to_string();
        let id = match e.event_id() {
            Some(id) if !id.is_empty() => id.to_string(),
            _ => format!("{stream}\u{0}{timestamp}\u{0}{ingestion}\u{0}{message}"),
        };
        Event {
            stream,
            timestamp,
            ingestion,
            id,
            message,
        }
    }
}

/// One followed log group.
#[derive(Debug)]
pub(super) struct Group {
    name: String,
    /// The group's part of the source column.
    short: String,
    /// The newest timestamp seen in this group, over all rounds.
    newest: Option<i64>,
    /// Ids of the events delivered from this group, with their timestamps;
    /// those older than the current round's start are forgotten.
    seen: HashMap<String, i64>,
    /// The current round's start time; fixed while paging, since a token
    /// belongs to its query.
    start: i64,
    token: Option<String>,
    /// The newest timestamp in the current round's pages so far.
    high: Option<i64>,
    /// Still has pages to fetch in the current round.
    open: bool,
}

impl Group {
    /// No event of this group older than this can still arrive this round.
    fn watermark(&self) -> i64 {
        self.high.unwrap_or(self.start)
    }
}

/// Sort key of a fetched line: timestamp, ingestion time, arrival order.
type Key = (i64, i64, u64);

/// The poll rounds over every group, with de-duplication and the merge in
/// timestamp order. No I/O: pages go in, ordered lines come out.
///
/// Within a group the pages of a query come in timestamp order, so once a
/// group's pages have reached time `t`, nothing older than `t` can still
/// come from it this round. A line is released when it is older than every
/// open group's watermark; the rest wait in `pending` for the slower groups.
#[derive(Debug)]
pub(super) struct Merge {
    pub(super) groups: Vec<Group>,
    prefix: Option<String>,
    /// Where the tail starts, ms since the epoch; nothing older is asked for.
    pub(super) floor: i64,
    /// Milliseconds each round reaches back before a group's newest event.
    overlap: i64,
    pending: BTreeMap<Key, LogLine>,
    seq: u64,
}

impl Merge {
    pub(super) fn new(
        names: Vec<String>,
        prefix: Option<String>,
        floor: i64,
        overlap: i64,
    ) -> Self {
        let groups = names
            .into_iter()
            .map(|name| Group {
                short: short_group(&name),
                name,
                newest: None,
                seen: HashMap::new(),
                start: floor,
                token: None,
                high: None,
                open: false,
            })
            .collect();
        Self {
            groups,
            prefix,
            floor,
            overlap,
            pending: BTreeMap::new(),
            seq: 0,
        }
    }

    /// A round is under way: some group still has pages to fetch.
    pub(super) fn in_round(&self) -> bool {
        self.groups.iter().any(|g| g.open)
    }

    /// The round was cut into pages and some are still to be fetched.
    pub(super) fn more_pages(&self) -> bool {
        self.groups.iter().any(|g| g.open && g.token.is_some())
    }

    /// Start a round: every group from its newest timestamp minus the
    /// overlap; ids older than that can never come back and are forgotten.
    pub(super) fn start_round(&mut self) {
        for g in &mut self.groups {
            g.start = g
                .newest
                .map_or(self.floor, |n| n.saturating_sub(self.overlap))
                .max(self.floor);
            g.seen.retain(|_, ts| *ts >= g.start);
            g.token = None;
            g.high = None;
            g.open = true;
        }
    }

    /// The open group to fetch next: the one furthest behind, so the merge
    /// can release as much as possible.
    pub(super) fn next(&self) -> Option<usize> {
        self.groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.open)
            .min_by_key(|(i, g)| (g.watermark(), *i))
            .map(|(i, _)| i)
    }

    /// Group name, start time and token of group `i`'s next request.
    pub(super) fn request(&self, i: usize) -> (&str, i64, Option<&str>) {
        let g = &self.groups[i];
        (&g.name, g.start, g.token.as_deref())
    }

    /// Take in a page of group `i`; returns the lines now in order.
    pub(super) fn apply(
        &mut self,
        i: usize,
        events: Vec<Event>,
        next_token: Option<String>,
    ) -> Vec<(i64, LogLine)> {
        let Some(g) = self.groups.get_mut(i) else {
            return Vec::new();
        };
        for e in events {
            g.high = Some(g.high.map_or(e.timestamp, |h| h.max(e.timestamp)));
            let wanted = self
                .prefix
                .as_deref()
                .is_none_or(|p| e.stream.starts_with(p));
            if !wanted {
                continue;
            }
            if g.seen.contains_key(&e.id) {
                continue;
            }
            g.seen.insert(e.id, e.timestamp);
            let line = to_line(&g.short, &e.stream, e.timestamp, &e.message);
            self.pending
                .insert((e.timestamp, e.ingestion, self.seq), line);
            self.seq += 1;
        }
        cap_seen(&mut g.seen, MAX_SEEN_PER_GROUP);
        g.token = next_token;
        if g.token.is_none() {
            self.finish(i);
        }
        self.release()
    }

    /// End group `i`'s round without more pages (the group is missing).
    pub(super) fn close(&mut self, i: usize) -> Vec<(i64, LogLine)> {
        if i < self.groups.len() {
            self.groups[i].token = None;
            self.finish(i);
        }
        self.release()
    }

    fn finish(&mut self, i: usize) {
        let g = &mut self.groups[i];
        g.open = false;
        if let Some(h) = g.high {
            g.newest = Some(g.newest.map_or(h, |n| n.max(h)));
        }
    }

    /// The pending lines older than every open group's watermark (all of
    /// them when the round is over), in order.
    fn release(&mut self) -> Vec<(i64, LogLine)> {
        let watermark = self
            .groups
            .iter()
            .filter(|g| g.open)
            .map(Group::watermark)
            .min();
        let out = match watermark {
            Some(w) => {
                let later = self.pending.split_off(&(w, i64::MIN, 0));
                std::mem::replace(&mut self.pending, later)
            }
            None => std::mem::take(&mut self.pending),
        };
        out.into_iter()
            .map(|((ts, _, _), line)| (ts, line))
            .collect()
    }
}

/// Forget the oldest ids beyond `max`, down to half of it, so that a long
/// catch-up round cannot grow the set without bound.
fn cap_seen(seen: &mut HashMap<String, i64>, max: usize) {
    if seen.len() <= max {
        return;
    }
    let mut times: Vec<i64> = seen.values().copied().collect();
    times.sort_unstable();
    let keep = (max / 2).max(1);
    let cut = times[times.len() - keep];
    seen.retain(|_, ts| *ts >= cut);
}

fn to_line(group: &str, stream: &str, ts: i64, message: &str) -> LogLine {
    let text = message.trim_end_matches(['\n', '\r']).to_string();
    let source = if stream.is_empty() {
        group.to_string()
    } else {
        format!("{group}/{}", short_stream(stream))
    };
    LogLine {
        source,
        time: UNIX_EPOCH + Duration::from_millis(u64::try_from(ts).unwrap_or(0)),
        level: Level::sniff(&text),
        text,
    }
}

/// The last segment of a log group name: `/aws/ecs/prod/checkout` -> `checkout`.
fn short_group(name: &str) -> String {
    name.rsplit('/')
        .find(|s| !s.is_empty())
        .unwrap_or(name)
        .to_string()
}

/// The last segment of a log stream name, with a long hexadecimal id at its
/// end cut to 8 digits: `ecs/checkout/4f3c…` (a 32-digit task id) ->
/// `4f3c1a2b`, `2024/05/01/[$LATEST]9f0e…` -> `[$LATEST]9f0e1d2c`,
/// `i-0abc123def4567890` stays.
fn short_stream(name: &str) -> String {
    let last = name.rsplit('/').find(|s| !s.is_empty()).unwrap_or(name);
    let run = last
        .chars()
        .rev()
        .take_while(char::is_ascii_hexdigit)
        .count();
    if run >= LONG_ID {
        // The run is ASCII, so these are char boundaries.
        let keep = last.len() - run + SHORT_ID;
        last.get(..keep).unwrap_or(last).to_string()
    } else {
        last.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(stream: &str, ts: i64, id: &str, msg: &str) -> Event {
        Event {
            stream: stream.to_string(),
            timestamp: ts,
            ingestion: ts,
            id: id.to_string(),
            message: msg.to_string(),
        }
    }

    fn texts(lines: &[(i64, LogLine)]) -> Vec<String> {
        lines.iter().map(|(_, l)| l.text.clone()).collect()
    }

    fn merge(groups: &[&str]) -> Merge {
        Merge::new(
            groups.iter().map(|g| g.to_string()).collect(),
            None,
            1_000,
            2_000,
        )
    }

    #[test]
    fn a_single_page_round_delivers_everything_in_order() {
        let mut m = merge(&["/aws/ecs/api"]);
        m.start_round();
        assert_eq!(m.next(), Some(0));
        assert_eq!(m.request(0), ("/aws/ecs/api", 1_000, None));
        let out = m.apply(
            0,
            vec![ev("s", 1_500, "a", "one\n"), ev("s", 1_600, "b", "two\r\n")],
            None,
        );
        assert_eq!(texts(&out), ["one", "two"]);
        assert!(!m.in_round());
        assert_eq!(m.groups[0].newest, Some(1_600));
    }

    #[test]
    fn overlapping_rounds_deliver_each_event_once() {
        let mut m = merge(&["g"]);
        m.start_round();
        let out = m.apply(
            0,
            vec![ev("s", 10_000, "a", "a"), ev("s", 11_000, "b", "b")],
            None,
        );
        assert_eq!(texts(&out), ["a", "b"]);
        // The next round reaches back by the overlap and sees a and b again,
        // plus an event ingested late inside the overlap and a new one.
        m.start_round();
        assert_eq!(m.request(0).1, 9_000);
        let out = m.apply(
            0,
            vec![
                ev("s", 10_000, "a", "a"),
                ev("s", 10_500, "late", "late"),
                ev("s", 11_000, "b", "b"),
                ev("s", 12_000, "c", "c"),
            ],
            None,
        );
        assert_eq!(texts(&out), ["late", "c"]);
        m.start_round();
        assert_eq!(m.request(0).1, 10_000);
        let out = m.apply(
            0,
            vec![ev("s", 10_500, "late", "late"), ev("s", 12_000, "c", "c")],
            None,
        );
        assert!(out.is_empty());
    }

    #[test]
    fn ids_older_than_the_round_start_are_forgotten() {
        let mut m = merge(&["g"]);
        m.start_round();
        let events = (0..100)
            .map(|i| ev("s", 1_000 + i * 100, &format!("id{i}"), "x"))
            .collect();
        m.apply(0, events, None);
        assert_eq!(m.groups[0].seen.len(), 100);
        // Newest 10_900, overlap 2 s: ids from 8_900 on are kept.
        m.start_round();
        assert_eq!(m.groups[0].start, 8_900);
        assert_eq!(m.groups[0].seen.len(), 21);
        assert!(m.groups[0].seen.values().all(|ts| *ts >= 8_900));
    }

    #[test]
    fn the_seen_set_is_capped_oldest_first() {
        let mut seen: HashMap<String, i64> = (0..10).map(|i| (format!("{i}"), i)).collect();
        cap_seen(&mut seen, 10);
        assert_eq!(seen.len(), 10);
        seen.insert("10".into(), 10);
        cap_seen(&mut seen, 10);
        assert_eq!(seen.len(), 5);
        assert!(seen.values().all(|ts| *ts >= 6));
    }

    #[test]
    fn groups_are_merged_in_time_order_across_pages() {
        let mut m = merge(&["a", "b"]);
        m.start_round();
        // Both start at the floor: the first group goes first.
        assert_eq!(m.next(), Some(0));
        let out = m.apply(
            0,
            vec![
                ev("s", 1_000, "a1", "a1"),
                ev("s", 1_500, "a2", "a2"),
                ev("s", 3_000, "a3", "a3"),
            ],
            Some("tok-a".into()),
        );
        // b has not been read: it may still hold anything from 1_000 on.
        assert!(out.is_empty());
        assert!(m.more_pages());
        assert_eq!(m.next(), Some(1));
        let out = m.apply(
            1,
            vec![ev("s", 1_200, "b1", "b1"), ev("s", 2_000, "b2", "b2")],
            Some("tok-b".into()),
        );
        // a has reached 3_000 and b 2_000: everything before 2_000 is final.
        assert_eq!(texts(&out), ["a1", "b1", "a2"]);
        assert_eq!(m.next(), Some(1));
        assert_eq!(m.request(1), ("b", 1_000, Some("tok-b")));
        let out = m.apply(1, vec![ev("s", 2_500, "b3", "b3")], None);
        // b is done; a still open at 3_000.
        assert_eq!(texts(&out), ["b2", "b3"]);
        assert_eq!(m.next(), Some(0));
        let out = m.apply(0, vec![ev("s", 3_000, "a4", "a4")], None);
        assert_eq!(texts(&out), ["a3", "a4"]);
        assert!(!m.in_round());
        assert!(m.pending.is_empty());
    }

    #[test]
    fn ties_keep_ingestion_then_arrival_order() {
        let mut m = merge(&["a", "b"]);
        m.start_round();
        let mut late = ev("s", 5_000, "x", "ingested later");
        late.ingestion = 9_000;
        m.apply(0, vec![late, ev("s", 5_000, "y", "a first")], None);
        let out = m.apply(
            1,
            vec![
                ev("s", 5_000, "z", "b first"),
                ev("s", 5_000, "w", "b second"),
            ],
            None,
        );
        assert_eq!(
            texts(&out),
            ["a first", "b first", "b second", "ingested later"]
        );
    }

    #[test]
    fn a_missing_group_does_not_hold_back_the_others() {
        let mut m = merge(&["a", "gone"]);
        m.start_round();
        let out = m.apply(0, vec![ev("s", 4_000, "a1", "a1")], None);
        assert!(out.is_empty(), "the other group may still hold older lines");
        assert_eq!(texts(&m.close(1)), ["a1"]);
        assert!(!m.in_round());
        m.start_round();
        assert_eq!(m.request(1).1, 1_000, "asked again from the start");
    }

    #[test]
    fn the_stream_prefix_is_applied_to_every_event() {
        let mut m = Merge::new(vec!["g".into()], Some("web/".into()), 0, 0);
        m.start_round();
        let out = m.apply(
            0,
            vec![ev("web/1", 1, "a", "keep"), ev("worker/1", 2, "b", "drop")],
            None,
        );
        assert_eq!(texts(&out), ["keep"]);
        assert_eq!(m.groups[0].newest, Some(2));
    }

    #[test]
    fn lines_carry_source_time_level_and_the_raw_text() {
        let line = to_line(
            "api",
            "ecs/api/0123456789abcdef0123456789abcdef",
            1_700_000_000_123,
            "ERROR boom \u{1b}[31m\n",
        );
        assert_eq!(line.source, "api/01234567");
        assert_eq!(
            line.time,
            UNIX_EPOCH + Duration::from_millis(1_700_000_000_123)
        );
        assert_eq!(line.level, Level::Error);
        assert_eq!(line.text, "ERROR boom \u{1b}[31m");
        assert_eq!(to_line("api", "", 0, "x").source, "api");
    }

    #[test]
    fn names_are_shortened_for_the_source_column() {
        assert_eq!(short_group("/aws/ecs/prod/checkout"), "checkout");
        assert_eq!(short_group("plain"), "plain");
        assert_eq!(short_group("/trailing/"), "trailing");
        assert_eq!(
            short_stream("2024/05/01/[$LATEST]9f0e1d2c3b4a59687f0e1d2c3b4a5968"),
            "[$LATEST]9f0e1d2c"
        );
        assert_eq!(short_stream("i-0abc123def4567890"), "i-0abc123def4567890");
        assert_eq!(short_stream("web-1"), "web-1");
    }
}
