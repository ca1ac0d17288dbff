//! NextAuth's "Anonymous Sessions" guide, in Rust.
//!
//! Every visitor of `/` is signed in as a guest without doing anything: the page calls
//! `signIn('anon', { redirect: false })` as the guide's React snippet does. Each guest is a row of
//! the guest store (an SQLite file, or PostgreSQL when `DATABASE_URL` is a `postgres://` URL), so
//! it survives restarts, and a burst of guests is refused past the store's creation budget.
//!
//! ```sh
//! cargo run --example anonymous          # then open http://127.0.0.1:3000
//! ```
//!
//! `PORT` (default 3000), `AUTH_URL` (default `http://127.0.0.1:$PORT/api/auth`), `AUTH_SECRET`
//! (a development secret is generated when unset), `DATABASE_URL` (a `postgres://` URL or an
//! SQLite file; default `anonymous.db`, or `GUESTS_DB`), the `AUTH_GUEST_*` creation limits and
//! `AUTH_SESSION_STRATEGY` (`database` keeps sessions in the same database) configure it. SIGTERM or Ctrl-C stops it cleanly (requests in flight finish, the store is
//! closed, exit status 0).

use std::sync::Arc;

use auth_runtime::axum::{
    Authenticated, ServeConfig, no_store, serve_app_with_shutdown, shutdown_signal,
};
use auth_runtime::guests::{CreateGuest, GuestDatabase, GuestError, GuestStore};
use auth_runtime::{CallbackError, User, next_auth};
use axum::Router;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

/// What the callbacks receive as `state`.
pub struct AppState {
    /// The anonymous users.
    pub guests: Arc<dyn GuestStore>,
}

// ANCHOR: config
next_auth! {
    /// Claims carried in the session token, on top of the standard ones.
    pub struct Token {
        /// The persistent anonymous user behind this session.
        guest_id: Option<String>,
        /// The third party's access token for this visitor.
        third_party_token: Option<String>,
    }

    /// What `GET /api/auth/session` returns, on top of `{ user, expires }`.
    pub struct Session {
        /// False for guests; true once the visitor signs in with a real provider.
        is_logged_in: bool,
    }

    state: AppState,

    providers: [
        // Dummy: anyone can sign in anonymously. Each sign-in creates a persistent guest.
        Credentials {
            id: "anon",
            name: "Anonymous",
            credentials: {},
            authorize: async |_credentials, state| {
                let id = create_anonymous_user(state.guests.as_ref()).await?;
                Ok(Some(User::with_id(id)))
            },
        },
    ],

    jwt: async |token, event| match event {
        // A new guest gets an anonymous token from the third party. As in the guide, a guest
        // has no `sub`: only real providers set it, which is what `is_logged_in` reads.
        JwtEvent::SignIn { provider: Provider::Anon, user, .. } => Ok(Token {
            sub: None,
            guest_id: Some(user.id),
            third_party_token: Some(third_party::anonymous_token().await?),
            ..token
        }),
        JwtEvent::Refresh | JwtEvent::Update { .. } => Ok(token),
    },

    session: |session, token| Session {
        is_logged_in: token.sub.is_some(),
        ..session
    },
}
// ANCHOR_END: config

/// Creates a persistent anonymous user and returns its id. Past the store's creation budget the
/// sign-in fails with `RateLimited`, which `signIn()` reports as its `error`; a store that cannot
/// be reached answers `503 GuestStoreUnavailable`, as the built-in `Anonymous` provider does.
pub async fn create_anonymous_user(guests: &dyn GuestStore) -> Result<String, CallbackError> {
    // The requesting client pays: one client cannot spend every visitor's budget.
    match guests.create(CreateGuest::for_requesting_client()?).await {
        Ok(created) => Ok(created.guest.id),
        Err(GuestError::RateLimited { .. }) => Err(CallbackError::message("RateLimited")),
        Err(error) => Err(error.into()),
    }
}

/// Stands in for a third-party service that hands out tokens for anonymous visitors (the
/// guide's `getAnonymousToken`, e.g. commercetools' anonymous sessions).
pub mod third_party {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    static ISSUED: AtomicU64 = AtomicU64::new(0);

    /// An opaque token for a new anonymous visitor.
    pub async fn anonymous_token() -> Result<String, std::io::Error> {
        let n = ISSUED.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(std::io::Error::other)?
            .as_nanos();
        Ok(format!("anon-{nanos:x}-{n}"))
    }
}

// ANCHOR: app
/// The application: the page at `/`, a JSON endpoint for signed-in visitors, the auth API.
pub fn app(auth: Auth) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/api/me", get(me))
        // Answers carry the visitor's session: never kept by a shared cache.
        .layer(axum::middleware::map_response(no_store))
        .nest("/api/auth", auth.router())
        .with_state(auth)
}

/// A handler that requires a session: `Authenticated` answers 401 without one.
async fn me(Authenticated { session, token }: Authenticated<NextAuth>) -> impl IntoResponse {
    axum::Json(serde_json::json!({
        "guestId": token.guest_id,
        "isLoggedIn": session.is_logged_in,
    }))
}
// ANCHOR_END: app

async fn index() -> Html<&'static str> {
    Html(include_str!("anonymous.html"))
}

#[tokio::main]
async fn main() {
    // Errors say what to do (which variable to set, what to run): printed as sentences.
    if let Err(error) = run().await {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let default_file = std::env::var("GUESTS_DB").unwrap_or_else(|_| "anonymous.db".to_owned());
    // Created and migrated on first use; limits from the environment (`AUTH_GUEST_*`).
    let db = GuestDatabase::from_env(&default_file).await?;

    // Database sessions (`AUTH_SESSION_STRATEGY=database`) live in the same database.
    let mut builder = Auth::builder(AppState { guests: db.store() }).adapter(db.adapter());
    if std::env::var_os("AUTH_URL").is_none() && std::env::var_os("NEXTAUTH_URL").is_none() {
        builder = builder.url(format!("http://127.0.0.1:{port}/api/auth"));
    }
    let auth = builder.build()?;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!(
        "listening on http://127.0.0.1:{port} (auth API at {})",
        auth.settings().base_url().as_str()
    );
    // The client's address keys the per-client guest limits; timeouts close idle and slow
    // sockets; on SIGTERM the requests in flight finish, then the store commits and closes.
    serve_app_with_shutdown(
        listener,
        app(auth),
        ServeConfig::default(),
        shutdown_signal(),
    )
    .await?;
    db.close().await;
    Ok(())
}
