//! Lifecycle metrics: counters of this process (also emitted through the `metrics` facade as
//! `auth_guests_total{event}`, see [`telemetry`](crate::telemetry), and as `tracing` events,
//! target `auth_runtime::guests`) and totals read from the database (shared by every server).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counters of one store instance (one process). Lock-free.
#[derive(Debug, Default)]
pub(crate) struct GuestMetrics {
    created: AtomicU64,
    reused: AtomicU64,
    promoted: AtomicU64,
    merged: AtomicU64,
    cleaned: AtomicU64,
    rejected_client: AtomicU64,
    rejected_global: AtomicU64,
    upgrades_timed: AtomicU64,
    upgrade_ms_total: AtomicU64,
    upgrade_ms_max: AtomicU64,
}

impl GuestMetrics {
    pub(super) fn created(&self, guest_id: &str) {
        self.created.fetch_add(1, Ordering::Relaxed);
        crate::telemetry::guest("created", 1);
        tracing::debug!(target: "auth_runtime::guests", event = "created", guest_id, "guest created");
    }

    pub(super) fn reused(&self, guest_id: &str) {
        self.reused.fetch_add(1, Ordering::Relaxed);
        crate::telemetry::guest("reused", 1);
        tracing::debug!(target: "auth_runtime::guests", event = "reused", guest_id, "guest returned for its idempotency key");
    }

    pub(super) fn rejected(&self, scope: super::LimitScope, client: Option<&super::ClientKey>) {
        let counter = match scope {
            super::LimitScope::Client => &self.rejected_client,
            super::LimitScope::Global => &self.rejected_global,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        crate::telemetry::guest("rejected", 1);
        tracing::info!(
            target: "auth_runtime::guests",
            event = "rejected",
            %scope,
            client = client.map(|c| c.as_str()),
            "guest creation rejected by a limit"
        );
    }

    pub(super) fn upgraded(&self, outcome: &super::UpgradeOutcome, age_ms: i64) {
        let (counter, event) = match outcome {
            super::UpgradeOutcome::Promoted { .. } => (&self.promoted, "promoted"),
            super::UpgradeOutcome::Merged { .. } => (&self.merged, "merged"),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        crate::telemetry::guest(event, 1);
        let age = u64::try_from(age_ms).unwrap_or(0);
        self.upgrades_timed.fetch_add(1, Ordering::Relaxed);
        self.upgrade_ms_total.fetch_add(age, Ordering::Relaxed);
        self.upgrade_ms_max.fetch_max(age, Ordering::Relaxed);
        tracing::info!(
            target: "auth_runtime::guests",
            event = outcome.label(),
            user_id = outcome.user_id(),
            guest_age_ms = age,
            "guest upgraded"
        );
    }

    pub(super) fn cleaned(&self, n: u64) {
        self.cleaned.fetch_add(n, Ordering::Relaxed);
        crate::telemetry::guest("cleaned", n);
        tracing::info!(target: "auth_runtime::guests", event = "cleaned", guests = n, "idle guests removed");
    }

    pub(super) fn snapshot(&self) -> GuestStats {
        let timed = self.upgrades_timed.load(Ordering::Relaxed);
        let total = self.upgrade_ms_total.load(Ordering::Relaxed);
        GuestStats {
            created: self.created.load(Ordering::Relaxed),
            reused: self.reused.load(Ordering::Relaxed),
            promoted: self.promoted.load(Ordering::Relaxed),
            merged: self.merged.load(Ordering::Relaxed),
            cleaned: self.cleaned.load(Ordering::Relaxed),
            rejected_client: self.rejected_client.load(Ordering::Relaxed),
            rejected_global: self.rejected_global.load(Ordering::Relaxed),
            upgrade_latency: UpgradeLatency {
                count: timed,
                mean: Duration::from_millis(total.checked_div(timed).unwrap_or(0)),
                max: Duration::from_millis(self.upgrade_ms_max.load(Ordering::Relaxed)),
            },
            ..GuestStats::default()
        }
    }
}

/// Time from a guest's creation to its upgrade, over this process's upgrades.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpgradeLatency {
    /// Upgrades measured.
    pub count: u64,
    /// Mean time from creation to upgrade.
    pub mean: Duration,
    /// Longest time from creation to upgrade.
    pub max: Duration,
}

/// What [`GuestStore::stats`](super::GuestStore::stats) returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuestStats {
    /// Guests created by this process.
    pub created: u64,
    /// Creations answered with an existing guest (idempotency key) by this process.
    pub reused: u64,
    /// Upgrades by this process that promoted the guest.
    pub promoted: u64,
    /// Upgrades by this process that merged the guest into an existing user.
    pub merged: u64,
    /// Guests removed by this process's cleanups.
    pub cleaned: u64,
    /// Creations this process refused for the per-client limit.
    pub rejected_client: u64,
    /// Creations this process refused for the global budget.
    pub rejected_global: u64,
    /// Time from creation to upgrade (this process).
    pub upgrade_latency: UpgradeLatency,
    /// In the database: guests not upgraded (every server).
    pub guests: u64,
    /// In the database: guests not upgraded and seen within the active window.
    pub active: u64,
    /// In the database: guests ever promoted (and not removed).
    pub promoted_total: u64,
    /// In the database: guests ever merged (and not removed).
    pub merged_total: u64,
}
