//! The SQLite store's memory of guests it confirmed lately. A guest's session read asks the store
//! whether the guest is still a guest; the SQLite store serves one process, and every upgrade and
//! cleanup goes through it, so within the touch interval it can answer from memory what the
//! database answered, and forget a guest the moment it changes.

use std::collections::HashMap;
use std::sync::Mutex;

/// At most this many guests are remembered; the memory starts over when it is full.
const CAPACITY: usize = 100_000;

/// The memory is swept of expired guests when it holds this many, or twice as many as after
/// the last sweep: it stays near the number of guests seen within one window, so a server's
/// memory is flat under steady traffic instead of climbing to `CAPACITY`.
const FIRST_SWEEP: usize = 1_024;

/// Guest id → when (Unix ms) the database last confirmed it as a guest and its activity was
/// recorded.
#[derive(Debug, Default)]
pub(super) struct RecentGuests {
    memory: Mutex<Memory>,
}

#[derive(Debug, Default)]
struct Memory {
    confirmed: HashMap<String, i64>,
    /// Moves on at every forget: an answer read from the database before a forget is not
    /// remembered after it (the upgrade may have committed after the read).
    epoch: u64,
    /// The size at which expired guests are swept next (0: `FIRST_SWEEP`).
    sweep_at: usize,
}

impl RecentGuests {
    /// Whether `id` was confirmed within `window` ms before `now`.
    pub fn confirmed(&self, id: &str, now: i64, window: i64) -> bool {
        self.lock()
            .confirmed
            .get(id)
            .is_some_and(|&at| now.saturating_sub(at) < window && at <= now)
    }

    /// The current epoch: take it before asking the database, give it to [`RecentGuests::record`].
    pub fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// Remembers that the database confirmed `id` at `now`, unless something was forgotten since
    /// `epoch`; guests confirmed more than `window` ms ago are swept out from time to time.
    pub fn record(&self, id: &str, now: i64, epoch: u64, window: i64) {
        let mut memory = self.lock();
        if memory.epoch != epoch {
            return;
        }
        if memory.confirmed.len() >= memory.sweep_at.max(FIRST_SWEEP) {
            memory
                .confirmed
                .retain(|_, at| now.saturating_sub(*at) < window && *at <= now);
            memory.sweep_at = (memory.confirmed.len() * 2).max(FIRST_SWEEP);
        }
        if memory.confirmed.len() >= CAPACITY && !memory.confirmed.contains_key(id) {
            memory.confirmed.clear();
        }
        memory.confirmed.insert(id.to_owned(), now);
    }

    /// Forgets `id` (it was upgraded).
    pub fn forget(&self, id: &str) {
        let mut memory = self.lock();
        memory.epoch += 1;
        memory.confirmed.remove(id);
    }

    /// Forgets every guest (some were removed).
    pub fn forget_all(&self) {
        let mut memory = self.lock();
        memory.epoch += 1;
        memory.confirmed.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        // A panic while holding the lock leaves a map that is still valid.
        self.memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::RecentGuests;

    #[test]
    fn remembers_within_the_window_and_forgets_on_change() {
        let recent = RecentGuests::default();
        assert!(!recent.confirmed("g", 1_000, 60_000));
        recent.record("g", 1_000, recent.epoch(), 60_000);
        assert!(recent.confirmed("g", 60_999, 60_000));
        assert!(!recent.confirmed("g", 61_000, 60_000));
        // A clock moved back does not extend the window.
        assert!(!recent.confirmed("g", 999, 60_000));
        recent.forget("g");
        assert!(!recent.confirmed("g", 1_000, 60_000));
        recent.record("h", 1_000, recent.epoch(), 60_000);
        recent.forget_all();
        assert!(!recent.confirmed("h", 1_000, 60_000));
        // An answer read before a forget is not remembered after it.
        let before = recent.epoch();
        recent.forget("other");
        recent.record("h", 1_000, before, 60_000);
        assert!(!recent.confirmed("h", 1_000, 60_000));
    }

    #[test]
    fn expired_guests_are_swept_so_steady_traffic_keeps_the_memory_small() {
        let recent = RecentGuests::default();
        // 100 new guests a second for ten minutes, each read once: a minute's worth stays.
        for n in 0..60_000i64 {
            let now = n * 10;
            recent.record(&format!("g{n}"), now, recent.epoch(), 60_000);
        }
        let held = recent.lock().confirmed.len();
        assert!(held <= 2 * 6_000 + super::FIRST_SWEEP, "{held}");
        assert!(recent.confirmed("g59999", 599_990, 60_000));
    }
}
