//! The adapter: where users, their sign-in accounts, their database sessions and e-mail
//! verification tokens are kept — Auth.js's adapter interface, for the database session
//! strategy (`strategy: "database"`, `AUTH_SESSION_STRATEGY=database`).
//!
//! [`SqlAdapter`] implements it on SQLite ([`SqliteAdapter`], feature `sqlite`) and PostgreSQL
//! ([`PostgresAdapter`], feature `postgres`) with the table and column names of Auth.js's own
//! SQL adapter (`users`, `accounts`, `sessions`, `verification_token`, `"userId"`,
//! `"sessionToken"`, `"providerAccountId"`), so a database that next-auth wrote is read as it is.
//!
//! # How this library uses the tables
//!
//! - **Every signed-in person is a `users` row**, found through an `accounts` row: an OAuth or
//!   OpenID Connect account, a Credentials user (type `credentials`, `providerAccountId` the id
//!   `authorize` returned) or a guest (type `anonymous`, `providerAccountId` the guest id). A
//!   guest is therefore a user row linked to an anonymous account; the guest store keeps the
//!   guest's own record (limits, upgrade, cleanup) in its tables of the same database.
//! - **A session row never holds the cookie's token**: `"sessionToken"` is `sha256:` and the
//!   SHA-256 of the token in hex, so a leaked table opens no session. A row that next-auth wrote
//!   holds the token itself; it is accepted once and rewritten hashed (see the session layer).
//! - **Columns of ours are added, never changed**: `created_at`, `last_seen_at`, `user_agent`
//!   (the device list), `claims` (the session's claims after the `jwt` callback, JSON),
//!   `guest_id` and `subject` (the claims' `sub`, for sign-out everywhere) on `sessions`;
//!   next-auth ignores them and they are `NULL` on its rows.
//! - **A guest's session rows end with the guest**: the guest store's upgrade and cleanup
//!   delete the rows whose `guest_id` is the guest's, in their own transactions, so a guest's
//!   session read is one statement, as a user's is.
//! - **One schema per database**: [`SqlAdapter::migrations`] holds the guest store's tables and
//!   the session versions too; every store on a database runs the same numbered migrations.
//!
//! Times are Unix seconds in this API; PostgreSQL stores `TIMESTAMPTZ` as Auth.js does.

mod schema;
mod sql;

pub use schema::Migration;
pub use sql::{Dialect, SqlAdapter};
#[cfg(feature = "passkey")]
pub(crate) use sql::{user_at, user_columns};

/// The adapter on SQLite (feature `sqlite`).
#[cfg(feature = "sqlite")]
pub type SqliteAdapter = SqlAdapter<sqlx::Sqlite>;

/// The adapter on PostgreSQL (feature `postgres`), in Auth.js's tables.
#[cfg(feature = "postgres")]
pub type PostgresAdapter = SqlAdapter<sqlx::Postgres>;

/// A `users` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterUser {
    /// The row id, as a string (Auth.js adapters' convention).
    pub id: String,
    /// The display name.
    pub name: Option<String>,
    /// The e-mail address.
    pub email: Option<String>,
    /// When the address was verified (an e-mail sign-in), Unix seconds.
    pub email_verified: Option<i64>,
    /// The picture URL.
    pub image: Option<String>,
}

/// The fields of a new or updated `users` row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFields {
    /// The display name.
    pub name: Option<String>,
    /// The e-mail address.
    pub email: Option<String>,
    /// When the address was verified, Unix seconds.
    pub email_verified: Option<i64>,
    /// The picture URL.
    pub image: Option<String>,
}

/// An `accounts` row: how a user signs in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdapterAccount {
    /// The user it belongs to.
    pub user_id: String,
    /// `oauth`, `oidc`, `email`, `credentials` or `anonymous`.
    pub kind: String,
    /// The provider id (`github`, `password`, `guest`, ...).
    pub provider: String,
    /// The user's id at the provider.
    pub provider_account_id: String,
    /// The provider's refresh token.
    pub refresh_token: Option<String>,
    /// The provider's access token.
    pub access_token: Option<String>,
    /// When the access token expires, Unix seconds.
    pub expires_at: Option<i64>,
    /// The OpenID Connect ID token.
    pub id_token: Option<String>,
    /// The granted scope.
    pub scope: Option<String>,
    /// The provider's session state.
    pub session_state: Option<String>,
    /// The access token's type (`bearer`).
    pub token_type: Option<String>,
}

