//! Guest checkout: a small shop where a visitor fills a cart without an account and keeps it
//! when signing in.
//!
//! - Every visitor of `/` gets a guest session without doing anything (the page calls
//!   `signIn('anon')`'s request: `POST /api/auth/callback/anon`). The `Anonymous` provider creates
//!   the guest in the guest store (the SQLite file `shop.db`, or PostgreSQL when `DATABASE_URL`
//!   is a `postgres://` URL), with its abuse limits.
//! - The cart lives in the same database, keyed by the session's user id (`sub`): the guest's
//!   id for a guest. Its SQL is the same on SQLite and PostgreSQL.
//! - Signing in (the `password` provider: `alice` / `alice-password` or `bob` / `bob-password`)
//!   upgrades the guest in one transaction with [`move_cart`]:
//!   - **Promoted** (the account was never used before): the guest becomes the user, same id,
//!     so the cart is already the user's;
//!   - **Merged** (the account already belongs to a user): the guest's cart is merged into the
//!     user's by the rule of this shop: **quantities of the same product add up**, other lines
//!     are moved as they are.
//! - "Save my cart with a passkey" (the `Passkey` provider, Auth.js v5's protocol) registers a
//!   passkey for the e-mail address typed: the guest is promoted in place (same id, same cart).
//!   "Sign in with a passkey", or picking the passkey in the username field's autofill
//!   (conditional mediation), signs in with it later; that guest's cart is merged as above. The
//!   page runs the two ceremonies itself with `navigator.credentials` (what `next-auth/webauthn`
//!   does). A passkey belongs to a host name, which browsers refuse to be an IP address: run with
//!   `AUTH_URL=http://localhost:3000/api/auth` and open `http://localhost:3000` to use them.
//! - With `AUTH_USER_ISSUER`, `AUTH_USER_ID` and `AUTH_USER_SECRET` set, the OpenID Connect
//!   provider `user` ("Logged In Users"), declared `optional: true`, is offered too; its
//!   sign-ins upgrade the guest the same way. Elsewhere it is off: absent from the providers
//!   and the sign-in page.
//! - Guests not seen for 30 days are removed hourly with their carts ([`DeleteCarts`]); their
//!   sessions end with them.
//! - `POST /api/checkout` takes a [`Member`]: a guest gets `403 {"error":"MemberRequired"}`.
//! - With `AUTH_SESSION_STRATEGY=database`, sessions live in the same database and the page's
//!   "Your devices" lists a member's browsers (`GET /api/devices`), any of which can be signed
//!   out from another (`POST /api/devices/end`).
//!
//! ```sh
//! cargo run --example guest_checkout     # then open http://127.0.0.1:3000
//! ```
//!
//! `PORT` (default 3000), `AUTH_URL`, `AUTH_SECRET` and `DATABASE_URL` (a `postgres://` URL, or
//! an SQLite file; default `shop.db`, or `SHOP_DB`) configure it; guest limits come from
//! `AUTH_GUEST_*` (see `auth_runtime::guests::Limits::from_env`); `SHOP_CLEANUP_SECS` sets how
//! often abandoned guests are removed (default 3600, `off`). SIGTERM or Ctrl-C stops it
//! cleanly: requests in flight finish, the store is closed, the process exits 0.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use auth_runtime::axum::{
    Member, ServeConfig, Visitor, no_store, serve_app_with_shutdown, shutdown_signal,
};
use auth_runtime::guests::{
    CleanupHook, CleanupPolicy, GuestDatabase, GuestTx, HookFuture, UpgradeOutcome, spawn_cleanup,
};
use auth_runtime::{
    AuthBuilder, AuthDefinition, CallbackError, SignInDecision, TokenClaims, User, next_auth,
};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// What the callbacks and handlers receive: the shop's database (the guest store's).
pub struct Shop {
    /// The guest store and its pool; the cart table lives in the same database.
    pub db: GuestDatabase,
}

/// Evaluates `$query` (written once, compiled for each database: the SQL is the same on both)
/// with `$pool` bound to the pool of `$db`, a [`GuestDatabase`].
macro_rules! on_pool {
    ($db:expr, |$pool:ident| $query:expr) => {
        match $db {
            GuestDatabase::Sqlite(store) => {
                let $pool = store.pool();
                $query
            }
            GuestDatabase::Postgres(store) => {
                let $pool = store.pool();
                $query
            }
            _ => unreachable!("the shop is built with SQLite and PostgreSQL"),
        }
    };
}

