//! Where passkeys are kept: the authenticator store role, and its implementation on the SQL
//! adapter (Auth.js's `Authenticator` table, created by the adapter's migrations).
//!
//! A role of its own rather than more methods on [`Adapter`](crate::adapter::Adapter): a store
//! that keeps no passkeys implements nothing for them.

use crate::adapter::{
    Adapter, AdapterError, AdapterUser, Dialect, SqlAdapter, user_at, user_columns,
};
use crate::sql_driver::{column, statement};

/// One passkey, as Auth.js's `Authenticator` row holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredAuthenticator {
    /// The credential id from the authenticator data, standard base64 (Auth.js's form).
    pub credential_id: String,
    /// The user it belongs to.
    pub user_id: String,
    /// The `providerAccountId` of the user's `webauthn` account (the credential id).
    pub provider_account_id: String,
    /// The COSE public key, standard base64.
    pub credential_public_key: String,
    /// The last signature counter seen.
    pub counter: i64,
    /// `singleDevice` or `multiDevice` (backup eligible), as SimpleWebAuthn names them.
    pub credential_device_type: String,
    /// Whether the credential is backed up (synced).
    pub credential_backed_up: bool,
    /// The transports the browser reported, comma-separated (`internal,hybrid`).
    pub transports: Option<String>,
}

/// Why a passkey was not stored.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CreateAuthenticatorError {
    /// The credential id is stored already: a credential belongs to one user.
    #[error("the credential is registered already")]
    Taken {
        /// Its owner, when known (unknown when another server stored it a moment before).
        owner: Option<String>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] AdapterError),
}

/// Where passkeys are kept: the authenticator store role.
#[async_trait::async_trait]
pub(crate) trait Authenticators: Send + Sync + 'static {
    /// Stores a passkey. Refuses ([`CreateAuthenticatorError::Taken`]) a credential id that is
    /// stored already, whoever owns it: checked before the insert, with the unique constraint
    /// behind it for a race between servers.
    async fn create(
        &self,
        authenticator: &StoredAuthenticator,
    ) -> Result<(), CreateAuthenticatorError>;
    /// The passkey with this credential id (standard base64).
    async fn by_credential_id(
        &self,
        credential_id: &str,
    ) -> Result<Option<StoredAuthenticator>, AdapterError>;
    /// A user's passkeys.
    async fn of_user(&self, user_id: &str) -> Result<Vec<StoredAuthenticator>, AdapterError>;
    /// Records the signature counter of an accepted sign-in, only if it moved forward (or both
    /// it and the stored one are 0, for authenticators without a counter): `false` when it did
    /// not, so two servers cannot both accept the same counter.
    async fn update_counter(&self, credential_id: &str, counter: i64)
    -> Result<bool, AdapterError>;
    /// A sign-in's passkey and its user in one read: the passkey with this credential id, and
    /// the user the `provider` account of the passkey names if that is the passkey's owner.
    async fn sign_in_record(
        &self,
        credential_id: &str,
        provider: &str,
    ) -> Result<Option<SignInRecord>, AdapterError>;
    /// Marks a challenge answered: `false` when it was answered already, on any server.
    async fn answer_challenge(&self, mark: &ChallengeMark) -> Result<bool, AdapterError>;
    /// [`Authenticators::answer_challenge`], then (if it was the first answer)
    /// [`Authenticators::sign_in_record`]: a sign-in's two steps before its signature is
    /// checked, in one visit to the store where the store can.
    async fn answer_and_read(
        &self,
        mark: &ChallengeMark,
        credential_id: &str,
        provider: &str,
    ) -> Result<(bool, Option<SignInRecord>), AdapterError> {
        if !self.answer_challenge(mark).await? {
            return Ok((false, None));
        }
        Ok((true, self.sign_in_record(credential_id, provider).await?))
    }
    /// Forgets the marks of `identifier` that expired before `now`; how many.
    async fn forget_answered(&self, identifier: &str, now: i64) -> Result<u64, AdapterError>;
}

