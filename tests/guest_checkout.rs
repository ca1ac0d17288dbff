//! Guest checkout over HTTP (`examples/guest_checkout.rs` in process, through its axum router):
//! a guest's cart survives signing in (Promoted), two carts merge (Merged), concurrent
//! double-submits upgrade once, a failing hook changes nothing, an unreachable store fails
//! sign-ins with a clear code while sessions keep working, 1,000 concurrent guest sign-ins, the
//! per-client limit (429 + Retry-After), and limits shared by two app instances on PostgreSQL
//! (127.0.0.1:5432, database `test`; skipped with a message when absent, a failure under
//! `CI=true`).
//!
//! Timings are printed (`cargo test --test guest_checkout -- --nocapture`).

#[path = "support/browser.rs"]
mod browser;
#[path = "../examples/guest_checkout.rs"]
#[allow(dead_code)]
mod shop;
#[path = "support/skip.rs"]
mod skip;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use auth_runtime::guests::{
    GuestConfig, GuestDatabase, GuestStore, Limits, PostgresGuestStore, SqliteGuestStore,
    TrustedProxy,
};
use auth_runtime::{AttemptLimits, AuthBuilder};
use axum::Router;
use axum::body::Body;
use browser::{Browser, Reply, wire};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use shop::{Auth, NextAuth};
use tower::ServiceExt;

const SECRET: &str = "guest-checkout-test-secret-0123456789abcdef";
const URL: &str = "http://127.0.0.1:3000/api/auth";

/// The shop's own calls, as its pages make them.
impl Browser<Router> {
    async fn alice(&mut self) -> Reply {
        self.sign_in(
            "password",
            &[("username", "alice"), ("password", "alice-password")],
        )
        .await
    }

    async fn add(&mut self, product: &str, qty: u32) {
        let line = json!({ "product": product, "qty": qty });
        let answer = self.post_json("/api/cart", &line).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }

    async fn cart(&mut self) -> Value {
        let answer = self.get("/api/cart").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        answer.body["items"].clone()
    }

    async fn user_id(&mut self) -> String {
        self.session().await["userId"].as_str().unwrap().to_owned()
    }
}