/// Evaluates `$query` with `$conn` bound to the store's transaction `$tx` (a [`GuestTx`]).
macro_rules! on_tx {
    ($tx:expr, |$conn:ident| $query:expr) => {
        match $tx {
            GuestTx::Sqlite($conn) => $query,
            GuestTx::Postgres($conn) => $query,
            _ => unreachable!("the shop is built with SQLite and PostgreSQL"),
        }
    };
}

// ANCHOR: config
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

    state: Shop,

    providers: [
        /// Every visitor: a guest, created by the guest store.
        Anonymous {},
        /// Demo accounts for local use.
        Credentials {
            id: "password",
            name: "Password",
            credentials: {
                username: { label: "Username", type: "text" },
                password: { label: "Password", type: "password" },
            },
            authorize: |credentials| {
                Ok(demo_user(&credentials.username, &credentials.password)
                    .map(|name| User::with_id(name).name(name)))
            },
        },
        /// Passkeys: a guest saves the cart with one (the guest becomes the user, same id), and
        /// signs in with it later.
        Passkey {},
        /// Logged-in users of the shop's identity provider, where it is configured
        /// (`AUTH_USER_ISSUER`, `AUTH_USER_ID`, `AUTH_USER_SECRET`); off elsewhere.
        Oidc { id: "user", name: "Logged In Users", optional: true },
    ],

    // Before any session: a closed account is refused, one that must accept new terms is sent
    // to them first.
    sign_in: |attempt| Ok(match attempt.user.id.as_str() {
        "carol" => SignInDecision::Deny,
        "dave" => SignInDecision::Redirect("/?accept-terms=1".to_owned()),
        _ => SignInDecision::Allow,
    }),

    jwt: |token, event| match event {
        JwtEvent::SignIn { provider: Provider::Anon, .. } => Ok(Token { guest: true, ..token }),
        JwtEvent::SignIn {
            provider: Provider::Password | Provider::Passkey | Provider::User,
            ..
        } => Ok(Token { guest: false, ..token }),
        JwtEvent::Refresh | JwtEvent::Update { .. } => Ok(token),
    },

    session: |session, token| Session {
        is_guest: token.guest,
        user_id: token.sub.clone(),
        ..session
    },

    // The shop's own page has the sign-in form; the built-in pages that remain (sign-out,
    // errors) wear the shop's colours.
    pages: { sign_in: "/" },
    theme: { brand_color: "#0f766e", logo: "/logo.svg" },

    // The shop's audit trail, written after the fact: a failure is logged, the visitor never
    // sees it.
    events: {
        guest_created: async |m, shop| audit(shop, "guest_created", m.guest_id).await,
        guest_upgraded: async |m, shop| audit(shop, "guest_upgraded", m.upgrade.user_id()).await,
        create_user: async |m, shop| audit(shop, "create_user", m.user_id).await,
        link_account: async |m, shop| audit(shop, "link_account", m.user_id).await,
        sign_in: async |m, shop| audit(shop, "sign_in", &m.user.id).await,
        sign_out: async |m, shop| {
            let user = m.token.and_then(|token| token.sub.as_deref()).unwrap_or_default();
            audit(shop, "sign_out", user).await
        },
    },
}
// ANCHOR_END: config

/// The demo accounts: `alice` / `alice-password`, `bob` / `bob-password`; `carol` (closed) and
/// `dave` (new terms to accept) show the `sign_in` callback.
pub fn demo_user(username: &str, password: &str) -> Option<&'static str> {
    ["alice", "bob", "carol", "dave"]
        .into_iter()
        .find(|name| *name == username && password == format!("{name}-password"))
}

/// The products on sale: id, name, price in cents.
pub const PRODUCTS: &[(&str, &str, u32)] = &[
    ("tea", "Green tea, 100 g", 650),
    ("mug", "Stoneware mug", 1200),
    ("pot", "Cast-iron teapot", 4500),
];

/// The cart table and the audit trail, in the guest store's database.
pub async fn migrate(db: &GuestDatabase) -> Result<(), sqlx::Error> {
    on_pool!(db, |pool| sqlx::query(
        "CREATE TABLE IF NOT EXISTS cart_items (owner TEXT NOT NULL, product TEXT NOT NULL, \
         qty BIGINT NOT NULL, PRIMARY KEY (owner, product))",
    )
    .execute(pool)
    .await
    .map(drop))?;
    // The only difference between the two databases: how an id counts up.
    let audit_table = match db {
        GuestDatabase::Postgres(_) => {
            "CREATE TABLE IF NOT EXISTS audit_log (id BIGSERIAL PRIMARY KEY, event TEXT NOT NULL, \
             user_id TEXT NOT NULL, at BIGINT NOT NULL)"
        }
        _ => {
            "CREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, \
             event TEXT NOT NULL, user_id TEXT NOT NULL, at BIGINT NOT NULL)"
        }
    };
    on_pool!(db, |pool| sqlx::query(audit_table)
        .execute(pool)
        .await
        .map(drop))
}