/// A `sessions` row, as the device list shows it. The token is never read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The row id: what [`Adapter::delete_session_of`] takes.
    pub id: String,
    /// The user it belongs to.
    pub user_id: String,
    /// When it expires, Unix seconds.
    pub expires: i64,
    /// When it was created (`None` on rows next-auth wrote).
    pub created_at: Option<i64>,
    /// When it was last renewed: the session was used then (see `update_age`).
    pub last_seen_at: Option<i64>,
    /// The `User-Agent` of the sign-in.
    pub user_agent: Option<String>,
    /// The session's claims after the `jwt` callback, as JSON (`None` on next-auth's rows).
    pub claims: Option<String>,
    /// The guest whose session this is.
    pub guest_id: Option<String>,
    /// The session's subject (its claims' `sub`, the id the sign-in produced).
    pub subject: Option<String>,
}

/// A session to store: `key` is what the `"sessionToken"` column holds (a hash of the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The stored key.
    pub key: String,
    /// The user it belongs to.
    pub user_id: String,
    /// When it expires, Unix seconds.
    pub expires: i64,
    /// Now, Unix seconds.
    pub created_at: i64,
    /// The `User-Agent` of the sign-in.
    pub user_agent: Option<String>,
    /// The claims, as JSON.
    pub claims: Option<String>,
    /// The guest whose session this is.
    pub guest_id: Option<String>,
    /// The session's subject (its claims' `sub`).
    pub subject: Option<String>,
}

/// A session renewed by a read: its new expiry, the time of the read, and its claims when the
/// `jwt` callback changed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRenewal {
    /// The new expiry, Unix seconds.
    pub expires: i64,
    /// Now, Unix seconds.
    pub seen_at: i64,
    /// The new claims, as JSON; `None` keeps them.
    pub claims: Option<String>,
}

/// A `verification_token` row: `token` is what is stored (a hash of the mailed token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationToken {
    /// Whom it verifies (the e-mail address).
    pub identifier: String,
    /// The stored token.
    pub token: String,
    /// When it expires, Unix seconds.
    pub expires: i64,
}

