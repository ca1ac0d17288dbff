//! The SQLite store's memory of guests it confirmed lately. A guest's session read asks the store
//! whether the guest is still a guest; the SQLite store serves one process, and every upgrade and
//! cleanup goes through it, so within the touch interval it can answer from memory what the
//! database answered, and forget a guest the moment it changes.

use std::collections::HashMap;
use std::sync::Mutex;

/// At most this many guests are remembered; the memory starts over when it is full.
const CAPACITY: usize = 100_000;

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
    /// `epoch`.
    pub fn record(&self, id: &str, now: i64, epoch: u64) {
        let mut memory = self.lock();
        if memory.epoch != epoch {
            return;
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
        recent.record("g", 1_000, recent.epoch());
        assert!(recent.confirmed("g", 60_999, 60_000));
        assert!(!recent.confirmed("g", 61_000, 60_000));
        // A clock moved back does not extend the window.
        assert!(!recent.confirmed("g", 999, 60_000));
        recent.forget("g");
        assert!(!recent.confirmed("g", 1_000, 60_000));
        recent.record("h", 1_000, recent.epoch());
        recent.forget_all();
        assert!(!recent.confirmed("h", 1_000, 60_000));
        // An answer read before a forget is not remembered after it.
        let before = recent.epoch();
        recent.forget("other");
        recent.record("h", 1_000, before);
        assert!(!recent.confirmed("h", 1_000, 60_000));
    }
}
