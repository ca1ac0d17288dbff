//! The database strategy: the cookie holds an opaque random token, the session lives in the
//! adapter's `sessions` table under a hash of it.
//!
//! - A token is 32 random bytes, base64url (43 characters). Its row is stored under
//!   `sha256:<hex of SHA-256(token)>`, so the table alone opens no session; no secret is mixed
//!   in, so rotating `AUTH_SECRET` ends no database session.
//! - A row next-auth wrote holds its token in plain text. A token that finds no hashed row is
//!   looked up as it is, once; when that finds a row, the row is rewritten under the hash. A
//!   presented token that starts with `sha256:` is never looked up as it is: it could only be
//!   a stored key copied from a leaked table.
//! - Each row carries the session's claims (after the `jwt` callback), so a read answers the
//!   same JSON as the token strategy; a row without claims (next-auth's) gets them from its user.
//! - A read renews the row (expiry, last seen) when the session is older than `update_age`, as
//!   NextAuth does: one write per session per `update_age`, not one per read.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest as _;

use crate::adapter::{
    Adapter, AdapterAccount, AdapterError, AdapterUser, NewSession, SessionRenewal, StoredSession,
    UserFields,
};
use crate::definition::TokenClaims;
use crate::user::{Account, SessionUser, User};

use super::{SessionError, Stored};

/// The prefix of a stored key: what tells a hashed row from a plain token next-auth wrote.
const KEY_PREFIX: &str = "sha256:";
/// The longest token looked up as it is (`"sessionToken"` is `VARCHAR(255)` in Auth.js).
const MAX_PLAIN_TOKEN: usize = 255;

/// The database session store of one engine.
#[derive(Clone)]
pub(crate) struct DatabaseSessions {
    adapter: Arc<dyn Adapter>,
    /// The session lifetime: a row next-auth wrote was issued this long before it expires.
    max_age: u64,
}

/// What a token opened.
pub(crate) struct Opened<T> {
    pub claims: T,
    pub written: Option<Vec<u8>>,
    pub guest: Option<String>,
    pub stored: Stored,
}

/// Why a database session could not be created.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CreateError {
    /// A user with this OAuth account's e-mail exists, signed in another way (NextAuth's
    /// `OAuthAccountNotLinked`).
    #[error("another account of this user signs in with the same e-mail address")]
    NotLinked,
    /// The adapter could not answer.
    #[error(transparent)]
    Adapter(#[from] AdapterError),
}

/// The key a token's row is stored under.
pub(crate) fn key_of(token: &str) -> String {
    let digest = sha2::Sha256::digest(token.as_bytes());
    format!("{KEY_PREFIX}{}", crate::csrf::hex(&digest))
}

/// A new session token: 256 random bits.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `token` may be a plain token next-auth stored (a UUID or hex): printable ASCII of a
/// column's length, and never one of our keys.
fn may_be_plain(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_PLAIN_TOKEN
        && token.bytes().all(|b| b.is_ascii_graphic())
        && !token.starts_with(KEY_PREFIX)
}

/// A failed read: 503 when the database cannot answer now; any other error is this token's
/// (the database refused what it was asked), so the session is not valid.
fn read_failed(error: AdapterError) -> SessionError {
    match error {
        AdapterError::Unavailable(_) => {
            tracing::warn!(%error, "cannot read the database session; refusing this read");
            SessionError::Unavailable
        }
        error => {
            tracing::warn!(%error, "a database session read failed; the token is refused");
            SessionError::Invalid
        }
    }
}

impl DatabaseSessions {
    pub fn new(adapter: Arc<dyn Adapter>, max_age: u64) -> Self {
        DatabaseSessions { adapter, max_age }
    }

    pub fn adapter(&self) -> &dyn Adapter {
        &*self.adapter
    }

