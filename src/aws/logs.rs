//! CloudWatch Logs tailing: a [`LogSource`] that follows one or many log
//! groups by polling FilterLogEvents, as `aws logs tail --follow` does.
//!
//! Each poll round asks every group for its events from the newest
//! timestamp already seen in that group minus a small overlap (CloudWatch
//! ingests late and out of order), pages until the token runs out, drops
//! events whose id was already delivered and merges the groups' events in
//! timestamp order. One token bucket paces every request of the source
//! (FilterLogEvents allows 5 requests per second per account and region); a
//! throttled request is sent again, with the same token, after an
//! exponential backoff with jitter, so throttling loses nothing.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;
use tokio::time::Instant;

use super::error::map_sdk_error;
use super::sdk::{AwsOptions, sdk_config};
use crate::domain::{Level, LogLine};
use crate::source::{LogSource, SourceError};

/// FilterLogEvents returns at most this many events per page.
pub const MAX_PAGE: i32 = 10_000;
/// The account-wide FilterLogEvents quota, requests per second per region.
pub const DEFAULT_REQUESTS_PER_SECOND: f64 = 5.0;
/// Event ids remembered per group at most. Past this the oldest are
/// forgotten first; only a group ingesting more than half of this within
/// the overlap could then see a line twice.
const MAX_SEEN_PER_GROUP: usize = 200_000;
/// The slowest pace the token bucket accepts, requests per second.
const MIN_RATE: f64 = 0.001;
/// A hexadecimal run at least this long at the end of a stream name is an
/// id (ECS task, Lambda instance) and is shortened in the source column.
const LONG_ID: usize = 24;
/// How many digits of such an id are kept.
const SHORT_ID: usize = 8;

/// How a [`CloudWatchTail`] follows its groups.
#[derive(Debug, Clone, PartialEq)]
pub struct TailOptions {
    /// Only log streams whose name starts with this.
    pub stream_prefix: Option<String>,
    /// The time to tail from; `None`: `lookback` before the source is created.
    pub start: Option<SystemTime>,
    /// How far back to start when `start` is unset (5 minutes).
    pub lookback: Duration,
    /// Time between the starts of two poll rounds once caught up (2 s).
    pub poll_interval: Duration,
    /// How far before the newest event seen a round starts again, to pick
    /// up events ingested late (2 s).
    pub overlap: Duration,
    /// FilterLogEvents requests per second on average, for all groups of
    /// the source together (5, the account's quota).
    pub requests_per_second: f64,
    /// Requests that may go out back to back before the rate applies (2).
    pub burst: u32,
    /// Events asked for per page (10,000, the API's maximum).
    pub page_limit: i32,
    /// Lines returned per batch at most; the rest waits for the next call (5,000).
    pub max_batch: usize,
    /// The first delay after a throttled request (200 ms); it doubles with
    /// each throttled retry, up to `backoff_max` (10 s), with jitter.
    pub backoff_min: Duration,
    /// The longest delay after a throttled request.
    pub backoff_max: Duration,
}

impl Default for TailOptions {
    fn default() -> Self {
        Self {
            stream_prefix: None,
            start: None,
            lookback: Duration::from_secs(5 * 60),
            poll_interval: Duration::from_secs(2),
            overlap: Duration::from_secs(2),
            requests_per_second: DEFAULT_REQUESTS_PER_SECOND,
            burst: 2,
            page_limit: MAX_PAGE,
            max_batch: 5_000,
            backoff_min: Duration::from_millis(200),
            backoff_max: Duration::from_secs(10),
        }
    }
}

/// A CloudWatch Logs client for [`CloudWatchTail`]: the SDK's own retries
/// are off, so every request passes the tail's token bucket and a throttled
/// request is retried by the tail's backoff (which reports its lag) rather
/// than hidden inside the SDK.
pub fn logs_client(config: &SdkConfig) -> Client {
    let conf = aws_sdk_cloudwatchlogs::config::Builder::from(config)
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(conf)
}

/// Tail `groups` with the credentials, region and endpoint of `aws`.
pub async fn cloudwatch_tail(
    aws: &AwsOptions,
    groups: Vec<String>,
    opts: TailOptions,
) -> CloudWatchTail {
    let config = sdk_config(aws).await;
    CloudWatchTail::new(logs_client(&config), groups, opts)
}

