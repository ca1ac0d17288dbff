//! Cleanup of abandoned guests: by last activity (never by creation), never an upgraded guest,
//! in bounded batches, each batch one transaction with the application's [`CleanupHook`].
//! Between two batches cleanup pauses as long as the last batch took, so that it never holds
//! more than half of the store's write time while requests are being served (on SQLite one
//! writer at a time: a sign-in waits at most for one short batch).

use std::sync::Arc;
use std::time::Duration;

use super::{GuestStore, GuestTx, HookFuture};

/// What to clean up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanupPolicy {
    /// Guests not seen for this long are removed (default 30 days).
    pub idle: Duration,
    /// Guests per batch (one transaction, one hook call; default 200: a few milliseconds of the
    /// store's writer, which a sign-in may have to wait for).
    pub batch_size: u32,
    /// At most this many batches per run (default 250: 50,000 guests), so one run is bounded;
    /// the next run continues.
    pub max_batches: u32,
    /// Only report what would be removed.
    pub dry_run: bool,
}

impl Default for CleanupPolicy {
    fn default() -> Self {
        CleanupPolicy {
            idle: Duration::from_secs(30 * 24 * 3600),
            batch_size: 200,
            max_batches: 250,
            dry_run: false,
        }
    }
}

impl CleanupPolicy {
    /// The same policy, reporting only.
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }
}

/// What a cleanup run did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// True for a dry run: nothing was removed.
    pub dry_run: bool,
    /// Guests not seen since this instant (Unix ms) were eligible.
    pub cutoff: i64,
    /// Guests removed; for a dry run, guests eligible now.
    pub guests: u64,
    /// Batches run (0 for a dry run).
    pub batches: u32,
    /// The oldest `last_seen_at` among eligible guests (dry run), or among removed ones.
    pub oldest_last_seen: Option<i64>,
    /// Up to 20 of the eligible guests' ids, oldest first (dry run only).
    pub sample: Vec<String>,
    /// True if the run stopped at `max_batches` with more guests eligible.
    pub more: bool,
    /// Limit buckets dropped because they were full again (housekeeping; 0 for a dry run).
    pub buckets_pruned: u64,
}

/// The application's part of a cleanup: deletes its data for `guest_ids` in the batch's
/// transaction. An error rolls the batch back and stops the run.
///
/// ```
/// use auth_runtime::guests::{CleanupHook, GuestTx, HookFuture};
///
/// struct DeleteCarts;
///
/// impl CleanupHook for DeleteCarts {
///     fn on_cleanup<'a>(&'a self, guest_ids: &'a [String], tx: GuestTx<'a>) -> HookFuture<'a> {
///         Box::pin(async move {
///             let GuestTx::Sqlite(tx) = tx else { return Err("SQLite only".into()) };
///             for id in guest_ids {
///                 sqlx::query("DELETE FROM carts WHERE owner = $1").bind(id).execute(&mut **tx).await?;
///             }
///             Ok(())
///         })
///     }
/// }
/// ```
pub trait CleanupHook: Send + Sync {
    /// Called once per batch, before commit, with the ids being removed.
    fn on_cleanup<'a>(&'a self, guest_ids: &'a [String], tx: GuestTx<'a>) -> HookFuture<'a>;
}

/// A cleanup hook that does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCleanupHook;

impl CleanupHook for NoCleanupHook {
    fn on_cleanup<'a>(&'a self, _: &'a [String], _: GuestTx<'a>) -> HookFuture<'a> {
        Box::pin(async { Ok(()) })
    }
}

/// Runs [`GuestStore::cleanup`] every `interval` on the current tokio runtime (the first run
/// right away), logging each report or error as a `tracing` event. Abort the handle to stop.
/// Several app servers may each run it: batches delete with conditions re-checked per row, so
/// concurrent runs never remove a guest twice or a guest seen in between.
pub fn spawn_cleanup(
    store: Arc<dyn GuestStore>,
    policy: CleanupPolicy,
    hook: Arc<dyn CleanupHook>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match store.cleanup(&policy, hook.as_ref()).await {
                // A run that removed guests is worth a line; an idle one is not.
                Ok(report) if report.guests > 0 => tracing::info!(
                    target: "auth_runtime::guests",
                    removed = report.guests,
                    batches = report.batches,
                    more = report.more,
                    "scheduled guest cleanup ran"
                ),
                Ok(report) => tracing::debug!(
                    target: "auth_runtime::guests",
                    buckets_pruned = report.buckets_pruned,
                    "scheduled guest cleanup found nothing to remove"
                ),
                Err(error) => tracing::warn!(
                    target: "auth_runtime::guests",
                    %error,
                    "scheduled guest cleanup failed"
                ),
            }
        }
    })
}
