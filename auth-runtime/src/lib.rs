//! NextAuth.js for Rust: declare an application's authentication once in [`next_auth!`],
//! checked by the compiler, and serve NextAuth v4's own REST API from axum, so the unmodified
//! `next-auth/react` client (`useSession`, `signIn`, `signOut`) works against a Rust backend.
//! Sessions are next-auth's own encrypted cookies ([`TokenFormat`]), shared with a Next.js app;
//! guests (anonymous sessions that later become users) are first-class ([`guests`], feature
//! `guests`).
//!
//! # A complete app
//!
//! A password sign-in and two protected routes ([`axum::RequireSession`]): the API answers 401
//! JSON without a session, the page sends the browser to the sign-in page.
//!
//! ```no_run
//! use auth_runtime::axum::{RequireSession, ServeConfig, serve_app_with_shutdown, shutdown_signal};
//! use auth_runtime::{User, next_auth};
//! use axum::{Router, routing::get};
//!
//! next_auth! {
//!     providers: [
//!         Credentials {
//!             id: "password",
//!             credentials: { username: {}, password: { type: "password" } },
//!             authorize: |c| Ok((c.password == "demo").then(|| User::with_id(c.username.clone()))),
//!         },
//!     ],
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let auth = Auth::new(())?; // AUTH_SECRET and AUTH_URL from the environment
//! let api = Router::new().route("/api/me", get(|| async { "signed in" }));
//! let pages = Router::new().route("/account", get(|| async { "your account" }));
//! let app = api
//!     .layer(RequireSession::new(auth.clone()))
//!     .merge(pages.layer(RequireSession::new(auth.clone()).pages()))
//!     .nest("/api/auth", auth.router());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! // Until SIGTERM or Ctrl-C, then the requests in flight finish.
//! serve_app_with_shutdown(listener, app, ServeConfig::default(), shutdown_signal()).await?;
//! # Ok(()) }
//! ```
//!
//! The engine is framework-free underneath: [`Auth::handle`] takes an `http::Request` and gives
//! an `http::Response`. Here it answers `GET /api/auth/providers`, as the client asks it:
//!
//! ```
//! # use auth_runtime::{User, next_auth};
//! # next_auth! { providers: [Credentials { id: "password", credentials: {}, authorize: |_c| Ok(Some(User::with_id("u"))) }] }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let auth = Auth::builder(()).secret("0123456789abcdef0123456789abcdef").build().unwrap();
//! let request = http::Request::get("/api/auth/providers").body(bytes::Bytes::new()).unwrap();
//! let response = auth.handle(request).await;
//! let providers: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
//! assert_eq!(providers["password"]["type"], "credentials");
//! # });
//! ```
//!
//! # Where to go next
//!
//! - [`next_auth!`]: the whole grammar (providers, claims, callbacks, settings).
//! - [`Auth`] and [`AuthBuilder`]: the engine, its settings, reading sessions in handlers
//!   ([`Auth::session`], [`Auth::token`], one [`SessionError`] for every reader).
//! - [`axum`]: the router, extractors, layers and [`axum::serve_app_with_shutdown`].
//! - [`TokenReader`]: trusting a Next.js app's session cookie from a Rust API.
//! - [`guests`]: the guest store, upgrades, limits and cleanup (feature `guests`).
//!
//! The examples, each a runnable app whose code the repository README shows:
//! [`minimal`](https://github.com/next-auth-rs/next-auth-rs/blob/main/examples/minimal.rs) (the
//! app above), [`guest_checkout`](https://github.com/next-auth-rs/next-auth-rs/blob/main/examples/guest_checkout.rs)
//! (a shop whose guests keep their cart when they sign in),
//! [`anonymous`](https://github.com/next-auth-rs/next-auth-rs/blob/main/examples/anonymous.rs)
//! (NextAuth's "Anonymous Sessions" guide),
//! [`third_party_token`](https://github.com/next-auth-rs/next-auth-rs/blob/main/examples/third_party_token.rs)
//! (the guide's third-party tokens with OpenID Connect) and
//! [`nextjs_backend`](https://github.com/next-auth-rs/next-auth-rs/blob/main/examples/nextjs_backend.rs)
//! (an API behind a Next.js app). `cargo run --example <name>` in the repository.

#![warn(missing_docs)]
// docs.rs (nightly) labels feature-gated items with the feature they need.
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "sqlx-store")]
pub mod adapter;
mod attempts;
#[cfg(feature = "axum")]
pub mod axum;
mod base_url;
mod body;
mod callback;
#[cfg(feature = "captcha")]
pub mod captcha;
mod clock;
pub mod cookies;
mod csrf;
mod debug;
pub mod definition;
mod engine;
mod error;
pub mod events;
#[cfg(feature = "guests")]
pub mod guests;
mod handlers;
mod html;
// OAuth providers and the CAPTCHA verifier send their requests through one client setup.
#[cfg(any(feature = "oauth", feature = "captcha"))]
mod http_client;
mod log_budget;
mod protocol;
pub mod providers;
pub mod rate_limit;
mod refusal;
pub mod session_version;
mod sessions;
mod settings;
mod sign_in_callback;
#[cfg(feature = "sqlx-store")]
mod sql_driver;
#[cfg(feature = "sqlx-store")]
mod sql_errors;
pub mod telemetry;
pub mod tokens;
mod user;

pub use attempts::AttemptLimits;
pub use auth_macros::next_auth;
pub use base_url::BaseUrl;
pub use body::RequestBody;
pub use callback::CallbackError;
pub use definition::{AuthDefinition, ProviderId, SessionShape, SessionStrategy, TokenClaims};
pub use engine::{Auth, AuthBuilder};
pub use error::{ConfigError, RequestError};
pub use protocol::request::ClientAddr;
#[cfg(feature = "postgres")]
pub use session_version::PostgresSessionVersions;
#[cfg(feature = "sqlite")]
pub use session_version::SqliteSessionVersions;
pub use session_version::{SessionVersion, SessionVersionError, SessionVersions};
pub use sessions::{CurrentSession, IssueError, ReadToken, SessionError, TokenReader};
#[cfg(feature = "sqlx-store")]
pub use sessions::{Device, DeviceError};
pub use settings::Settings;
pub use sign_in_callback::{SignInAttempt, SignInDecision};
pub use tokens::{TokenFormat, UnknownTokenFormat};
pub use user::{Account, GuestUpgrade, JwtEvent, Profile, ProfileError, SessionUser, User};

/// Items the code generated by `next_auth!` refers to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use serde_json;
}
