//! The token bucket that paces every request of a tail.

use std::time::Duration;

use tokio::time::Instant;

/// The account-wide FilterLogEvents quota, requests per second per region.
pub const DEFAULT_REQUESTS_PER_SECOND: f64 = 5.0;
/// The slowest pace the token bucket accepts, requests per second.
const MIN_RATE: f64 = 0.001;

/// Paces requests: `rate` per second on average, at most `burst` back to back.
#[derive(Debug, Clone)]
pub(super) struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub(super) fn new(rate: f64, burst: u32, now: Instant) -> Self {
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
    pub(super) fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
