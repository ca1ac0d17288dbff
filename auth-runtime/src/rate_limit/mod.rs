//! Token buckets for everything the engine limits per client: guest creations and password
//! attempts.
//!
//! A bucket is one number, its "theoretical arrival time" (GCRA): each use pushes it one
//! interval into the future, and a use is refused while it is more than the burst ahead of now.
//! Buckets live where every app server sees them: the guest store's database
//! ([`SqliteGuestStore`](crate::guests::SqliteGuestStore),
//! [`PostgresGuestStore`](crate::guests::PostgresGuestStore)), or any [`RateBuckets`]; without
//! one, in this process ([`MemoryBuckets`]).

mod client;
mod memory;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use client::{ClientKey, TrustedProxy};
pub use memory::MemoryBuckets;

/// A sustained rate with a burst: `per_hour` uses an hour, `burst` of them at once.
///
/// ```
/// use auth_runtime::rate_limit::Rate;
///
/// assert!(Rate::new(0, 10).is_none(), "a rate of 0 is no limit");
/// let rate = Rate::new(60, 10).unwrap();
/// assert_eq!(rate.interval_millis(), 60_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Milliseconds between two uses at the sustained rate.
    pub(crate) interval: i64,
    /// `interval * (burst - 1)`: how far ahead of time the bucket may run.
    pub(crate) tolerance: i64,
}

impl Rate {
    /// `per_hour` uses an hour with a burst of `burst` (at least 1); `None` when `per_hour` is
    /// 0, which turns the limit off.
    pub fn new(per_hour: u32, burst: u32) -> Option<Rate> {
        if per_hour == 0 {
            return None;
        }
        let interval = (3_600_000 / i64::from(per_hour)).max(1);
        Some(Rate {
            interval,
            tolerance: interval * (i64::from(burst.max(1)) - 1),
        })
    }

    /// Milliseconds between two uses at the sustained rate.
    pub fn interval_millis(&self) -> i64 {
        self.interval
    }

    /// The bucket's answer for one use at `now` (Unix ms), given its arrival time `tat` before
    /// (`None`: a full bucket): whether it is allowed, and the arrival time after.
    pub fn step(&self, now: i64, tat: Option<i64>) -> (bool, i64) {
        let tat = tat.unwrap_or(now);
        if tat - now <= self.tolerance {
            (true, tat.max(now) + self.interval)
        } else {
            (false, tat)
        }
    }

    /// What a refused use is told: how long until one more is allowed.
    pub fn verdict(&self, now: i64, allowed: bool, tat: i64) -> Verdict {
        if allowed {
            Verdict::Allowed
        } else {
            let wait = (tat - now - self.tolerance).max(1);
            Verdict::Limited {
                retry_after: Duration::from_millis(wait as u64),
            }
        }
    }
}

/// A bucket's answer for one use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Allowed, and charged.
    Allowed,
    /// Refused, nothing charged: answer `429` with `Retry-After`.
    Limited {
        /// When one more use will be allowed.
        retry_after: Duration,
    },
}

/// Why a bucket could not be read or charged (the database is unreachable).
pub type BucketError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a [`RateBuckets`] method returns.
pub type BucketFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, BucketError>> + Send + 'a>>;

/// Where buckets live, shared by every app server that uses the same one. The guest stores
/// implement it on their database; implement it for another shared store (Redis, say).
///
/// ```
/// use auth_runtime::rate_limit::{MemoryBuckets, Rate, RateBuckets, Verdict};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let buckets = MemoryBuckets::default();
/// let rate = Rate::new(60, 2).unwrap();
/// assert_eq!(buckets.take("client:a", rate).await.unwrap(), Verdict::Allowed);
/// assert_eq!(buckets.take("client:a", rate).await.unwrap(), Verdict::Allowed);
/// assert!(matches!(buckets.take("client:a", rate).await.unwrap(), Verdict::Limited { .. }));
/// buckets.give_back("client:a", rate).await.unwrap();
/// assert_eq!(buckets.take("client:a", rate).await.unwrap(), Verdict::Allowed);
/// # }
/// ```
pub trait RateBuckets: Send + Sync + 'static {
    /// Charges one use to `bucket` under `rate`, atomically, unless that would exceed it.
    fn take<'a>(&'a self, bucket: &'a str, rate: Rate) -> BucketFuture<'a, Verdict>;

    /// Gives back one use charged by [`take`](RateBuckets::take) (a sign-in that turned out to
    /// be right is not an attempt to count).
    fn give_back<'a>(&'a self, bucket: &'a str, rate: Rate) -> BucketFuture<'a, ()>;
}

/// A limit setting is not a number.
#[derive(Debug, thiserror::Error)]
#[error("{variable}={value:?} is not a whole number (or \"off\")")]
pub struct LimitsError {
    variable: &'static str,
    value: String,
}

/// Reads each variable that `var` has into its field: a whole number, or `off` for 0.
pub(crate) fn read_limit_variables<const N: usize>(
    fields: [(&'static str, &mut u32); N],
    var: impl Fn(&str) -> Option<String>,
) -> Result<(), LimitsError> {
    for (variable, field) in fields {
        if let Some(value) = var(variable) {
            let v = value.trim();
            *field = if v.eq_ignore_ascii_case("off") {
                0
            } else {
                v.parse().map_err(|_| LimitsError { variable, value })?
            };
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_use_per_interval() {
        let rate = Rate::new(3600, 3).unwrap();
        let mut tat = None;
        let now = 1_000_000;
        for _ in 0..3 {
            let (ok, next) = rate.step(now, tat);
            assert!(ok);
            tat = Some(next);
        }
        let (ok, same) = rate.step(now, tat);
        assert!(!ok);
        assert_eq!(Some(same), tat, "a refusal charges nothing");
        assert_eq!(
            rate.verdict(now, ok, same),
            Verdict::Limited {
                retry_after: Duration::from_millis(1000)
            }
        );
        assert!(rate.step(now + 1000, tat).0);
    }
}
