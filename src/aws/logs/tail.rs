//! The source: poll rounds over the groups, each request paced by the token
//! bucket, a throttled request retried after a backoff, and the lines handed
//! out in batches.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use tokio::time::Instant;

use super::bucket::{DEFAULT_REQUESTS_PER_SECOND, TokenBucket};
use super::merge::{Event, Merge};
use crate::aws::error::map_sdk_error;
use crate::aws::sdk::{AwsOptions, sdk_config};
use crate::backoff::Backoff;
use crate::domain::LogLine;
use crate::source::{LogSource, SourceError};

/// FilterLogEvents returns at most this many events per page.
pub const MAX_PAGE: i32 = 10_000;

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
    /// Keep polling for new events; `false` reads from the start up to now
    /// once, and the source then [ends](LogSource::ended).
    pub follow: bool,
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
            follow: true,
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
    /// Throttled responses in a row, and the delay before the next retry.
    backoff: Backoff,
    /// When the throttled request may be sent again.
    retry_at: Option<Instant>,
    /// Merged lines not yet returned (more than one batch's worth, or
    /// released just before an error), with their timestamps.
    ready: VecDeque<(i64, LogLine)>,
    /// Timestamp (ms since the epoch) of the newest line returned.
    newest_delivered: Option<i64>,
    /// When the next poll round may start; `None`: at once.
    next_poll: Option<Instant>,
    /// Poll rounds started.
    rounds: u64,
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
            backoff: Backoff::new(opts.backoff_min, opts.backoff_max).with_jitter(),
            retry_at: None,
            opts,
            merge,
            ready: VecDeque::new(),
            newest_delivered: None,
            next_poll: None,
            rounds: 0,
        }
    }

    /// Whether the stream is behind: the current round still has pages to
    /// fetch, a throttled request is waiting for its retry, or merged lines
    /// are waiting for the next call.
    fn behind(&self) -> bool {
        self.backoff.active() || self.merge.more_pages() || !self.ready.is_empty()
    }

    /// A throttled response at `now`: the same request goes out again after
    /// the backoff's delay.
    fn throttled(&mut self, now: Instant) {
        let delay = self.backoff.fail();
        self.retry_at = Some(now + delay);
    }

    /// A response that was not throttled: the next throttling starts the
    /// backoff over.
    fn not_throttled(&mut self) {
        self.backoff.reset();
        self.retry_at = None;
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
            if !self.merge.in_round() && !self.opts.follow && self.rounds > 0 {
                return Ok(Vec::new());
            }
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
                self.rounds += 1;
            }
            if let Some(until) = self.retry_at.filter(|u| now < *u) {
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
                    self.not_throttled();
                    let lines = self.merge.apply(i, page.events, page.next_token);
                    self.ready.extend(lines);
                }
                Err(SourceError::Throttled(_)) => {
                    self.throttled(Instant::now());
                }
                Err(e @ SourceError::NotFound(_)) => {
                    // A missing group must not hold back the others: it
                    // ends its round empty and is asked again next round.
                    self.not_throttled();
                    let lines = self.merge.close(i);
                    self.ready.extend(lines);
                    return Err(e);
                }
                Err(e) => {
                    self.not_throttled();
                    return Err(e);
                }
            }
        }
    }

    fn ended(&self) -> bool {
        !self.opts.follow && self.rounds > 0 && !self.merge.in_round() && self.ready.is_empty()
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
        tail.throttled(Instant::now());
        assert!(tail.retry_at.is_some());
        let lag = tail.lag().unwrap_or_default();
        assert!(lag >= Duration::from_secs(29), "{lag:?}");
        tail.not_throttled();
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
