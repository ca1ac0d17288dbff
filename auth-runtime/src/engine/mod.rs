//! The public facade: [`Auth`] serves NextAuth's REST API (`http::Request` in, `http::Response`
//! out) and reads sessions for application handlers; [`AuthBuilder`] makes one.

mod builder;

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};

pub use builder::AuthBuilder;

use crate::body::RequestBody;
use crate::cookies::{CookieError, RequestCookies};
use crate::definition::AuthDefinition;
use crate::error::{ConfigError, RequestError};
use crate::handlers;
pub(crate) use crate::handlers::core::Core;
use crate::protocol::flavour::Flavour;
use crate::protocol::reply::{Reply, bad_request};
use crate::protocol::request::{ClientAddr, RequestContext, parse_body};
use crate::protocol::route::{self, Action};
use crate::sessions::{CurrentSession, IssueError, SessionError, Stamp};
use crate::settings::Settings;

/// The authentication engine for one application definition `D`.
///
/// `next_auth!` generates `D` and the alias `type Auth = auth_runtime::Auth<NextAuth>`. The engine
/// is cheap to clone (one `Arc`) and serves NextAuth v4's REST API through [`Auth::handle`], or
/// through [`Auth::router`] in axum.
///
/// ```
/// use auth_runtime::{User, next_auth};
///
/// next_auth! {
///     providers: [
///         Credentials {
///             id: "anon",
///             name: "Anonymous",
///             credentials: {},
///             authorize: |_credentials| Ok(Some(User::with_id("guest"))),
///         },
///     ],
/// }
///
/// let auth = Auth::builder(())
///     .secret("a-secret-of-at-least-32-characters!!")
///     .url("http://127.0.0.1:3000/api/auth")
///     .build()
///     .unwrap();
/// assert_eq!(auth.settings().base_url().as_str(), "http://127.0.0.1:3000/api/auth");
/// ```
pub struct Auth<D: AuthDefinition> {
    core: Arc<Core<D>>,
}

impl<D: AuthDefinition> Clone for Auth<D> {
    fn clone(&self) -> Self {
        Auth {
            core: Arc::clone(&self.core),
        }
    }
}

