//! When a followed log stream is tried again after it ended.
//!
//! A stream that stayed open for a while and then ended was healthy: the
//! next attempt comes soon. A stream that ends soon after it opened (the
//! container of a crash-looping pod, whose log request answers with the
//! dead container's lines and ends at once) is a failure like one that
//! could not open: the delay keeps growing up to the cap, so such a pod is
//! asked a few times a minute, not twice a second. Pure; the follower in
//! [`super::logs`] measures the times.

use std::time::Duration;

use crate::backoff::Backoff;

/// A stream open this long is established: the backoff starts over.
pub const STABLE: Duration = Duration::from_secs(5);

/// The reconnect policy of one follower, and its count of lost streams.
#[derive(Debug, Clone)]
pub struct Reconnects {
    backoff: Backoff,
    stable: Duration,
    lost: u32,
}

impl Reconnects {
    pub fn new(min: Duration, max: Duration, stable: Duration) -> Self {
        Self {
            backoff: Backoff::new(min, max),
            stable,
            lost: 0,
        }
    }

    /// How long a stream must stay open to count as established.
    pub fn stable(&self) -> Duration {
        self.stable
    }

    /// Streams lost so far (opened, then ended).
    pub fn lost(&self) -> u32 {
        self.lost
    }

    /// The stream has been open for [`stable`](Self::stable): the next
    /// failure waits the shortest delay again.
    pub fn established(&mut self) {
        self.backoff.reset();
    }

    /// The stream ended after being open for `open` (`None`: it did not
    /// open). Returns the delay before the next attempt.
    pub fn ended(&mut self, open: Option<Duration>) -> Duration {
        if let Some(d) = open {
            self.lost = self.lost.saturating_add(1);
            if d >= self.stable {
                self.backoff.reset();
            }
        }
        self.backoff.fail()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Reconnects {
        Reconnects::new(
            Duration::from_millis(500),
            Duration::from_secs(10),
            Duration::from_secs(5),
        )
    }

    fn secs(d: Duration) -> f64 {
        d.as_secs_f64()
    }

    #[test]
    fn streams_that_die_young_back_off_up_to_the_cap() {
        let mut r = policy();
        let delays: Vec<f64> = (0..8)
            .map(|_| secs(r.ended(Some(Duration::from_millis(30)))))
            .collect();
        assert_eq!(delays, [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]);
        assert_eq!(r.lost(), 8);
    }

    #[test]
    fn a_stream_that_stayed_up_reconnects_at_once_and_failed_opens_are_not_losses() {
        let mut r = policy();
        for _ in 0..4 {
            r.ended(Some(Duration::ZERO));
        }
        assert_eq!(secs(r.ended(Some(Duration::from_secs(60)))), 0.5);
        assert_eq!(r.lost(), 5);
        // Could not open: the delay grows, the count of lost streams does not.
        assert_eq!(secs(r.ended(None)), 1.0);
        assert_eq!(secs(r.ended(None)), 2.0);
        assert_eq!(r.lost(), 5);
        // Open long enough while reading: established, the backoff starts over.
        r.established();
        assert_eq!(secs(r.ended(Some(Duration::from_secs(1)))), 0.5);
        assert_eq!(r.lost(), 6);
    }
}