fn temp_db(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("guest-checkout-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join("shop.db")
}

async fn sqlite_store(test: &str, limits: Limits) -> Arc<SqliteGuestStore> {
    let config = GuestConfig::default().limits(limits);
    let store = SqliteGuestStore::open_with(temp_db(test), config)
        .await
        .unwrap();
    let store = Arc::new(store);
    shop::migrate(&store.clone().into()).await.unwrap();
    store
}

fn configured(builder: AuthBuilder<NextAuth>) -> Auth {
    builder.secret(SECRET).url(URL).build().unwrap()
}

#[tokio::test]
async fn the_cart_survives_sign_in_and_two_carts_merge() {
    let store = sqlite_store("merge", Limits::unlimited()).await;
    let app = shop::app(configured(shop::auth_builder(store.clone())));

    // A visitor: a guest without doing anything but signIn('anon').
    let mut first = Browser::app(&app);
    assert_eq!(first.session().await, wire::no_session());
    let answer = first.sign_in("anon", &[]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.error(), None);
    let session = first.session().await;
    assert_eq!(session["isGuest"], true);
    let guest = first.user_id().await;
    // signIn('anon') again with the guest session: the same guest, no new row.
    first.sign_in("anon", &[]).await;
    assert_eq!(first.user_id().await, guest);
    assert_eq!(store.stats().await.unwrap().guests, 1);

    first.add("tea", 2).await;
    first.add("mug", 1).await;
    // Checkout needs an account.
    let answer = first
        .send(Method::POST, "/api/checkout", None, Vec::new())
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.body["error"], "MemberRequired");

    // Another copy of the guest's session (another tab restored elsewhere).
    let mut stale = first.clone();
    let csrf_before = first
        .jar
        .iter()
        .find(|(k, _)| k.contains("csrf"))
        .unwrap()
        .1
        .clone();

    // Signing in to a new account: Promoted, same id, the cart kept.
    let answer = first.alice().await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.error(), None, "{}", answer.body);
    let session = first.session().await;
    assert_eq!(session["isGuest"], false);
    assert_eq!(session["user"]["name"], "alice");
    assert_eq!(first.user_id().await, guest, "promoted: same id");
    assert_eq!(first.cart().await, json!({ "mug": 1, "tea": 2 }));
    // The CSRF token was rotated.
    let csrf_after = first
        .jar
        .iter()
        .find(|(k, _)| k.contains("csrf"))
        .unwrap()
        .1
        .clone();
    assert_ne!(csrf_before, csrf_after);
    // The guest's other sessions stop working.
    assert_eq!(stale.session().await, wire::no_session());
    assert_eq!(
        stale.get("/api/cart").await.status,
        StatusCode::UNAUTHORIZED
    );

    // A second guest fills a cart and signs in to the same account: Merged, quantities add up.
    let mut second = Browser::app(&app);
    second.sign_in("anon", &[]).await;
    let second_guest = second.user_id().await;
    assert_ne!(second_guest, guest);
    second.add("tea", 1).await;
    second.add("pot", 1).await;
    let answer = second.alice().await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(second.user_id().await, guest, "merged into alice's user");
    assert_eq!(second.cart().await, json!({ "mug": 1, "pot": 1, "tea": 3 }));
    let leftover = shop::cart_of(&store.clone().into(), &second_guest)
        .await
        .unwrap();
    assert_eq!(leftover, json!({}));

    // A member checks out.
    let answer = second
        .send(Method::POST, "/api/checkout", None, Vec::new())
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.body["ordered"],
        json!({ "mug": 1, "pot": 1, "tea": 3 })
    );

    // bob signs in without being a guest first: his identity is linked, his id is "bob".
    let mut third = Browser::app(&app);
    let answer = third
        .sign_in(
            "password",
            &[("username", "bob"), ("password", "bob-password")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(third.user_id().await, "bob");
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.promoted_total, stats.merged_total), (1, 1));
}

