//! Magic links: the tea shop of `guest_checkout.rs`, signed into by e-mail. A visitor fills a
//! cart as a guest, asks for a sign-in link, follows it from the mail, and keeps the cart.
//!
//! - Sessions live in the database (`strategy: "database"`): the SQLite file `magic_link.db`
//!   holds the guests, the carts, the users, their sessions and the links' one-time tokens.
//!   "Your devices" on the page lists the browsers signed in, and signs any of them out.
//! - The link is mailed through `AUTH_EMAIL_SERVER` (`smtp://user:password@host:587`) from
//!   `AUTH_EMAIL_FROM` (`Tea Shop <no-reply@shop.example>`). Without a server, a debug build
//!   writes the link to the log instead (look for `SIGN-IN LINK`).
//! - The first link an address follows makes its user; the guest's cart becomes theirs
//!   (Promoted). A later sign-in from another guest merges that guest's cart into it.
//!
//! ```sh
//! cargo run --example magic_link     # then open http://127.0.0.1:3000
//! ```
//!
//! `PORT` (default 3000), `AUTH_URL`, `AUTH_SECRET`, `AUTH_EMAIL_SERVER`, `AUTH_EMAIL_FROM`,
//! `DATABASE_URL` (default the SQLite file `magic_link.db`, or `MAGIC_LINK_DB`) and
//! `AUTH_SESSION_STRATEGY` (`jwt` keeps sessions in tokens) configure it.

#[path = "guest_checkout.rs"]
#[allow(dead_code)]
pub mod shop;

use std::time::Duration;

use auth_runtime::axum::{ServeConfig, serve_app_with_shutdown, shutdown_signal};
use auth_runtime::guests::GuestDatabase;
use auth_runtime::next_auth;

next_auth! {
    /// The shop's claims.
    pub struct Token {
        /// True for a guest's session.
        guest: bool,
    }

    /// What `GET /api/auth/session` returns.
    pub struct Session {
        /// True for guests, false once signed in.
        is_guest: bool,
        /// Whose cart this is.
        user_id: Option<String>,
    }

    state: shop::Shop,
    strategy: "database",

    providers: [
        /// Every visitor: a guest, created by the guest store.
        Anonymous {},
        /// A sign-in link mailed to the address.
        Email {},
    ],

    jwt: |token, event| match event {
        JwtEvent::SignIn { provider: Provider::Anon, .. } => Ok(Token { guest: true, ..token }),
        JwtEvent::SignIn { provider: Provider::Email, .. } => Ok(Token { guest: false, ..token }),
        JwtEvent::Refresh | JwtEvent::Update { .. } => Ok(token),
    },

    session: |session, token| Session {
        is_guest: token.guest,
        user_id: token.sub.clone(),
        ..session
    },

    pages: { sign_in: "/" },
    theme: { brand_color: "#0f766e", logo: "/logo.svg" },
}

#[tokio::main]
async fn main() {
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
    let default_file = std::env::var("MAGIC_LINK_DB").unwrap_or_else(|_| "magic_link.db".into());
    let db = GuestDatabase::from_env(&default_file).await?;
    shop::migrate(&db).await?;
    let mut builder = shop::auth_builder::<NextAuth>(db.clone());
    if std::env::var_os("AUTH_URL").is_none() && std::env::var_os("NEXTAUTH_URL").is_none() {
        builder = builder.url(format!("http://127.0.0.1:{port}/api/auth"));
    }
    let app = shop::app(builder.build()?);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!("listening on http://127.0.0.1:{port}");
    let limits = ServeConfig::default()
        .header_read_timeout(Duration::from_secs(10))
        .request_timeout(Duration::from_secs(30));
    serve_app_with_shutdown(listener, app, limits, shutdown_signal()).await?;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}
