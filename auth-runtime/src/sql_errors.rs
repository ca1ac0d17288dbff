//! Which database errors mean "not now" (try again: 503) rather than "wrong" (500), for every
//! store on sqlx: the guest store, the adapter, the session versions.

/// Whether a database error means the store cannot be reached now, rather than a wrong query.
pub(crate) fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| means_not_now(&c)),
        _ => false,
    }
}

/// Whether a database error code means "not now" rather than "wrong": SQLite busy or locked
/// (after the busy timeout), a full disk or an I/O error, with their extended codes; PostgreSQL
/// connection failures, too many connections, out of disk or memory, shutting down, read-only
/// (a standby during a failover).
fn means_not_now(code: &str) -> bool {
    const SQLITE_BUSY: i64 = 5;
    const SQLITE_LOCKED: i64 = 6;
    const SQLITE_IOERR: i64 = 10;
    const SQLITE_FULL: i64 = 13;
    const POSTGRES: &[&str] = &[
        "08000", "08001", "08003", "08004", "08006", "53100", "53200", "53300", "57P01", "57P02",
        "57P03", "25006",
    ];
    match code.parse::<i64>() {
        // SQLite's extended codes carry the primary code in their low byte.
        Ok(sqlite) => matches!(
            sqlite & 0xff,
            SQLITE_BUSY | SQLITE_LOCKED | SQLITE_IOERR | SQLITE_FULL
        ),
        Err(_) => POSTGRES.contains(&code),
    }
}
