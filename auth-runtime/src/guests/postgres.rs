//! The shared store: PostgreSQL, for several app servers on one database.

use std::time::Duration;

use sqlx::Connection;

use super::store::{GuestDialect, SqlGuestStore, migrate};
use super::{CreateGuest, Created, GuestConfig, GuestError, GuestTx, read_active, sql};

/// Guests in PostgreSQL (feature `postgres`), shared by every app server: the limits, the
/// one-upgrade-per-guest rule and cleanup hold across all of them. The [`SqlGuestStore`] on
/// PostgreSQL.
pub type PostgresGuestStore = SqlGuestStore<sqlx::Postgres>;

impl PostgresGuestStore {
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
        // Several servers may start at once: the migrations run under a lock.
        migrate(&pool).await?;
        Ok(SqlGuestStore::from_parts(pool.clone(), pool, (), config))
    }
}

impl GuestDialect for sqlx::Postgres {
    type Local = ();
    type WriteTurn = ();
    /// Every creation updates the one `global` bucket row, so its row lock must be short: the
    /// bucket update commits without waiting for the WAL flush (a crash may forget the last few
    /// charges, which only errs towards allowing), in one round trip. Guests themselves are
    /// committed durably.
    const TAKE: &'static str = sql::TAKE_WITHOUT_FLUSH;
    const GIVE_BACK: &'static str = sql::GIVE_BACK_WITHOUT_FLUSH;
    /// Several servers share one database: the password attempt limits count in it.
    const SHARES_ATTEMPT_BUCKETS: bool = true;

    /// A transaction; PostgreSQL's row locks order the writers, so no turn is taken here.
    async fn begin_write(
        store: &PostgresGuestStore,
    ) -> Result<((), sqlx::Transaction<'static, sqlx::Postgres>), sqlx::Error> {
        Ok(((), store.writer.begin().await?))
    }

    /// Always from the database: another server may have upgraded the guest a moment ago.
    async fn check_active(store: &PostgresGuestStore, id: &str) -> Result<bool, GuestError> {
        read_active(store, id).await
    }

    /// Creations run statement by statement on the pool (each server has its own pool, and
    /// PostgreSQL commits concurrent transactions together anyway).
    async fn create_batched(
        _store: &PostgresGuestStore,
        _request: &CreateGuest<'_>,
    ) -> Option<Result<Created, GuestError>> {
        None
    }

    /// Nothing is remembered between requests.
    fn forget(_local: &(), _id: Option<&str>) {}

    fn hook_tx<'a>(tx: &'a mut sqlx::Transaction<'static, sqlx::Postgres>) -> GuestTx<'a> {
        GuestTx::Postgres(tx)
    }

    async fn stop(_local: &()) {}
}