/// Follows log groups by polling FilterLogEvents: every event once, in
/// timestamp order within a poll round, source `group/stream`.
pub struct CloudWatchTail {
    client: Client,
    label: String,
    opts: TailOptions,
    merge: Merge,
    bucket: TokenBucket,
    backoff: Backoff,
    /// Merged lines not yet returned (more than one batch's worth, or
    /// released just before an error), with their timestamps.
    ready: VecDeque<(i64, LogLine)>,
    /// Timestamp (ms since the epoch) of the newest line returned.
    newest_delivered: Option<i64>,
    /// When the next poll round may start; `None`: at once.
    next_poll: Option<Instant>,
}

impl CloudWatchTail {
    /// Tail `groups` (log group names; repeated names are followed once)
    /// through `client`. Use [`logs_client`] to build a client whose
    /// retries this source paces itself.
    pub fn new(client: Client, groups: Vec<String>, opts: TailOptions) -> Self {
        let mut names: Vec<String> = Vec::with_capacity(groups.len());
        for g in groups {
            if !names.contains(&g) {
                names.push(g);
            }
        }
        let label = match names.as_slice() {
            [] => "cloudwatch".to_string(),
            [one] => format!("cloudwatch:{one}"),
            [first, rest @ ..] => format!("cloudwatch:{first} +{}", rest.len()),
        };
        let start = opts.start.unwrap_or_else(|| {
            SystemTime::now()
                .checked_sub(opts.lookback)
                .unwrap_or(UNIX_EPOCH)
        });
        let merge = Merge::new(
            names,
            opts.stream_prefix.clone(),
            millis(start),
            duration_ms(opts.overlap),
        );
        Self {
            client,
            label,
            bucket: TokenBucket::new(opts.requests_per_second, opts.burst, Instant::now()),
            backoff: Backoff::new(opts.backoff_min, opts.backoff_max),
            opts,
            merge,
            ready: VecDeque::new(),
            newest_delivered: None,
            next_poll: None,
        }
    }

    /// Whether the stream is behind: the current round still has pages to
    /// fetch, a throttled request is waiting for its retry, or merged lines
    /// are waiting for the next call.
    fn behind(&self) -> bool {
        self.backoff.active() || self.merge.more_pages() || !self.ready.is_empty()
    }

    fn take_ready(&mut self) -> Vec<LogLine> {
        let n = self.ready.len().min(self.opts.max_batch.max(1));
        let mut out = Vec::with_capacity(n);
        for (ts, line) in self.ready.drain(..n) {
            self.newest_delivered = Some(self.newest_delivered.map_or(ts, |t| t.max(ts)));
            out.push(line);
        }
        out
    }

    /// One FilterLogEvents page of group `i` for the current round.
    async fn fetch(&self, i: usize) -> Result<Page, SourceError> {
        let (group, start, token) = self.merge.request(i);
        // CloudWatch ignores `interleaved` and always interleaves; endpoints
        // that still honour it sort by time only when it is set.
        #[allow(deprecated)]
        let request = self
            .client
            .filter_log_events()
            .log_group_name(group)
            .start_time(start)
            .limit(self.opts.page_limit.clamp(1, MAX_PAGE))
            .interleaved(true)
            .set_log_stream_name_prefix(self.opts.stream_prefix.clone())
            .set_next_token(token.map(str::to_string));
        let out = request.send().await.map_err(|e| map_logs_error(group, e))?;
        Ok(Page {
            events: out.events().iter().map(Event::from_sdk).collect(),
            next_token: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        })
    }
}

#[async_trait]
impl LogSource for CloudWatchTail {
    fn label(&self) -> String {
        self.label.clone()
    }

