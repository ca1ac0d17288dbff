//! axum integration: a router to nest at the auth API's path, extractors for handlers, layers
//! that protect whole routers ([`RequireSession`], [`RequireMember`]), and a server with
//! production timeouts ([`serve_app`]).

mod require;
mod serve;

pub use require::{RequireMember, RequireSession, Required};
pub use serve::{ServeConfig, serve_app, serve_app_with_shutdown, shutdown_signal};

use axum::Router;
use axum::body::Body;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::StatusCode;
use http::request::Parts;

use crate::definition::AuthDefinition;
use crate::engine::Auth;
use crate::protocol::request::ClientAddr;
use crate::sessions::SessionError;

impl<D: AuthDefinition> Auth<D> {
    /// A router serving NextAuth's REST API; nest it at the path of the public URL.
    ///
    /// ```no_run
    /// # use auth_runtime::{User, next_auth};
    /// # next_auth! { providers: [Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(Some(User::with_id("g"))) }] }
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let auth = Auth::new(())?;
    /// let app: axum::Router = axum::Router::new().nest("/api/auth", auth.router());
    /// # Ok(()) }
    /// ```
    pub fn router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let auth = self.clone();
        let handler = move |request: Request| {
            let auth = auth.clone();
            async move { serve(&auth, request).await }
        };
        Router::new()
            .route("/", any(handler.clone()))
            .route("/{*path}", any(handler))
    }
}

async fn serve<D: AuthDefinition>(auth: &Auth<D>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    // The connection's address, for the guest creation limits (served with
    // `into_make_service_with_connect_info::<SocketAddr>()`).
    if let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>().copied() {
        parts.extensions.insert(ClientAddr(addr));
    }
    let limit = auth.settings().max_body_bytes;
    // Session reads and the other GETs carry no body: nothing to collect.
    let bytes = if axum::body::HttpBody::is_end_stream(&body) {
        Ok(bytes::Bytes::new())
    } else {
        axum::body::to_bytes(body, limit).await
    };
    let bytes = match bytes {
        Ok(bytes) => bytes,
        Err(_) => {
            let body = serde_json::json!({
                "error": "BadRequest",
                "message": format!("request body is larger than {limit} bytes or could not be read"),
                "url": format!("{}?error=BadRequest", auth.settings().base_url().endpoint("error")),
            });
            return json_response(StatusCode::PAYLOAD_TOO_LARGE, &body);
        }
    };
    auth.handle(http::Request::from_parts(parts, bytes))
        .await
        .map(Body::from)
}

/// Marks a response as private and never stored by a cache (`Cache-Control: private, no-store`),
/// for routes whose answers carry a visitor's session data (a cart, the user): a shared cache in
/// front must not hand one visitor's answer to the next. The auth API's own responses already
/// carry it.
///
/// ```
/// use auth_runtime::axum::no_store;
///
/// let api: axum::Router = axum::Router::new()
///     .route("/api/me", axum::routing::get(|| async { "me" }))
///     .layer(axum::middleware::map_response(no_store));
/// ```
pub async fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("private, no-store"),
    );
    response
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        bytes,
    )
        .into_response()
}

/// The session of a request, for handlers that require one; answers 401 without one (503 when
/// the session cannot be checked), as [`SessionError`] says.
///
/// The `jwt` and `session` callbacks run as for `GET /api/auth/session`. Needs
/// `Auth<D>: FromRef<S>` for the router's state `S`.
pub struct Authenticated<D: AuthDefinition> {
    /// What `GET /api/auth/session` would return.
    pub session: D::Session,
    /// The session token's claims, after the `jwt` callback.
    pub token: D::Token,
}

impl<D: AuthDefinition> std::fmt::Debug for Authenticated<D>
where
    D::Session: std::fmt::Debug,
    D::Token: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticated")
            .field("session", &self.session)
            .field("token", &self.token)
            .finish()
    }
}

/// The session of a request if there is one; never rejects.
pub struct MaybeAuthenticated<D: AuthDefinition>(pub Option<Authenticated<D>>);

/// The verified session token alone (every check made, no callback run); answers as
/// [`SessionError`] says without one.
pub struct SessionToken<D: AuthDefinition>(pub D::Token);

/// An extractor's answer for a request without a usable session: 401 JSON
/// `{ error: "SessionRequired", reason, message }`, or 503 `{ error: "SessionUnavailable" }` when
/// a store the check needs cannot answer (the same as `GET /api/auth/session`'s 503).
impl IntoResponse for SessionError {
    fn into_response(self) -> Response {
        let (error, reason) = match self {
            SessionError::Unavailable => ("SessionUnavailable", "unavailable"),
            SessionError::Missing => ("SessionRequired", "missing"),
            SessionError::Expired => ("SessionRequired", "expired"),
            SessionError::Revoked => ("SessionRequired", "revoked"),
            _ => ("SessionRequired", "invalid"),
        };
        let message = match self {
            SessionError::Unavailable => {
                "the session cannot be checked right now; try again".to_owned()
            }
            _ => "sign in to use this endpoint".to_owned(),
        };
        let body = serde_json::json!({ "error": error, "reason": reason, "message": message });
        json_response(self.status(), &body)
    }
}

impl<D, S> FromRequestParts<S> for Authenticated<D>
where
    D: AuthDefinition,
    Auth<D>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = SessionError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::<D>::from_ref(state);
        let current = auth.session(&parts.headers).await?;
        Ok(Authenticated {
            session: current.session,
            token: current.token,
        })
    }
}

