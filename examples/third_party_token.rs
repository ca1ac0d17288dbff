//! NextAuth's "Anonymous Sessions" guide, second configuration, in Rust: every visitor is a guest
//! with an anonymous third-party token; signing in with the `user` OpenID Connect provider
//! ("Logged In Users") trades it for a logged-in third-party token, obtained with the provider's
//! `sub` and the validated ID token. The guest's token is carried over, so the third party can
//! keep what the guest did (a cart).
//!
//! ```sh
//! AUTH_USER_ISSUER=https://idp.example.com AUTH_USER_ID=my-client AUTH_USER_SECRET=... \
//!     cargo run --example third_party_token      # then open http://127.0.0.1:3000
//! ```
//!
//! The provider must allow the redirect URI `$AUTH_URL/callback/user`. `PORT` (default 3000),
//! `AUTH_URL` (default `http://127.0.0.1:$PORT/api/auth`) and `AUTH_SECRET` (a development
//! secret is generated when unset) configure the rest.

use auth_runtime::axum::{Authenticated, ServeConfig, serve_app_with_shutdown, shutdown_signal};
use auth_runtime::{CallbackError, User, next_auth};
use axum::Router;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

// ANCHOR: config
next_auth! {
    /// Claims carried in the session token, on top of the standard ones.
    pub struct Token {
        /// The third party's access token for this visitor (anonymous or logged in).
        third_party_token: Option<String>,
        /// The anonymous third-party token this visitor had as a guest before logging in.
        guest_token: Option<String>,
    }

    /// What `GET /api/auth/session` returns, on top of `{ user, expires }`.
    pub struct Session {
        /// False for guests; true once the visitor signs in with `user`.
        is_logged_in: bool,
    }

    providers: [
        // Dummy: anyone can sign in anonymously.
        Credentials {
            id: "anon",
            name: "Anonymous",
            credentials: {},
            authorize: |_credentials| Ok(Some(User::default())),
        },
        // A real OpenID provider; issuer, client id and secret come from AUTH_USER_ISSUER,
        // AUTH_USER_ID and AUTH_USER_SECRET at run time.
        Oidc {
            id: "user",
            name: "Logged In Users",
        },
    ],

    jwt: async |token, event| match event {
        // A guest has no `sub`: only the real provider sets it, which is what `is_logged_in` reads.
        JwtEvent::SignIn { provider: Provider::Anon, .. } => Ok(Token {
            sub: None,
            third_party_token: Some(third_party::anonymous_token().await?),
            ..token
        }),
        JwtEvent::SignIn { provider: Provider::User, profile, account, previous, .. } => {
            let profile = profile.ok_or_else(|| CallbackError::message("Missing profile in user login"))?;
            let id_token = account.id_token.ok_or_else(|| CallbackError::message("Missing ID token in user login"))?;
            // The session the browser had before, if it was a guest's.
            let guest_token = previous
                .filter(|guest| guest.sub.is_none())
                .and_then(|guest| guest.third_party_token);
            let logged_in = third_party::logged_in_token(&profile.sub, &id_token, guest_token.as_deref()).await?;
            Ok(Token {
                sub: Some(profile.sub),
                third_party_token: Some(logged_in),
                guest_token,
                ..token
            })
        }
        JwtEvent::Refresh | JwtEvent::Update { .. } => Ok(token),
    },

    session: |session, token| Session {
        is_logged_in: token.sub.is_some(),
        ..session
    },
}
// ANCHOR_END: config

/// Stands in for the third-party service of the guide (`getAnonymousToken`, `getLoggedInToken`,
/// e.g. commercetools): it hands out opaque tokens.
pub mod third_party {
    use std::sync::atomic::{AtomicU64, Ordering};

    static ISSUED: AtomicU64 = AtomicU64::new(0);

    /// Why the third party refused a token.
    #[derive(Debug, thiserror::Error)]
    pub enum ThirdPartyError {
        /// The proof of sign-in is missing.
        #[error("the third party needs the user's ID token")]
        MissingProof,
    }

    fn next() -> u64 {
        ISSUED.fetch_add(1, Ordering::Relaxed)
    }

    /// An access token for a new anonymous visitor.
    pub async fn anonymous_token() -> Result<String, ThirdPartyError> {
        Ok(format!("anon-{}-{}", std::process::id(), next()))
    }

    /// An access token for the logged-in user `sub`, who proves the sign-in with `id_token`; a
    /// guest token, when given, is merged into the user's account (the guest's cart).
    pub async fn logged_in_token(
        sub: &str,
        id_token: &str,
        guest_token: Option<&str>,
    ) -> Result<String, ThirdPartyError> {
        if id_token.split('.').count() != 3 {
            return Err(ThirdPartyError::MissingProof);
        }
        let merged = if guest_token.is_some() { "-merged" } else { "" };
        Ok(format!("user-{sub}-{}{merged}", next()))
    }
}

// ANCHOR: app
/// The application: the page at `/`, a JSON endpoint for signed-in visitors, the auth API.
pub fn app(auth: Auth) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/api/me", get(me))
        .nest("/api/auth", auth.router())
        .with_state(auth)
}

/// What the application knows about the visitor, from the verified session token.
async fn me(Authenticated { session, token }: Authenticated<NextAuth>) -> impl IntoResponse {
    axum::Json(serde_json::json!({
        "sub": token.sub,
        "isLoggedIn": session.is_logged_in,
        "thirdPartyToken": token.third_party_token,
        "guestToken": token.guest_token,
    }))
}
// ANCHOR_END: app

async fn index() -> Html<&'static str> {
    Html(PAGE)
}

/// Signs the visitor in as a guest, then offers the real sign-in (the built-in page's form).
const PAGE: &str = r#"<!doctype html><meta charset="utf-8"><title>Third-party token</title>
<h1>Third-party token</h1><pre id="me">…</pre>
<p><a href="/api/auth/signin">Log in</a> · <a href="/api/auth/signout">Sign out</a></p>
<script>
const api = (path, init) => fetch('/api/auth/' + path, init).then((r) => r.json());
(async () => {
  let session = await api('session');
  if (!session.user) {
    const { csrfToken } = await api('csrf');
    const body = new URLSearchParams({ csrfToken, callbackUrl: location.href, json: 'true' });
    await api('callback/anon', { method: 'POST', body });
  }
  document.getElementById('me').textContent = JSON.stringify(await (await fetch('/api/me')).json(), null, 2);
})();
</script>"#;

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
    let mut builder = Auth::builder(());
    if std::env::var_os("AUTH_URL").is_none() && std::env::var_os("NEXTAUTH_URL").is_none() {
        builder = builder.url(format!("http://127.0.0.1:{port}/api/auth"));
    }
    // Fails with the name of the missing variable (AUTH_USER_ISSUER, AUTH_USER_ID, ...).
    let auth = builder.build()?;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!(
        "listening on http://127.0.0.1:{port} (auth API at {})",
        auth.settings().base_url().as_str()
    );
    serve_app_with_shutdown(
        listener,
        app(auth),
        ServeConfig::default(),
        shutdown_signal(),
    )
    .await?;
    Ok(())
}
