//! The session layer: every sign-in ends here and every session read starts here, whatever the
//! provider and the token format.
//!
//! [`Sessions::verify_request`] reads a session token from a request (cookies, or an
//! `Authorization: Bearer` header for APIs) and gives one answer for each situation (see
//! [`SessionError`]); [`Sessions::issue`] writes one, stamping everything a token must carry
//! (expiry, `jti`, session version, guest id) in one place, so no path can skip the version
//! stamp. The handlers, the `Auth` readers and the axum extractors all go through here.
//!
//! The readers are named for what they run: `verify_*` only verifies (token, expiry, session
//! version, guest still a guest) and runs none of the application's callbacks; `read_*` verifies,
//! then runs the `jwt` and `session` callbacks.

pub(crate) mod codec;
#[cfg(feature = "sqlx-store")]
pub(crate) mod database;
#[cfg(feature = "sqlx-store")]
mod devices;
#[cfg(feature = "guests")]
pub(crate) mod guests;
mod reader;
mod sign_in;
mod sign_out;

use std::borrow::Cow;
use std::sync::Arc;

use http::StatusCode;

use crate::clock;
use crate::cookies::{self, RequestCookies};
use crate::definition::{AuthDefinition, SessionShape, TokenClaims};
use crate::session_version::{SessionVersion, SessionVersions};
use crate::settings::Settings;
use crate::user::{JwtEvent, SessionUser};

pub(crate) use codec::{SessionCodec, Stamp};
#[cfg(feature = "sqlx-store")]
pub use devices::{Device, DeviceError};
pub use reader::{ReadToken, TokenReader};
pub(crate) use sign_in::{SignIn, SignInError};

/// A token that opened and whose checks passed: the session of a request.
pub(crate) type Verified<T> = codec::Decoded<T>;

/// Why a request has no usable session. The same answer reaches `GET /api/auth/session`, the
/// [`Auth`](crate::Auth) readers and the axum extractors.
///
/// | variant | `GET /api/auth/session` | extractors |
/// |---|---|---|
/// | `Missing` | `{}` | 401 |
/// | `Invalid`, `Expired`, `Revoked` | `{}`, session cookies cleared | 401 |
/// | `Unavailable` | 503 `{}`, cookies kept | 503 |
///
/// A store that cannot answer is not the visitor's fault: the session is neither accepted nor
/// ended, and the status says to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The request carries no session token.
    #[error("no session")]
    Missing,
    /// A session token that is not this application's: malformed, forged, under an unknown
    /// secret, for another deployment, or not fitting the `Token` type.
    #[error("the session token is not valid")]
    Invalid,
    /// A genuine session token past its expiry.
    #[error("the session has expired")]
    Expired,
    /// A genuine session that was ended: its user signed out everywhere, or its guest was
    /// upgraded or removed.
    #[error("the session was ended")]
    Revoked,
    /// A store the check needs (session versions) could not answer.
    #[error("the session store is unavailable")]
    Unavailable,
}