impl<D, S> FromRequestParts<S> for MaybeAuthenticated<D>
where
    D: AuthDefinition,
    Auth<D>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeAuthenticated(
            Authenticated::<D>::from_request_parts(parts, state)
                .await
                .ok(),
        ))
    }
}

impl<D, S> FromRequestParts<S> for SessionToken<D>
where
    D: AuthDefinition,
    Auth<D>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = SessionError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::<D>::from_ref(state);
        auth.token(&parts.headers).await.map(SessionToken)
    }
}

/// A guest's session (signed in with an Anonymous provider, not upgraded): answers 401 without
/// a session and 403 `GuestRequired` for a signed-in member.
pub struct Guest<D: AuthDefinition> {
    /// The guest's id in the guest store (the token's `gst` claim).
    pub guest_id: String,
    /// What `GET /api/auth/session` would return.
    pub session: D::Session,
    /// The session token's claims, after the `jwt` callback.
    pub token: D::Token,
}

/// A signed-in member: a session that is not a guest's. Answers 401 without a session and
/// 403 `MemberRequired` for a guest, so a handler that takes `Member` cannot be reached by a
/// guest; take [`Visitor`] (or [`Authenticated`]) to serve both.
pub struct Member<D: AuthDefinition> {
    /// What `GET /api/auth/session` would return.
    pub session: D::Session,
    /// The session token's claims, after the `jwt` callback.
    pub token: D::Token,
}

/// Either kind of session, as a `match` the handler must write: answers 401 without one.
pub enum Visitor<D: AuthDefinition> {
    /// A guest.
    Guest(Guest<D>),
    /// A signed-in member.
    Member(Member<D>),
}

/// Why [`Member`] or [`Guest`] refused a request: no usable session (as [`SessionError`]), or a
/// session of the other kind: 403 with a JSON body `{ error: "MemberRequired" | "GuestRequired",
/// message }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionKindRejection {
    /// No usable session: 401 (or 503), as [`SessionError`].
    Session(SessionError),
    /// A guest asked for a members-only handler.
    MemberRequired,
    /// A member asked for a guests-only handler.
    GuestRequired,
}

impl IntoResponse for SessionKindRejection {
    fn into_response(self) -> Response {
        let (status, error, message) = match self {
            SessionKindRejection::Session(error) => return error.into_response(),
            SessionKindRejection::MemberRequired => (
                StatusCode::FORBIDDEN,
                "MemberRequired",
                "sign in with an account to use this endpoint",
            ),
            SessionKindRejection::GuestRequired => (
                StatusCode::FORBIDDEN,
                "GuestRequired",
                "this endpoint is for guests only",
            ),
        };
        json_response(
            status,
            &serde_json::json!({ "error": error, "message": message }),
        )
    }
}

impl<D, S> FromRequestParts<S> for Visitor<D>
where
    D: AuthDefinition,
    Auth<D>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = SessionError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::<D>::from_ref(state);
        let current = auth.session(&parts.headers).await?;
        let (session, token) = (current.session, current.token);
        Ok(match current.guest_id {
            Some(guest_id) => Visitor::Guest(Guest {
                guest_id,
                session,
                token,
            }),
            None => Visitor::Member(Member { session, token }),
        })
    }
}

impl<D, S> FromRequestParts<S> for Member<D>
where
    D: AuthDefinition,
    Auth<D>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = SessionKindRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Visitor::<D>::from_request_parts(parts, state).await {
            Ok(Visitor::Member(member)) => Ok(member),
            Ok(Visitor::Guest(_)) => Err(SessionKindRejection::MemberRequired),
            Err(error) => Err(SessionKindRejection::Session(error)),
        }
    }
}

impl<D, S> FromRequestParts<S> for Guest<D>
where
    D: AuthDefinition,
    Auth<D>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = SessionKindRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Visitor::<D>::from_request_parts(parts, state).await {
            Ok(Visitor::Guest(guest)) => Ok(guest),
            Ok(Visitor::Member(_)) => Err(SessionKindRejection::GuestRequired),
            Err(error) => Err(SessionKindRejection::Session(error)),
        }
    }
}

/// The claims of a session token another app wrote (a Next.js app running next-auth, or any
/// server sharing its secret), read by the [`TokenReader`](crate::sessions::TokenReader) in the router's
/// state; answers as [`SessionError`] says without one. For APIs that trust the session cookie
/// (or Bearer token) of the app in front of them, without serving the auth API themselves.
///
/// ```no_run
/// use auth_runtime::axum::SessionClaims;
/// use auth_runtime::{TokenFormat, TokenReader};
///
/// #[derive(serde::Deserialize)]
/// struct Claims {
///     sub: Option<String>,
/// }
///
/// async fn me(SessionClaims(token): SessionClaims<Claims>) -> String {
///     token.claims.sub.unwrap_or_default()
/// }
///
/// let reader = TokenReader::<Claims>::from_env().unwrap();
/// let app: axum::Router = axum::Router::new()
///     .route("/api/me", axum::routing::get(me))
///     .with_state(reader);
/// ```
pub struct SessionClaims<T>(pub crate::sessions::ReadToken<T>);

impl<T, S> FromRequestParts<S> for SessionClaims<T>
where
    T: serde::de::DeserializeOwned + Send,
    crate::sessions::TokenReader<T>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = SessionError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        crate::sessions::TokenReader::<T>::from_ref(state)
            .read(&parts.headers)
            .map(SessionClaims)
    }
}