/// One line of the audit trail.
async fn audit(shop: &Shop, event: &str, user_id: &str) -> Result<(), CallbackError> {
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    on_pool!(&shop.db, |pool| sqlx::query(
        "INSERT INTO audit_log (event, user_id, at) VALUES ($1, $2, $3)"
    )
    .bind(event)
    .bind(user_id)
    .bind(at)
    .execute(pool)
    .await
    .map(drop))?;
    Ok(())
}

/// The audit trail of `user_id`, oldest first: the events' names.
pub async fn audit_trail(db: &GuestDatabase, user_id: &str) -> Result<Vec<String>, sqlx::Error> {
    on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT event FROM audit_log WHERE user_id = $1 ORDER BY id"
    )
    .bind(user_id)
    .fetch_all(pool)
    .await)
}

// ANCHOR: hook
/// The upgrade hook: runs in the guest store's transaction when a guest signs in.
///
/// Promoted: the user has the guest's id, the cart is already theirs. Merged: the guest's lines
/// are added to the user's cart (quantities of one product add up), then removed.
pub fn move_cart<'a>(
    outcome: &'a UpgradeOutcome,
    tx: GuestTx<'a>,
    _shop: &'a Shop,
) -> HookFuture<'a> {
    Box::pin(async move {
        let UpgradeOutcome::Merged { guest_id, into } = outcome else {
            return Ok(());
        };
        on_tx!(tx, |tx| {
            sqlx::query(
                "INSERT INTO cart_items (owner, product, qty) \
                 SELECT $1, product, qty FROM cart_items WHERE owner = $2 \
                 ON CONFLICT (owner, product) DO UPDATE SET qty = cart_items.qty + excluded.qty",
            )
            .bind(into)
            .bind(guest_id)
            .execute(&mut **tx)
            .await?;
            sqlx::query("DELETE FROM cart_items WHERE owner = $1")
                .bind(guest_id)
                .execute(&mut **tx)
                .await?;
        });
        Ok(())
    })
}
// ANCHOR_END: hook

/// Cleanup's part: abandoned guests (not seen for 30 days) lose their carts with them, in the
/// same transaction.
pub struct DeleteCarts;

impl CleanupHook for DeleteCarts {
    fn on_cleanup<'a>(&'a self, guest_ids: &'a [String], tx: GuestTx<'a>) -> HookFuture<'a> {
        Box::pin(async move {
            // One statement per batch, not one per guest (a round trip each on PostgreSQL).
            match tx {
                GuestTx::Sqlite(tx) => {
                    let owners = serde_json::to_string(guest_ids)?;
                    sqlx::query(
                        "DELETE FROM cart_items WHERE owner IN (SELECT value FROM json_each($1))",
                    )
                    .bind(owners)
                    .execute(&mut **tx)
                    .await?;
                }
                GuestTx::Postgres(tx) => {
                    sqlx::query("DELETE FROM cart_items WHERE owner = ANY($1)")
                        .bind(guest_ids)
                        .execute(&mut **tx)
                        .await?;
                }
                _ => unreachable!("the shop is built with SQLite and PostgreSQL"),
            }
            Ok(())
        })
    }
}

// ANCHOR: builder
/// The engine: the guest store, the cart-moving
/// hook.
pub fn auth_builder<D: AuthDefinition<State = Shop>>(
    db: impl Into<GuestDatabase>,
) -> AuthBuilder<D> {
    let db = db.into();
    let store = db.store();
    auth_runtime::Auth::<D>::builder(Shop { db })
        .guests(store)
        .upgrade_hook(move_cart)
}
// ANCHOR_END: builder

/// The process's Prometheus recorder, installed once before anything is counted: the engine's
/// counters (`auth_sign_ins_total`, `auth_guests_total`, ...) go through the `metrics` facade.
fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let handle = PrometheusBuilder::new()
            .install_recorder()
            .expect("no other metrics recorder is installed");
        // Histogram samples pile up until drained: without a scrape they would grow the
        // process's memory for ever (the soak test found ~20 bytes per request).
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("metrics-upkeep".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(std::time::Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            })
            .expect("a thread for the metrics upkeep");
        handle
    })
}

/// `GET /metrics`, for Prometheus to scrape (behind the operator's network in production).
async fn metrics() -> String {
    prometheus().render()
}