    /// Returns as soon as a page yields lines that can be delivered in
    /// order; when there is nothing new, waits for the next poll round but
    /// never longer than `max_wait`, then returns an empty batch. A
    /// throttled request is retried here after a backoff; any other error
    /// is returned, and the next call sends the same request again.
    async fn next_batch(&mut self, max_wait: Duration) -> Result<Vec<LogLine>, SourceError> {
        if self.merge.groups.is_empty() {
            return Err(SourceError::Other("no log groups to tail".to_string()));
        }
        let deadline = Instant::now() + max_wait;
        loop {
            if !self.ready.is_empty() {
                return Ok(self.take_ready());
            }
            let now = Instant::now();
            if !self.merge.in_round() {
                let due = self.next_poll.unwrap_or(now);
                if now < due {
                    if now >= deadline {
                        return Ok(Vec::new());
                    }
                    tokio::time::sleep_until(due.min(deadline)).await;
                    continue;
                }
                self.next_poll = Some(now + self.opts.poll_interval);
                self.merge.start_round();
            }
            if let Some(until) = self.backoff.until.filter(|u| now < *u) {
                if now >= deadline {
                    return Ok(Vec::new());
                }
                tokio::time::sleep_until(until.min(deadline)).await;
                continue;
            }
            if let Err(wait) = self.bucket.try_take(now) {
                if now >= deadline {
                    return Ok(Vec::new());
                }
                tokio::time::sleep_until((now + wait).min(deadline)).await;
                continue;
            }
            let Some(i) = self.merge.next() else {
                return Ok(Vec::new());
            };
            match self.fetch(i).await {
                Ok(page) => {
                    self.backoff.reset();
                    let lines = self.merge.apply(i, page.events, page.next_token);
                    self.ready.extend(lines);
                }
                Err(SourceError::Throttled(_)) => {
                    self.backoff.throttled(Instant::now());
                }
                Err(e @ SourceError::NotFound(_)) => {
                    // A missing group must not hold back the others: it
                    // ends its round empty and is asked again next round.
                    self.backoff.reset();
                    let lines = self.merge.close(i);
                    self.ready.extend(lines);
                    return Err(e);
                }
                Err(e) => {
                    self.backoff.reset();
                    return Err(e);
                }
            }
        }
    }

    /// How far behind the tail is: `now − timestamp of the newest line
    /// delivered` (or of the tail's start, before any line) while it is
    /// catching up — the current poll round still has pages to fetch or
    /// lines wait for the next call — or while a throttled request waits
    /// for its retry. `None` once a round has been read to its end and
    /// every line handed out.
    fn lag(&self) -> Option<Duration> {
        if !self.behind() {
            return None;
        }
        let newest = self.newest_delivered.unwrap_or(self.merge.floor);
        let behind_ms = millis(SystemTime::now()).saturating_sub(newest).max(0);
        Some(Duration::from_millis(u64::try_from(behind_ms).unwrap_or(0)))
    }
}

/// FilterLogEvents errors: a missing group is NotFound, the rest as
/// [`map_sdk_error`] maps them (throttling, unreachable, forbidden).
fn map_logs_error<E>(
    group: &str,
    err: SdkError<E, aws_sdk_cloudwatchlogs::config::http::HttpResponse>,
) -> SourceError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let not_found = err.code() == Some("ResourceNotFoundException");
    match map_sdk_error(&format!("filter log events of {group}"), err) {
        SourceError::Other(text) if not_found => SourceError::NotFound(text),
        e => e,
    }
}

/// One page of FilterLogEvents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Page {
    events: Vec<Event>,
    next_token: Option<String>,
}

/// One log event as the merge sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Event {
    stream: String,
    /// Milliseconds since the epoch.
    timestamp: i64,
    ingestion: i64,
    id: String,
    message: String,
}