/// On a shared computer: signing out ends the guest (the next anonymous sign-in is a new guest
/// with an empty cart), every reply carrying a CSRF token or session data is `no-store`, and a
/// promoted guest's old token is refused by the application's readers too, not only by
/// `GET /session`.
#[tokio::test]
async fn sign_out_ends_the_guest_and_every_reader_refuses_a_promoted_guests_old_token() {
    let store = sqlite_store("signout", Limits::unlimited()).await;
    let auth = configured(shop::auth_builder(store.clone()));
    let app = shop::app(auth.clone());

    let mut browser = Browser::app(&app);
    browser.sign_in("anon", &[]).await;
    let first_guest = browser.user_id().await;
    browser.add("tea", 2).await;
    for page in ["/api/auth/signin", "/api/auth/signout", "/api/auth/csrf"] {
        let answer = browser.get(page).await;
        assert!(answer.no_store(), "{page} is cacheable");
    }
    let csrf = browser.get("/api/auth/csrf").await.body["csrfToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let update = serde_json::to_vec(&json!({ "csrfToken": csrf, "data": {} })).unwrap();
    let answer = browser
        .send(
            Method::POST,
            "/api/auth/session",
            Some("application/json"),
            update,
        )
        .await;
    assert!(answer.no_store(), "POST /session is cacheable");
    let form = format!("csrfToken={csrf}&json=true");
    let answer = browser
        .send(
            Method::POST,
            "/api/auth/signout",
            Some("application/x-www-form-urlencoded"),
            form.into_bytes(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.no_store());
    assert_eq!(browser.session().await, wire::no_session());
    // The next person at this computer signs in anonymously: a new guest, an empty cart.
    browser.sign_in("anon", &[]).await;
    let second_guest = browser.user_id().await;
    assert_ne!(second_guest, first_guest, "sign-out must end the guest");
    assert_eq!(browser.cart().await, json!({}));

    // The guest signs in; a copy of its old cookie is refused by every reader.
    let stale = browser.clone();
    let answer = browser.alice().await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let mut headers = HeaderMap::new();
    headers.insert("cookie", stale.cookie_header().parse().unwrap());
    // A token names its guest, now upgraded: Revoked. A database session's row went with the
    // sign-in: its key opens nothing, as an unknown one would.
    let refused = match skip::database_sessions() {
        true => auth_runtime::SessionError::Invalid,
        false => auth_runtime::SessionError::Revoked,
    };
    assert_eq!(auth.token(&headers).await.unwrap_err(), refused);
    assert_eq!(auth.session(&headers).await.unwrap_err(), refused);
}

/// `/metrics` (Prometheus' format, from the engine's counters through the `metrics` facade)
/// moves with a guest sign-in and an upgrade.
#[tokio::test]
async fn metrics_count_guest_sign_ins_upgrades_and_session_reads() {
    let store = sqlite_store("metrics", Limits::unlimited()).await;
    let app = shop::app(configured(shop::auth_builder(store.clone())));
    let counter = |text: &str, line_start: &str| -> u64 {
        text.lines()
            .filter(|l| l.starts_with(line_start))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .map(|v| v as u64)
            .sum()
    };
    let scrape = |app: Router| async move {
        let request = Request::get("/metrics").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    };
    let before = scrape(app.clone()).await;
    let mut browser = Browser::app(&app);
    browser.sign_in("anon", &[]).await;
    browser.session().await;
    browser.alice().await;
    let after = scrape(app.clone()).await;
    for (series, at_least) in [
        ("auth_guests_total{event=\"created\"}", 1),
        ("auth_guests_total{event=\"promoted\"}", 1),
        ("auth_sign_ins_total{provider=\"anon\",outcome=\"ok\"}", 1),
        (
            "auth_sign_ins_total{provider=\"password\",outcome=\"ok\"}",
            1,
        ),
        ("auth_session_reads_total{outcome=\"ok\"}", 1),
        (
            "auth_store_seconds_count{store=\"guests\",op=\"create\"}",
            1,
        ),
    ] {
        let moved = counter(&after, series) - counter(&before, series);
        assert!(moved >= at_least, "{series} moved by {moved}:\n{after}");
    }
}

#[tokio::test]
async fn fifty_concurrent_double_submits_upgrade_once() {
    let store = sqlite_store("double", Limits::unlimited()).await;
    // 50 right sign-ins at once from one client: more than the attempt limits let through
    // while `authorize` runs (each is given back only once it was found right).
    let builder = shop::auth_builder(store.clone()).attempt_limits(AttemptLimits::off());
    let app = shop::app(configured(builder));
    let mut browser = Browser::app(&app);
    browser.sign_in("anon", &[]).await;
    let guest = browser.user_id().await;
    browser.add("tea", 1).await;
    let csrf = browser.get("/api/auth/csrf").await.body["csrfToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let started = Instant::now();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let mut copy = browser.clone();
            let csrf = csrf.clone();
            tokio::spawn(async move {
                let answer = copy
                    .post_sign_in(
                        "password",
                        &[("username", "alice"), ("password", "alice-password")],
                        &csrf,
                    )
                    .await;
                (answer.status, answer.error(), copy)
            })
        })
        .collect();
    let mut users = std::collections::BTreeSet::new();
    for task in tasks {
        let (status, error, mut copy) = task.await.unwrap();
        assert_eq!((status, error), (StatusCode::OK, None));
        users.insert(copy.user_id().await);
    }
    println!(
        "50 concurrent double-submits of one upgrade: {:?}",
        started.elapsed()
    );
    assert_eq!(users.len(), 1);
    assert!(users.contains(&guest));
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (stats.promoted_total, stats.merged_total),
        (1, 0),
        "exactly one upgrade"
    );
    assert_eq!(
        shop::cart_of(&store.clone().into(), &guest).await.unwrap(),
        json!({ "tea": 1 })
    );
}