impl SessionError {
    /// The HTTP status an API answers with: 401, or 503 for [`SessionError::Unavailable`].
    pub fn status(self) -> StatusCode {
        match self {
            SessionError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The `outcome` label of `auth_session_reads_total` (see [`telemetry`](crate::telemetry)).
    fn read_outcome(self) -> &'static str {
        match self {
            SessionError::Missing => "missing",
            SessionError::Invalid => "invalid",
            SessionError::Expired => "expired",
            SessionError::Revoked => "revoked",
            SessionError::Unavailable => "unavailable",
        }
    }

    /// Whether the request's session cookies should be cleared (the session will never work).
    pub(crate) fn ends_session(self) -> bool {
        matches!(
            self,
            SessionError::Invalid | SessionError::Expired | SessionError::Revoked
        )
    }
}

/// Why a session could not be issued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssueError {
    /// The claims could not be written (they do not serialise to a JSON object).
    #[error("{0}")]
    Encode(String),
    /// The session version store could not answer.
    #[error(transparent)]
    Versions(#[from] crate::session_version::SessionVersionError),
    /// The database session could not be stored.
    #[cfg(feature = "sqlx-store")]
    #[error(transparent)]
    Adapter(#[from] crate::adapter::AdapterError),
    /// The database strategy has no token to encode: its sessions are created by sign-ins.
    #[error("the database session strategy stores sessions at sign-in; it encodes no token")]
    DatabaseStrategy,
}

/// A session row a token opened (database strategy): where it is, to renew or delete it.
#[derive(Debug, Clone)]
#[cfg_attr(not(feature = "sqlx-store"), allow(dead_code))]
pub(crate) struct Stored {
    /// The cookie's token, to write it again with a renewed expiry.
    pub token: String,
    /// The row's key.
    pub key: String,
    /// The row's user.
    pub user_id: String,
    /// The row id (what the device list shows).
    pub session_id: String,
    /// `session.user` as the user row has it (NextAuth's database strategy builds the session
    /// from the row, not from the claims).
    pub user: SessionUser,
}

/// Who a new session belongs to.
#[cfg_attr(not(feature = "sqlx-store"), allow(dead_code))]
pub(crate) struct Holder<'a> {
    /// The id the sign-in produced (the token's `sub`).
    pub user_id: &'a str,
    /// The guest, for a guest's session.
    pub guest: Option<&'a str>,
    /// The user row (database strategy).
    pub stored_user: Option<&'a str>,
    /// The browser's `User-Agent` (database strategy).
    pub user_agent: Option<&'a str>,
}

/// A session as an application handler sees it: the callbacks ran, as for `GET /session`.
pub struct CurrentSession<D: AuthDefinition> {
    /// What `GET /api/auth/session` would return.
    pub session: D::Session,
    /// The token's claims, after the `jwt` callback.
    pub token: D::Token,
    /// The guest id when this is a guest's session (an Anonymous provider's sign-in).
    pub guest_id: Option<String>,
}

impl<D: AuthDefinition> std::fmt::Debug for CurrentSession<D>
where
    D::Session: std::fmt::Debug,
    D::Token: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CurrentSession")
            .field("session", &self.session)
            .field("token", &self.token)
            .field("guest_id", &self.guest_id)
            .finish()
    }
}

/// What a session read gives back to `GET /session` and `POST /session`.
pub(crate) struct ClientSession<S> {
    /// The session JSON.
    pub session: S,
    /// The renewed session cookies, when the token was re-issued.
    pub cookies: Vec<String>,
}

/// The session layer of one engine.
pub(crate) struct Sessions<D: AuthDefinition> {
    codec: SessionCodec,
    versions: Option<Arc<dyn SessionVersions>>,
    /// The database strategy's store; `None` for the token strategy.
    #[cfg(feature = "sqlx-store")]
    database: Option<database::DatabaseSessions>,
    #[cfg(feature = "guests")]
    guests: Option<guests::GuestSetup<D::State>>,
    #[cfg(not(feature = "guests"))]
    _definition: std::marker::PhantomData<D>,
    /// The OAuth providers, in reach of every `jwt` callback (see [`Sessions::run_jwt`]).
    #[cfg(feature = "oauth")]
    oauth: Arc<crate::providers::OAuthClients>,
}

impl<D: AuthDefinition> Sessions<D> {
    pub fn new(
        codec: SessionCodec,
        versions: Option<Arc<dyn SessionVersions>>,
        #[cfg(feature = "sqlx-store")] database: Option<database::DatabaseSessions>,
        #[cfg(feature = "guests")] guests: Option<guests::GuestSetup<D::State>>,
        #[cfg(feature = "oauth")] oauth: Arc<crate::providers::OAuthClients>,
    ) -> Self {
        Sessions {
            codec,
            versions,
            #[cfg(feature = "sqlx-store")]
            database,
            #[cfg(feature = "guests")]
            guests,
            #[cfg(not(feature = "guests"))]
            _definition: std::marker::PhantomData,
            #[cfg(feature = "oauth")]
            oauth,
        }
    }

    /// Runs `callback` (the future of a `jwt` callback) with what the callback may reach
    /// without receiving it: the OAuth providers, for
    /// [`refresh_access_token`](crate::providers::refresh_access_token).
    #[cfg(feature = "oauth")]
    pub(crate) async fn jwt_scope<F: std::future::Future>(&self, callback: F) -> F::Output {
        crate::providers::with_oauth_clients(&self.oauth, callback).await
    }

