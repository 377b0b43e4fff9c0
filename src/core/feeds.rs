//! Freshness of every source behind a feed: when it last answered for
//! real, and its error while it fails. A feed is stale when any of its
//! sources is; the pane it fills says so in its title, with the age of the
//! stale source's last real answer, or "never connected".

use std::time::{Duration, SystemTime};

/// The data feeds whose freshness the panes report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feed {
    Workloads,
    Logs,
    Metrics,
    Database,
}

impl Feed {
    pub const ALL: [Feed; 4] = [Feed::Workloads, Feed::Logs, Feed::Metrics, Feed::Database];

    pub fn name(self) -> &'static str {
        match self {
            Feed::Workloads => "workloads",
            Feed::Logs => "logs",
            Feed::Metrics => "metrics",
            Feed::Database => "database",
        }
    }
}

/// A source that has not answered for this long is stale even without an
/// error (a poller or stream that stopped reporting).
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// Freshness of one source of a feed (a cluster, a database, a log stream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceStatus {
    pub feed: Feed,
    pub source: String,
    /// The last real answer; retries and re-sent caches never move it.
    pub last_ok: Option<SystemTime>,
    /// The latest attempt's error, while the source fails.
    pub error: Option<String>,
    /// Failed attempts since the last success.
    pub failures: u32,
    /// When the current run of failures began.
    pub failing_since: Option<SystemTime>,
}

impl SourceStatus {
    /// The age of the last real answer (None: never answered).
    pub fn age(&self, now: SystemTime) -> Option<Duration> {
        self.last_ok
            .map(|t| now.duration_since(t).unwrap_or_default())
    }

    /// Failing, or silent for longer than [`STALE_AFTER`].
    pub fn is_stale(&self, now: SystemTime) -> bool {
        self.error.is_some() || self.age(now).is_some_and(|a| a > STALE_AFTER)
    }
}

/// What a pane says about a stale feed: the worst of its stale sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The worst source (never connected first, then the oldest).
    pub source: String,
    /// The age of its last real answer; None: it never connected.
    pub age: Option<Duration>,
    pub error: Option<String>,
    /// How many of the feed's sources are stale, and how many it has.
    pub stale: usize,
    pub of: usize,
}

impl Stale {
    /// `STALE 42s`, `never connected`, with `(1 of 3)` when only some
    /// sources are stale.
    pub fn label(&self) -> String {
        let what = match self.age {
            Some(a) => format!("STALE {}", crate::fmt::duration_short(a)),
            None => "never connected".to_string(),
        };
        if self.of > 1 {
            format!("{what} ({} of {})", self.stale, self.of)
        } else {
            what
        }
    }
}

/// The freshness of every source seen so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Feeds {
    sources: Vec<SourceStatus>,
}

impl Feeds {
    fn entry(&mut self, feed: Feed, source: &str) -> &mut SourceStatus {
        if let Some(i) = self
            .sources
            .iter()
            .position(|s| s.feed == feed && s.source == source)
        {
            return &mut self.sources[i];
        }
        self.sources.push(SourceStatus {
            feed,
            source: source.to_string(),
            last_ok: None,
            error: None,
            failures: 0,
            failing_since: None,
        });
        let last = self.sources.len() - 1;
        &mut self.sources[last]
    }

    /// `source` answered for real at `now`.
    pub fn ok(&mut self, feed: Feed, source: &str, now: SystemTime) {
        let s = self.entry(feed, source);
        s.last_ok = Some(now);
        s.error = None;
        s.failures = 0;
        s.failing_since = None;
    }

    /// `source`'s latest attempt failed; its last answer keeps its time.
    pub fn failed(&mut self, feed: Feed, source: &str, error: String, now: SystemTime) {
        let s = self.entry(feed, source);
        s.error = Some(error);
        s.failures = s.failures.saturating_add(1);
        s.failing_since.get_or_insert(now);
    }

    /// Forget every source (the backends were replaced).
    pub fn clear(&mut self) {
        self.sources.clear();
    }

    /// The sources of `feed`, in the order they were first heard of.
    pub fn of(&self, feed: Feed) -> impl Iterator<Item = &SourceStatus> {
        self.sources.iter().filter(move |s| s.feed == feed)
    }

    /// Every source, in the order first heard of.
    pub fn all(&self) -> &[SourceStatus] {
        &self.sources
    }

    /// Whether `feed` is stale, and how: None when every source is fresh
    /// (or none has reported yet).
    pub fn stale(&self, feed: Feed, now: SystemTime) -> Option<Stale> {
        let of = self.of(feed).count();
        let stale: Vec<&SourceStatus> = self.of(feed).filter(|s| s.is_stale(now)).collect();
        // Never connected is worst; then the oldest last answer.
        let worst = stale
            .iter()
            .min_by_key(|s| s.last_ok.unwrap_or(SystemTime::UNIX_EPOCH))?;
        Some(Stale {
            source: worst.source.clone(),
            age: worst.age(now),
            error: worst.error.clone(),
            stale: stale.len(),
            of,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + s)
    }

    #[test]
    fn retries_never_move_the_last_good_time() {
        let mut f = Feeds::default();
        f.ok(Feed::Database, "orders", at(0));
        for t in [2, 16, 30, 60] {
            f.failed(Feed::Database, "orders", "timeout".into(), at(t));
        }
        let s = f.stale(Feed::Database, at(61)).unwrap();
        assert_eq!(s.age, Some(Duration::from_secs(61)));
        assert_eq!(s.label(), "STALE 61s");
        let src = f.of(Feed::Database).next().unwrap();
        assert_eq!((src.failures, src.failing_since), (4, Some(at(2))));
    }

    #[test]
    fn a_source_that_never_answered_says_so_and_is_the_worst() {
        let mut f = Feeds::default();
        f.ok(Feed::Database, "orders", at(0));
        f.failed(Feed::Database, "orders", "timeout".into(), at(20));
        f.failed(Feed::Database, "billing", "refused".into(), at(20));
        f.ok(Feed::Database, "users", at(20));
        let s = f.stale(Feed::Database, at(21)).unwrap();
        assert_eq!(s.source, "billing");
        assert_eq!(s.label(), "never connected (2 of 3)");
        assert!(f.stale(Feed::Workloads, at(21)).is_none());
    }

    #[test]
    fn a_silent_source_turns_stale_without_an_error() {
        let mut f = Feeds::default();
        f.ok(Feed::Logs, "kube:sim", at(0));
        assert!(f.stale(Feed::Logs, at(30)).is_none());
        let s = f.stale(Feed::Logs, at(31)).unwrap();
        assert_eq!((s.label(), s.error), ("STALE 31s".to_string(), None));
        f.ok(Feed::Logs, "kube:sim", at(32));
        assert!(f.stale(Feed::Logs, at(32)).is_none());
    }
}