#[tokio::test]
async fn concurrent_guest_sign_ins_of_one_browser_make_one_guest() {
    let store = sqlite_store("anon-double", Limits::unlimited()).await;
    let app = shop::app(configured(shop::auth_builder(store.clone())));
    let mut browser = Browser::app(&app);
    let csrf = browser.get("/api/auth/csrf").await.body["csrfToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let mut copy = browser.clone();
            let csrf = csrf.clone();
            tokio::spawn(async move {
                let answer = copy.post_sign_in("anon", &[], &csrf).await;
                assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
                copy.user_id().await
            })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap());
    }
    assert_eq!(ids.len(), 1, "one guest for one browser");
    assert_eq!(store.stats().await.unwrap().guests, 1);
}

#[tokio::test]
async fn the_shop_offers_the_openid_provider_when_configured() {
    let store = sqlite_store("oidc", Limits::unlimited()).await;
    // Discovery is lazy: the provider need not be up for the shop to start.
    let auth = shop::auth_builder::<shop::NextAuth>(store)
        .secret(SECRET)
        .url(URL)
        .oauth_client("user", "shop", "shop-secret")
        .oauth_issuer("user", "http://127.0.0.1:9")
        .build()
        .unwrap();
    let mut browser = Browser::app(&shop::app(auth));
    let providers = browser.get("/api/auth/providers").await.body;
    assert_eq!(providers["user"]["type"], "oauth");
    assert_eq!(providers["anon"]["type"], "credentials");
    assert_eq!(browser.sign_in("anon", &[]).await.status, StatusCode::OK);
    assert_eq!(browser.session().await["isGuest"], true);
}

/// One configuration for every deployment: where the identity provider is not configured, the
/// optional `user` provider is off: absent from `GET /providers` and the sign-in page, and its
/// routes answer 404 JSON; the `Provider` enum still has it (the `jwt` match is unchanged).
#[tokio::test]
async fn the_openid_provider_is_off_where_it_is_not_configured() {
    let store = sqlite_store("oidc-off", Limits::unlimited()).await;
    let app = shop::app(configured(shop::auth_builder(store)));
    let mut browser = Browser::app(&app);
    let providers = browser.get("/api/auth/providers").await.body;
    let ids: Vec<&String> = providers.as_object().unwrap().keys().collect();
    assert_eq!(ids, ["anon", "passkey", "password"]);
    let csrf = browser.get("/api/auth/csrf").await.body["csrfToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = format!("csrfToken={csrf}&json=true");
    for path in ["/api/auth/signin/user", "/api/auth/callback/user"] {
        let answer = browser
            .send(
                Method::POST,
                path,
                Some("application/x-www-form-urlencoded"),
                form.clone().into_bytes(),
            )
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.body["error"], "ProviderDisabled", "{path}");
    }
    let callback = browser.get("/api/auth/callback/user?code=x&state=y").await;
    assert_eq!(callback.status, StatusCode::NOT_FOUND);
    assert_eq!(shop::Provider::User.id(), "user");
}

