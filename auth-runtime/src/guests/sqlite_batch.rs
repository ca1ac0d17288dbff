//! Guest creation for the SQLite store in batches: one thread owns a connection to the file and
//! commits every creation waiting for it in one transaction. A burst of sign-ins then costs one
//! hand-off to that thread and one WAL commit per batch, where going through the pool costs a
//! hand-off per statement (a creation runs up to four) and a commit per statement.
//!
//! The thread may wait for SQLite's write lock (another connection writing the same file) without
//! holding up the async runtime, and it ends when the store is dropped.
//!
//! WAL checkpoints (copying the log into the file, with an fsync) do not run on that thread: left
//! to SQLite they run inside the commit that crosses 1,000 pages, and every creation waiting in
//! that batch waits for the disk. A second thread with a connection of its own runs a passive
//! checkpoint every 250 ms instead, which never blocks the writer (see `BENCHMARKS.md`, "Guests").

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, Statement, named_params};
use tokio::sync::oneshot;

use super::{ClientKey, Guest, LimitDecision, LimitScope, Limits, sql};

/// At most this many creations share one transaction.
const MAX_BATCH: usize = 256;
/// How often the checkpoint thread folds the log into the file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// How many times the thread yields to let more creations join a batch.
const GATHER_YIELDS: usize = 2;

/// One creation, as the batch runs it.
pub(super) struct Job {
    /// The id the guest gets if one is created.
    pub id: String,
    /// SHA-256 of the idempotency key, hex.
    pub key_hash: Option<String>,
    pub client: Option<ClientKey>,
    pub limits: Limits,
    /// Unix milliseconds.
    pub now: i64,
}

/// What a creation came to.
pub(super) enum Outcome {
    /// A new guest.
    Created(Guest),
    /// The idempotency key named this guest, which is still a guest: it was seen now.
    Reused(Guest),
    /// The idempotency key's guest was upgraded into `into`.
    Upgraded { guest_id: String, into: String },
    /// A limit refused the creation.
    Rejected {
        scope: LimitScope,
        retry_after: Duration,
    },
}

/// Why a creation failed.
#[derive(Debug, thiserror::Error)]
pub(super) enum BatchError {
    /// SQLite was busy or locked past the busy timeout, the disk is full or failing, or the
    /// thread is gone.
    #[error("{0}")]
    Unavailable(String),
    /// Any other SQLite error.
    #[error("{0}")]
    Database(String),
}

impl From<rusqlite::Error> for BatchError {
    fn from(e: rusqlite::Error) -> Self {
        // Busy or locked past the busy timeout, a full disk, an I/O error: the file cannot take
        // a write now, but may later; nothing about the request was wrong.
        let not_now = matches!(
            e.sqlite_error_code(),
            Some(
                rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::SystemIoFailure
            )
        );
        let message = format!("sqlite: {e}");
        if not_now {
            BatchError::Unavailable(message)
        } else {
            BatchError::Database(message)
        }
    }
}

type Reply = oneshot::Sender<Result<Outcome, BatchError>>;

/// The turns to write one SQLite file among one store's writers: the batch thread and the
/// pool's write transactions (upgrades, cleanup). A fair (first come, first served) lock.
pub(super) type WriteTurns = std::sync::Arc<tokio::sync::Mutex<()>>;

/// A turn to write, held until the transaction ends.
pub(super) type WriteTurn = tokio::sync::OwnedMutexGuard<()>;

/// What the thread is asked.
enum Message {
    Create(Job, Reply),
    /// Commit what is queued before this, then end; answered when the connection is closed.
    Stop(oneshot::Sender<()>),
}

/// The handle the store keeps: creations go to the thread through it.
#[derive(Debug)]
pub(super) struct BatchCreator {
    jobs: mpsc::Sender<Message>,
}