/// The mark of an answered challenge, kept until `expires` (Unix seconds), when the sealed
/// ceremony stops opening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChallengeMark {
    /// `passkey-challenge:<provider id>`.
    pub identifier: String,
    /// The SHA-256 of the challenge, in hex.
    pub token: String,
    pub expires: i64,
}

/// What a passkey sign-in reads: the passkey and its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignInRecord {
    pub authenticator: StoredAuthenticator,
    /// `None` when no `webauthn` account of the owner names the passkey (or the user is gone).
    pub user: Option<AdapterUser>,
}

/// The columns [`read`] reads, of the authenticator table aliased `prefix` (`"a."`, or `""`).
fn columns(prefix: &str) -> String {
    format!(
        "{prefix}\"credentialID\", CAST({prefix}\"userId\" AS BIGINT), \
         {prefix}\"providerAccountId\", {prefix}\"credentialPublicKey\", \
         CAST({prefix}counter AS BIGINT), {prefix}\"credentialDeviceType\", \
         CAST(CASE WHEN {prefix}\"credentialBackedUp\" THEN 1 ELSE 0 END AS BIGINT), \
         {prefix}transports"
    )
}
/// How many columns [`columns`] names.
const COLUMN_COUNT: usize = 8;
const OWNER: &str =
    "SELECT CAST(\"userId\" AS BIGINT) FROM authenticator WHERE \"credentialID\" = $1";
// `$7 <> 0` makes a boolean on PostgreSQL and 0 or 1 on SQLite from the one integer bound.
const INSERT: &str = "INSERT INTO authenticator (\"credentialID\", \"userId\", \
     \"providerAccountId\", \"credentialPublicKey\", counter, \"credentialDeviceType\", \
     \"credentialBackedUp\", transports) VALUES ($1, $2, $3, $4, $5, $6, $7 <> 0, $8)";
const UPDATE_COUNTER: &str = "UPDATE authenticator SET counter = $2 WHERE \"credentialID\" = $1 \
     AND (counter < $2 OR (counter = 0 AND $2 = 0))";

/// The passkey, then the user of its account (NULLs when there is none, or another's).
fn sign_in_record_sql<DB: Dialect>() -> String {
    format!(
        "SELECT {}, {} FROM authenticator a \
         LEFT JOIN accounts ac ON ac.provider = $2 \
         AND ac.\"providerAccountId\" = a.\"providerAccountId\" AND ac.\"userId\" = a.\"userId\" \
         LEFT JOIN users u ON u.id = ac.\"userId\" \
         WHERE a.\"credentialID\" = $1",
        columns("a."),
        user_columns::<DB>("u.")
    )
}

fn answer_challenge_sql<DB: Dialect>() -> String {
    format!(
        "INSERT INTO verification_token (identifier, expires, token) VALUES ($1, {}, $3) \
         ON CONFLICT DO NOTHING",
        DB::timestamp("$2")
    )
}

fn forget_answered_sql<DB: Dialect>() -> String {
    format!(
        "DELETE FROM verification_token WHERE identifier = $1 AND expires < {}",
        DB::timestamp("$2")
    )
}

fn by_id_sql() -> String {
    format!(
        "SELECT {} FROM authenticator WHERE \"credentialID\" = $1",
        columns("")
    )
}

fn of_user_sql() -> String {
    format!(
        "SELECT {} FROM authenticator WHERE \"userId\" = $1 ORDER BY \"credentialID\"",
        columns("")
    )
}

/// A row id from its string form; `None` for anything no row can have.
fn row_id(id: &str) -> Option<i64> {
    id.parse().ok().filter(|id| *id > 0)
}

fn read<DB: Dialect>(row: &DB::Row) -> Result<StoredAuthenticator, sqlx::Error> {
    Ok(StoredAuthenticator {
        credential_id: column::<DB, _>(row, 0)?,
        user_id: column::<DB, i64>(row, 1)?.to_string(),
        provider_account_id: column::<DB, _>(row, 2)?,
        credential_public_key: column::<DB, _>(row, 3)?,
        counter: column::<DB, _>(row, 4)?,
        credential_device_type: column::<DB, _>(row, 5)?,
        credential_backed_up: column::<DB, i64>(row, 6)? != 0,
        transports: column::<DB, _>(row, 7)?,
    })
}

