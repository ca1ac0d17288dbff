//! The embedded store: one SQLite file, in WAL mode, created and migrated on first use.

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::recent::RecentGuests;
use super::sqlite_batch::{BatchCreator, BatchError, Job, Outcome, WriteTurn, WriteTurns};
use super::store::{GuestDialect, SqlGuestStore, migrate};
use super::{
    CreateGuest, Created, GuestConfig, GuestError, GuestTx, key_hash, millis, new_id, read_active,
    sql,
};

/// Guests in SQLite (feature `guests`): the default store, for one app server; the
/// [`SqlGuestStore`] on SQLite.
///
/// [`SqliteGuestStore::open`] opens (or creates) the file in WAL mode with two pools: one writer
/// connection, since SQLite takes one writer at a time and a queue in the pool beats lock retries
/// (upgrades, cleanup and the application's own statements through [`SqliteGuestStore::pool`];
/// transactions begin `IMMEDIATE`), and four read-only connections that WAL lets read while the
/// writer writes. Creations go to a thread of their own with its own connection, which commits
/// every creation waiting at that moment in one transaction (the limits charged in it too): a
/// burst of sign-ins costs one commit per batch, not one per statement. A busy timeout (10 s,
/// [`GuestConfig::busy_timeout`]) covers other connections writing the same file. A store made
/// from a pool ([`SqliteGuestStore::new`]) runs everything on that pool.
///
/// ```
/// # tokio_test_block_on(async {
/// use auth_runtime::guests::{CreateGuest, GuestConfig, GuestStore, Limits, SqliteGuestStore};
///
/// let pool = sqlx::sqlite::SqlitePoolOptions::new()
///     .max_connections(1)
///     .connect("sqlite::memory:")
///     .await
///     .unwrap();
/// let config = GuestConfig::default().limits(Limits::unlimited());
/// let store = SqliteGuestStore::with_config(pool, config).await.unwrap();
/// let guest = store.create(CreateGuest::server_side()).await.unwrap().guest;
/// assert!(store.touch(&guest.id).await.unwrap());
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
pub type SqliteGuestStore = SqlGuestStore<sqlx::Sqlite>;

/// What the SQLite store keeps beside its pools.
pub struct SqliteLocal {
    /// Creations in batches on a connection of their own (stores opened on a file).
    batch: Option<BatchCreator>,
    /// Guests confirmed lately, for guest session reads.
    recent: RecentGuests,
    /// Whose turn it is to write the file, among this store's writers (see `begin_write`).
    write_turns: WriteTurns,
}

impl SqliteLocal {
    fn new(batch: Option<BatchCreator>, write_turns: WriteTurns) -> Self {
        SqliteLocal {
            batch,
            recent: RecentGuests::default(),
            write_turns,
        }
    }
}

impl SqliteGuestStore {
    /// Opens the store in the file at `path` (creating the file, its directory and the tables if
    /// needed), with limits from the environment ([`GuestConfig::from_env`]).
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, GuestError> {
        SqliteGuestStore::open_with(path, GuestConfig::from_env()?).await
    }

    /// [`SqliteGuestStore::open`] with a configuration.
    ///
    /// A file that is not an SQLite database (or is corrupt, or cannot be created) gives
    /// [`GuestError::Open`], naming it.
    pub async fn open_with(
        path: impl AsRef<Path>,
        config: GuestConfig,
    ) -> Result<Self, GuestError> {
        let path = path.as_ref();
        SqliteGuestStore::open_file(path, config)
            .await
            .map_err(|source| GuestError::Open {
                path: path.to_owned(),
                source: Box::new(source),
            })
    }

    async fn open_file(path: &Path, config: GuestConfig) -> Result<Self, GuestError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| GuestError::Unavailable(e.into()))?;
        }
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(config.busy_timeout);
        // No test before each acquire: a connection to a file cannot drop as a socket can, and
        // the test is a round trip to the connection's thread before every statement (sqlx still
        // tests each connection when it is given back).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        // A file that is not a database fails here, on its first read.
        sqlx::query("SELECT count(*) FROM sqlite_master")
            .execute(&writer)
            .await?;
        migrate(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .connect_with(options.read_only(true))
            .await?;
        let write_turns = WriteTurns::default();
        let batch = BatchCreator::start(path, config.busy_timeout, write_turns.clone())
            .map_err(batch_error)?;
        let local = SqliteLocal::new(Some(batch), write_turns);
        Ok(SqlGuestStore::from_parts(writer, reader, local, config))
    }

    /// Uses `pool` for everything (give it one connection, or a busy timeout), creating the
    /// tables if needed, with limits from the environment.
    pub async fn new(pool: sqlx::SqlitePool) -> Result<Self, GuestError> {
        SqliteGuestStore::with_config(pool, GuestConfig::from_env()?).await
    }

    /// [`SqliteGuestStore::new`] with a configuration.
    pub async fn with_config(
        pool: sqlx::SqlitePool,
        config: GuestConfig,
    ) -> Result<Self, GuestError> {
        migrate(&pool).await?;
        let local = SqliteLocal::new(None, WriteTurns::default());
        Ok(SqlGuestStore::from_parts(pool.clone(), pool, local, config))
    }
}

