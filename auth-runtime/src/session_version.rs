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
    use crate::adapter::{Adapter, Dialect, SqlAdapter};

    use super::{SessionVersionError, SessionVersions, VersionFuture};

    /// Session versions in the adapter's database: one table, `auth_session_versions`, one
    /// migration set with the adapter's ([`SqliteSessionVersions`](super::SqliteSessionVersions),
    /// feature `sqlite`; [`PostgresSessionVersions`](super::PostgresSessionVersions), feature
    /// `postgres`, shared by every app server).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use auth_runtime::{SessionVersions, SqliteSessionVersions};
    ///
    /// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    /// let versions = SqliteSessionVersions::new(pool).await.unwrap();
    /// assert_eq!(versions.current("u1").await.unwrap(), 0);
    /// assert_eq!(versions.bump("u1").await.unwrap(), 1);
    /// # });
    /// ```
    #[derive(Debug, Clone)]
    pub struct SqlSessionVersions<DB: Dialect> {
        adapter: SqlAdapter<DB>,
    }

    impl<DB: Dialect> SqlSessionVersions<DB> {
        /// Uses `pool`, bringing the adapter's schema (which has the versions table) up to date.
        pub async fn new(pool: sqlx::Pool<DB>) -> Result<Self, SessionVersionError> {
            let adapter = SqlAdapter::lazy(pool);
            adapter.migrate().await.map_err(error)?;
            Ok(SqlSessionVersions { adapter })
        }
    }

    impl<DB: Dialect> SessionVersions for SqlSessionVersions<DB> {
        fn current<'a>(&'a self, user_id: &'a str) -> VersionFuture<'a, u64> {
            Box::pin(async move { self.adapter.session_version(user_id).await.map_err(error) })
        }

        fn bump<'a>(&'a self, user_id: &'a str) -> VersionFuture<'a, u64> {
            Box::pin(async move {
                self.adapter
                    .bump_session_version(user_id)
                    .await
                    .map_err(error)
            })
        }
    }

    fn error(e: crate::adapter::AdapterError) -> SessionVersionError {
        SessionVersionError(Box::new(e))
    }
}

#[cfg(feature = "sqlx-store")]
pub use sql::SqlSessionVersions;

/// Session versions in SQLite (feature `sqlite`).
#[cfg(feature = "sqlite")]
pub type SqliteSessionVersions = SqlSessionVersions<sqlx::Sqlite>;

/// Session versions in PostgreSQL (feature `postgres`), shared by every app server.
#[cfg(feature = "postgres")]
pub type PostgresSessionVersions = SqlSessionVersions<sqlx::Postgres>;