#[tokio::test]
async fn cleanup_removes_abandoned_guests_with_their_carts_and_sessions() {
    use auth_runtime::guests::CleanupPolicy;
    use std::sync::atomic::{AtomicI64, Ordering};

    let now = Arc::new(AtomicI64::new(1_800_000_000_000));
    let clock = now.clone();
    let config = GuestConfig::default()
        .limits(Limits::unlimited())
        .clock(move || clock.load(Ordering::SeqCst));
    let store = Arc::new(
        SqliteGuestStore::open_with(temp_db("cleanup"), config)
            .await
            .unwrap(),
    );
    shop::migrate(&store.clone().into()).await.unwrap();
    let app = shop::app(configured(shop::auth_builder(store.clone())));
    let mut abandoned = Browser::app(&app);
    abandoned.sign_in("anon", &[]).await;
    let abandoned_id = abandoned.user_id().await;
    abandoned.add("pot", 1).await;
    let mut member = Browser::app(&app);
    member.sign_in("anon", &[]).await;
    member.add("tea", 1).await;
    member.alice().await;
    let member_id = member.user_id().await;

    now.fetch_add(31 * 24 * 3_600_000, Ordering::SeqCst);
    let report = store
        .cleanup(&CleanupPolicy::default(), &shop::DeleteCarts)
        .await
        .unwrap();
    assert_eq!(report.guests, 1, "{report:?}");
    assert_eq!(
        shop::cart_of(&store.clone().into(), &abandoned_id)
            .await
            .unwrap(),
        json!({})
    );
    assert_eq!(
        abandoned.session().await,
        wire::no_session(),
        "its session ended"
    );
    // The upgraded guest (now a member) is never removed.
    assert_eq!(member.user_id().await, member_id);
    assert_eq!(member.cart().await, json!({ "tea": 1 }));
}

#[tokio::test]
async fn an_anonymous_provider_without_a_store_is_a_configuration_error() {
    let store = SqliteGuestStore::new(sqlx::SqlitePool::connect_lazy("sqlite::memory:").unwrap())
        .await
        .unwrap();
    let error = Auth::builder(shop::Shop { db: store.into() })
        .secret(SECRET)
        .url(URL)
        .build()
        .unwrap_err()
        .to_string();
    assert!(error.contains("AuthBuilder::guests"), "{error}");
}

#[tokio::test]
async fn a_failing_hook_changes_nothing() {
    let store = sqlite_store("hook", Limits::unlimited()).await;
    let builder = shop::auth_builder(store.clone())
        .upgrade_hook(|_, _, _| Box::pin(async { Err("the cart service is down".into()) }));
    let app = shop::app(configured(builder));
    let mut browser = Browser::app(&app);
    browser.sign_in("anon", &[]).await;
    let guest = browser.user_id().await;
    browser.add("mug", 2).await;
    let cookies_before = browser.jar.clone();

    let answer = browser.alice().await;
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.error().as_deref(), Some("UpgradeFailed"));
    assert!(
        answer
            .headers
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().contains("session-token"))
    );
    // Still the same guest, with its cart; the store unchanged.
    assert_eq!(
        browser
            .jar
            .iter()
            .filter(|(k, _)| k.contains("session-token"))
            .collect::<Vec<_>>(),
        cookies_before
            .iter()
            .filter(|(k, _)| k.contains("session-token"))
            .collect::<Vec<_>>()
    );
    assert_eq!(browser.session().await["isGuest"], true);
    assert_eq!(browser.user_id().await, guest);
    assert_eq!(browser.cart().await, json!({ "mug": 2 }));
    assert!(store.get(&guest).await.unwrap().unwrap().is_guest());
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.promoted_total, stats.merged_total), (0, 0));
}