    /// Runs `callback` (the future of a `jwt` callback); without the `oauth` feature there is
    /// nothing to put in its reach.
    #[cfg(not(feature = "oauth"))]
    pub(crate) async fn jwt_scope<F: std::future::Future>(&self, callback: F) -> F::Output {
        callback.await
    }

    /// Runs the `jwt` callback of a session read; a failing callback ends the session.
    async fn run_jwt(
        &self,
        state: &D::State,
        token: D::Token,
        event: JwtEvent<D::Provider, D::Token>,
    ) -> Result<D::Token, SessionError> {
        self.jwt_scope(D::jwt(token, event, state))
            .await
            .map_err(|error| {
                tracing::warn!(%error, "the jwt callback failed while reading a session; signing the user out");
                SessionError::Invalid
            })
    }

    /// The database strategy's store, when sessions live in the database.
    #[cfg(feature = "sqlx-store")]
    pub fn database(&self) -> Option<&database::DatabaseSessions> {
        self.database.as_ref()
    }

    /// Whether sessions live in the database.
    pub fn in_database(&self) -> bool {
        #[cfg(feature = "sqlx-store")]
        return self.database.is_some();
        #[cfg(not(feature = "sqlx-store"))]
        false
    }

    /// The session version store, when configured.
    pub fn versions(&self) -> Option<&dyn SessionVersions> {
        self.versions.as_deref()
    }

