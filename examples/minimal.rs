//! The smallest app: a password sign-in and two protected routes. `cargo run --example minimal`,
//! then open http://localhost:3000/account (the demo password is `demo`).

// ANCHOR: minimal
use auth_runtime::axum::{RequireSession, ServeConfig, serve_app_with_shutdown, shutdown_signal};
use auth_runtime::{User, next_auth};
use axum::{Router, routing::get};

next_auth! {
    providers: [
        Credentials {
            id: "password",
            credentials: { username: {}, password: { type: "password" } },
            authorize: |c| Ok((c.password == "demo").then(|| User::with_id(c.username.clone()))),
        },
    ],
}

pub fn app(auth: Auth) -> Router {
    let api = Router::new().route("/api/me", get(|| async { "signed in" }));
    let pages = Router::new().route("/account", get(|| async { "your account" }));
    api.layer(RequireSession::new(auth.clone())) // 401 JSON without a session
        .merge(pages.layer(RequireSession::new(auth.clone()).pages())) // -> the sign-in page
        .nest("/api/auth", auth.router()) // NextAuth's REST API, for next-auth/react
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let auth = Auth::new(())?; // AUTH_SECRET and AUTH_URL from the environment
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    let (app, limits) = (app(auth), ServeConfig::default()); // timeouts, connection cap
    Ok(serve_app_with_shutdown(listener, app, limits, shutdown_signal()).await?) // stops on SIGTERM
}
// ANCHOR_END: minimal