/// Why the adapter could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// The database cannot be reached now (down, busy, full): try again later (503).
    #[error("the user database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// A row with the same unique key exists (an account already linked, a session key taken).
    #[error("a row with the same key exists: {0}")]
    Conflict(#[source] sqlx::Error),
    /// Any other database error.
    #[error("the user database failed: {0}")]
    Database(#[source] sqlx::Error),
    /// This adapter does not keep what was asked for.
    #[error("this adapter does not keep {0}")]
    Unsupported(&'static str),
    /// A stored value that this library cannot read.
    #[error("a stored {what} cannot be read: {detail}")]
    Corrupt {
        /// What was read.
        what: &'static str,
        /// Why it could not be.
        detail: String,
    },
}

impl From<sqlx::Error> for AdapterError {
    fn from(error: sqlx::Error) -> Self {
        if crate::sql_errors::is_unavailable(&error) {
            return AdapterError::Unavailable(error);
        }
        let unique = matches!(&error, sqlx::Error::Database(db)
            if db.kind() == sqlx::error::ErrorKind::UniqueViolation);
        match unique {
            true => AdapterError::Conflict(error),
            false => AdapterError::Database(error),
        }
    }
}

/// Where users, accounts, database sessions and verification tokens are kept: Auth.js's adapter
/// interface. [`SqlAdapter`] is the implementation for SQLite and PostgreSQL; another store
/// implements these methods.
///
/// Every id is the row id as a string; an id that no row has (or that is not a number, for the
/// SQL adapter) is simply not found.
#[async_trait::async_trait]
pub trait Adapter: Send + Sync + 'static {
    /// Creates a user.
    async fn create_user(&self, user: UserFields) -> Result<AdapterUser, AdapterError>;
    /// Creates a user and links `account` to it, both or neither. `account.user_id` is
    /// ignored. [`AdapterError::Conflict`] when the account is linked already.
    async fn create_user_with_account(
        &self,
        user: UserFields,
        account: AdapterAccount,
    ) -> Result<AdapterUser, AdapterError>;
    /// The user with this id.
    async fn get_user(&self, id: &str) -> Result<Option<AdapterUser>, AdapterError>;
    /// The user with this e-mail address (compared as stored).
    async fn get_user_by_email(&self, email: &str) -> Result<Option<AdapterUser>, AdapterError>;
    /// The user an account belongs to.
    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<AdapterUser>, AdapterError>;
    /// Replaces a user's fields; `None` when there is no such user.
    async fn update_user(
        &self,
        id: &str,
        fields: UserFields,
    ) -> Result<Option<AdapterUser>, AdapterError>;
    /// Deletes a user with their accounts and sessions; `false` when there was none.
    async fn delete_user(&self, id: &str) -> Result<bool, AdapterError>;
    /// Links an account to its user. [`AdapterError::Conflict`] when it is linked already.
    async fn link_account(&self, account: AdapterAccount) -> Result<(), AdapterError>;
    /// Unlinks an account; `false` when it was not linked.
    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<bool, AdapterError>;

    /// Stores a session.
    async fn create_session(&self, session: NewSession) -> Result<(), AdapterError>;
    /// The session stored under `key`, with its user: one round trip.
    async fn session_and_user(
        &self,
        key: &str,
    ) -> Result<Option<(StoredSession, AdapterUser)>, AdapterError>;
    /// Renews the session under `key`; `false` when it is gone.
    async fn renew_session(&self, key: &str, renewal: SessionRenewal)
    -> Result<bool, AdapterError>;
    /// Moves a session from `old_key` to `new_key` (a plain token rewritten hashed); `false` when
    /// no session is under `old_key`.
    async fn rekey_session(&self, old_key: &str, new_key: &str) -> Result<bool, AdapterError>;
    /// Deletes the session under `key`; `false` when there was none.
    async fn delete_session(&self, key: &str) -> Result<bool, AdapterError>;
    /// A user's unexpired sessions at `now`, newest first.
    async fn sessions_of(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<StoredSession>, AdapterError>;
    /// Deletes one of a user's sessions by its row id; `false` when the user has no such session.
    async fn delete_session_of(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<bool, AdapterError>;
    /// Deletes every session of a user but the one under `keep`; returns how many.
    async fn delete_sessions_of(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<u64, AdapterError>;
    /// Deletes every session whose subject is `subject` (sign-out everywhere); returns how many.
    async fn delete_sessions_of_subject(&self, subject: &str) -> Result<u64, AdapterError>;
    /// Deletes the sessions that expired before `now`; returns how many.
    async fn delete_expired_sessions(&self, now: i64) -> Result<u64, AdapterError>;

    /// Stores a verification token.
    async fn create_verification_token(&self, token: VerificationToken)
    -> Result<(), AdapterError>;
    /// Takes a verification token: deletes it and returns it, so it works once. `None` when
    /// there is no such token (used already, or never issued).
    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, AdapterError>;

    /// Brings the store's schema up to date (the SQL adapter also does it at its first use).
    async fn migrate(&self) -> Result<(), AdapterError> {
        Ok(())
    }

    /// The session version of `subject` (sign-out everywhere for token sessions; see
    /// [`SessionVersions`](crate::SessionVersions)): 0 when none is recorded.
    async fn session_version(&self, subject: &str) -> Result<u64, AdapterError> {
        let _ = subject;
        Err(AdapterError::Unsupported("session versions"))
    }

    /// Increments the session version of `subject`; returns the new one.
    async fn bump_session_version(&self, subject: &str) -> Result<u64, AdapterError> {
        let _ = subject;
        Err(AdapterError::Unsupported("session versions"))
    }

    /// Whether a guest's session rows end with the guest: upgrading or removing a guest deletes
    /// its rows in the same transaction (the adapter the guest store made on its own database,
    /// [`GuestStore::adapter`](crate::guests::GuestStore::adapter)). Then a guest session's read
    /// is its row alone; otherwise (`false`, the default) it also asks the guest store.
    fn ends_guest_sessions(&self) -> bool {
        false
    }

    /// Closes the connections (after the server stopped).
    async fn close(&self) {}

    /// The concrete store, for the roles it plays beside this one (the passkeys' authenticators
    /// on the SQL adapter). `None` (the default): a store of this trait alone.
    #[doc(hidden)]
    fn as_any(&self) -> Option<&(dyn std::any::Any + Send + Sync)> {
        None
    }
}