/// The application: the page, the products, the cart, checkout, and the auth API.
pub fn app<D: AuthDefinition<State = Shop>>(auth: auth_runtime::Auth<D>) -> Router {
    prometheus();
    Router::new()
        .route("/metrics", get(metrics))
        .route("/", get(index))
        .merge(app_logo())
        .route("/api/products", get(products))
        .route("/api/cart", get(cart::<D>).post(add_to_cart::<D>))
        .route("/api/checkout", post(checkout::<D>))
        .route("/api/devices", get(devices::<D>))
        .route("/api/devices/end", post(end_device::<D>))
        // Carts and sessions are this visitor's: never kept by a shared cache.
        .layer(axum::middleware::map_response(no_store))
        // The shop's own JSON bodies are a few bytes (the auth API has its own limits).
        .layer(DefaultBodyLimit::max(4 * 1024))
        .nest("/api/auth", auth.router())
        .with_state(auth)
}

/// `GET /logo.svg`: the shop's logo, shown on the built-in pages (`theme.logo`).
pub fn app_logo<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/logo.svg", get(logo))
}

async fn logo() -> impl IntoResponse {
    const LOGO: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"180\" height=\"48\" \
        viewBox=\"0 0 180 48\"><circle cx=\"24\" cy=\"24\" r=\"20\" fill=\"#0f766e\"/>\
        <path d=\"M14 22h20v6a8 8 0 0 1-8 8h-4a8 8 0 0 1-8-8z\" fill=\"#fff\"/>\
        <text x=\"54\" y=\"32\" font-family=\"system-ui,sans-serif\" font-size=\"22\" \
        font-weight=\"700\" fill=\"#0f766e\">Tea Shop</text></svg>";
    ([(axum::http::header::CONTENT_TYPE, "image/svg+xml")], LOGO)
}

/// The owner of a visitor's cart: the session's user id (the guest id for a guest).
fn owner<D: AuthDefinition>(visitor: &Visitor<D>) -> String {
    let token = match visitor {
        Visitor::Guest(guest) => &guest.token,
        Visitor::Member(member) => &member.token,
    };
    token.sub().unwrap_or_default().to_owned()
}

async fn products() -> impl IntoResponse {
    let list: Vec<_> = PRODUCTS
        .iter()
        .map(|(id, name, cents)| serde_json::json!({ "id": id, "name": name, "cents": cents }))
        .collect();
    Json(list)
}

/// The cart of `owner`: `{ product: qty }`.
pub async fn cart_of(db: &GuestDatabase, owner: &str) -> Result<serde_json::Value, sqlx::Error> {
    let rows: Vec<(String, i64)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT product, qty FROM cart_items WHERE owner = $1 ORDER BY product"
    )
    .bind(owner)
    .fetch_all(pool)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(product, qty)| (product, serde_json::Value::from(qty)))
        .collect::<serde_json::Map<_, _>>()
        .into())
}

