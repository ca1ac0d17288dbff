//! axum integration: a router to nest at the auth API's path, and extractors for handlers.

use axum::Router;
use axum::body::Body;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::StatusCode;
use http::request::Parts;

use crate::definition::AuthDefinition;
use crate::engine::{Auth, ClientAddr};

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

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        bytes,
    )
        .into_response()
}

/// The signed-in session of a request, for handlers that require one; answers 401 otherwise.
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

/// The verified session token alone, without running callbacks; answers 401 without one.
pub struct SessionToken<D: AuthDefinition>(pub D::Token);

/// Why an extractor refused a request: no valid session. Answers 401 with a JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRequired;

impl IntoResponse for SessionRequired {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": "SessionRequired", "message": "sign in to use this endpoint" });
        json_response(StatusCode::UNAUTHORIZED, &body)
    }
}

impl<D, S> FromRequestParts<S> for Authenticated<D>
where
    D: AuthDefinition,
    Auth<D>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = SessionRequired;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::<D>::from_ref(state);
        let (session, token) = auth.session(&parts.headers).await.ok_or(SessionRequired)?;
        Ok(Authenticated { session, token })
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
    type Rejection = SessionRequired;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::<D>::from_ref(state);
        auth.verified_token(&parts.headers)
            .await
            .map(SessionToken)
            .ok_or(SessionRequired)
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

/// Why [`Member`] or [`Guest`] refused a request that has a session of the other kind: 403 with
/// a JSON body `{ error: "MemberRequired" | "GuestRequired", message }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKindRejection {
    /// No valid session: 401, as [`SessionRequired`].
    SessionRequired,
    /// A guest asked for a members-only handler.
    MemberRequired,
    /// A member asked for a guests-only handler.
    GuestRequired,
}

impl IntoResponse for SessionKindRejection {
    fn into_response(self) -> Response {
        let (status, error, message) = match self {
            SessionKindRejection::SessionRequired => return SessionRequired.into_response(),
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
    type Rejection = SessionRequired;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::<D>::from_ref(state);
        let (session, token, guest) = auth
            .session_of(&parts.headers)
            .await
            .ok_or(SessionRequired)?;
        Ok(match guest {
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
            Err(SessionRequired) => Err(SessionKindRejection::SessionRequired),
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
            Err(SessionRequired) => Err(SessionKindRejection::SessionRequired),
        }
    }
}
