//! Sign-out everywhere: a per-user session version, carried in the token at sign-in and checked
//! on every session read when a store is configured.
//!
//! A JWT session is stateless: once issued, it is valid until it expires. To end every session
//! of one user at once (a stolen laptop, a password change), the token carries the version of
//! its user's sessions at sign-in (the `sv` claim), and a session read compares it with the
//! store: [`SessionVersions::bump`] makes every token minted before it invalid. Without a
//! store (the default) nothing is checked and no request pays for it.
//!
//! Stores: [`SqliteSessionVersions`] (feature `sqlite`) and
//! [`PostgresSessionVersions`] (feature `postgres`), or any type
//! implementing the trait.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

/// The version of one user's sessions a token was minted under: the token's `sv` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionVersion {
    /// The user id the sign-in produced (`User::id`; for guests, the guest id).
    pub uid: String,
    /// The user's session version at sign-in.
    pub v: u64,
}

/// A boxed future, so that [`SessionVersions`] can be used as a trait object.
pub type VersionFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, SessionVersionError>> + Send + 'a>>;

/// Where the current session version of each user is kept.
///
/// A user never seen has version 0. Implementations must be safe to share between app servers
/// (the version lives in the database, never only in memory).
pub trait SessionVersions: Send + Sync + 'static {
    /// The current version of `user_id`'s sessions (0 when the user has none recorded).
    fn current<'a>(&'a self, user_id: &'a str) -> VersionFuture<'a, u64>;
    /// Ends every session of `user_id`: increments the version and returns the new one.
    fn bump<'a>(&'a self, user_id: &'a str) -> VersionFuture<'a, u64>;
}

/// A store could not answer.
#[derive(Debug, thiserror::Error)]
#[error("session version store failed: {0}")]
pub struct SessionVersionError(#[source] pub Box<dyn std::error::Error + Send + Sync + 'static>);

#[cfg(feature = "sqlx-store")]
mod sql {
    //! One table, `auth_session_versions(user_id TEXT PRIMARY KEY, version BIGINT NOT NULL)`,
    //! the same SQL for SQLite (3.35+) and PostgreSQL.

    use super::SessionVersionError;

    pub(super) const CREATE: &str = "CREATE TABLE IF NOT EXISTS auth_session_versions (\
         user_id TEXT PRIMARY KEY NOT NULL, version BIGINT NOT NULL)";

    pub(super) fn error(e: sqlx::Error) -> SessionVersionError {
        SessionVersionError(Box::new(e))
    }

    pub(super) fn to_u64(version: i64) -> u64 {
        u64::try_from(version).unwrap_or(0)
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::{SessionVersions, VersionFuture, sql};

    /// Session versions in SQLite (feature `sqlite`).
    ///
    /// ```
    /// # tokio_test_block_on(async {
    /// use auth_runtime::{SessionVersions, SqliteSessionVersions};
    ///
    /// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    /// let versions = SqliteSessionVersions::new(pool).await.unwrap();
    /// assert_eq!(versions.current("u1").await.unwrap(), 0);
    /// assert_eq!(versions.bump("u1").await.unwrap(), 1);
    /// # });
    /// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
    /// # }
    /// ```
    #[derive(Debug, Clone)]
    pub struct SqliteSessionVersions {
        pool: sqlx::SqlitePool,
    }

    impl SqliteSessionVersions {
        /// Uses `pool`, creating the `auth_session_versions` table if it does not exist.
        pub async fn new(pool: sqlx::SqlitePool) -> Result<Self, super::SessionVersionError> {
            sqlx::query(sql::CREATE)
                .execute(&pool)
                .await
                .map_err(sql::error)?;
            Ok(SqliteSessionVersions { pool })
        }
    }

    impl SessionVersions for SqliteSessionVersions {
        fn current<'a>(&'a self, user_id: &'a str) -> VersionFuture<'a, u64> {
            Box::pin(async move {
                let row: Option<(i64,)> =
                    sqlx::query_as("SELECT version FROM auth_session_versions WHERE user_id = ?")
                        .bind(user_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(sql::error)?;
                Ok(row.map_or(0, |(v,)| sql::to_u64(v)))
            })
        }

        fn bump<'a>(&'a self, user_id: &'a str) -> VersionFuture<'a, u64> {
            Box::pin(async move {
                let (v,): (i64,) = sqlx::query_as(
                    "INSERT INTO auth_session_versions (user_id, version) VALUES (?, 1) \
                     ON CONFLICT (user_id) DO UPDATE SET version = auth_session_versions.version + 1 \
                     RETURNING version",
                )
                .bind(user_id)
                .fetch_one(&self.pool)
                .await
                .map_err(sql::error)?;
                Ok(sql::to_u64(v))
            })
        }
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::{SessionVersions, VersionFuture, sql};

    /// Session versions in PostgreSQL (feature `postgres`), shared by every app server.
    #[derive(Debug, Clone)]
    pub struct PostgresSessionVersions {
        pool: sqlx::PgPool,
    }

    impl PostgresSessionVersions {
        /// Uses `pool`, creating the `auth_session_versions` table if it does not exist.
        pub async fn new(pool: sqlx::PgPool) -> Result<Self, super::SessionVersionError> {
            sqlx::query(sql::CREATE)
                .execute(&pool)
                .await
                .map_err(sql::error)?;
            Ok(PostgresSessionVersions { pool })
        }
    }

    impl SessionVersions for PostgresSessionVersions {
        fn current<'a>(&'a self, user_id: &'a str) -> VersionFuture<'a, u64> {
            Box::pin(async move {
                let row: Option<(i64,)> =
                    sqlx::query_as("SELECT version FROM auth_session_versions WHERE user_id = $1")
                        .bind(user_id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(sql::error)?;
                Ok(row.map_or(0, |(v,)| sql::to_u64(v)))
            })
        }

        fn bump<'a>(&'a self, user_id: &'a str) -> VersionFuture<'a, u64> {
            Box::pin(async move {
                let (v,): (i64,) = sqlx::query_as(
                    "INSERT INTO auth_session_versions (user_id, version) VALUES ($1, 1) \
                     ON CONFLICT (user_id) DO UPDATE SET version = auth_session_versions.version + 1 \
                     RETURNING version",
                )
                .bind(user_id)
                .fetch_one(&self.pool)
                .await
                .map_err(sql::error)?;
                Ok(sql::to_u64(v))
            })
        }
    }
}

#[cfg(feature = "postgres")]
pub use postgres::PostgresSessionVersions;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteSessionVersions;