#[tokio::test]
async fn an_unreachable_store_fails_sign_ins_and_keeps_sessions() {
    let path = temp_db("down");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(true),
        )
        .await
        .unwrap();
    let config = GuestConfig::default().limits(Limits::unlimited());
    let store = Arc::new(
        SqliteGuestStore::with_config(pool.clone(), config)
            .await
            .unwrap(),
    );
    shop::migrate(&store.clone().into()).await.unwrap();
    let auth = configured(shop::auth_builder(store));
    let app = shop::app(auth);

    let mut guest = Browser::app(&app);
    guest.sign_in("anon", &[]).await;
    let guest_id = guest.user_id().await;
    let mut member = Browser::app(&app);
    member.alice().await;
    assert_eq!(member.session().await["isGuest"], false);

    pool.close().await;

    // New guests and sign-ins fail with a clear code...
    let mut visitor = Browser::app(&app);
    let answer = visitor.sign_in("anon", &[]).await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.body
    );
    assert_eq!(answer.error().as_deref(), Some("GuestStoreUnavailable"));
    assert_eq!(answer.body["error"], "GuestStoreUnavailable");
    let answer = guest.alice().await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.body
    );
    assert_eq!(answer.error().as_deref(), Some("GuestStoreUnavailable"));
    if skip::database_sessions() {
        // Sessions live in that database too: reads answer 503 (try again), and sign nobody out.
        let answer = member.get("/api/auth/session").await;
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(answer.headers.get("set-cookie").is_none());
        return;
    }
    // ...while existing sessions keep working.
    assert_eq!(guest.session().await["userId"], guest_id.as_str());
    assert_eq!(guest.session().await["isGuest"], true);
    assert_eq!(member.session().await["user"]["name"], "alice");
}

#[tokio::test]
async fn a_thousand_concurrent_guest_sign_ins() {
    let store = sqlite_store("thousand", Limits::unlimited()).await;
    let app = shop::app(configured(shop::auth_builder(store.clone())));
    let started = Instant::now();
    let tasks: Vec<_> = (0..1000u32)
        .map(|i| {
            let mut browser = Browser::app(&app);
            browser.peer = Some(SocketAddr::from(([10, (i >> 8) as u8, i as u8, 1], 40000)));
            tokio::spawn(async move {
                let answer = browser.sign_in("anon", &[]).await;
                assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
                browser.user_id().await
            })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap());
    }
    println!(
        "1,000 concurrent guest sign-ins over HTTP (SQLite): {:?}",
        started.elapsed()
    );
    assert_eq!(ids.len(), 1000);
    assert_eq!(store.stats().await.unwrap().guests, 1000);
}

