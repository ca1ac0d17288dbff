//! A Rust API behind a Next.js app that runs next-auth: it trusts the app's session cookie, given
//! only the app's secret and its token format, as next-auth's `getToken` does on the Node side.
//! It serves no auth API of its own: signing in stays in the Next.js app.
//!
//! ```sh
//! AUTH_SECRET=<the Next.js app's secret> cargo run --example nextjs_backend
//! ```
//!
//! `AUTH_SECRET` (or `NEXTAUTH_SECRET`; older secrets in `AUTH_SECRET_1`, ...), `AUTH_TOKEN_FORMAT`
//! (`nextauth-v4` for next-auth 4, the default; `authjs-v5` for Auth.js / next-auth 5) and `PORT`
//! (default 4000) configure it. The browser reaches it on the same site as the Next.js app (a
//! rewrite of `/api/shop/*`, or a sibling subdomain with the cookie's domain set), so the
//! session cookie is sent along; an API client sends `Authorization: Bearer <token>` instead.

use auth_runtime::TokenReader;
use auth_runtime::axum::{
    ServeConfig, SessionClaims, no_store, serve_app_with_shutdown, shutdown_signal,
};
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

// ANCHOR: api
/// The claims the Next.js app's `jwt` callback puts in its session token. Unknown claims are
/// ignored; a missing one is `None`.
#[derive(Debug, Deserialize)]
pub struct Claims {
    /// The user id. The anonymous-sessions guide leaves it out of a guest's token.
    pub sub: Option<String>,
    /// The user's display name.
    pub name: Option<String>,
    /// The user's e-mail address.
    pub email: Option<String>,
}

/// Whether a session is a guest's: a token without a user id (the guide's convention), or one
/// this crate's server wrote for a guest.
fn is_guest(token: &auth_runtime::ReadToken<Claims>) -> bool {
    token.guest_id.is_some() || token.claims.sub.is_none()
}

/// `GET /api/me`: who the session belongs to; 401 JSON without a valid session.
async fn me(SessionClaims(token): SessionClaims<Claims>) -> Json<serde_json::Value> {
    Json(json!({
        "id": token.claims.sub,
        "name": token.claims.name,
        "email": token.claims.email,
        "guest": is_guest(&token),
    }))
}

/// `GET /api/orders`: members only; a guest gets 403 JSON.
async fn orders(SessionClaims(token): SessionClaims<Claims>) -> Response {
    if is_guest(&token) {
        let body = json!({ "error": "MemberRequired", "message": "sign in to see your orders" });
        return (StatusCode::FORBIDDEN, Json(body)).into_response();
    }
    Json(json!({ "user": token.claims.sub, "orders": [] })).into_response()
}

/// The API, reading sessions with `reader`.
pub fn app(reader: TokenReader<Claims>) -> Router {
    Router::new()
        .route("/api/me", get(me))
        .route("/api/orders", get(orders))
        // Answers carry the visitor's data: never kept by a shared cache.
        .layer(axum::middleware::map_response(no_store))
        .with_state(reader)
}
// ANCHOR_END: api

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let reader = match TokenReader::<Claims>::from_env() {
        Ok(reader) => reader,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    };
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(4000);
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on 127.0.0.1:{port}: {error}");
            std::process::exit(1);
        }
    };
    tracing::info!(format = %reader.format(), "listening on http://127.0.0.1:{port}");
    if let Err(error) = serve_app_with_shutdown(
        listener,
        app(reader),
        ServeConfig::default(),
        shutdown_signal(),
    )
    .await
    {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}
