//! One retry policy for every loop that talks to a server: the feed pollers,
//! the Kubernetes watches and log streams, and the CloudWatch tail.
//!
//! The delay starts at `min`, doubles with each failure in a row and stops
//! at `max`. With jitter, the delay is half the nominal one plus a random
//! part of the other half, so many clients throttled together do not retry
//! together.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Exponential backoff, optionally with jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    jitter: bool,
    /// Failures in a row.
    failures: u32,
    rng: u64,
}

impl Backoff {
    /// `min`, doubling, capped at `max`; no jitter.
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max: max.max(min),
            jitter: false,
            failures: 0,
            rng: 0,
        }
    }

    /// The same, with jitter (seeded from the clock).
    pub fn with_jitter(mut self) -> Self {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.subsec_nanos().into());
        self.jitter = true;
        self.rng = seed | 1;
        self
    }

    /// Failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// True while failures are being retried.
    pub fn active(&self) -> bool {
        self.failures > 0
    }

    /// The delay the next failure will get, without jitter.
    pub fn nominal(&self) -> Duration {
        let factor = 1u32.checked_shl(self.failures.min(20)).unwrap_or(u32::MAX);
        self.min.saturating_mul(factor).min(self.max)
    }

    /// Record a failure; returns how long to wait before the next attempt.
    pub fn fail(&mut self) -> Duration {
        let nominal = self.nominal();
        self.failures = self.failures.saturating_add(1);
        if !self.jitter {
            return nominal;
        }
        let half = nominal / 2;
        let spread = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if spread == 0 {
            0
        } else {
            self.random() % (spread.saturating_add(1))
        };
        half + Duration::from_nanos(jitter)
    }

    /// A success: the next failure starts again at `min`.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// xorshift64: enough to spread retries.
    fn random(&mut self) -> u64 {
        let mut x = self.rng.max(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_and_caps() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
        let delays: Vec<u64> = (0..7).map(|_| b.fail().as_secs()).collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 16, 30, 30]);
        for _ in 0..100 {
            b.fail();
        }
        assert_eq!(b.fail(), Duration::from_secs(30));
        b.reset();
        assert!(!b.active());
        assert_eq!(b.fail(), Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_between_half_and_the_nominal_delay() {
        let mut b = Backoff::new(Duration::from_millis(200), Duration::from_secs(10)).with_jitter();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..12 {
            let nominal = b.nominal();
            let d = b.fail();
            assert!(d >= nominal / 2 && d <= nominal, "{d:?} vs {nominal:?}");
            seen.insert(d);
        }
        assert!(seen.len() > 6, "jitter varies the delays: {seen:?}");
        assert_eq!(b.nominal(), Duration::from_secs(10));
    }

    #[test]
    fn max_below_min_is_min() {
        let mut b = Backoff::new(Duration::from_secs(5), Duration::from_secs(1));
        assert_eq!(b.fail(), Duration::from_secs(5));
        assert_eq!(b.fail(), Duration::from_secs(5));
    }
}
