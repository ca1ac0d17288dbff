//! The embedded store: one SQLite file, in WAL mode, created and migrated on first use.

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::recent::RecentGuests;
use super::sqlite_batch::{BatchCreator, BatchError, Job, Outcome, WriteTurn, WriteTurns};
use super::{
    CleanupHook, CleanupPolicy, CleanupReport, ClientKey, CreateGuest, Created, Guest, GuestConfig,
    GuestError, GuestFuture, GuestMetrics, GuestStats, GuestStore, GuestTx, Identity,
    LimitDecision, Limits, Rate, UpgradeHook, UpgradeOutcome, key_hash, millis, new_id,
    read_active, sql,
};

/// Guests in SQLite (feature `guests`): the default store, for one app server.
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
#[derive(Debug)]
pub struct SqliteGuestStore {
    writer: sqlx::SqlitePool,
    reader: sqlx::SqlitePool,
    /// Creations in batches on a connection of their own (stores opened on a file).
    batch: Option<BatchCreator>,
    /// Guests confirmed lately, for guest session reads.
    recent: RecentGuests,
    /// Whose turn it is to write the file, among this store's writers (see `begin_write`).
    write_turns: WriteTurns,
    config: GuestConfig,
    metrics: GuestMetrics,
}

impl SqliteGuestStore {
    /// One process serves a file, so the password attempt limits count in its memory: 4 writes
    /// to the file per password sign-in cost ×0.41 of the sign-in rate (`BENCHMARKS.md`). The
    /// store still implements [`RateBuckets`](crate::rate_limit::RateBuckets), for
    /// [`AuthBuilder::attempt_buckets`](crate::AuthBuilder::attempt_buckets) when counts must
    /// survive a restart.
    const SHARES_ATTEMPT_BUCKETS: bool = false;

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
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        // A file that is not a database fails here, on its first read.
        sqlx::query("SELECT count(*) FROM sqlite_master")
            .execute(&writer)
            .await?;
        migrate(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        let write_turns = WriteTurns::default();
        let batch = BatchCreator::start(path, config.busy_timeout, write_turns.clone())
            .map_err(batch_error)?;
        Ok(SqliteGuestStore {
            writer,
            reader,
            batch: Some(batch),
            recent: RecentGuests::default(),
            write_turns,
            config,
            metrics: GuestMetrics::default(),
        })
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
        Ok(SqliteGuestStore {
            writer: pool.clone(),
            reader: pool,
            batch: None,
            recent: RecentGuests::default(),
            write_turns: WriteTurns::default(),
            config,
            metrics: GuestMetrics::default(),
        })
    }

    /// Commits the creations queued in the batch thread, ends it, and closes the pools (the
    /// last connection to close folds the WAL into the file): what a server calls once it has
    /// stopped serving. Later calls fail as unavailable.
    pub async fn close(&self) {
        if let Some(batch) = &self.batch {
            batch.stop().await;
        }
        self.reader.close().await;
        self.writer.close().await;
    }

    /// The pool writes go through (the application may run its own statements on it, e.g. its
    /// cart table in the same file).
    pub fn pool(&self) -> &sqlx::SqlitePool {
        &self.writer
    }

    async fn take(&self, bucket: &str, now: i64, rate: Rate) -> Result<(i64, i64), sqlx::Error> {
        sqlx::query_as(sql::TAKE)
            .bind(bucket)
            .bind(now)
            .bind(rate.interval)
            .bind(rate.tolerance)
            .fetch_one(&self.writer)
            .await
    }

    async fn give_back_bucket(&self, bucket: &str, rate: Rate) -> Result<(), sqlx::Error> {
        sqlx::query(sql::GIVE_BACK)
            .bind(bucket)
            .bind(rate.interval)
            .execute(&self.writer)
            .await
            .map(drop)
    }

    /// A write transaction (`BEGIN IMMEDIATE`), after this store's turn to write: the batch
    /// thread and these transactions take turns in arrival order instead of polling SQLite's
    /// lock, so a long run of cleanup batches cannot starve guest creations (SQLite's busy
    /// handler backs off up to 100 ms between tries).
    async fn begin_write(
        &self,
    ) -> Result<(WriteTurn, sqlx::Transaction<'static, sqlx::Sqlite>), sqlx::Error> {
        let turn = self.write_turns.clone().lock_owned().await;
        Ok((turn, self.writer.begin_with("BEGIN IMMEDIATE").await?))
    }

    /// A guest session read: from memory when the database confirmed the guest within the touch
    /// interval (every upgrade and cleanup of this store forgets what they change), else from the
    /// database. One process per file is what this store is for; a second process upgrading
    /// guests in the same file would be seen here only after the touch interval.
    async fn check_active_here(&self, id: &str) -> Result<bool, GuestError> {
        let now = self.now();
        let window = millis(self.config.touch_interval);
        if self.recent.confirmed(id, now, window) {
            return Ok(true);
        }
        let epoch = self.recent.epoch();
        let active = read_active(self, id).await?;
        if active {
            self.recent.record(id, now, epoch, window);
        }
        Ok(active)
    }

    fn forget_guest(&self, id: &str) {
        self.recent.forget(id);
    }

    fn forget_all_guests(&self) {
        self.recent.forget_all();
    }

    /// A creation through the batch thread, when the store has one.
    async fn create_batched(
        &self,
        request: &CreateGuest<'_>,
    ) -> Option<Result<Created, GuestError>> {
        let batch = self.batch.as_ref()?;
        let job = Job {
            id: new_id(),
            key_hash: request.key.map(key_hash),
            client: request.client.clone(),
            limits: request.limits.unwrap_or(self.config.limits),
            now: self.now(),
        };
        Some(match batch.create(job).await {
            Ok(Outcome::Created(guest)) => {
                self.metrics.created(&guest.id);
                Ok(Created { guest, new: true })
            }
            Ok(Outcome::Reused(guest)) => {
                self.metrics.reused(&guest.id);
                Ok(Created { guest, new: false })
            }
            Ok(Outcome::Upgraded { guest_id, into }) => {
                Err(GuestError::AlreadyUpgraded { guest_id, into })
            }
            Ok(Outcome::Rejected { scope, retry_after }) => {
                self.metrics.rejected(scope, request.client.as_ref());
                Err(GuestError::RateLimited { scope, retry_after })
            }
            Err(error) => Err(batch_error(error)),
        })
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

/// The guest tables, then the adapter's (users, accounts, sessions, verification tokens): one
/// database holds both.
async fn migrate(pool: &sqlx::SqlitePool) -> Result<(), GuestError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for statement in sql::MIGRATION {
        sqlx::query(*statement).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    crate::adapter::SqliteAdapter::new(pool.clone()).await?;
    Ok(())
}

sql_guest_store!(SqliteGuestStore, GuestTx::Sqlite);
