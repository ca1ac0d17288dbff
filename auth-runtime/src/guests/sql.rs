//! The SQL both stores run: one dialect for SQLite (3.35+) and PostgreSQL. Parameters are `$n`,
//! which SQLite reads as numbered parameters too; timestamps are `BIGINT` Unix milliseconds;
//! no `GREATEST`, `FOR UPDATE` or array binds, so every statement runs unchanged on both.
//!
//! The tables are in the adapter's migrations (`crate::adapter::schema`), so one migration set
//! makes a database: `auth_guests` (one row per guest, kept after an upgrade as a record of the
//! user it became), `auth_guest_identities` (which user each sign-in identity belongs to) and
//! `auth_guest_limits` (one GCRA bucket per client key, plus `global`).
//!
//! [`SqlGuestStore`](super::SqlGuestStore) is the store, written once; [`GuestDialect`](super::GuestDialect) is what differs between the
//! two databases (how a write transaction begins, what the process remembers of guests, how
//! creations are committed).

pub(super) const INSERT: &str = "INSERT INTO auth_guests (id, key_hash, created_at, last_seen_at) \
     VALUES ($1, $2, $3, $3) ON CONFLICT (key_hash) DO NOTHING \
     RETURNING id, created_at, last_seen_at, upgraded_to";

pub(super) const GET: &str =
    "SELECT id, created_at, last_seen_at, upgraded_to FROM auth_guests WHERE id = $1";

pub(super) const BY_KEY: &str =
    "SELECT id, created_at, last_seen_at, upgraded_to FROM auth_guests WHERE key_hash = $1";

pub(super) const TOUCH: &str = "UPDATE auth_guests SET last_seen_at = \
     CASE WHEN last_seen_at < $2 THEN $2 ELSE last_seen_at END WHERE id = $1";

pub(super) const LAST_SEEN: &str = "SELECT last_seen_at FROM auth_guests WHERE id = $1";

/// Claims a guest for an upgrade: one winner per guest.
pub(super) const CLAIM: &str = "UPDATE auth_guests \
     SET upgraded_to = id, upgraded_at = $2, outcome = 'promoted' \
     WHERE id = $1 AND upgraded_to IS NULL RETURNING created_at";

pub(super) const UPGRADED_TO: &str = "SELECT upgraded_to FROM auth_guests WHERE id = $1";

pub(super) const LINK: &str = "INSERT INTO auth_guest_identities \
     (provider, subject, user_id, created_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (provider, subject) DO NOTHING RETURNING user_id";

pub(super) const OWNER: &str =
    "SELECT user_id FROM auth_guest_identities WHERE provider = $1 AND subject = $2";

pub(super) const MARK_MERGED: &str =
    "UPDATE auth_guests SET upgraded_to = $2, outcome = 'merged' WHERE id = $1";

/// The statement that takes one token from a bucket (GCRA), atomically, with its rows from
/// `$source`: `$1` bucket, `$2` now, `$3` interval, `$4` tolerance. Returns whether it was
/// allowed and the new theoretical arrival time. A refused request leaves the bucket as it was.
macro_rules! take_from {
    ($source:literal) => {
        concat!(
            "INSERT INTO auth_guest_limits (bucket, tat, ok) ",
            $source,
            " ON CONFLICT (bucket) DO UPDATE SET \
             ok = CASE WHEN auth_guest_limits.tat - $2 <= $4 THEN 1 ELSE 0 END, \
             tat = CASE WHEN auth_guest_limits.tat - $2 <= $4 \
                THEN (CASE WHEN auth_guest_limits.tat > $2 THEN auth_guest_limits.tat ELSE $2 END) + $3 \
                ELSE auth_guest_limits.tat END \
             RETURNING ok, tat"
        )
    };
}

/// Takes one token from a bucket (see `take_from!`).
pub(super) const TAKE: &str = take_from!("VALUES ($1, $2 + $3, 1)");

/// [`TAKE`] in one round trip whose commit does not wait for the WAL flush (PostgreSQL): a
/// crash may forget the last few charges, which only errs towards allowing.
#[cfg(feature = "postgres")]
pub(super) const TAKE_WITHOUT_FLUSH: &str = take_from!(
    "SELECT $1, $2 + $3, 1 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS no_flush"
);

/// Gives back one use of a bucket: `$1` bucket, `$2` interval.
pub(super) const GIVE_BACK: &str = "UPDATE auth_guest_limits SET tat = tat - $2 WHERE bucket = $1";

/// [`GIVE_BACK`] whose commit does not wait for the WAL flush (PostgreSQL).
#[cfg(feature = "postgres")]
pub(super) const GIVE_BACK_WITHOUT_FLUSH: &str = "UPDATE auth_guest_limits SET tat = tat - $2 \
     FROM (SELECT set_config('synchronous_commit', 'off', true)) AS no_flush WHERE bucket = $1";

/// Buckets whose arrival time has passed are full again: same as no row.
pub(super) const PRUNE_BUCKETS: &str = "DELETE FROM auth_guest_limits WHERE tat < $1";

/// One cleanup batch. The outer conditions are re-checked on each row when it is locked
/// (PostgreSQL), so a guest seen or upgraded meanwhile is kept.
pub(super) const DELETE_IDLE: &str = "DELETE FROM auth_guests \
     WHERE upgraded_to IS NULL AND last_seen_at < $1 AND id IN (\
        SELECT id FROM auth_guests WHERE upgraded_to IS NULL AND last_seen_at < $1 \
        ORDER BY last_seen_at LIMIT $2) \
     RETURNING id, last_seen_at";

/// Ends the database sessions of guest `$1` (upgraded or removed): a guest's session row then
/// stands for the guest, and its read needs no second look at `auth_guests`.
pub(super) const END_GUEST_SESSIONS: &str = "DELETE FROM sessions WHERE guest_id = $1";

/// Removes the `users` row of guest `$1` (database sessions make one per guest, found through
/// its `anonymous` account), then that account: a guest upgraded or removed leaves no user
/// behind (an upgraded guest's user is the account it signed in with).
pub(super) const END_GUEST_USER: [&str; 2] = [
    "DELETE FROM users WHERE id IN (SELECT \"userId\" FROM accounts \
     WHERE type = 'anonymous' AND \"providerAccountId\" = $1)",
    "DELETE FROM accounts WHERE type = 'anonymous' AND \"providerAccountId\" = $1",
];

pub(super) const IDLE_COUNT: &str = "SELECT COUNT(*), MIN(last_seen_at) FROM auth_guests \
     WHERE upgraded_to IS NULL AND last_seen_at < $1";

pub(super) const IDLE_SAMPLE: &str = "SELECT id FROM auth_guests \
     WHERE upgraded_to IS NULL AND last_seen_at < $1 ORDER BY last_seen_at LIMIT 20";

pub(super) const STATS: &str = "SELECT \
     COALESCE(SUM(CASE WHEN upgraded_to IS NULL THEN 1 ELSE 0 END), 0), \
     COALESCE(SUM(CASE WHEN upgraded_to IS NULL AND last_seen_at >= $1 THEN 1 ELSE 0 END), 0), \
     COALESCE(SUM(CASE WHEN outcome = 'promoted' THEN 1 ELSE 0 END), 0), \
     COALESCE(SUM(CASE WHEN outcome = 'merged' THEN 1 ELSE 0 END), 0) \
     FROM auth_guests";