    /// The session `token` opens at `now`; an expired row is deleted on the way.
    pub async fn open<T: TokenClaims>(
        &self,
        token: &str,
        now: i64,
    ) -> Result<Opened<T>, SessionError> {
        let key = key_of(token);
        let mut found = self
            .adapter
            .session_and_user(&key)
            .await
            .map_err(read_failed)?;
        if found.is_none() && may_be_plain(token) {
            found = self.upgrade_plain(token, &key).await?;
        }
        let Some((session, user)) = found else {
            return Err(SessionError::Invalid);
        };
        if session.expires <= now {
            if let Err(error) = self.adapter.delete_session(&key).await {
                tracing::warn!(%error, "could not delete an expired database session");
            }
            return Err(SessionError::Expired);
        }
        let (claims, written) = claims_of::<T>(&session, &user, self.max_age)?;
        Ok(Opened {
            claims,
            written,
            guest: session.guest_id,
            stored: Stored {
                token: token.to_owned(),
                key,
                user_id: session.user_id,
                session_id: session.id,
                user: SessionUser {
                    name: user.name,
                    email: user.email,
                    image: user.image,
                },
            },
        })
    }

    /// A plain token's row (one next-auth wrote), rewritten under its hash.
    async fn upgrade_plain(
        &self,
        token: &str,
        key: &str,
    ) -> Result<Option<(StoredSession, AdapterUser)>, SessionError> {
        let found = self
            .adapter
            .session_and_user(token)
            .await
            .map_err(read_failed)?;
        if found.is_some() {
            match self.adapter.rekey_session(token, key).await {
                Ok(_) => tracing::info!("a plain session token was rewritten as its hash"),
                // Another server rewrote it first; the row is under the hash either way.
                Err(AdapterError::Conflict(_)) => {}
                Err(error) => return Err(read_failed(error)),
            }
        }
        Ok(found)
    }

    /// Stores a new session for `claims` (stamped already) of the user `user_id`; returns the
    /// cookie's token.
    #[allow(clippy::too_many_arguments)]
    pub async fn create<T: TokenClaims>(
        &self,
        claims: &T,
        user_id: &str,
        guest: Option<&str>,
        user_agent: Option<&str>,
        now: i64,
        expires: i64,
    ) -> Result<String, AdapterError> {
        let token = new_token();
        let claims_json = serde_json::to_string(claims).map_err(|e| AdapterError::Corrupt {
            what: "session's claims",
            detail: e.to_string(),
        })?;
        self.adapter
            .create_session(NewSession {
                key: key_of(&token),
                user_id: user_id.to_owned(),
                expires,
                created_at: now,
                user_agent: user_agent.map(|agent| truncate(agent, 512).to_owned()),
                claims: Some(claims_json),
                guest_id: guest.map(str::to_owned),
                subject: claims.sub().map(str::to_owned),
            })
            .await?;
        Ok(token)
    }

    /// Renews the row of `stored`: its expiry, the time seen, and its claims when given.
    pub async fn renew<T: TokenClaims>(
        &self,
        stored: &Stored,
        claims: &T,
        now: i64,
        expires: i64,
    ) -> Result<bool, AdapterError> {
        let claims = serde_json::to_string(claims).ok();
        self.adapter
            .renew_session(
                &stored.key,
                SessionRenewal {
                    expires,
                    seen_at: now,
                    claims,
                },
            )
            .await
    }

    /// Deletes the row of `stored` (a sign-out).
    pub async fn delete(&self, stored: &Stored) -> Result<bool, AdapterError> {
        self.adapter.delete_session(&stored.key).await
    }

    /// The user row a sign-in signs in as: the account's user, else a new user with the
    /// account linked (a guest's account is `anonymous`). An OAuth account whose e-mail a user
    /// of another account already has is refused, as NextAuth refuses it.
    pub async fn user_for(
        &self,
        user: &User,
        account: &Account,
        as_guest: bool,
    ) -> Result<AdapterUser, CreateError> {
        let adapter = &*self.adapter;
        if let Some(found) = adapter
            .get_user_by_account(&account.provider, &account.provider_account_id)
            .await?
        {
            return Ok(found);
        }
        let oauth = matches!(account.kind.as_str(), "oauth" | "oidc");
        if let Some(email) = user.email.as_deref().filter(|_| oauth)
            && adapter.get_user_by_email(email).await?.is_some()
        {
            return Err(CreateError::NotLinked);
        }
        let fields = UserFields {
            name: user.name.clone(),
            email: user.email.clone(),
            email_verified: None,
            image: user.image.clone(),
        };
        let linked = AdapterAccount {
            user_id: String::new(),
            kind: match as_guest {
                true => "anonymous".to_owned(),
                false => account.kind.clone(),
            },
            provider: account.provider.clone(),
            provider_account_id: account.provider_account_id.clone(),
            refresh_token: account.refresh_token.clone(),
            access_token: account.access_token.clone(),
            expires_at: account.expires_at,
            id_token: account.id_token.clone(),
            scope: account.scope.clone(),
            session_state: None,
            token_type: account.token_type.clone(),
        };
        match adapter.create_user_with_account(fields, linked).await {
            Ok(created) => Ok(created),
            // A concurrent first sign-in of the same account linked it first: sign in as its user.
            Err(AdapterError::Conflict(error)) => adapter
                .get_user_by_account(&account.provider, &account.provider_account_id)
                .await?
                .ok_or(CreateError::Adapter(AdapterError::Conflict(error))),
            Err(error) => Err(error.into()),
        }
    }
}

