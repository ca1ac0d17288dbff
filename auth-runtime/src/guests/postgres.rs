//! The shared store: PostgreSQL, for several app servers on one database.

use std::time::Duration;

use sqlx::Connection;

use super::{
    CleanupHook, CleanupPolicy, CleanupReport, ClientKey, CreateGuest, Created, Guest, GuestConfig,
    GuestError, GuestFuture, GuestMetrics, GuestStats, GuestStore, GuestTx, Identity,
    LimitDecision, Limits, Rate, UpgradeHook, UpgradeOutcome, key_hash, millis, new_id,
    read_active, sql,
};

/// Guests in PostgreSQL (feature `postgres`), shared by every app server: the limits, the
/// one-upgrade-per-guest rule and cleanup hold across all of them.
#[derive(Debug)]
pub struct PostgresGuestStore {
    writer: sqlx::PgPool,
    reader: sqlx::PgPool,
    config: GuestConfig,
    metrics: GuestMetrics,
}

impl PostgresGuestStore {
    /// Several servers share one database: the password attempt limits count in it.
    const SHARES_ATTEMPT_BUCKETS: bool = true;

    /// Connects to `url` (a pool of 10) and creates the tables if needed, with limits from the
    /// environment. Fails at once when the connection is refused, and after 5 s when the database
    /// does not answer ([`GuestError::Unavailable`]).
    pub async fn connect(url: &str) -> Result<Self, GuestError> {
        let options: sqlx::postgres::PgConnectOptions = url.parse()?;
        // One attempt first: a refused connection is an error now, not after the pool's retries.
        let first = tokio::time::timeout(
            Duration::from_secs(5),
            sqlx::PgConnection::connect_with(&options),
        )
        .await
        .map_err(|_| GuestError::Unavailable(sqlx::Error::PoolTimedOut))??;
        let _ = first.close().await;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(options);
        PostgresGuestStore::new(pool).await
    }

    /// Uses `pool`, creating the tables if needed, with limits from the environment.
    pub async fn new(pool: sqlx::PgPool) -> Result<Self, GuestError> {
        PostgresGuestStore::with_config(pool, GuestConfig::from_env()?).await
    }

    /// [`PostgresGuestStore::new`] with a configuration.
    pub async fn with_config(pool: sqlx::PgPool, config: GuestConfig) -> Result<Self, GuestError> {
        // Several servers may start at once: one migrates at a time.
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(7208190418)")
            .execute(&mut *tx)
            .await?;
        for statement in sql::MIGRATION {
            sqlx::query(*statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        // The adapter's tables live in the same database.
        crate::adapter::PostgresAdapter::new(pool.clone()).await?;
        Ok(PostgresGuestStore {
            writer: pool.clone(),
            reader: pool,
            config,
            metrics: GuestMetrics::default(),
        })
    }

    /// Closes the pool, waiting for the statements running on it: what a server calls once
    /// it has stopped serving.
    pub async fn close(&self) {
        self.writer.close().await;
    }

    /// The store's pool.
    pub fn pool(&self) -> &sqlx::PgPool {
        &self.writer
    }

    /// Every creation updates the one `global` bucket row, so its row lock must be short: the
    /// bucket update commits without waiting for the WAL flush (a crash may forget the last few
    /// charges, which only errs towards allowing), in one round trip. Guests themselves are
    /// committed durably.
    async fn take(&self, bucket: &str, now: i64, rate: Rate) -> Result<(i64, i64), sqlx::Error> {
        sqlx::query_as(sql::TAKE_WITHOUT_FLUSH)
            .bind(bucket)
            .bind(now)
            .bind(rate.interval)
            .bind(rate.tolerance)
            .fetch_one(&self.writer)
            .await
    }

    /// Gives one use back, as [`take`](Self::take) charges it: one round trip, no flush wait.
    async fn give_back_bucket(&self, bucket: &str, rate: Rate) -> Result<(), sqlx::Error> {
        sqlx::query(sql::GIVE_BACK_WITHOUT_FLUSH)
            .bind(bucket)
            .bind(rate.interval)
            .execute(&self.writer)
            .await
            .map(drop)
    }

    /// A transaction; PostgreSQL's row locks order the writers, so no turn is taken here.
    async fn begin_write(
        &self,
    ) -> Result<((), sqlx::Transaction<'static, sqlx::Postgres>), sqlx::Error> {
        Ok(((), self.writer.begin().await?))
    }
}

impl PostgresGuestStore {
    /// A guest session read, always from the database: another server may have upgraded the
    /// guest a moment ago.
    async fn check_active_here(&self, id: &str) -> Result<bool, GuestError> {
        read_active(self, id).await
    }

    /// Nothing is remembered between requests.
    fn forget_guest(&self, _id: &str) {}

    /// Nothing is remembered between requests.
    fn forget_all_guests(&self) {}

    /// Creations run statement by statement on the pool (each server has its own pool, and
    /// PostgreSQL commits concurrent transactions together anyway).
    #[allow(clippy::unused_async)]
    async fn create_batched(
        &self,
        _request: &CreateGuest<'_>,
    ) -> Option<Result<Created, GuestError>> {
        None
    }
}

sql_guest_store!(PostgresGuestStore, GuestTx::Postgres);