/// A failed cart query: 503 when the database cannot be reached (the client may retry), else 500.
fn server_error(error: sqlx::Error) -> (StatusCode, Json<serde_json::Value>) {
    tracing::error!(%error, "cart query failed");
    let status = match auth_runtime::guests::GuestError::from(error) {
        auth_runtime::guests::GuestError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let body =
        serde_json::json!({ "error": "CartUnavailable", "message": "the cart cannot be read now" });
    (status, Json(body))
}

/// A request the shop refuses.
fn bad_request(message: &str) -> (StatusCode, Json<serde_json::Value>) {
    let body = serde_json::json!({ "error": "BadRequest", "message": message });
    (StatusCode::BAD_REQUEST, Json(body))
}

async fn cart<D: AuthDefinition<State = Shop>>(
    State(auth): State<auth_runtime::Auth<D>>,
    visitor: Visitor<D>,
) -> Result<impl IntoResponse, (StatusCode, Json<serde_json::Value>)> {
    let items = cart_of(&auth.state().db, &owner(&visitor))
        .await
        .map_err(server_error)?;
    let guest = matches!(visitor, Visitor::Guest(_));
    Ok(Json(serde_json::json!({ "guest": guest, "items": items })))
}

/// `POST /api/cart` `{ "product": "tea", "qty": 2 }`.
#[derive(serde::Deserialize)]
struct AddToCart {
    product: String,
    qty: u32,
}

async fn add_to_cart<D: AuthDefinition<State = Shop>>(
    State(auth): State<auth_runtime::Auth<D>>,
    visitor: Visitor<D>,
    Json(add): Json<AddToCart>,
) -> Result<impl IntoResponse, (StatusCode, Json<serde_json::Value>)> {
    if !PRODUCTS.iter().any(|(id, _, _)| *id == add.product) || add.qty == 0 || add.qty > 99 {
        return Err(bad_request("unknown product or quantity"));
    }
    let owner = owner(&visitor);
    on_pool!(&auth.state().db, |pool| sqlx::query(
        "INSERT INTO cart_items (owner, product, qty) VALUES ($1, $2, $3) \
         ON CONFLICT (owner, product) DO UPDATE SET qty = cart_items.qty + excluded.qty",
    )
    .bind(&owner)
    .bind(&add.product)
    .bind(i64::from(add.qty))
    .execute(pool)
    .await
    .map(drop))
    .map_err(server_error)?;
    let items = cart_of(&auth.state().db, &owner)
        .await
        .map_err(server_error)?;
    Ok(Json(serde_json::json!({ "items": items })))
}

/// Checkout needs an account: `Member` answers 403 `MemberRequired` to a guest.
async fn checkout<D: AuthDefinition<State = Shop>>(
    State(auth): State<auth_runtime::Auth<D>>,
    member: Member<D>,
) -> Result<impl IntoResponse, (StatusCode, Json<serde_json::Value>)> {
    let owner = member.token.sub().unwrap_or_default().to_owned();
    let items = cart_of(&auth.state().db, &owner)
        .await
        .map_err(server_error)?;
    on_pool!(&auth.state().db, |pool| sqlx::query(
        "DELETE FROM cart_items WHERE owner = $1"
    )
    .bind(&owner)
    .execute(pool)
    .await
    .map(drop))
    .map_err(server_error)?;
    Ok(Json(serde_json::json!({ "ordered": items })))
}

/// `GET /api/devices`: the signed-in user's sessions, one per browser (database sessions,
/// `AUTH_SESSION_STRATEGY=database`); `{"devices": null}` with token sessions (there is no
/// list to show), 401 without a session.
async fn devices<D: AuthDefinition<State = Shop>>(
    State(auth): State<auth_runtime::Auth<D>>,
    headers: HeaderMap,
) -> axum::response::Response {
    match auth.devices(&headers).await {
        Ok(devices) => Json(serde_json::json!({ "devices": devices })).into_response(),
        Err(auth_runtime::DeviceError::NotStored) => {
            Json(serde_json::json!({ "devices": null })).into_response()
        }
        Err(error) => device_error(error),
    }
}

/// `POST /api/devices/end` `{ "id": ".." }` signs that browser out; `{ "others": true }` every
/// browser but this one.
#[derive(serde::Deserialize)]
struct EndDevice {
    id: Option<String>,
    #[serde(default)]
    others: bool,
}

async fn end_device<D: AuthDefinition<State = Shop>>(
    State(auth): State<auth_runtime::Auth<D>>,
    headers: HeaderMap,
    Json(end): Json<EndDevice>,
) -> axum::response::Response {
    let ended = match (end.others, end.id) {
        (true, _) => auth.end_other_devices(&headers).await,
        (false, Some(id)) => auth.end_device(&headers, &id).await.map(u64::from),
        (false, None) => return bad_request("give `id` or `others: true`").into_response(),
    };
    match ended {
        Ok(ended) => Json(serde_json::json!({ "ended": ended })).into_response(),
        Err(error) => device_error(error),
    }
}

fn device_error(error: auth_runtime::DeviceError) -> axum::response::Response {
    let body = serde_json::json!({ "error": "Devices", "message": error.to_string() });
    (error.status(), Json(body)).into_response()
}

async fn index() -> Html<&'static str> {
    Html(PAGE)
}