/// The claims of a row: as stored, or (a row next-auth wrote) made from its user, with the
/// row's expiry and `iat` one `max_age` before it.
fn claims_of<T: TokenClaims>(
    session: &StoredSession,
    user: &AdapterUser,
    max_age: u64,
) -> Result<(T, Option<Vec<u8>>), SessionError> {
    if let Some(json) = &session.claims {
        return match serde_json::from_str::<T>(json) {
            Ok(claims) => Ok((claims, Some(json.clone().into_bytes()))),
            Err(error) => {
                tracing::warn!(%error, "stored session claims do not fit the Token type");
                Err(SessionError::Invalid)
            }
        };
    }
    let mut claims = T::from_user(&User {
        id: user.id.clone(),
        name: user.name.clone(),
        email: user.email.clone(),
        image: user.image.clone(),
    });
    let issued_at = session
        .expires
        .saturating_sub(i64::try_from(max_age).unwrap_or(i64::MAX));
    claims.stamp(issued_at, session.expires, session.id.clone());
    Ok((claims, None))
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_the_prefixed_hex_sha256_of_the_token() {
        // SHA-256("abc"), FIPS 180-2's first example.
        assert_eq!(
            key_of("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn tokens_are_256_random_bits_in_base64url() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert!(may_be_plain(&a));
    }

    #[test]
    fn a_stored_key_is_never_looked_up_as_a_plain_token() {
        assert!(!may_be_plain(&key_of("anything")));
        assert!(!may_be_plain(""));
        assert!(!may_be_plain(&"a".repeat(256)));
        assert!(may_be_plain("5f1c7c0e-4a4e-4c43-9a0e-2f0c3b0d9a11"));
    }

    #[test]
    fn user_agents_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }

    #[cfg(feature = "sqlite")]
    fn on_sqlite() -> DatabaseSessions {
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(SqliteConnectOptions::new().in_memory(true));
        DatabaseSessions::new(Arc::new(crate::adapter::SqliteAdapter::lazy(pool)), 3600)
    }

    /// NextAuth's account linking: an account signs in as its user; a new OAuth account whose
    /// e-mail another user has is refused (`OAuthAccountNotLinked`); Credentials and guests map
    /// by their account alone.
    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn accounts_link_as_next_auth_links_them() {
        let sessions = on_sqlite();
        let ada = User::with_id("gh-1").email("ada@example.com").name("Ada");
        let github = Account::new("github", "oauth", "gh-1");
        let first = sessions.user_for(&ada, &github, false).await.unwrap();
        let again = sessions.user_for(&ada, &github, false).await.unwrap();
        assert_eq!(first, again, "the account's user");
        assert_eq!(first.name.as_deref(), Some("Ada"));

        let google = Account::new("google", "oidc", "g-9");
        let same_address = User::with_id("g-9").email("ada@example.com");
        assert!(matches!(
            sessions.user_for(&same_address, &google, false).await,
            Err(CreateError::NotLinked)
        ));
        let password = Account::new("password", "credentials", "ada");
        let by_password = sessions
            .user_for(
                &User::with_id("ada").email("ada@example.com"),
                &password,
                false,
            )
            .await
            .unwrap();
        assert_ne!(
            by_password.id, first.id,
            "Credentials map by their account only"
        );

        let guest = Account::new("anon", "credentials", "guest-1");
        let as_guest = sessions
            .user_for(&User::with_id("guest-1"), &guest, true)
            .await
            .unwrap();
        let found = sessions
            .adapter()
            .get_user_by_account("anon", "guest-1")
            .await
            .unwrap();
        assert_eq!(found, Some(as_guest));
    }
}
