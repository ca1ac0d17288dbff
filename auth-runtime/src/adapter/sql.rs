//! The adapter on sqlx, written once for SQLite and PostgreSQL: the statements are the same
//! text on both (`$n` parameters, which SQLite reads as numbered ones), except where a
//! timestamp column is read or written, which [`Dialect`] spells for each database.

use std::sync::Arc;

use sqlx::{AssertSqlSafe, Database, Pool};

use crate::sql_driver::{Driver, Statement, column, statement};

use super::schema::{Migration, RECORD_TABLE};
use super::{
    Adapter, AdapterAccount, AdapterError, AdapterUser, NewSession, SessionRenewal, StoredSession,
    UserFields, VerificationToken,
};

mod sealed {
    pub trait Sealed {}
    #[cfg(feature = "sqlite")]
    impl Sealed for sqlx::Sqlite {}
    #[cfg(feature = "postgres")]
    impl Sealed for sqlx::Postgres {}
}

/// What differs between the databases [`SqlAdapter`] runs on: the schema, and how a timestamp
/// column is read and written. Implemented for `sqlx::Sqlite` and `sqlx::Postgres`; sealed.
pub trait Dialect: Database + sealed::Sealed + Driver {
    /// The schema's migrations, in order.
    const MIGRATIONS: &'static [Migration];
    /// A statement that serialises concurrent migrations (several servers starting at once).
    #[doc(hidden)]
    const MIGRATION_LOCK: Option<&'static str>;
    /// An expression reading the timestamp `column` as Unix seconds (`BIGINT`).
    #[doc(hidden)]
    fn seconds(column: &str) -> String;
    /// An expression writing the Unix seconds of parameter `param` to a timestamp column.
    #[doc(hidden)]
    fn timestamp(param: &str) -> String;
}

#[cfg(feature = "sqlite")]
impl Dialect for sqlx::Sqlite {
    const MIGRATIONS: &'static [Migration] = super::schema::SQLITE;
    const MIGRATION_LOCK: Option<&'static str> = None;
    fn seconds(column: &str) -> String {
        column.to_owned()
    }
    fn timestamp(param: &str) -> String {
        param.to_owned()
    }
}

#[cfg(feature = "postgres")]
impl Dialect for sqlx::Postgres {
    const MIGRATIONS: &'static [Migration] = super::schema::POSTGRES;
    // Any constant of ours; the lock ends with the migration's transaction.
    const MIGRATION_LOCK: Option<&'static str> = Some("SELECT pg_advisory_xact_lock(7202631455)");
    fn seconds(column: &str) -> String {
        format!("CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)")
    }
    fn timestamp(param: &str) -> String {
        format!("to_timestamp({param})")
    }
}

/// Users, accounts, database sessions and verification tokens in an SQLite or PostgreSQL
/// database, on the application's pool ([`SqliteAdapter`](super::SqliteAdapter),
/// [`PostgresAdapter`](super::PostgresAdapter)). [`SqlAdapter::new`] brings the schema up to
/// date.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use auth_runtime::adapter::{Adapter, SqliteAdapter, UserFields};
///
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
/// let adapter = SqliteAdapter::new(pool).await.unwrap();
/// let email = Some("ada@example.com".to_owned());
/// let ada = adapter.create_user(UserFields { email, ..UserFields::default() }).await.unwrap();
/// let found = adapter.get_user_by_email("ada@example.com").await.unwrap();
/// assert_eq!(found, Some(ada));
/// # });
/// ```
pub struct SqlAdapter<DB: Dialect> {
    pool: Pool<DB>,
    /// Where session reads go: `pool`, or read-only connections beside it.
    reader: Pool<DB>,
    sql: Arc<Statements>,
    /// Set once the schema is up to date ([`SqlAdapter::lazy`] migrates on first use).
    migrated: Arc<tokio::sync::OnceCell<()>>,
    /// Made by a guest store on its own database (see [`Adapter::ends_guest_sessions`]).
    ends_guest_sessions: bool,
}

impl<DB: Dialect> Clone for SqlAdapter<DB> {
    fn clone(&self) -> Self {
        SqlAdapter {
            pool: self.pool.clone(),
            reader: self.reader.clone(),
            sql: self.sql.clone(),
            migrated: self.migrated.clone(),
            ends_guest_sessions: self.ends_guest_sessions,
        }
    }
}