impl<D: AuthDefinition> std::fmt::Debug for Auth<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("url", &self.core.settings.base.as_str())
            .field("token_format", &self.core.settings.token_format)
            .field(
                "providers",
                &D::PROVIDERS.iter().map(|p| p.id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl<D: AuthDefinition> Auth<D> {
    /// Starts building an engine around the application state the callbacks receive.
    pub fn builder(state: D::State) -> AuthBuilder<D> {
        AuthBuilder::new(state)
    }

    /// An engine configured from the environment alone (see [`AuthBuilder`]).
    pub fn new(state: D::State) -> Result<Self, ConfigError> {
        Self::builder(state).build()
    }

    pub(crate) fn from_core(core: Core<D>) -> Self {
        Auth {
            core: Arc::new(core),
        }
    }

    /// The application state the callbacks receive.
    pub fn state(&self) -> &D::State {
        &self.core.state
    }

    /// The resolved settings.
    pub fn settings(&self) -> &Settings {
        &self.core.settings
    }

    /// The session of a request, as an application handler sees it, with every check
    /// `GET /api/auth/session` makes (token, expiry, session version, guest still a guest) and
    /// the `jwt` and `session` callbacks run; nothing is written back. The token is read from
    /// the session cookie, or from an `Authorization: Bearer` header.
    ///
    /// ```
    /// # use auth_runtime::{SessionError, TokenClaims, User, next_auth};
    /// # next_auth! { providers: [Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(Some(User::with_id("g"))) }] }
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let auth = Auth::builder(()).secret("0123456789abcdef0123456789abcdef").build().unwrap();
    /// let mut token = Token::from_user(&User::with_id("user-1"));
    /// let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    /// let jwt = auth.encode_session_token(&mut token, now.as_secs() as i64).await.unwrap();
    ///
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("authorization", format!("Bearer {jwt}").parse().unwrap());
    /// let current = auth.session(&headers).await.unwrap();
    /// assert_eq!(current.token.sub.as_deref(), Some("user-1"));
    /// assert_eq!(auth.session(&http::HeaderMap::new()).await.unwrap_err(), SessionError::Missing);
    /// # });
    /// ```
    pub async fn session(
        &self,
        headers: &http::HeaderMap,
    ) -> Result<CurrentSession<D>, SessionError> {
        let core = &self.core;
        core.sessions
            .read_with_callbacks(&core.state, &core.settings, headers)
            .await
    }

    /// The session token's claims of a request, with the same checks as [`Auth::session`]
    /// (token, expiry, session version, guest still a guest) but without running any callback.
    pub async fn token(&self, headers: &http::HeaderMap) -> Result<D::Token, SessionError> {
        let core = &self.core;
        core.sessions
            .verify_headers(&core.settings, headers)
            .await
            .map(|verified| verified.claims)
    }

    /// Issues a session token as a sign-in would, for sessions created outside the REST API
    /// (and for tests): stamps `iat = issued_at`, `exp = iat + max_age` and a fresh `jti`, and the current
    /// session version of the token's `sub` when sign-out everywhere is configured, so
    /// [`Auth::sign_out_everywhere`] ends it like any other session.
    ///
    /// ```
    /// # use auth_runtime::{TokenClaims, User, next_auth};
    /// # next_auth! { providers: [Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(Some(User::with_id("g"))) }] }
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let auth = Auth::builder(()).secret("0123456789abcdef0123456789abcdef").build().unwrap();
    /// let mut token = Token::from_user(&User::with_id("guest-1"));
    /// let jwt = auth.encode_session_token(&mut token, 1_800_000_000).await.unwrap();
    /// assert_eq!(token.exp, Some(1_800_000_000 + 30 * 24 * 3600));
    /// // NextAuth v4's format by default: a compact JWE of five segments.
    /// assert_eq!(jwt.split('.').count(), 5);
    /// # });
    /// ```
    pub async fn encode_session_token(
        &self,
        token: &mut D::Token,
        issued_at: i64,
    ) -> Result<String, IssueError> {
        use crate::definition::TokenClaims;
        let core = &self.core;
        if core.sessions.in_database() {
            return Err(IssueError::DatabaseStrategy);
        }
        let version = match token.sub() {
            Some(sub) => core.sessions.version_for(sub).await?,
            None => None,
        };
        let stamp = Stamp {
            version: version.as_ref(),
            guest: None,
        };
        core.sessions
            .seal(&core.settings, token, issued_at, stamp)
            .map(|(jwt, _)| jwt)
    }

    /// Ends every session of `user_id` (the `User::id` its sign-ins produced) on every server:
    /// the next read of any token minted before this call signs it out, tokens minted without a
    /// version included. Needs a store ([`AuthBuilder::session_versions`]); returns the user's
    /// new session version.
    pub async fn sign_out_everywhere(
        &self,
        user_id: &str,
    ) -> Result<u64, crate::session_version::SessionVersionError> {
        use crate::session_version::SessionVersionError;
        #[cfg(feature = "sqlx-store")]
        if let Some(database) = self.core.sessions.database() {
            database
                .adapter()
                .delete_sessions_of_subject(user_id)
                .await
                .map_err(|error| SessionVersionError(Box::new(error)))?;
            return match self.core.sessions.versions() {
                Some(versions) => versions.bump(user_id).await,
                None => Ok(0),
            };
        }
        match self.core.sessions.versions() {
            Some(versions) => versions.bump(user_id).await,
            None => Err(SessionVersionError(
                "no session version store is configured (AuthBuilder::session_versions)".into(),
            )),
        }
    }

    /// The sessions of the request's user, newest first: a "your devices" list (database
    /// strategy). Each [`Device`](crate::sessions::Device) says whether it is the request's own.
    ///
    /// ```
    /// # use auth_runtime::{User, next_auth};
    /// # next_auth! { strategy: "database", providers: [Credentials { id: "pw", credentials: {}, authorize: |_c| Ok(Some(User::with_id("u"))) }] }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let auth = Auth::builder(()).secret("0123456789abcdef0123456789abcdef").build().unwrap();
    /// let error = auth.devices(&http::HeaderMap::new()).await.unwrap_err();
    /// assert_eq!(error.status(), http::StatusCode::UNAUTHORIZED);
    /// # });
    /// ```
    #[cfg(feature = "sqlx-store")]
    pub async fn devices(
        &self,
        headers: &http::HeaderMap,
    ) -> Result<Vec<crate::sessions::Device>, crate::sessions::DeviceError> {
        let core = &self.core;
        core.sessions.devices(&core.settings, headers).await
    }

    /// Ends the session `id` (a [`Device::id`](crate::sessions::Device::id)) of the request's user: that
    /// browser is signed out at its next request. `false` when the user has no such session.
    #[cfg(feature = "sqlx-store")]
    pub async fn end_device(
        &self,
        headers: &http::HeaderMap,
        id: &str,
    ) -> Result<bool, crate::sessions::DeviceError> {
        let core = &self.core;
        core.sessions.end_device(&core.settings, headers, id).await
    }

    /// Ends every session of the request's user but the request's own; returns how many.
    #[cfg(feature = "sqlx-store")]
    pub async fn end_other_devices(
        &self,
        headers: &http::HeaderMap,
    ) -> Result<u64, crate::sessions::DeviceError> {
        let core = &self.core;
        core.sessions
            .end_other_devices(&core.settings, headers)
            .await
    }

    /// Serves one request of the auth API. The path may include the base path
    /// (`/api/auth/session`) or be relative to it (`/session`).
    ///
    /// Never panics on input and never answers a 5xx for a malformed request.
    pub async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        if self.core.settings.debug {
            use tracing::Instrument;
            let span = crate::debug::request_span(request.method(), request.uri().path());
            let reply = self.reply(request).instrument(span.clone()).await;
            span.in_scope(|| {
                crate::debug::step!(self.core.settings, "reply", status = reply.status.as_u16());
            });
            return reply.into_response();
        }
        self.reply(request).await.into_response()
    }

    async fn reply(&self, request: Request<Bytes>) -> Reply {
        let core = &*self.core;
        let settings = &core.settings;
        let (parts, body) = request.into_parts();
        let Some(route) = route::route(parts.uri.path(), settings.base.path()) else {
            return Reply::unsupported(&parts.method);
        };
        if !route.action.allows(&parts.method) {
            return Reply::unsupported(&parts.method);
        }

        let cookies = match RequestCookies::from_headers(&parts.headers) {
            Ok(cookies) => cookies,
            Err(CookieError::HeaderTooLarge) => {
                return bad_request(
                    settings,
                    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                    &CookieError::HeaderTooLarge.to_string(),
                );
            }
        };

        // NextAuth v4's wire or Auth.js v5's, by the token format: decided here, once.
        let flavour = Flavour::of(settings);
        let body = if parts.method == Method::POST {
            match parse_body(&parts.headers, &body, settings.max_body_bytes, flavour) {
                Ok(body) => body,
                Err(error) => {
                    let status = match error {
                        RequestError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                        RequestError::UnsupportedContentType(_) => {
                            StatusCode::UNSUPPORTED_MEDIA_TYPE
                        }
                        _ => StatusCode::BAD_REQUEST,
                    };
                    return bad_request(settings, status, &error.to_string());
                }
            }
        } else {
            RequestBody::default()
        };

        if route.action == Action::Log {
            return handlers::log(&body, &core.client_log);
        }
        if route.action == Action::Providers {
            return Reply::json(StatusCode::OK, core.providers_json.clone());
        }

        let query = parts.uri.query().unwrap_or_default();
        // A session read uses neither the CSRF token nor the callback URL; it only keeps their
        // cookies in place, so it skips verifying and resolving what is already there.
        let session_read = route.action == Action::Session && parts.method == Method::GET;
        let mut context = RequestContext::init::<D>(
            settings,
            &core.state,
            &cookies,
            &body,
            query,
            &parts.headers,
            session_read,
        )
        .await;
        context.peer = parts.extensions.get::<ClientAddr>().map(|a| a.0.ip());
        crate::debug::step!(
            settings,
            "init",
            action = ?route.action,
            provider = route.provider.map(|p| crate::log_budget::sanitized(p, 64)),
            csrf = if context.csrf.new_cookie.is_some() { "new" } else { "from cookie" },
            csrf_verified = parts.method == Method::POST && context.csrf_verified(),
            callback_url = %crate::log_budget::sanitized(&context.callback_url, 200)
        );
        let reply = handlers::dispatch(core, &parts.method, route, &context, &cookies).await;
        let mut reply = flavour.speak(&settings.base, route.action, reply);
        // The init step's cookies go first so that a handler's own cookie of the same name wins.
        let mut all = context.queued_cookies;
        all.append(&mut reply.cookies);
        reply.cookies = all;
        reply
    }
}