    /// The session tokens a request carries, in the order to try them: the session cookies
    /// ([`RequestCookies::session_candidates`]), else an `Authorization: Bearer` header
    /// (percent-decoded, as next-auth's `getToken` reads it).
    pub fn request_tokens<'c>(
        settings: &Settings,
        cookies: &RequestCookies<'c>,
        headers: Option<&http::HeaderMap>,
    ) -> Result<Vec<Cow<'c, str>>, SessionError> {
        let candidates = cookie_tokens(cookies, &settings.cookies.session_token)?;
        if !candidates.is_empty() {
            return Ok(candidates);
        }
        match headers.and_then(bearer_token) {
            Some(token) => Ok(vec![Cow::Owned(token?)]),
            None => Err(SessionError::Missing),
        }
    }

    /// Only verifies, runs no callback: the session of a request (cookies, else a Bearer header
    /// when `headers` are given) is the first of its tokens that verifies. A store that cannot
    /// answer ends the search; otherwise the first token's error is the answer. Counts the read.
    pub async fn verify_request(
        &self,
        settings: &Settings,
        cookies: &RequestCookies<'_>,
        headers: Option<&http::HeaderMap>,
    ) -> Result<Verified<D::Token>, SessionError> {
        let result = self.first_verified(settings, cookies, headers).await;
        crate::telemetry::session_read(match &result {
            Ok(_) => "ok",
            Err(error) => error.read_outcome(),
        });
        result
    }

    async fn first_verified(
        &self,
        settings: &Settings,
        cookies: &RequestCookies<'_>,
        headers: Option<&http::HeaderMap>,
    ) -> Result<Verified<D::Token>, SessionError> {
        let mut first_error = None;
        for token in Self::request_tokens(settings, cookies, headers)? {
            match self.verify_token(&token).await {
                Ok(verified) => return Ok(verified),
                Err(SessionError::Unavailable) => return Err(SessionError::Unavailable),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        Err(first_error.unwrap_or(SessionError::Missing))
    }

    /// Only verifies, runs no callback: opens one `token` and checks its claims, its session
    /// version (a token without one is version 0 of its subject), and for a guest's session that
    /// the guest is still a guest.
    pub async fn verify_token(&self, token: &str) -> Result<Verified<D::Token>, SessionError> {
        #[cfg(feature = "sqlx-store")]
        if let Some(database) = &self.database {
            return self.verify_stored(database, token).await;
        }
        let verified = self
            .codec
            .decode::<D::Token>(token, clock::now())
            .map_err(|error| {
                tracing::debug!(%error, "session token refused");
                match error {
                    codec::DecodeError::Expired => SessionError::Expired,
                    codec::DecodeError::Invalid(_) => SessionError::Invalid,
                }
            })?;
        if let Some(versions) = &self.versions {
            let subject = verified
                .version
                .as_ref()
                .map(|v| (v.uid.as_str(), v.v))
                .or_else(|| {
                    verified
                        .guest
                        .as_deref()
                        .or(verified.claims.sub())
                        .map(|uid| (uid, 0))
                });
            if let Some((uid, minted)) = subject {
                match crate::telemetry::timed("versions", "current", versions.current(uid)).await {
                    Ok(current) if minted >= current => {}
                    Ok(_) => return Err(SessionError::Revoked),
                    Err(error) => {
                        tracing::warn!(%error, "cannot check the session version; refusing this read");
                        return Err(SessionError::Unavailable);
                    }
                }
            }
        }
        self.check_guest(verified).await
    }

    /// A database session's row: a read that finds it is the whole check (a sign-out or
    /// sign-out everywhere deletes rows), but for a guest still being a guest.
    #[cfg(feature = "sqlx-store")]
    async fn verify_stored(
        &self,
        database: &database::DatabaseSessions,
        token: &str,
    ) -> Result<Verified<D::Token>, SessionError> {
        let opened = crate::telemetry::timed(
            "adapter",
            "session",
            database.open::<D::Token>(token, clock::now()),
        )
        .await?;
        let verified = codec::Decoded {
            claims: opened.claims,
            reissue: false,
            version: None,
            guest: opened.guest,
            written: opened.written,
            stored: Some(opened.stored),
        };
        // A guest's row goes with its upgrade or removal: finding it is the whole check.
        if database.adapter().ends_guest_sessions() {
            return Ok(verified);
        }
        self.check_guest(verified).await
    }

    /// Refuses a guest's session once the guest is upgraded or removed.
    async fn check_guest(
        &self,
        verified: Verified<D::Token>,
    ) -> Result<Verified<D::Token>, SessionError> {
        #[cfg(feature = "guests")]
        if let (Some(id), Some(setup)) = (verified.guest.as_deref(), &self.guests)
            && !guests::is_active(&*setup.store, id).await
        {
            return Err(SessionError::Revoked);
        }
        Ok(verified)
    }

    /// Writes a session token for `token`, stamped with `iat`, `exp`, a fresh `jti`, `stamp`'s
    /// session version and guest; returns the token and its expiry.
    pub fn seal(
        &self,
        settings: &Settings,
        token: &mut D::Token,
        now: i64,
        stamp: Stamp<'_>,
    ) -> Result<(String, i64), IssueError> {
        let jwt = self
            .codec
            .encode(token, now, settings.max_age, stamp)
            .map_err(|e| IssueError::Encode(e.0))?;
        Ok((jwt, token.expires_at().unwrap_or(now)))
    }

    /// The session version a new session of `user_id` starts at, when a store is configured.
    pub async fn version_for(&self, user_id: &str) -> Result<Option<SessionVersion>, IssueError> {
        match &self.versions {
            None => Ok(None),
            Some(versions) => Ok(Some(SessionVersion {
                uid: user_id.to_owned(),
                v: versions.current(user_id).await?,
            })),
        }
    }

    /// Issues a new session for `token` (a sign-in): the session version of its user, the
    /// guest id for a guest's session, then the cookies replacing every chunk in `present`.
    pub async fn issue(
        &self,
        settings: &Settings,
        token: &mut D::Token,
        holder: Holder<'_>,
        present: &[&str],
    ) -> Result<Vec<String>, IssueError> {
        #[cfg(feature = "sqlx-store")]
        if let (Some(database), Some(user)) = (&self.database, holder.stored_user) {
            let now = clock::now();
            let expires = now.saturating_add(i64::try_from(settings.max_age).unwrap_or(i64::MAX));
            token.stamp(now, expires, codec::new_jti());
            let cookie = database
                .create(token, user, holder.guest, holder.user_agent, now, expires)
                .await?;
            return Ok(session_cookies(settings, &cookie, expires, present));
        }
        let version = self
            .version_for(holder.guest.unwrap_or(holder.user_id))
            .await?;
        let stamp = Stamp {
            version: version.as_ref(),
            guest: holder.guest,
        };
        let (jwt, expires_at) = self.seal(settings, token, clock::now(), stamp)?;
        Ok(session_cookies(settings, &jwt, expires_at, present))
    }

    /// Runs the callbacks: `GET /session` and `POST /session` verify the session, run the `jwt`
    /// callback with `event` and the `session` callback, and renew the token when due (older
    /// than `update_age`, under a rotated-out secret, changed by the callback, or `always_renew`).
    pub async fn read_for_client(
        &self,
        state: &D::State,
        settings: &Settings,
        cookies: &RequestCookies<'_>,
        event: JwtEvent<D::Provider, D::Token>,
        always_renew: bool,
    ) -> Result<ClientSession<D::Session>, SessionError> {
        let verified = self.verify_request(settings, cookies, None).await?;
        let now = clock::now();
        let issued_at = verified.claims.issued_at().unwrap_or(i64::MIN / 2);
        let due = always_renew
            || verified.reissue
            || now.saturating_sub(issued_at) >= i64::try_from(settings.update_age).unwrap_or(0);
        // NextAuth builds `session.user` from the token as read, before the jwt callback (from
        // the user row under the database strategy).
        let user = user_of(&verified);
        // Not due: re-issued only if the jwt callback changes the claims.
        let before = match (due, verified.written) {
            (true, _) => Vec::new(),
            (false, Some(written)) => written,
            (false, None) => serde_json::to_vec(&verified.claims).unwrap_or_default(),
        };
        let mut token = self.run_jwt(state, verified.claims, event).await?;
        let mut set = Vec::new();
        let expires_at = if due || !serialises_to(&token, &before) {
            let present = cookies.chunk_names(&settings.cookies.session_token);
            let stamp = Stamp {
                version: verified.version.as_ref(),
                guest: verified.guest.as_deref(),
            };
            let stored = verified.stored.as_ref();
            let (cookies, expires_at) = self
                .renew(settings, stamp, stored, &mut token, now, &present)
                .await?;
            set = cookies;
            expires_at
        } else {
            token.expires_at().unwrap_or(now)
        };
        let session = build_session::<D>(state, user, &token, expires_at).await;
        let read = crate::events::Session { token: &token };
        crate::definition::fire_event::<D>(crate::events::Event::Session(read), state).await;
        Ok(ClientSession {
            session,
            cookies: set,
        })
    }

    /// Renews a session a read found due: a new token (token strategy), or the row's expiry
    /// and claims (database strategy, the cookie's token written again with the new expiry).
    /// Returns the cookies and the new expiry.
    async fn renew(
        &self,
        settings: &Settings,
        stamp: Stamp<'_>,
        stored: Option<&Stored>,
        token: &mut D::Token,
        now: i64,
        present: &[&str],
    ) -> Result<(Vec<String>, i64), SessionError> {
        #[cfg(feature = "sqlx-store")]
        if let (Some(database), Some(stored)) = (&self.database, stored) {
            let expires = now.saturating_add(i64::try_from(settings.max_age).unwrap_or(i64::MAX));
            token.stamp(now, expires, codec::new_jti());
            let renewed = database.renew(stored, token, now, expires).await;
            #[cfg(feature = "guests")]
            if let (Ok(true), Some(guest), Some(setup)) = (&renewed, stamp.guest, &self.guests) {
                // The read no longer asks the guest store: its activity is recorded here, once
                // per `update_age`, for cleanup.
                guests::record_activity(&*setup.store, guest).await;
            }
            return match renewed {
                Ok(true) => Ok((
                    session_cookies(settings, &stored.token, expires, present),
                    expires,
                )),
                // Deleted since the read (a sign-out elsewhere): the session is over.
                Ok(false) => Err(SessionError::Revoked),
                Err(error) => {
                    tracing::warn!(%error, "could not renew the database session");
                    Err(SessionError::Unavailable)
                }
            };
        }
        #[cfg(not(feature = "sqlx-store"))]
        let _ = stored;
        let (jwt, expires_at) = self.seal(settings, token, now, stamp).map_err(|error| {
            tracing::error!(%error, "could not renew the session token");
            SessionError::Invalid
        })?;
        Ok((
            session_cookies(settings, &jwt, expires_at, present),
            expires_at,
        ))
    }

    /// Runs the callbacks: the session of a request's headers as an application handler sees
    /// it, verified, then the `jwt` and `session` callbacks run; nothing is written back.
    pub async fn read_with_callbacks(
        &self,
        state: &D::State,
        settings: &Settings,
        headers: &http::HeaderMap,
    ) -> Result<CurrentSession<D>, SessionError> {
        let verified = self.verify_headers(settings, headers).await?;
        let user = user_of(&verified);
        let token = self
            .run_jwt(state, verified.claims, JwtEvent::Refresh)
            .await?;
        let expires_at = token.expires_at().unwrap_or_else(clock::now);
        let session = build_session::<D>(state, user, &token, expires_at).await;
        Ok(CurrentSession {
            session,
            token,
            guest_id: verified.guest,
        })
    }

    /// Only verifies, runs no callback: the session of a request's headers (cookies, then a
    /// Bearer token).
    pub async fn verify_headers(
        &self,
        settings: &Settings,
        headers: &http::HeaderMap,
    ) -> Result<Verified<D::Token>, SessionError> {
        let cookies = RequestCookies::from_headers(headers).map_err(|_| SessionError::Invalid)?;
        self.verify_request(settings, &cookies, Some(headers)).await
    }
}

/// The session tokens under the cookie `name` ([`RequestCookies::session_candidates`]);
/// `Invalid` when there are session cookies but none usable (chunks with a gap, too many).
pub(crate) fn cookie_tokens<'c>(
    cookies: &RequestCookies<'c>,
    name: &str,
) -> Result<Vec<Cow<'c, str>>, SessionError> {
    let candidates = cookies.session_candidates(name);
    if candidates.is_empty() && !cookies.chunk_names(name).is_empty() {
        return Err(SessionError::Invalid);
    }
    Ok(candidates)
}