#[tokio::test]
async fn the_per_client_limit_answers_429_with_retry_after() {
    let limits = Limits {
        per_client_burst: 3,
        per_client_per_hour: 3,
        ..Limits::default()
    };
    let store = sqlite_store("limit", limits).await;
    let app = shop::app(configured(shop::auth_builder(store.clone())));
    let peer = SocketAddr::from(([203, 0, 113, 7], 5000));
    for _ in 0..3 {
        let mut browser = Browser::app(&app);
        browser.peer = Some(peer);
        assert_eq!(browser.sign_in("anon", &[]).await.status, StatusCode::OK);
    }
    let mut browser = Browser::app(&app);
    browser.peer = Some(peer);
    let answer = browser.sign_in("anon", &[]).await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(answer.error().as_deref(), Some("RateLimited"));
    let retry: u64 = answer.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=1200).contains(&retry), "{retry}");
    // Another client is not affected.
    browser.peer = Some(SocketAddr::from(([198, 51, 100, 1], 5000)));
    assert_eq!(browser.sign_in("anon", &[]).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client() {
    let limits = Limits {
        per_client_burst: 1,
        per_client_per_hour: 1,
        ..Limits::default()
    };
    let store = sqlite_store("proxy", limits).await;
    let builder = shop::auth_builder(store).trusted_proxy(TrustedProxy::XForwardedFor { hops: 1 });
    let app = shop::app(configured(builder));
    // Every request comes from the proxy's address; the proxy says who the client is.
    let proxy = SocketAddr::from(([10, 0, 0, 2], 443));
    let mut statuses = Vec::new();
    for client in ["198.51.100.1", "198.51.100.2", "198.51.100.1"] {
        let mut browser = Browser::app(&app);
        browser.peer = Some(proxy);
        browser.forwarded_for = Some(format!("6.6.6.6, {client}"));
        statuses.push(browser.sign_in("anon", &[]).await.status.as_u16());
    }
    assert_eq!(statuses, [200, 200, 429]);
}

#[tokio::test]
async fn upgrades_with_session_versions_keep_the_new_session() {
    let store = sqlite_store("versions", Limits::unlimited()).await;
    let versions = auth_runtime::SqliteSessionVersions::new(store.pool().clone())
        .await
        .unwrap();
    let app = shop::app(configured(
        shop::auth_builder(store.clone()).session_versions(versions),
    ));
    let mut browser = Browser::app(&app);
    browser.sign_in("anon", &[]).await;
    let guest = browser.user_id().await;
    let mut stale = browser.clone();
    assert_eq!(browser.alice().await.status, StatusCode::OK);
    // Promoted: same id, a new session version; the new session works, the old one does not.
    assert_eq!(browser.user_id().await, guest);
    assert_eq!(browser.session().await["isGuest"], false);
    assert_eq!(stale.session().await, wire::no_session());
}

/// Two app instances, each with its own pool, sharing one PostgreSQL.
#[tokio::test]
async fn limits_hold_across_two_instances_sharing_postgres() {
    let Some(options) = postgres("limits").await else {
        return;
    };
    let limits = Limits {
        per_client_burst: 5,
        per_client_per_hour: 5,
        ..Limits::default()
    };
    let mut apps = Vec::new();
    for _ in 0..2 {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await
            .unwrap();
        let config = GuestConfig::default().limits(limits);
        let db = GuestDatabase::from(PostgresGuestStore::with_config(pool, config).await.unwrap());
        shop::migrate(&db).await.unwrap();
        apps.push(shop::app(configured(shop::auth_builder(db))));
    }
    let peer = SocketAddr::from(([192, 0, 2, 44], 6000));
    let mut allowed = 0;
    for i in 0..10 {
        let mut browser = Browser::app(&apps[i % 2]);
        browser.peer = Some(peer);
        match browser.sign_in("anon", &[]).await.status {
            StatusCode::OK => allowed += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(allowed, 5, "one budget for both instances");
}

/// Two app instances sharing PostgreSQL, carts included.
async fn postgres_apps(
    test: &str,
    limits: Limits,
) -> Option<(Vec<Router>, Vec<Arc<dyn GuestStore>>)> {
    let options = postgres(test).await?;
    let mut apps = Vec::new();
    let mut stores = Vec::new();
    for _ in 0..2 {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options.clone())
            .await
            .unwrap();
        let config = GuestConfig::default().limits(limits);
        let db = GuestDatabase::from(PostgresGuestStore::with_config(pool, config).await.unwrap());
        shop::migrate(&db).await.unwrap();
        let store = db.store();
        // The suites on these instances sign in 50 times at once on purpose.
        let builder = shop::auth_builder(db).attempt_limits(AttemptLimits::off());
        apps.push(shop::app(configured(builder)));
        stores.push(store);
    }
    Some((apps, stores))
}

/// 50 concurrent double-submits of one guest's sign-in, spread over two instances sharing
/// PostgreSQL: exactly one upgrade, every request signed in as the same user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_double_submits_on_two_postgres_instances_upgrade_once() {
    let Some((apps, stores)) = postgres_apps("double", Limits::unlimited()).await else {
        return;
    };
    let mut browser = Browser::app(&apps[0]);
    browser.sign_in("anon", &[]).await;
    let guest = browser.user_id().await;
    let csrf = browser.get("/api/auth/csrf").await.body["csrfToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = Instant::now();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let mut copy = browser.clone();
            copy.server = apps[i % 2].clone();
            let csrf = csrf.clone();
            tokio::spawn(async move {
                let answer = copy
                    .post_sign_in(
                        "password",
                        &[("username", "alice"), ("password", "alice-password")],
                        &csrf,
                    )
                    .await;
                assert_eq!((answer.status, answer.error()), (StatusCode::OK, None));
                copy.user_id().await
            })
        })
        .collect();
    let mut users = std::collections::BTreeSet::new();
    for task in tasks {
        users.insert(task.await.unwrap());
    }
    println!(
        "50 concurrent double-submits on two PostgreSQL instances: {:?}",
        started.elapsed()
    );
    assert_eq!(users.len(), 1);
    assert!(users.contains(&guest));
    let stats = stores[1].stats().await.unwrap();
    assert_eq!((stats.promoted_total, stats.merged_total), (1, 0));
}