impl BatchCreator {
    /// Opens a connection of its own to the (already migrated) file at `path` and starts the
    /// thread that owns it.
    pub fn start(
        path: &Path,
        busy_timeout: Duration,
        turns: WriteTurns,
    ) -> Result<Self, BatchError> {
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(busy_timeout)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        // Checkpoints are the checkpoint thread's, not this connection's commits'.
        connection.pragma_update(None, "wal_autocheckpoint", 0)?;
        let checkpoints = Checkpoints::start(path)?;
        let (jobs, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("auth-guests-sqlite".to_owned())
            .spawn(move || {
                let stopped = run(&connection, &queue, &turns);
                drop(connection);
                // The last checkpoint, then the thread ends: the file is whole on disk.
                checkpoints.stop();
                if let Some(stopped) = stopped {
                    let _ = stopped.send(());
                }
            })
            .map_err(|e| BatchError::Unavailable(format!("cannot start the writer thread: {e}")))?;
        Ok(BatchCreator { jobs })
    }

    /// Runs `job` in the next batch.
    pub async fn create(&self, job: Job) -> Result<Outcome, BatchError> {
        let gone = || BatchError::Unavailable("the guest writer thread has stopped".to_owned());
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Message::Create(job, reply))
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Commits every creation queued so far, then ends the thread and closes its connection;
    /// creations asked for afterwards fail as unavailable.
    pub async fn stop(&self) {
        let (stopped, done) = oneshot::channel();
        if self.jobs.send(Message::Stop(stopped)).is_ok() {
            let _ = done.await;
        }
    }
}

/// The checkpoint thread: a passive checkpoint every [`CHECKPOINT_EVERY`] on a connection of its
/// own, until stopped.
struct Checkpoints {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpoints {
    fn start(path: &Path) -> Result<Self, BatchError> {
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("auth-guests-checkpoint".to_owned())
            .spawn(move || {
                loop {
                    let last = !matches!(
                        stopped.recv_timeout(CHECKPOINT_EVERY),
                        Err(mpsc::RecvTimeoutError::Timeout)
                    );
                    // PASSIVE: copies what no reader still needs, never waits for a lock.
                    if let Err(error) =
                        connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!(target: "auth_runtime::guests", %error, "WAL checkpoint failed");
                    }
                    if last {
                        return;
                    }
                }
            })
            .map_err(|e| {
                BatchError::Unavailable(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Checkpoints { stop, thread })
    }

    /// Runs a last checkpoint and waits for the thread to end.
    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// The statements a creation runs, prepared once for the thread's life.
struct Statements<'c> {
    by_key: Statement<'c>,
    touch: Statement<'c>,
    take: Statement<'c>,
    insert: Statement<'c>,
}

/// Serves the queue until the store is dropped (`None`) or stopped (the stop's answer).
fn run(
    connection: &Connection,
    queue: &mpsc::Receiver<Message>,
    turns: &WriteTurns,
) -> Option<oneshot::Sender<()>> {
    let mut statements = match prepare(connection) {
        Ok(statements) => statements,
        Err(error) => {
            // Answer every request with the reason instead of hanging up silently.
            let error = BatchError::from(error);
            while let Ok(message) = queue.recv() {
                match message {
                    Message::Create(_, reply) => {
                        let _ = reply.send(Err(BatchError::Database(error.to_string())));
                    }
                    Message::Stop(stopped) => return Some(stopped),
                }
            }
            return None;
        }
    };
    loop {
        let first = match queue.recv() {
            Ok(Message::Create(job, reply)) => (job, reply),
            Ok(Message::Stop(stopped)) => return Some(stopped),
            Err(_) => return None,
        };
        let mut batch = vec![first];
        let mut stop = None;
        // The sender woke this thread at once; give the requests arriving in the same moment a
        // turn to join before committing (a yield, not a sleep: an idle server commits at once).
        for _ in 0..GATHER_YIELDS {
            stop = stop.or(drain(queue, &mut batch));
            if batch.len() >= MAX_BATCH || stop.is_some() {
                break;
            }
            std::thread::yield_now();
        }
        if stop.is_none() {
            stop = drain(queue, &mut batch);
        }
        {
            // This thread runs no async runtime: waiting here blocks only it.
            let _turn = turns.blocking_lock();
            commit(connection, &mut statements, batch);
        }
        if stop.is_some() {
            return stop;
        }
    }
}

/// Moves waiting creations into `batch`, up to its size; a stop ends the batch and is returned.
fn drain(
    queue: &mpsc::Receiver<Message>,
    batch: &mut Vec<(Job, Reply)>,
) -> Option<oneshot::Sender<()>> {
    while batch.len() < MAX_BATCH {
        match queue.try_recv() {
            Ok(Message::Create(job, reply)) => batch.push((job, reply)),
            Ok(Message::Stop(stopped)) => return Some(stopped),
            Err(_) => break,
        }
    }
    None
}

fn prepare(connection: &Connection) -> rusqlite::Result<Statements<'_>> {
    Ok(Statements {
        by_key: connection.prepare(sql::BY_KEY)?,
        touch: connection.prepare(sql::TOUCH)?,
        take: connection.prepare(sql::TAKE)?,
        insert: connection.prepare(sql::INSERT)?,
    })
}

/// Runs a batch in one transaction and answers each creation once it is committed.
fn commit(connection: &Connection, statements: &mut Statements<'_>, batch: Vec<(Job, Reply)>) {
    if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
        let error = BatchError::from(error);
        for (_, reply) in batch {
            let _ = reply.send(Err(same(&error)));
        }
        return;
    }
    let results: Vec<_> = batch
        .into_iter()
        .map(|(job, reply)| (create_one(statements, &job), reply))
        .collect();
    match connection.execute_batch("COMMIT") {
        Ok(()) => {
            for (result, reply) in results {
                let _ = reply.send(result);
            }
        }
        Err(error) => {
            let _ = connection.execute_batch("ROLLBACK");
            let error = BatchError::from(error);
            for (_, reply) in results {
                let _ = reply.send(Err(same(&error)));
            }
        }
    }
}

fn same(error: &BatchError) -> BatchError {
    match error {
        BatchError::Unavailable(m) => BatchError::Unavailable(m.clone()),
        BatchError::Database(m) => BatchError::Database(m.clone()),
    }
}

/// The store's creation rule: a live guest under the key is reused without charging a limit;
/// otherwise the per-client bucket, then the global one, then the insert.
fn create_one(statements: &mut Statements<'_>, job: &Job) -> Result<Outcome, BatchError> {
    if let Some(hash) = &job.key_hash
        && let Some(guest) = by_key(statements, hash)?
    {
        return reuse(statements, guest, job.now);
    }
    if let LimitDecision::Rejected { scope, retry_after } = charge(statements, job)? {
        return Ok(Outcome::Rejected { scope, retry_after });
    }
    let inserted = statements
        .insert
        .query_row(
            named_params! { "$1": job.id, "$2": job.key_hash, "$3": job.now },
            guest_row,
        )
        .optional()?;
    match (inserted, &job.key_hash) {
        (Some(guest), _) => Ok(Outcome::Created(guest)),
        // Another creation with the same key committed first (another connection).
        (None, Some(hash)) => match by_key(statements, hash)? {
            Some(guest) => reuse(statements, guest, job.now),
            None => Err(rusqlite::Error::QueryReturnedNoRows.into()),
        },
        (None, None) => Err(rusqlite::Error::QueryReturnedNoRows.into()),
    }
}

fn by_key(statements: &mut Statements<'_>, hash: &str) -> rusqlite::Result<Option<Guest>> {
    statements
        .by_key
        .query_row(named_params! { "$1": hash }, guest_row)
        .optional()
}

fn reuse(
    statements: &mut Statements<'_>,
    mut guest: Guest,
    now: i64,
) -> Result<Outcome, BatchError> {
    if let Some(into) = guest.upgraded_to {
        return Ok(Outcome::Upgraded {
            guest_id: guest.id,
            into,
        });
    }
    statements
        .touch
        .execute(named_params! { "$1": guest.id, "$2": now })?;
    guest.last_seen_at = guest.last_seen_at.max(now);
    Ok(Outcome::Reused(guest))
}

fn charge(statements: &mut Statements<'_>, job: &Job) -> rusqlite::Result<LimitDecision> {
    let mut remaining = u32::MAX;
    for (scope, bucket, rate) in job.limits.buckets(job.client.as_ref()) {
        let (ok, tat): (i64, i64) = statements.take.query_row(
            named_params! {
                "$1": bucket, "$2": job.now, "$3": rate.interval, "$4": rate.tolerance,
            },
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        match rate.decide(scope, job.now, ok == 1, tat) {
            LimitDecision::Allowed { remaining: left } => remaining = remaining.min(left),
            rejected => return Ok(rejected),
        }
    }
    Ok(LimitDecision::Allowed { remaining })
}

fn guest_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Guest> {
    Ok(Guest {
        id: row.get(0)?,
        created_at: row.get(1)?,
        last_seen_at: row.get(2)?,
        upgraded_to: row.get(3)?,
    })
}