/// An `Authorization: Bearer <token>` header's token, percent-decoded; `None` without one.
pub(crate) fn bearer_token(headers: &http::HeaderMap) -> Option<Result<String, SessionError>> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?
        .trim();
    if token.is_empty() {
        return None;
    }
    Some(
        percent_encoding::percent_decode_str(token)
            .decode_utf8()
            .map(std::borrow::Cow::into_owned)
            .map_err(|_| SessionError::Invalid),
    )
}

async fn build_session<D: AuthDefinition>(
    state: &D::State,
    user: SessionUser,
    token: &D::Token,
    expires_at: i64,
) -> D::Session {
    let session = D::Session::from_parts(user, clock::iso_date(expires_at));
    D::session(session, token, state).await
}

/// The `Set-Cookie` lines that store `jwt`, replacing every chunk in `present`.
pub(crate) fn session_cookies(
    settings: &Settings,
    jwt: &str,
    expires_at: i64,
    present: &[&str],
) -> Vec<String> {
    cookies::session_cookies(
        &settings.cookies.session_token,
        jwt,
        expires_at,
        settings.secure,
        present,
    )
}

/// Whether `token` serialises to exactly `payload`, compared as it is written (no buffer).
fn serialises_to<T: serde::Serialize>(token: &T, payload: &[u8]) -> bool {
    struct Compare<'p> {
        rest: &'p [u8],
    }
    impl std::io::Write for Compare<'_> {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            match self.rest.strip_prefix(bytes) {
                Some(rest) => {
                    self.rest = rest;
                    Ok(bytes.len())
                }
                None => Err(std::io::ErrorKind::InvalidData.into()),
            }
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut compare = Compare { rest: payload };
    serde_json::to_writer(&mut compare, token).is_ok() && compare.rest.is_empty()
}

/// `session.user` of a verified session: the user row's (database strategy), else the claims'.
fn user_of<T: TokenClaims>(verified: &Verified<T>) -> SessionUser {
    match &verified.stored {
        Some(stored) => stored.user.clone(),
        None => session_user(&verified.claims),
    }
}

fn session_user<T: TokenClaims>(token: &T) -> SessionUser {
    SessionUser {
        name: token.name().map(str::to_owned),
        email: token.email().map(str::to_owned),
        image: token.picture().map(str::to_owned),
    }
}