impl<DB: Dialect> std::fmt::Debug for SqlAdapter<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlAdapter")
            .field("database", &DB::NAME)
            .finish_non_exhaustive()
    }
}

/// Every statement, spelled for one database once when the adapter is made.
struct Statements {
    insert_user: Arc<str>,
    user_by_id: Arc<str>,
    user_by_email: Arc<str>,
    user_by_account: Arc<str>,
    update_user: Arc<str>,
    insert_account: Arc<str>,
    insert_session: Arc<str>,
    session_and_user: Arc<str>,
    renew_session: Arc<str>,
    sessions_of: Arc<str>,
    delete_expired: Arc<str>,
    insert_verification: Arc<str>,
    use_verification: Arc<str>,
}

const DELETE_USER_SESSIONS: &str = "DELETE FROM sessions WHERE \"userId\" = $1";
const DELETE_USER_ACCOUNTS: &str = "DELETE FROM accounts WHERE \"userId\" = $1";
const DELETE_USER: &str = "DELETE FROM users WHERE id = $1";
const DELETE_ACCOUNT: &str =
    "DELETE FROM accounts WHERE provider = $1 AND \"providerAccountId\" = $2";
const REKEY_SESSION: &str = "UPDATE sessions SET \"sessionToken\" = $2 WHERE \"sessionToken\" = $1";
const DELETE_SESSION: &str = "DELETE FROM sessions WHERE \"sessionToken\" = $1";
const DELETE_SESSION_OF: &str = "DELETE FROM sessions WHERE \"userId\" = $1 AND id = $2";
const DELETE_SESSIONS_OF: &str =
    "DELETE FROM sessions WHERE \"userId\" = $1 AND ($2 IS NULL OR \"sessionToken\" <> $2)";
const DELETE_SESSIONS_OF_SUBJECT: &str = "DELETE FROM sessions WHERE subject = $1";
const SESSION_VERSION: &str = "SELECT version FROM auth_session_versions WHERE user_id = $1";
const BUMP_SESSION_VERSION: &str = "INSERT INTO auth_session_versions (user_id, version) \
     VALUES ($1, 1) ON CONFLICT (user_id) DO UPDATE \
     SET version = auth_session_versions.version + 1 RETURNING version";
const LAST_MIGRATION: &str = "SELECT MAX(version) FROM auth_schema_migrations";
const RECORD_MIGRATION: &str = "INSERT INTO auth_schema_migrations \
     (version, description, applied_at) VALUES ($1, $2, $3)";

impl Statements {
    fn new<DB: Dialect>() -> Self {
        let user = user_columns::<DB>;
        let session = format!(
            "CAST(s.id AS BIGINT), CAST(s.\"userId\" AS BIGINT), {}, s.created_at, \
             s.last_seen_at, s.user_agent, s.claims, s.guest_id, s.subject",
            DB::seconds("s.expires")
        );
        let ts = DB::timestamp;
        let text = |s: String| Arc::<str>::from(s);
        Statements {
            insert_user: text(format!(
                "INSERT INTO users (name, email, \"emailVerified\", image) \
                 VALUES ($1, $2, {}, $3) RETURNING CAST(id AS BIGINT)",
                ts("$4")
            )),
            user_by_id: text(format!(
                "SELECT {} FROM users u WHERE u.id = $1",
                user("u.")
            )),
            user_by_email: text(format!(
                "SELECT {} FROM users u WHERE u.email = $1 ORDER BY u.id LIMIT 1",
                user("u.")
            )),
            user_by_account: text(format!(
                "SELECT {} FROM users u JOIN accounts a ON a.\"userId\" = u.id \
                 WHERE a.provider = $1 AND a.\"providerAccountId\" = $2",
                user("u.")
            )),
            update_user: text(format!(
                "UPDATE users SET name = $2, email = $3, \"emailVerified\" = {}, image = $5 \
                 WHERE id = $1 RETURNING {}",
                ts("$4"),
                user("")
            )),
            insert_account: text(
                "INSERT INTO accounts (\"userId\", type, provider, \"providerAccountId\", \
                 refresh_token, access_token, expires_at, id_token, scope, session_state, \
                 token_type) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                    .to_owned(),
            ),
            insert_session: text(format!(
                "INSERT INTO sessions (\"userId\", expires, \"sessionToken\", created_at, \
                 last_seen_at, user_agent, claims, guest_id, subject) \
                 VALUES ($1, {}, $3, $4, $4, $5, $6, $7, $8)",
                ts("$2")
            )),
            session_and_user: text(format!(
                "SELECT {session}, {} FROM sessions s JOIN users u ON u.id = s.\"userId\" \
                 WHERE s.\"sessionToken\" = $1",
                user("u.")
            )),
            renew_session: text(format!(
                "UPDATE sessions SET expires = {}, last_seen_at = $3, \
                 claims = COALESCE($4, claims) WHERE \"sessionToken\" = $1",
                ts("$2")
            )),
            sessions_of: text(format!(
                "SELECT {session} FROM sessions s WHERE s.\"userId\" = $1 AND s.expires > {} \
                 ORDER BY s.id DESC",
                ts("$2")
            )),
            delete_expired: text(format!("DELETE FROM sessions WHERE expires < {}", ts("$1"))),
            insert_verification: text(format!(
                "INSERT INTO verification_token (identifier, expires, token) \
                 VALUES ($1, {}, $3)",
                ts("$2")
            )),
            use_verification: text(format!(
                "DELETE FROM verification_token WHERE identifier = $1 AND token = $2 \
                 RETURNING identifier, token, {}",
                DB::seconds("expires")
            )),
        }
    }
}