impl GuestDialect for sqlx::Sqlite {
    type Local = SqliteLocal;
    type WriteTurn = WriteTurn;
    const TAKE: &'static str = sql::TAKE;
    const GIVE_BACK: &'static str = sql::GIVE_BACK;
    /// One process serves a file, so the password attempt limits count in its memory: 4 writes
    /// to the file per password sign-in cost ×0.41 of the sign-in rate (`BENCHMARKS.md`). The
    /// store still implements [`RateBuckets`](crate::rate_limit::RateBuckets), for
    /// [`AuthBuilder::attempt_buckets`](crate::AuthBuilder::attempt_buckets) when counts must
    /// survive a restart.
    const SHARES_ATTEMPT_BUCKETS: bool = false;

    /// `BEGIN IMMEDIATE`, after this store's turn to write: the batch thread and these
    /// transactions take turns in arrival order instead of polling SQLite's lock, so a long run
    /// of cleanup batches cannot starve guest creations (SQLite's busy handler backs off up to
    /// 100 ms between tries).
    async fn begin_write(
        store: &SqliteGuestStore,
    ) -> Result<(WriteTurn, sqlx::Transaction<'static, sqlx::Sqlite>), sqlx::Error> {
        let turn = store.local.write_turns.clone().lock_owned().await;
        Ok((turn, store.writer.begin_with("BEGIN IMMEDIATE").await?))
    }

    /// From memory when the database confirmed the guest within the touch interval (every
    /// upgrade and cleanup of this store forgets what they change), else from the database. One
    /// process per file is what this store is for; a second process upgrading guests in the
    /// same file would be seen here only after the touch interval.
    async fn check_active(store: &SqliteGuestStore, id: &str) -> Result<bool, GuestError> {
        let now = store.now();
        let window = millis(store.config.touch_interval);
        let recent = &store.local.recent;
        if recent.confirmed(id, now, window) {
            return Ok(true);
        }
        let epoch = recent.epoch();
        let active = read_active(store, id).await?;
        if active {
            recent.record(id, now, epoch, window);
        }
        Ok(active)
    }

    /// Through the batch thread, when the store has one.
    async fn create_batched(
        store: &SqliteGuestStore,
        request: &CreateGuest<'_>,
    ) -> Option<Result<Created, GuestError>> {
        let batch = store.local.batch.as_ref()?;
        let job = Job {
            id: new_id(),
            key_hash: request.key.map(key_hash),
            client: request.client.clone(),
            limits: request.limits.unwrap_or(store.config.limits),
            now: store.now(),
        };
        Some(match batch.create(job).await {
            Ok(Outcome::Created(guest)) => {
                store.metrics.created(&guest.id);
                Ok(Created { guest, new: true })
            }
            Ok(Outcome::Reused(guest)) => {
                store.metrics.reused(&guest.id);
                Ok(Created { guest, new: false })
            }
            Ok(Outcome::Upgraded { guest_id, into }) => {
                Err(GuestError::AlreadyUpgraded { guest_id, into })
            }
            Ok(Outcome::Rejected { scope, retry_after }) => {
                store.metrics.rejected(scope, request.client.as_ref());
                Err(GuestError::RateLimited { scope, retry_after })
            }
            Err(error) => Err(batch_error(error)),
        })
    }

    fn forget(local: &SqliteLocal, id: Option<&str>) {
        match id {
            Some(id) => local.recent.forget(id),
            None => local.recent.forget_all(),
        }
    }

    fn hook_tx<'a>(tx: &'a mut sqlx::Transaction<'static, sqlx::Sqlite>) -> GuestTx<'a> {
        GuestTx::Sqlite(tx)
    }

    /// Commits the creations queued in the batch thread and ends it.
    async fn stop(local: &SqliteLocal) {
        if let Some(batch) = &local.batch {
            batch.stop().await;
        }
    }
}

fn batch_error(error: BatchError) -> GuestError {
    match error {
        BatchError::Unavailable(message) => {
            GuestError::Unavailable(sqlx::Error::Io(std::io::Error::other(message)))
        }
        BatchError::Database(message) => GuestError::Database(sqlx::Error::Protocol(message)),
    }
}