const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Tea shop</title>
<style>
:root{--ink:#1f2a24;--soft:#5d6b63;--line:#e3e8e4;--brand:#2f6d4f;--bg:#f7f9f7}
[hidden]{display:none!important}*{box-sizing:border-box}body{font:16px/1.5 system-ui,sans-serif;color:var(--ink);background:var(--bg);margin:0}
header{display:flex;align-items:center;justify-content:space-between;padding:1rem 2rem;background:#fff;border-bottom:1px solid var(--line)}
header h1{font-size:1.3rem;margin:0}main{display:grid;grid-template-columns:1fr 20rem;gap:2rem;max-width:56rem;margin:2rem auto;padding:0 1rem}
.badge{font-size:.85rem;padding:.2rem .7rem;border-radius:1rem;background:#fff3d6;color:#7a5800}
.badge[data-session=member]{background:#e1f3e8;color:var(--brand)}
.card{background:#fff;border:1px solid var(--line);border-radius:.6rem;padding:1rem 1.2rem;margin-bottom:1rem}h2{margin-top:0;font-size:1.15rem}
ul.products{list-style:none;padding:0;margin:0}ul.products li{display:flex;justify-content:space-between;align-items:center;padding:.7rem 0;border-bottom:1px solid var(--line)}
ul.products li:last-child{border:0}.price{color:var(--soft);margin-left:.5rem}
button{font:inherit;border:0;border-radius:.4rem;padding:.35rem .9rem;background:var(--brand);color:#fff;cursor:pointer}
button.quiet{background:none;color:var(--brand);border:1px solid var(--line)}
table{width:100%;border-collapse:collapse}td{padding:.3rem 0}td.n{text-align:right}tr.total td{border-top:1px solid var(--line);font-weight:600;padding-top:.6rem}
.empty{color:var(--soft)}form{display:grid;gap:.5rem;margin-top:1rem}input{font:inherit;padding:.35rem .5rem;border:1px solid var(--line);border-radius:.4rem}
#out{color:var(--soft);font-size:.9rem}
</style></head>
<body>
<header><h1>Tea shop</h1><span class="badge" id="who" data-testid="session" data-session="loading">…</span></header>
<main>
<section class="card"><h2>Products</h2><ul class="products" id="products" data-testid="products"></ul></section>
<aside>
<section class="card"><h2>Your cart</h2><div id="cart" data-testid="cart" data-items="{}"><p class="empty">Empty.</p></div>
<p><button id="checkout">Check out</button></p><p id="out"></p></section>
<section class="card" id="account"><form id="login" data-testid="sign-in"><strong>Sign in to check out</strong>
<input name="username" placeholder="alice" autocomplete="username webauthn"><input name="password" type="password" placeholder="alice-password" autocomplete="current-password"><button>Sign in</button></form>
<form id="email" data-testid="email-sign-in" hidden><strong>Or get a sign-in link</strong>
<input name="email" type="email" placeholder="you@example.com" autocomplete="email"><button>Mail me a link</button></form>
<div id="passkeys" hidden><p><button class="quiet" id="passkey-sign-in" data-testid="passkey-sign-in">Sign in with a passkey</button></p>
<form id="passkey-save" data-testid="passkey-save"><strong>Save my cart with a passkey</strong>
<input name="email" type="email" required placeholder="you@example.com" autocomplete="email"><button>Save my cart with a passkey</button></form></div>
<p id="oidc"></p><button class="quiet" id="signout" hidden>Sign out</button></section>
<section class="card" id="devices" data-testid="devices" hidden><h2>Your devices</h2><ul id="device-list" class="products"></ul>
<button class="quiet" id="end-others">Sign out everywhere else</button></section>
</aside>
</main>
<script>
const api = (path, options) => fetch(path, options).then(r => r.json());
const money = cents => '€' + (cents / 100).toFixed(2);
let catalog = {};
async function signIn(provider, fields = {}) {
  const { csrfToken } = await api('/api/auth/csrf');
  const body = new URLSearchParams({ ...fields, csrfToken, json: 'true', callbackUrl: location.href });
  return api('/api/auth/callback/' + provider, { method: 'POST', body });
}
function showCart(items) {
  const box = document.getElementById('cart');
  box.dataset.items = JSON.stringify(items);
  const lines = Object.entries(items);
  if (!lines.length) { box.innerHTML = '<p class="empty">Empty.</p>'; return; }
  const table = document.createElement('table');
  let total = 0;
  for (const [id, qty] of lines) {
    const product = catalog[id] || { name: id, cents: 0 };
    total += product.cents * qty;
    const row = table.insertRow();
    row.insertCell().textContent = product.name;
    Object.assign(row.insertCell(), { className: 'n', textContent: '× ' + qty });
    Object.assign(row.insertCell(), { className: 'n', textContent: money(product.cents * qty) });
  }
  const row = table.insertRow();
  row.className = 'total';
  row.insertCell().textContent = 'Total';
  row.insertCell();
  Object.assign(row.insertCell(), { className: 'n', textContent: money(total) });
  box.replaceChildren(table);
}
async function refresh() {
  let session = await api('/api/auth/session');
  if (!session.user) { await signIn('anon'); session = await api('/api/auth/session'); }
  const who = document.getElementById('who');
  who.textContent = session.isGuest ? 'Guest' : 'Signed in as ' + (session.user.name || session.user.email);
  who.dataset.session = session.isGuest ? 'guest' : 'member';
  document.getElementById('login').hidden = !session.isGuest;
  document.getElementById('signout').hidden = session.isGuest;
  const passkeys = session.isGuest && (await offered).passkey && window.PublicKeyCredential;
  document.getElementById('passkeys').hidden = !passkeys;
  if (passkeys) startAutofill(); else stopAutofill();
  showDevices(!session.isGuest);
  const cart = await api('/api/cart');
  showCart(cart.items);
  document.getElementById('cart').dataset.session = cart.guest ? 'guest' : 'member';
}
async function showDevices(member) {
  const section = document.getElementById('devices');
  const answer = member ? await api('/api/devices') : null;
  section.hidden = !(answer && answer.devices);
  if (section.hidden) return;
  const list = document.getElementById('device-list');
  list.replaceChildren();
  for (const device of answer.devices) {
    const li = document.createElement('li');
    const since = device.created_at ? new Date(device.created_at * 1000).toLocaleString() : 'earlier';
    li.textContent = (device.user_agent || 'Unknown browser').slice(0, 60) + ', since ' + since;
    if (device.current) li.append(Object.assign(document.createElement('em'), { textContent: ' (this one)' }));
    else {
      const end = Object.assign(document.createElement('button'), { className: 'quiet', textContent: 'Sign out' });
      end.onclick = () => api('/api/devices/end', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: device.id }) }).then(refresh);
      li.append(end);
    }
    list.append(li);
  }
}
document.getElementById('end-others').onclick = () =>
  api('/api/devices/end', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"others":true}' }).then(refresh);
document.getElementById('email').onsubmit = async (e) => {
  e.preventDefault();
  const { csrfToken } = await api('/api/auth/csrf');
  const body = new URLSearchParams({ email: new FormData(e.target).get('email'), csrfToken, json: 'true', callbackUrl: location.href });
  const { url } = await api('/api/auth/signin/email', { method: 'POST', body });
  document.getElementById('out').textContent = new URL(url).searchParams.get('error') ? 'That address cannot get a link.' : 'Check your mail for the sign-in link.';
};
const products = api('/api/products').then(list => {
  for (const p of list) {
    catalog[p.id] = p;
    const li = document.createElement('li');
    li.innerHTML = '<span></span>';
    li.firstChild.textContent = p.name;
    const price = Object.assign(document.createElement('span'), { className: 'price', textContent: money(p.cents) });
    li.firstChild.append(price);
    const add = document.createElement('button');
    add.textContent = 'Add';
    add.dataset.testid = 'add-' + p.id;
    add.onclick = () => api('/api/cart', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ product: p.id, qty: 1 }) }).then(refresh);
    li.append(add);
    document.getElementById('products').append(li);
  }
});
const offered = api('/api/auth/providers');
offered.then(providers => {
  document.getElementById('email').hidden = !providers.email;
  if (!providers.user) return;
  const button = document.createElement('button');
  button.textContent = 'Sign in with ' + providers.user.name;
  button.onclick = async () => {
    const { csrfToken } = await api('/api/auth/csrf');
    const body = new URLSearchParams({ csrfToken, json: 'true', callbackUrl: location.href });
    const { url } = await api('/api/auth/signin/user', { method: 'POST', body });
    location.href = url; // the provider, then back here with the cart kept
  };
  document.getElementById('oidc').append(button);
});
// Passkeys, as next-auth/webauthn's signIn('passkey') runs them (Auth.js v5's protocol): the
// options, the browser's ceremony, the answer posted with the CSRF token. Base64url both ways;
// the user handle is UTF-8, as @simplewebauthn/browser 9 (next-auth 5's) passes it.
const b64 = {
  decode: s => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0)),
  encode: b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''),
};
const withIds = list => list && list.map(c => ({ ...c, id: b64.decode(c.id) }));
async function passkey(action, query = {}, request = {}) {
  const started = await fetch('/api/auth/webauthn-options/passkey?' + new URLSearchParams({ action, ...query }));
  if (!started.ok) throw new Error((await started.json()).error || 'no passkey options');
  const { options } = await started.json();
  let data;
  if (action === 'register') {
    const c = await navigator.credentials.create({ publicKey: { ...options, challenge: b64.decode(options.challenge),
      user: { ...options.user, id: new TextEncoder().encode(options.user.id) }, excludeCredentials: withIds(options.excludeCredentials) || [] } });
    data = { id: c.id, rawId: b64.encode(c.rawId), type: c.type, clientExtensionResults: c.getClientExtensionResults(),
      response: { clientDataJSON: b64.encode(c.response.clientDataJSON), attestationObject: b64.encode(c.response.attestationObject), transports: c.response.getTransports() } };
  } else {
    const c = await navigator.credentials.get({ ...request, publicKey: { ...options, challenge: b64.decode(options.challenge), allowCredentials: withIds(options.allowCredentials) } });
    data = { id: c.id, rawId: b64.encode(c.rawId), type: c.type, clientExtensionResults: c.getClientExtensionResults(),
      response: { clientDataJSON: b64.encode(c.response.clientDataJSON), authenticatorData: b64.encode(c.response.authenticatorData), signature: b64.encode(c.response.signature) } };
  }
  const { url } = await signIn('passkey', { action, data: JSON.stringify(data) });
  if (new URL(url).searchParams.get('error')) throw new Error('refused');
}
// Autofill: the username field offers the site's passkeys (conditional mediation) while a guest.
let autofill = null;
function startAutofill() {
  if (autofill || !PublicKeyCredential.isConditionalMediationAvailable) return;
  const controller = new AbortController();
  const done = PublicKeyCredential.isConditionalMediationAvailable()
    .then(available => available && !controller.signal.aborted &&
      passkey('authenticate', {}, { mediation: 'conditional', signal: controller.signal }).then(refresh))
    .catch(() => { if (!controller.signal.aborted) document.getElementById('out').textContent = 'Passkey sign-in failed.'; })
    .finally(() => { if (autofill && autofill.controller === controller) autofill = null; });
  autofill = { controller, done };
}
async function stopAutofill() {
  const pending = autofill;
  autofill = null;
  if (pending) { pending.controller.abort(); await pending.done; }
}
async function withPasskey(action, query) {
  document.getElementById('out').textContent = '';
  await stopAutofill();
  try { await passkey(action, query); } catch (e) {
    document.getElementById('out').textContent = action === 'register' ? 'The passkey was not saved.' : 'Passkey sign-in failed.';
  }
  refresh();
}
document.getElementById('passkey-sign-in').onclick = () => withPasskey('authenticate');
document.getElementById('passkey-save').onsubmit = (e) => {
  e.preventDefault();
  withPasskey('register', { email: new FormData(e.target).get('email') });
};
document.getElementById('login').onsubmit = async (e) => {
  e.preventDefault();
  const { url } = await signIn('password', Object.fromEntries(new FormData(e.target)));
  if (new URL(url).searchParams.get('error')) alert('Sign-in failed');
  refresh();
};
document.getElementById('signout').onclick = async () => {
  const { csrfToken } = await api('/api/auth/csrf');
  await api('/api/auth/signout', { method: 'POST', body: new URLSearchParams({ csrfToken, json: 'true' }) });
  refresh();
};
document.getElementById('checkout').onclick = async () => {
  const r = await api('/api/checkout', { method: 'POST' });
  document.getElementById('out').textContent = r.ordered ? 'Thank you for your order.' : (r.message || 'Sign in to check out.');
  refresh();
};
products.then(refresh);
</script></body></html>"#;

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
    // `DATABASE_URL` (sqlx's convention) picks PostgreSQL; the SQLite file is the default.
    let default_file = std::env::var("SHOP_DB").unwrap_or_else(|_| "shop.db".to_owned());
    let db = GuestDatabase::from_env(&default_file).await?;
    migrate(&db).await?;

    // Guests not seen for 30 days go, with their carts, at start-up and then every
    // `SHOP_CLEANUP_SECS` (default hourly; `off` for none); upgraded guests are never removed.
    let every = match std::env::var("SHOP_CLEANUP_SECS").as_deref() {
        Ok("off") => None,
        Ok(secs) => Some(
            secs.parse()
                .map_err(|_| format!("SHOP_CLEANUP_SECS={secs:?}: seconds or `off`"))?,
        ),
        Err(_) => Some(3600),
    };
    let cleanup = every.map(|secs: u64| {
        spawn_cleanup(
            db.store(),
            CleanupPolicy::default(),
            Arc::new(DeleteCarts),
            Duration::from_secs(secs.max(1)),
        )
    });
    let router = app(configure::<NextAuth>(&db, port)?);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!("listening on http://127.0.0.1:{port}");
    // The connection's address keys the per-client guest limits; slow or idle sockets are
    // closed, no request runs longer than 30 s, and SIGTERM lets the requests in flight finish.
    let limits = ServeConfig::default()
        .header_read_timeout(Duration::from_secs(10))
        .request_timeout(Duration::from_secs(30))
        .shutdown_grace(Duration::from_secs(8));
    serve_app_with_shutdown(listener, router, limits, shutdown_signal()).await?;
    // Everything answered is committed before the process ends.
    if let Some(cleanup) = cleanup {
        cleanup.abort();
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

fn configure<D: AuthDefinition<State = Shop>>(
    db: &GuestDatabase,
    port: u16,
) -> Result<auth_runtime::Auth<D>, auth_runtime::ConfigError> {
    let mut builder = auth_builder::<D>(db.clone());
    if std::env::var_os("AUTH_URL").is_none() && std::env::var_os("NEXTAUTH_URL").is_none() {
        builder = builder.url(format!("http://127.0.0.1:{port}/api/auth"));
    }
    builder.build()
}