/// 1,000 concurrent guest sign-ins over HTTP, spread over two instances sharing PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_guest_sign_ins_on_two_postgres_instances() {
    let Some((apps, stores)) = postgres_apps("thousand", Limits::unlimited()).await else {
        return;
    };
    let started = Instant::now();
    let tasks: Vec<_> = (0..1000u32)
        .map(|i| {
            let mut browser = Browser::app(&apps[(i % 2) as usize]);
            browser.peer = Some(SocketAddr::from(([10, 1, (i >> 8) as u8, i as u8], 40000)));
            tokio::spawn(async move {
                let answer = browser.sign_in("anon", &[]).await;
                assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
                browser.user_id().await
            })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap());
    }
    println!(
        "1,000 concurrent guest sign-ins over HTTP (two instances, PostgreSQL): {:?}",
        started.elapsed()
    );
    assert_eq!(ids.len(), 1000);
    assert_eq!(stores[0].stats().await.unwrap().guests, 1000);
}

async fn postgres(test: &str) -> Option<sqlx::postgres::PgConnectOptions> {
    let what = format!("guest_checkout::{test}");
    Some(pg::schema(&format!("checkout_{test}"), &what).await?.scoped)
}

#[path = "support/postgres.rs"]
mod pg;

/// "Your devices" with database sessions: alice on a laptop and a phone; the laptop lists both
/// and signs the phone out, whose next request has no session; under token sessions the list is
/// not there (409).
#[tokio::test]
async fn your_devices_lists_a_members_browsers_and_ends_one() {
    let store = sqlite_store("devices", Limits::unlimited()).await;
    let auth = shop::auth_builder::<NextAuth>(store.clone())
        .secret(SECRET)
        .url(URL)
        .session_strategy(auth_runtime::SessionStrategy::Database)
        .build()
        .unwrap();
    let app = shop::app(auth);
    let mut laptop = Browser::app(&app);
    let mut phone = Browser::app(&app);
    for browser in [&mut laptop, &mut phone] {
        browser.sign_in("anon", &[]).await;
        browser.add("tea", 1).await;
        let answer = browser.alice().await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }
    let answer = laptop.get("/api/devices").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let devices = answer.body["devices"].as_array().unwrap().clone();
    assert_eq!(devices.len(), 2, "{devices:?}");
    let other = devices.iter().find(|d| d["current"] == false).unwrap();
    let body = serde_json::to_vec(&json!({ "id": other["id"] })).unwrap();
    let answer = laptop
        .send(
            Method::POST,
            "/api/devices/end",
            Some("application/json"),
            body,
        )
        .await;
    assert_eq!(answer.body, json!({ "ended": 1 }));
    assert_eq!(phone.session().await, wire::no_session());
    assert_eq!(laptop.session().await["user"]["name"], "alice");
    assert_eq!(
        laptop.cart().await,
        json!({ "tea": 2 }),
        "both guests' carts merged"
    );

    // Token sessions: no list (the page hides the section).
    let auth = shop::auth_builder::<NextAuth>(store.clone())
        .secret(SECRET)
        .url(URL)
        .session_strategy(auth_runtime::SessionStrategy::Jwt)
        .build()
        .unwrap();
    let app = shop::app(auth);
    let mut browser = Browser::app(&app);
    browser.sign_in("anon", &[]).await;
    browser.alice().await;
    let answer = browser.get("/api/devices").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, json!({ "devices": null }));
}