async fn sign_in_record_on<DB: Dialect>(
    conn: &mut DB::Connection,
    credential_id: &str,
    provider: &str,
) -> Result<Option<SignInRecord>, AdapterError> {
    let row = statement::<DB>(sqlx::AssertSqlSafe(sign_in_record_sql::<DB>()))
        .bind(credential_id)
        .bind(provider)
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let authenticator = read::<DB>(&row)?;
    let user = match column::<DB, Option<i64>>(&row, COLUMN_COUNT)? {
        Some(_) => Some(user_at::<DB>(&row, COLUMN_COUNT)?),
        None => None,
    };
    Ok(Some(SignInRecord {
        authenticator,
        user,
    }))
}

async fn answer_challenge_on<DB: Dialect>(
    conn: &mut DB::Connection,
    mark: &ChallengeMark,
) -> Result<bool, AdapterError> {
    let done = statement::<DB>(sqlx::AssertSqlSafe(answer_challenge_sql::<DB>()))
        .bind(mark.identifier.as_str())
        .bind(mark.expires)
        .bind(mark.token.as_str())
        .execute(conn)
        .await?;
    Ok(done > 0)
}

#[async_trait::async_trait]
impl<DB: Dialect> Authenticators for SqlAdapter<DB> {
    async fn create(
        &self,
        authenticator: &StoredAuthenticator,
    ) -> Result<(), CreateAuthenticatorError> {
        self.migrate().await?;
        let Some(user_id) = row_id(&authenticator.user_id) else {
            return Err(AdapterError::Corrupt {
                what: "authenticator's user id",
                detail: format!("{:?} is not a row id", authenticator.user_id),
            }
            .into());
        };
        let mut tx = self.pool().begin().await.map_err(AdapterError::from)?;
        let owner = statement::<DB>(OWNER)
            .bind(authenticator.credential_id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(AdapterError::from)?;
        if let Some(row) = owner {
            let owner = column::<DB, i64>(&row, 0).map_err(AdapterError::from)?;
            return Err(CreateAuthenticatorError::Taken {
                owner: Some(owner.to_string()),
            });
        }
        let inserted = statement::<DB>(INSERT)
            .bind(authenticator.credential_id.as_str())
            .bind(user_id)
            .bind(authenticator.provider_account_id.as_str())
            .bind(authenticator.credential_public_key.as_str())
            .bind(authenticator.counter)
            .bind(authenticator.credential_device_type.as_str())
            .bind(i64::from(authenticator.credential_backed_up))
            .bind(authenticator.transports.as_deref())
            .execute(&mut *tx)
            .await;
        match inserted.map_err(AdapterError::from) {
            Ok(_) => {}
            // Another server stored the same id between the check and the insert.
            Err(AdapterError::Conflict(_)) => {
                return Err(CreateAuthenticatorError::Taken { owner: None });
            }
            Err(error) => return Err(error.into()),
        }
        tx.commit().await.map_err(AdapterError::from)?;
        Ok(())
    }

    async fn by_credential_id(
        &self,
        credential_id: &str,
    ) -> Result<Option<StoredAuthenticator>, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool().acquire().await?;
        let row = statement::<DB>(sqlx::AssertSqlSafe(by_id_sql()))
            .bind(credential_id)
            .fetch_optional(&mut *conn)
            .await?;
        Ok(row.map(|row| read::<DB>(&row)).transpose()?)
    }

    async fn of_user(&self, user_id: &str) -> Result<Vec<StoredAuthenticator>, AdapterError> {
        self.migrate().await?;
        let Some(user_id) = row_id(user_id) else {
            return Ok(Vec::new());
        };
        let mut conn = self.pool().acquire().await?;
        let rows = statement::<DB>(sqlx::AssertSqlSafe(of_user_sql()))
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await?;
        Ok(rows.iter().map(read::<DB>).collect::<Result<_, _>>()?)
    }