impl Event {
    fn from_sdk(e: &FilteredLogEvent) -> Event {
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
struct Group {
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
struct Merge {
    groups: Vec<Group>,
    prefix: Option<String>,
    /// Where the tail starts, ms since the epoch; nothing older is asked for.
    floor: i64,
    /// Milliseconds each round reaches back before a group's newest event.
    overlap: i64,
    pending: BTreeMap<Key, LogLine>,
    seq: u64,
}

impl Merge {
    fn new(names: Vec<String>, prefix: Option<String>, floor: i64, overlap: i64) -> Self {
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
    fn in_round(&self) -> bool {
        self.groups.iter().any(|g| g.open)
    }

    /// The round was cut into pages and some are still to be fetched.
    fn more_pages(&self) -> bool {
        self.groups.iter().any(|g| g.open && g.token.is_some())
    }

    /// Start a round: every group from its newest timestamp minus the
    /// overlap; ids older than that can never come back and are forgotten.
    fn start_round(&mut self) {
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
    fn next(&self) -> Option<usize> {
        self.groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.open)
            .min_by_key(|(i, g)| (g.watermark(), *i))
            .map(|(i, _)| i)
    }

    /// Group name, start time and token of group `i`'s next request.
    fn request(&self, i: usize) -> (&str, i64, Option<&str>) {
        let g = &self.groups[i];
        (&g.name, g.start, g.token.as_deref())
    }

    /// Take in a page of group `i`; returns the lines now in order.
    fn apply(
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
    fn close(&mut self, i: usize) -> Vec<(i64, LogLine)> {
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

/// Milliseconds since the epoch (negative before it).
fn millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_millis()).map_or(i64::MIN, |m| -m),
    }
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Paces requests: `rate` per second on average, at most `burst` back to back.
#[derive(Debug, Clone)]
struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(rate: f64, burst: u32, now: Instant) -> Self {
        let rate = if rate.is_nan() {
            DEFAULT_REQUESTS_PER_SECOND
        } else {
            rate.max(MIN_RATE)
        };
        let burst = f64::from(burst.max(1));
        Self {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Take a token at `now`, or say how long until one is available.
    fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = self.last.max(now);
        // A hair of slack against floating-point rounding after a precise wait.
        if self.tokens >= 1.0 - 1e-9 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let secs = (1.0 - self.tokens) / self.rate;
            Err(Duration::try_from_secs_f64(secs).unwrap_or(Duration::from_secs(3600)))
        }
    }
}

/// Exponential backoff with jitter for throttled requests.
#[derive(Debug, Clone)]
struct Backoff {
    min: Duration,
    max: Duration,
    /// Throttled responses in a row.
    attempts: u32,
    /// When the throttled request may be sent again.
    until: Option<Instant>,
    rng: u64,
}

impl Backoff {
    fn new(min: Duration, max: Duration) -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.subsec_nanos().into());
        Self {
            min,
            max: max.max(min),
            attempts: 0,
            until: None,
            rng: seed,
        }
    }

    /// A throttled request is waiting for its retry.
    fn active(&self) -> bool {
        self.attempts > 0
    }

    /// The delay before retry number `attempts + 1`, without jitter:
    /// `min`, doubling, capped at `max`.
    fn nominal(&self) -> Duration {
        let factor = 1u32 << self.attempts.min(20);
        self.min.saturating_mul(factor).min(self.max)
    }

    /// Record a throttled response at `now`; returns the delay chosen, half
    /// the nominal delay plus a random part of the other half.
    fn throttled(&mut self, now: Instant) -> Duration {
        let nominal = self.nominal();
        let half = nominal / 2;
        let spread = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if spread == 0 {
            0
        } else {
            self.random() % (spread + 1)
        };
        let delay = half + Duration::from_nanos(jitter);
        self.attempts = self.attempts.saturating_add(1);
        self.until = Some(now + delay);
        delay
    }

    fn reset(&mut self) {
        self.attempts = 0;
        self.until = None;
    }

    /// splitmix64: jitter only needs to spread retries, not to be secret.
    fn random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
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

    #[test]
    fn the_token_bucket_allows_a_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(5.0, 2, t0);
        assert!(b.try_take(t0).is_ok());
        assert!(b.try_take(t0).is_ok());
        let wait = b.try_take(t0).err();
        assert_eq!(wait, Some(Duration::from_millis(200)));
        assert!(b.try_take(t0 + Duration::from_millis(199)).is_err());
        assert!(b.try_take(t0 + Duration::from_millis(200)).is_ok());
        // Idle time refills at most the burst.
        let later = t0 + Duration::from_secs(60);
        assert!(b.try_take(later).is_ok());
        assert!(b.try_take(later).is_ok());
        assert!(b.try_take(later).is_err());
    }

    #[test]
    fn the_token_bucket_holds_the_average_rate() {
        // Take a token whenever one is available, for 10 simulated seconds.
        let t0 = Instant::now();
        // A little past 10 s, so rounding cannot move the last take out.
        let end = t0 + Duration::from_millis(10_100);
        let mut b = TokenBucket::new(5.0, 2, t0);
        let mut now = t0;
        let mut taken = 0;
        while now < end {
            match b.try_take(now) {
                Ok(()) => taken += 1,
                Err(wait) => now += wait,
            }
        }
        assert_eq!(taken, 2 + 50, "the burst, then 5 per second");
    }

    #[test]
    fn a_nonsensical_rate_falls_back_to_a_usable_one() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(f64::NAN, 0, t0);
        assert!(b.try_take(t0).is_ok());
        assert_eq!(b.try_take(t0).err(), Some(Duration::from_millis(200)));
        let mut slow = TokenBucket::new(0.0, 1, t0);
        assert!(slow.try_take(t0).is_ok());
        assert!(slow.try_take(t0).is_err());
    }

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let t0 = Instant::now();
        let mut b = Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
        assert!(!b.active());
        let mut nominal = Duration::from_millis(200);
        for _ in 0..12 {
            let d = b.throttled(t0);
            assert!(d >= nominal / 2 && d <= nominal, "{d:?} for {nominal:?}");
            assert_eq!(b.until, Some(t0 + d));
            nominal = (nominal * 2).min(Duration::from_secs(10));
        }
        assert!(b.active());
        assert_eq!(b.nominal(), Duration::from_secs(10));
        b.reset();
        assert!(!b.active());
        assert_eq!(b.nominal(), Duration::from_millis(200));
        // Many attempts neither overflow nor exceed the cap.
        b.attempts = u32::MAX;
        assert_eq!(b.nominal(), Duration::from_secs(10));
    }

    fn offline_client() -> Client {
        let conf = aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
            .build();
        Client::from_conf(conf)
    }

    #[test]
    fn lag_is_reported_only_while_behind() {
        let start = SystemTime::now() - Duration::from_secs(60);
        let opts = TailOptions {
            start: Some(start),
            max_batch: 2,
            ..TailOptions::default()
        };
        let mut tail = CloudWatchTail::new(offline_client(), vec!["/a".into(), "/a".into()], opts);
        assert_eq!(tail.label(), "cloudwatch:/a");
        assert_eq!(
            tail.merge.groups.len(),
            1,
            "a repeated group is followed once"
        );
        assert_eq!(tail.lag(), None);

        // A page with more to come: behind, by the age of the start.
        tail.merge.start_round();
        let t = millis(start);
        let lines = tail.merge.apply(
            0,
            vec![
                ev("s", t + 1_000, "1", "1"),
                ev("s", t + 2_000, "2", "2"),
                ev("s", t + 30_000, "3", "3"),
            ],
            Some("more".into()),
        );
        tail.ready.extend(lines);
        let lag = tail.lag().unwrap_or_default();
        assert!(lag >= Duration::from_secs(59), "{lag:?}");

        // Delivered up to t + 2 s (the batch cap keeps the rest waiting).
        assert_eq!(tail.take_ready().len(), 2);
        let lag = tail.lag().unwrap_or_default();
        assert!(
            lag >= Duration::from_secs(57) && lag < Duration::from_secs(59),
            "{lag:?}"
        );

        // The round read to its end and everything handed out: live.
        let lines = tail.merge.apply(0, Vec::new(), None);
        tail.ready.extend(lines);
        assert_eq!(tail.take_ready().len(), 1);
        assert_eq!(tail.lag(), None);

        // Throttled: behind until the retry succeeds.
        tail.backoff.throttled(Instant::now());
        let lag = tail.lag().unwrap_or_default();
        assert!(lag >= Duration::from_secs(29), "{lag:?}");
        tail.backoff.reset();
        assert_eq!(tail.lag(), None);
    }

    #[test]
    fn labels_name_the_groups() {
        let tail = CloudWatchTail::new(
            offline_client(),
            vec!["/a".into(), "/b".into(), "/c".into()],
            TailOptions::default(),
        );
        assert_eq!(tail.label(), "cloudwatch:/a +2");
    }
}
