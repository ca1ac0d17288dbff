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
    /// path opens that SQLite file ([`SqliteGuestStore::open`]). Any other `scheme://` is
    /// [`GuestError::UnknownDatabase`]. Limits come from the environment (`AUTH_GUEST_*`).
    pub async fn open(location: &str) -> Result<Self, GuestError> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            return GuestDatabase::connect_postgres(location).await;
        }
        if let Some(scheme) = url_scheme(location).filter(|s| !s.eq_ignore_ascii_case("sqlite")) {
            return Err(GuestError::UnknownDatabase {
                scheme: scheme.to_owned(),
            });
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

/// The scheme of a `scheme://…` URL (RFC 3986's letters, digits, `+`, `-`, `.`); `None` for
/// a path.
fn url_scheme(location: &str) -> Option<&str> {
    let (scheme, _) = location.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_and_known_schemes_are_databases() {
        assert_eq!(
            url_scheme("mysql://root@127.0.0.1:3306/test"),
            Some("mysql")
        );
        assert_eq!(url_scheme("redis://127.0.0.1"), Some("redis"));
        assert_eq!(url_scheme("sqlite://app.db"), Some("sqlite"));
        for path in [
            "app.db",
            "./data/app.db",
            "/var/lib/app.db",
            "sqlite:app.db",
            "a b://c",
        ] {
            assert_eq!(url_scheme(path), None, "{path}");
        }
        assert_eq!(url_scheme("://x"), None);
        assert_eq!(url_scheme("1x://x"), None);
    }

    #[tokio::test]
    async fn an_unknown_scheme_is_a_start_up_error_that_names_it() {
        let dir = std::env::temp_dir().join(format!("guest-db-scheme-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cwd = std::env::current_dir().unwrap();
        for url in [
            "mysql://root@127.0.0.1:3306/test",
            "MariaDB://x",
            "redis://127.0.0.1",
        ] {
            let error = GuestDatabase::open(url).await.unwrap_err();
            let scheme = url.split("://").next().unwrap();
            assert!(
                matches!(&error, GuestError::UnknownDatabase { scheme: s } if s == scheme),
                "{error:?}"
            );
            assert!(
                error.to_string().contains(&format!("{scheme}://")),
                "{error}"
            );
        }
        // Nothing was created for them: no folder named after the scheme.
        assert!(!cwd.join("mysql:").exists() && !cwd.join("redis:").exists());
        let file = dir.join("ok.db");
        let db = GuestDatabase::open(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        db.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }
}
