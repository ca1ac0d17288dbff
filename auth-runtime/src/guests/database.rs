//! Choosing the store from a URL, as sqlx does with `DATABASE_URL`: PostgreSQL for a
//! `postgres://` URL, an SQLite file otherwise. The application gets the store and its pool
//! (for its own tables in the same database).

use std::sync::Arc;

#[cfg(feature = "postgres")]
use super::PostgresGuestStore;
use super::{GuestError, GuestStore, SqliteGuestStore};

/// The guest store an application runs on, and its database: [`SqliteGuestStore`] or
/// [`PostgresGuestStore`], chosen at run time by [`GuestDatabase::from_env`].
///
/// ```
/// # tokio_test_block_on(async {
/// use auth_runtime::guests::{CreateGuest, GuestDatabase};
///
/// let dir = std::env::temp_dir().join(format!("guest-db-doc-{}", std::process::id()));
/// let file = dir.join("app.db");
/// // `postgres://user@host/db` would connect to PostgreSQL instead.
/// let db = GuestDatabase::open(file.to_str().unwrap()).await.unwrap();
/// assert!(matches!(db, GuestDatabase::Sqlite(_)));
/// let guest = db.store().create(CreateGuest::server_side()).await.unwrap().guest;
/// assert!(db.store().touch(&guest.id).await.unwrap());
/// db.close().await;
/// # std::fs::remove_dir_all(dir).unwrap();
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum GuestDatabase {
    /// An SQLite file: one app server.
    Sqlite(Arc<SqliteGuestStore>),
    /// PostgreSQL (feature `postgres`): any number of app servers.
    #[cfg(feature = "postgres")]
    Postgres(Arc<PostgresGuestStore>),
}

impl GuestDatabase {
    /// Opens the store `DATABASE_URL` names, or the SQLite file `default_file` when it is unset.
    /// See [`GuestDatabase::open`].
    pub async fn from_env(default_file: &str) -> Result<Self, GuestError> {
        match std::env::var("DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => GuestDatabase::open(url.trim()).await,
            _ => GuestDatabase::open(default_file).await,
        }
    }

    /// Opens the store at `location`: a `postgres://` or `postgresql://` URL connects to
    /// PostgreSQL ([`PostgresGuestStore::connect`]); `sqlite://path`, `sqlite:path` or a plain
    /// path opens that SQLite file ([`SqliteGuestStore::open`]). Limits come from the
    /// environment (`AUTH_GUEST_*`).
    pub async fn open(location: &str) -> Result<Self, GuestError> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            return GuestDatabase::connect_postgres(location).await;
        }
        let path = location
            .strip_prefix("sqlite://")
            .or_else(|| location.strip_prefix("sqlite:"))
            .unwrap_or(location);
        let path = path.split_once('?').map_or(path, |(path, _)| path);
        Ok(GuestDatabase::Sqlite(Arc::new(
            SqliteGuestStore::open(path).await?,
        )))
    }

    #[cfg(feature = "postgres")]
    async fn connect_postgres(url: &str) -> Result<Self, GuestError> {
        Ok(GuestDatabase::Postgres(Arc::new(
            PostgresGuestStore::connect(url).await?,
        )))
    }

    #[cfg(not(feature = "postgres"))]
    async fn connect_postgres(_url: &str) -> Result<Self, GuestError> {
        Err(GuestError::Database(sqlx::Error::Configuration(
            "a postgres:// URL needs auth-runtime's `postgres` feature".into(),
        )))
    }

    /// The store, for `AuthBuilder::guests` and for cleanup.
    pub fn store(&self) -> Arc<dyn GuestStore> {
        match self {
            GuestDatabase::Sqlite(store) => store.clone(),
            #[cfg(feature = "postgres")]
            GuestDatabase::Postgres(store) => store.clone(),
        }
    }

    /// The adapter on the same database (users, accounts, database sessions, e-mail tokens),
    /// for [`AuthBuilder::adapter`](crate::AuthBuilder::adapter) when the guest store is not
    /// given to the engine itself.
    pub fn adapter(&self) -> Arc<dyn crate::adapter::Adapter> {
        self.store()
            .adapter()
            .expect("the SQLite and PostgreSQL guest stores have an adapter")
    }

    /// Closes the store once the server has stopped (see [`GuestStore::close`]).
    pub async fn close(&self) {
        match self {
            GuestDatabase::Sqlite(store) => store.close().await,
            #[cfg(feature = "postgres")]
            GuestDatabase::Postgres(store) => store.close().await,
        }
    }
}

impl From<SqliteGuestStore> for GuestDatabase {
    fn from(store: SqliteGuestStore) -> Self {
        GuestDatabase::Sqlite(Arc::new(store))
    }
}

impl From<Arc<SqliteGuestStore>> for GuestDatabase {
    fn from(store: Arc<SqliteGuestStore>) -> Self {
        GuestDatabase::Sqlite(store)
    }
}

#[cfg(feature = "postgres")]
impl From<PostgresGuestStore> for GuestDatabase {
    fn from(store: PostgresGuestStore) -> Self {
        GuestDatabase::Postgres(Arc::new(store))
    }
}

#[cfg(feature = "postgres")]
impl From<Arc<PostgresGuestStore>> for GuestDatabase {
    fn from(store: Arc<PostgresGuestStore>) -> Self {
        GuestDatabase::Postgres(store)
    }
}