/// A row id from its string form; `None` for anything that no row can have.
fn row_id(id: &str) -> Option<i64> {
    id.parse().ok().filter(|id| *id > 0)
}

impl<DB: Dialect> SqlAdapter<DB> {
    /// An adapter on `pool`, after bringing the schema up to date (each migration once, in a
    /// transaction; on PostgreSQL under a lock, so servers starting together do not race).
    pub async fn new(pool: Pool<DB>) -> Result<Self, AdapterError> {
        let adapter = SqlAdapter::lazy(pool);
        adapter.migrate().await?;
        Ok(adapter)
    }

    /// An adapter on `pool` that brings the schema up to date at its first use, for code that
    /// cannot wait here (a synchronous constructor).
    pub fn lazy(pool: Pool<DB>) -> Self {
        SqlAdapter {
            reader: pool.clone(),
            pool,
            sql: Arc::new(Statements::new::<DB>()),
            migrated: Arc::new(tokio::sync::OnceCell::new()),
            ends_guest_sessions: false,
        }
    }

    /// Marks the adapter as the guest store's own: its upgrades and cleanup delete guests'
    /// session rows.
    #[cfg(feature = "guests")]
    pub(crate) fn ending_guest_sessions(mut self) -> Self {
        self.ends_guest_sessions = true;
        self
    }

    /// Sends session reads ([`Adapter::session_and_user`], the one statement of a session read)
    /// to `reader`: read-only connections on the same database, so that reads do not queue
    /// behind writes (SQLite has one writer).
    pub fn with_reader(mut self, reader: Pool<DB>) -> Self {
        self.reader = reader;
        self
    }

    /// The schema's migrations, to run or export by hand ([`Migration::script`]).
    pub fn migrations() -> &'static [Migration] {
        DB::MIGRATIONS
    }

    /// The pool the adapter runs on.
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }
}

