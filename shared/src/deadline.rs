//! A point in time by which a request's work must be done, taken from the Lambda's remaining
//! time, so retries never run a function into its timeout.

use std::time::{Duration, Instant};

/// The wall clock in unix milliseconds: the unit of every due time and lease in the stores.
pub fn now_ms() -> i64 {
    millis(time::OffsetDateTime::now_utc())
}

/// A point in time in unix milliseconds (a webhook event's time, a comment's).
pub fn millis(at: time::OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
}

impl Deadline {
    pub fn after(budget: Duration) -> Self {
        Self { at: Instant::now() + budget }
    }

    /// The Lambda's deadline (epoch milliseconds) less `reserve` kept for recording unfinished
    /// work, capped at `cap` from now.
    pub fn from_lambda(deadline_epoch_ms: u64, reserve: Duration, cap: Duration) -> Self {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let left = Duration::from_millis(deadline_epoch_ms.saturating_sub(now_ms));
        Self::after(left.saturating_sub(reserve).min(cap))
    }

    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }

    pub fn expired(&self) -> bool {
        self.remaining().is_zero()
    }
}
