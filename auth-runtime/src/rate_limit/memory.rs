//! Buckets in this process: for an app without a shared database, and what the engine falls
//! back to while the shared buckets cannot be reached.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{BucketFuture, Rate, RateBuckets, Verdict};
use crate::clock::now_millis;

/// Buckets in this process's memory. Each server counts on its own: with several servers, use
/// the guest store's database (or another shared [`RateBuckets`]).
#[derive(Debug, Default)]
pub struct MemoryBuckets {
    buckets: Mutex<HashMap<String, i64>>,
}

/// Above this many buckets, a use first drops the buckets that are full again.
const PRUNE_ABOVE: usize = 10_000;

impl MemoryBuckets {
    fn take_now(&self, bucket: &str, rate: Rate, now: i64) -> Verdict {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, tat| *tat > now);
        }
        let (allowed, tat) = rate.step(now, buckets.get(bucket).copied());
        if allowed {
            buckets.insert(bucket.to_owned(), tat);
        }
        rate.verdict(now, allowed, tat)
    }

    fn give_back_now(&self, bucket: &str, rate: Rate) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tat) = buckets.get_mut(bucket) {
            *tat -= rate.interval;
        }
    }
}

impl RateBuckets for MemoryBuckets {
    fn take<'a>(&'a self, bucket: &'a str, rate: Rate) -> BucketFuture<'a, Verdict> {
        let verdict = self.take_now(bucket, rate, now_millis());
        Box::pin(async move { Ok(verdict) })
    }

    fn give_back<'a>(&'a self, bucket: &'a str, rate: Rate) -> BucketFuture<'a, ()> {
        self.give_back_now(bucket, rate);
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_apart_and_full_ones_are_pruned() {
        let buckets = MemoryBuckets::default();
        let rate = Rate::new(3600, 1).unwrap();
        assert_eq!(buckets.take_now("a", rate, 0), Verdict::Allowed);
        assert!(matches!(
            buckets.take_now("a", rate, 10),
            Verdict::Limited { .. }
        ));
        assert_eq!(buckets.take_now("b", rate, 10), Verdict::Allowed);
        for i in 0..=PRUNE_ABOVE {
            buckets.take_now(&format!("k{i}"), rate, 0);
        }
        // An hour later every bucket is full again, and the next use sweeps them.
        assert_eq!(buckets.take_now("a", rate, 3_600_000), Verdict::Allowed);
        assert_eq!(buckets.buckets.lock().unwrap().len(), 1);
    }
}