/// Applies the migrations `pool`'s database has not had yet.
async fn migrate<DB: Dialect>(pool: &Pool<DB>) -> Result<(), AdapterError> {
    let mut tx = pool.begin().await?;
    if let Some(lock) = DB::MIGRATION_LOCK {
        statement::<DB>(lock).execute(&mut *tx).await?;
    }
    statement::<DB>(RECORD_TABLE).execute(&mut *tx).await?;
    let applied: Option<i64> = statement::<DB>(LAST_MIGRATION)
        .fetch_value(&mut *tx)
        .await?;
    for migration in DB::MIGRATIONS
        .iter()
        .filter(|m| m.version > applied.unwrap_or(0))
    {
        for sql_text in migration.statements {
            statement::<DB>(*sql_text).execute(&mut *tx).await?;
        }
        statement::<DB>(RECORD_MIGRATION)
            .bind(migration.version)
            .bind(migration.description)
            .bind(crate::clock::now())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Reads the user columns starting at `at` (id, name, email, emailVerified, image).
/// The columns [`user_at`] reads, of the users table aliased `prefix` (`"u."`, or `""`).
pub(crate) fn user_columns<DB: Dialect>(prefix: &str) -> String {
    format!(
        "CAST({prefix}id AS BIGINT), {prefix}name, {prefix}email, {}, {prefix}image",
        DB::seconds(&format!("{prefix}\"emailVerified\""))
    )
}

/// A user from the five columns of [`user_columns`] from `at` on.
pub(crate) fn user_at<DB: Driver>(row: &DB::Row, at: usize) -> Result<AdapterUser, sqlx::Error> {
    Ok(AdapterUser {
        id: column::<DB, i64>(row, at)?.to_string(),
        name: column::<DB, _>(row, at + 1)?,
        email: column::<DB, _>(row, at + 2)?,
        email_verified: column::<DB, _>(row, at + 3)?,
        image: column::<DB, _>(row, at + 4)?,
    })
}

/// Reads the session columns at the start of a row.
fn session_at<DB: Driver>(row: &DB::Row) -> Result<StoredSession, sqlx::Error> {
    Ok(StoredSession {
        id: column::<DB, i64>(row, 0)?.to_string(),
        user_id: column::<DB, i64>(row, 1)?.to_string(),
        expires: column::<DB, _>(row, 2)?,
        created_at: column::<DB, _>(row, 3)?,
        last_seen_at: column::<DB, _>(row, 4)?,
        user_agent: column::<DB, _>(row, 5)?,
        claims: column::<DB, _>(row, 6)?,
        guest_id: column::<DB, _>(row, 7)?,
        subject: column::<DB, _>(row, 8)?,
    })
}

/// The number of columns [`session_at`] reads.
const SESSION_COLUMNS: usize = 9;

#[async_trait::async_trait]
impl<DB: Dialect> Adapter for SqlAdapter<DB> {
    async fn create_user(&self, user: UserFields) -> Result<AdapterUser, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool.acquire().await?;
        let id: i64 = statement::<DB>(AssertSqlSafe(self.sql.insert_user.clone()))
            .bind(user.name.as_deref())
            .bind(user.email.as_deref())
            .bind(user.image.as_deref())
            .bind(user.email_verified)
            .fetch_value(&mut *conn)
            .await?;
        Ok(with_id(id, user))
    }

    async fn create_user_with_account(
        &self,
        user: UserFields,
        account: AdapterAccount,
    ) -> Result<AdapterUser, AdapterError> {
        self.migrate().await?;
        let mut tx = self.pool.begin().await?;
        let id: i64 = statement::<DB>(AssertSqlSafe(self.sql.insert_user.clone()))
            .bind(user.name.as_deref())
            .bind(user.email.as_deref())
            .bind(user.image.as_deref())
            .bind(user.email_verified)
            .fetch_value(&mut *tx)
            .await?;
        self.bind_account(id, &account).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(with_id(id, user))
    }

    async fn get_user(&self, id: &str) -> Result<Option<AdapterUser>, AdapterError> {
        self.migrate().await?;
        let Some(id) = row_id(id) else {
            return Ok(None);
        };
        let mut conn = self.pool.acquire().await?;
        let row = statement::<DB>(AssertSqlSafe(self.sql.user_by_id.clone()))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(row.map(|row| user_at::<DB>(&row, 0)).transpose()?)
    }

    async fn get_user_by_email(&self, email: &str) -> Result<Option<AdapterUser>, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool.acquire().await?;
        let row = statement::<DB>(AssertSqlSafe(self.sql.user_by_email.clone()))
            .bind(email)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(row.map(|row| user_at::<DB>(&row, 0)).transpose()?)
    }

    async fn get_user_by_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<Option<AdapterUser>, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool.acquire().await?;
        let row = statement::<DB>(AssertSqlSafe(self.sql.user_by_account.clone()))
            .bind(provider)
            .bind(provider_account_id)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(row.map(|row| user_at::<DB>(&row, 0)).transpose()?)
    }

    async fn update_user(
        &self,
        id: &str,
        fields: UserFields,
    ) -> Result<Option<AdapterUser>, AdapterError> {
        self.migrate().await?;
        let Some(id) = row_id(id) else {
            return Ok(None);
        };
        let mut conn = self.pool.acquire().await?;
        let row = statement::<DB>(AssertSqlSafe(self.sql.update_user.clone()))
            .bind(id)
            .bind(fields.name.as_deref())
            .bind(fields.email.as_deref())
            .bind(fields.email_verified)
            .bind(fields.image.as_deref())
            .fetch_optional(&mut *conn)
            .await?;
        Ok(row.map(|row| user_at::<DB>(&row, 0)).transpose()?)
    }

    async fn delete_user(&self, id: &str) -> Result<bool, AdapterError> {
        self.migrate().await?;
        let Some(id) = row_id(id) else {
            return Ok(false);
        };
        let mut tx = self.pool.begin().await?;
        for sql_text in [DELETE_USER_SESSIONS, DELETE_USER_ACCOUNTS] {
            statement::<DB>(sql_text).bind(id).execute(&mut *tx).await?;
        }
        let deleted = statement::<DB>(DELETE_USER)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(deleted > 0)
    }

    async fn link_account(&self, account: AdapterAccount) -> Result<(), AdapterError> {
        self.migrate().await?;
        let Some(user_id) = row_id(&account.user_id) else {
            return Err(AdapterError::Corrupt {
                what: "account's user id",
                detail: format!("{:?} is not a row id", account.user_id),
            });
        };
        let mut conn = self.pool.acquire().await?;
        self.bind_account(user_id, &account)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn unlink_account(
        &self,
        provider: &str,
        provider_account_id: &str,
    ) -> Result<bool, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool.acquire().await?;
        let done = statement::<DB>(DELETE_ACCOUNT)
            .bind(provider)
            .bind(provider_account_id)
            .execute(&mut *conn)
            .await?;
        Ok(done > 0)
    }

    async fn create_session(&self, session: NewSession) -> Result<(), AdapterError> {
        self.migrate().await?;
        let Some(user_id) = row_id(&session.user_id) else {
            return Err(AdapterError::Corrupt {
                what: "session's user id",
                detail: format!("{:?} is not a row id", session.user_id),
            });
        };
        let mut conn = self.pool.acquire().await?;
        statement::<DB>(AssertSqlSafe(self.sql.insert_session.clone()))
            .bind(user_id)
            .bind(session.expires)
            .bind(session.key.as_str())
            .bind(session.created_at)
            .bind(session.user_agent.as_deref())
            .bind(session.claims.as_deref())
            .bind(session.guest_id.as_deref())
            .bind(session.subject.as_deref())
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn session_and_user(
        &self,
        key: &str,
    ) -> Result<Option<(StoredSession, AdapterUser)>, AdapterError> {
        self.migrate().await?;
        let mut conn = self.reader.acquire().await?;
        let row = statement::<DB>(AssertSqlSafe(self.sql.session_and_user.clone()))
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some((
            session_at::<DB>(&row)?,
            user_at::<DB>(&row, SESSION_COLUMNS)?,
        )))
    }

    async fn renew_session(
        &self,
        key: &str,
        renewal: SessionRenewal,
    ) -> Result<bool, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool.acquire().await?;
        let done = statement::<DB>(AssertSqlSafe(self.sql.renew_session.clone()))
            .bind(key)
            .bind(renewal.expires)
            .bind(renewal.seen_at)
            .bind(renewal.claims.as_deref())
            .execute(&mut *conn)
            .await?;
        Ok(done > 0)
    }

    async fn rekey_session(&self, old_key: &str, new_key: &str) -> Result<bool, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool.acquire().await?;
        let done = statement::<DB>(REKEY_SESSION)
            .bind(old_key)
            .bind(new_key)
            .execute(&mut *conn)
            .await?;
        Ok(done > 0)
    }

    async fn delete_session(&self, key: &str) -> Result<bool, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool.acquire().await?;
        let done = statement::<DB>(DELETE_SESSION)
            .bind(key)
            .execute(&mut *conn)
            .await?;
        Ok(done > 0)
    }

    async fn sessions_of(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<StoredSession>, AdapterError> {
        self.migrate().await?;
        let Some(user_id) = row_id(user_id) else {
            return Ok(Vec::new());
        };
        let mut conn = self.pool.acquire().await?;
        let rows = statement::<DB>(AssertSqlSafe(self.sql.sessions_of.clone()))
            .bind(user_id)
            .bind(now)
            .fetch_all(&mut *conn)
            .await?;
        Ok(rows
            .iter()
            .map(session_at::<DB>)
            .collect::<Result<_, _>>()?)
    }

    async fn delete_session_of(
        &self,
        user_id: &str,
        session_id: &str,
    ) -> Result<bool, AdapterError> {
        self.migrate().await?;
        let (Some(user_id), Some(session_id)) = (row_id(user_id), row_id(session_id)) else {
            return Ok(false);
        };
        let mut conn = self.pool.acquire().await?;
        let done = statement::<DB>(DELETE_SESSION_OF)
            .bind(user_id)
            .bind(session_id)
            .execute(&mut *conn)
            .await?;
        Ok(done > 0)
    }

    async fn delete_sessions_of(
        &self,
        user_id: &str,
        keep: Option<&str>,
    ) -> Result<u64, AdapterError> {
        self.migrate().await?;
        let Some(user_id) = row_id(user_id) else {
            return Ok(0);
        };
        let mut conn = self.pool.acquire().await?;
        let done = statement::<DB>(DELETE_SESSIONS_OF)
            .bind(user_id)
            .bind(keep)
            .execute(&mut *conn)
            .await?;
        Ok(done)
    }

    async fn delete_sessions_of_subject(&self, subject: &str) -> Result<u64, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool.acquire().await?;
        let done = statement::<DB>(DELETE_SESSIONS_OF_SUBJECT)
            .bind(subject)
            .execute(&mut *conn)
            .await?;
        Ok(done)
    }

    async fn delete_expired_sessions(&self, now: i64) -> Result<u64, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool.acquire().await?;
        let done = statement::<DB>(AssertSqlSafe(self.sql.delete_expired.clone()))
            .bind(now)
            .execute(&mut *conn)
            .await?;
        Ok(done)
    }

    async fn create_verification_token(
        &self,
        token: VerificationToken,
    ) -> Result<(), AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool.acquire().await?;
        statement::<DB>(AssertSqlSafe(self.sql.insert_verification.clone()))
            .bind(token.identifier.as_str())
            .bind(token.expires)
            .bind(token.token.as_str())
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn use_verification_token(
        &self,
        identifier: &str,
        token: &str,
    ) -> Result<Option<VerificationToken>, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool.acquire().await?;
        let row = statement::<DB>(AssertSqlSafe(self.sql.use_verification.clone()))
            .bind(identifier)
            .bind(token)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(VerificationToken {
            identifier: column::<DB, _>(&row, 0)?,
            token: column::<DB, _>(&row, 1)?,
            expires: column::<DB, _>(&row, 2)?,
        }))
    }

    /// Migrates once; every later call is one atomic load.
    async fn migrate(&self) -> Result<(), AdapterError> {
        self.migrated
            .get_or_try_init(|| migrate(&self.pool))
            .await
            .map(|_| ())
    }

    async fn session_version(&self, subject: &str) -> Result<u64, AdapterError> {
        self.migrate().await?;
        let mut conn = self.reader.acquire().await?;
        let version: Option<i64> = statement::<DB>(SESSION_VERSION)
            .bind(subject)
            .fetch_optional(&mut *conn)
            .await?
            .map(|row| column::<DB, _>(&row, 0))
            .transpose()?;
        Ok(version.map_or(0, |v| u64::try_from(v).unwrap_or(0)))
    }

    async fn bump_session_version(&self, subject: &str) -> Result<u64, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool.acquire().await?;
        let version: i64 = statement::<DB>(BUMP_SESSION_VERSION)
            .bind(subject)
            .fetch_value(&mut *conn)
            .await?;
        Ok(u64::try_from(version).unwrap_or(0))
    }

    fn ends_guest_sessions(&self) -> bool {
        self.ends_guest_sessions
    }

    fn as_any(&self) -> Option<&(dyn std::any::Any + Send + Sync)> {
        Some(self)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

impl<DB: Dialect> SqlAdapter<DB> {
    /// The account insert for the user `user_id`, its values bound.
    fn bind_account<'a>(&'a self, user_id: i64, account: &'a AdapterAccount) -> Statement<DB> {
        statement::<DB>(AssertSqlSafe(self.sql.insert_account.clone()))
            .bind(user_id)
            .bind(account.kind.as_str())
            .bind(account.provider.as_str())
            .bind(account.provider_account_id.as_str())
            .bind(account.refresh_token.as_deref())
            .bind(account.access_token.as_deref())
            .bind(account.expires_at)
            .bind(account.id_token.as_deref())
            .bind(account.scope.as_deref())
            .bind(account.session_state.as_deref())
            .bind(account.token_type.as_deref())
    }
}

fn with_id(id: i64, fields: UserFields) -> AdapterUser {
    AdapterUser {
        id: id.to_string(),
        name: fields.name,
        email: fields.email,
        email_verified: fields.email_verified,
        image: fields.image,
    }
}
