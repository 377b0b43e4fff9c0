//! CloudWatch Logs tailing: a [`LogSource`](crate::source::LogSource) that
//! follows one or many log groups by polling FilterLogEvents, as
//! `aws logs tail --follow` does.
//!
//! Each poll round asks every group for its events from the newest
//! timestamp already seen in that group minus a small overlap (CloudWatch
//! ingests late and out of order), pages until the token runs out, drops
//! events whose id was already delivered and merges the groups' events in
//! timestamp order. One token bucket paces every request of the source
//! (FilterLogEvents allows 5 requests per second per account and region); a
//! throttled request is sent again, with the same token, after an
//! exponential backoff with jitter, so throttling loses nothing.
//!
//! The parts: [`tail`] (the source: poll rounds, paging, throttling),
//! [`merge`] (de-duplication and the merge of the groups in timestamp
//! order, without I/O) and [`bucket`] (the token bucket).

mod bucket;
mod merge;
mod tail;

pub use bucket::DEFAULT_REQUESTS_PER_SECOND;
pub use tail::{CloudWatchTail, MAX_PAGE, TailOptions, cloudwatch_tail, logs_client};