    async fn update_counter(
        &self,
        credential_id: &str,
        counter: i64,
    ) -> Result<bool, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool().acquire().await?;
        let done = statement::<DB>(UPDATE_COUNTER)
            .bind(credential_id)
            .bind(counter)
            .execute(&mut *conn)
            .await?;
        Ok(done > 0)
    }

    async fn sign_in_record(
        &self,
        credential_id: &str,
        provider: &str,
    ) -> Result<Option<SignInRecord>, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool().acquire().await?;
        sign_in_record_on::<DB>(&mut *conn, credential_id, provider).await
    }

    async fn answer_challenge(&self, mark: &ChallengeMark) -> Result<bool, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool().acquire().await?;
        answer_challenge_on::<DB>(&mut *conn, mark).await
    }

    async fn answer_and_read(
        &self,
        mark: &ChallengeMark,
        credential_id: &str,
        provider: &str,
    ) -> Result<(bool, Option<SignInRecord>), AdapterError> {
        self.migrate().await?;
        // One connection for both: each one taken from the pool is a round trip to its thread
        // when it is given back.
        let mut conn = self.pool().acquire().await?;
        if !answer_challenge_on::<DB>(&mut *conn, mark).await? {
            return Ok((false, None));
        }
        let record = sign_in_record_on::<DB>(&mut *conn, credential_id, provider).await?;
        Ok((true, record))
    }

    async fn forget_answered(&self, identifier: &str, now: i64) -> Result<u64, AdapterError> {
        self.migrate().await?;
        let mut conn = self.pool().acquire().await?;
        let done = statement::<DB>(sqlx::AssertSqlSafe(forget_answered_sql::<DB>()))
            .bind(identifier)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        Ok(done)
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use super::*;
    use crate::adapter::{AdapterAccount, SqliteAdapter, UserFields};

    pub(crate) fn passkey(id: &str, user_id: &str) -> StoredAuthenticator {
        StoredAuthenticator {
            credential_id: id.to_owned(),
            user_id: user_id.to_owned(),
            provider_account_id: id.to_owned(),
            credential_public_key: "pQECAyYgASFYIA==".to_owned(),
            counter: 0,
            credential_device_type: "multiDevice".to_owned(),
            credential_backed_up: true,
            transports: Some("internal,hybrid".to_owned()),
        }
    }

    async fn user(adapter: &SqliteAdapter, email: &str) -> String {
        let fields = UserFields {
            email: Some(email.to_owned()),
            ..UserFields::default()
        };
        adapter.create_user(fields).await.unwrap().id
    }

    /// The `webauthn` account of `user` that names the passkey `credential_id`.
    async fn link_passkey_account(adapter: &SqliteAdapter, user: &str, credential_id: &str) {
        let account = AdapterAccount {
            user_id: user.to_owned(),
            kind: "webauthn".into(),
            provider: "passkey".into(),
            provider_account_id: credential_id.to_owned(),
            ..AdapterAccount::default()
        };
        adapter.link_account(account).await.unwrap();
    }

    #[tokio::test]
    async fn passkeys_are_stored_read_back_and_owned_by_one_user() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let adapter = SqliteAdapter::new(pool).await.unwrap();
        let ada = user(&adapter, "ada@example.com").await;
        let bob = user(&adapter, "bob@example.com").await;
        adapter.create(&passkey("AAEC", &ada)).await.unwrap();
        let stored = adapter.by_credential_id("AAEC").await.unwrap();
        assert_eq!(stored, Some(passkey("AAEC", &ada)));
        let mut second = passkey("AwQF", &ada);
        second.credential_backed_up = false;
        second.credential_device_type = "singleDevice".into();
        second.transports = None;
        adapter.create(&second).await.unwrap();
        assert_eq!(adapter.of_user(&ada).await.unwrap().len(), 2);
        assert_eq!(adapter.of_user(&bob).await.unwrap(), []);
        assert_eq!(adapter.of_user("nobody").await.unwrap(), []);
        assert_eq!(
            adapter.by_credential_id("AwQF").await.unwrap(),
            Some(second)
        );

        // The same credential for another user, or again for its owner: refused in code.
        for user in [&bob, &ada] {
            let taken = adapter.create(&passkey("AAEC", user)).await;
            assert!(
                matches!(&taken, Err(CreateAuthenticatorError::Taken { owner: Some(o) }) if *o == ada),
                "{taken:?}"
            );
        }

        // Counters only move forward; 0 stays acceptable for authenticators without one.
        assert!(adapter.update_counter("AwQF", 0).await.unwrap());
        assert!(adapter.update_counter("AwQF", 5).await.unwrap());
        assert!(!adapter.update_counter("AwQF", 5).await.unwrap());
        assert!(!adapter.update_counter("AwQF", 4).await.unwrap());
        assert!(!adapter.update_counter("AwQF", 0).await.unwrap());
        assert!(!adapter.update_counter("none", 9).await.unwrap());
        let big = i64::from(u32::MAX);
        assert!(adapter.update_counter("AwQF", big).await.unwrap());
        assert_eq!(
            adapter
                .by_credential_id("AwQF")
                .await
                .unwrap()
                .unwrap()
                .counter,
            big
        );

        // A user's passkeys end with the user.
        link_passkey_account(&adapter, &ada, "AAEC").await;
        assert!(adapter.delete_user(&ada).await.unwrap());
        assert_eq!(adapter.by_credential_id("AAEC").await.unwrap(), None);
    }

    fn mark(token: &str, expires: i64) -> ChallengeMark {
        ChallengeMark {
            identifier: "passkey-challenge:passkey".into(),
            token: token.into(),
            expires,
        }
    }

    #[tokio::test]
    async fn a_challenge_is_marked_once_and_forgotten_after_it_expires() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let adapter = SqliteAdapter::new(pool).await.unwrap();
        let ada = user(&adapter, "ada@example.com").await;
        adapter.create(&passkey("AAEC", &ada)).await.unwrap();

        // The passkey is read only with the first answer; without an account it has no user.
        let (first, record) = adapter
            .answer_and_read(&mark("aa", 100), "AAEC", "passkey")
            .await
            .unwrap();
        assert!(first);
        let record = record.unwrap();
        assert_eq!(record.authenticator, passkey("AAEC", &ada));
        assert_eq!(record.user, None);
        assert_eq!(
            adapter
                .answer_and_read(&mark("aa", 100), "AAEC", "passkey")
                .await
                .unwrap(),
            (false, None)
        );
        assert!(!adapter.answer_challenge(&mark("aa", 500)).await.unwrap());

        // With the account that names it, the owner comes along; another provider's does not.
        link_passkey_account(&adapter, &ada, "AAEC").await;
        let record = adapter.sign_in_record("AAEC", "passkey").await.unwrap();
        assert_eq!(record.unwrap().user.map(|u| u.id), Some(ada.clone()));
        let record = adapter.sign_in_record("AAEC", "other").await.unwrap();
        assert_eq!(record.unwrap().user, None);
        assert_eq!(
            adapter.sign_in_record("none", "passkey").await.unwrap(),
            None
        );
        let (first, record) = adapter
            .answer_and_read(&mark("bb", 200), "none", "passkey")
            .await
            .unwrap();
        assert!(first && record.is_none());

        // Expired marks go, live ones stay (and still refuse a second answer).
        assert!(adapter.answer_challenge(&mark("cc", 300)).await.unwrap());
        assert_eq!(
            adapter
                .forget_answered("passkey-challenge:passkey", 250)
                .await
                .unwrap(),
            2
        );
        assert!(!adapter.answer_challenge(&mark("cc", 300)).await.unwrap());
        assert!(adapter.answer_challenge(&mark("aa", 100)).await.unwrap());
        assert_eq!(
            adapter
                .forget_answered("passkey-challenge:other", i64::MAX)
                .await
                .unwrap(),
            0
        );
    }
}
