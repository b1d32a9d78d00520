//! The one retry-delay policy: a first delay, doubling per failed attempt, capped. Zendesk calls
//! (with full jitter on top, in the client), pending escalations and callbacks to the bot all
//! wait by it, each with its own first delay and cap. The schedule is `backon`'s exponential
//! backoff (without its jitter, so a given attempt always waits the same: the stored due times
//! are reproducible and tested).

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// How long to wait before retrying, by attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failed attempt.
    pub first: Duration,
    /// No wait is longer.
    pub max: Duration,
}

impl RetryPolicy {
    pub const fn new(first: Duration, max: Duration) -> Self {
        Self { first, max }
    }

    /// The wait after `failed` failed attempts (0 counts as 1): `first`, doubling, at most `max`.
    pub fn delay(&self, failed: u32) -> Duration {
        let steps = failed.max(1) as usize - 1;
        let schedule = ExponentialBuilder::new()
            .with_min_delay(self.first)
            .with_max_delay(self.max)
            .with_factor(2.0)
            .without_max_times()
            .build();
        schedule.take(steps + 1).last().unwrap_or(self.first).min(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_the_first_delay_up_to_the_cap() {
        let policy = RetryPolicy::new(Duration::from_secs(30), Duration::from_secs(3600));
        let delays: Vec<u64> = (0..=10).map(|n| policy.delay(n).as_secs()).collect();
        assert_eq!(delays, [30, 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
        assert_eq!(policy.delay(u32::MAX >> 20).as_secs(), 3600);
    }

    #[test]
    fn a_cap_below_the_first_delay_wins() {
        let policy = RetryPolicy::new(Duration::from_secs(10), Duration::from_secs(5));
        assert_eq!(policy.delay(1), Duration::from_secs(5));
    }
}
