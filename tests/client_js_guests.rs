//! Drives `examples/guest_checkout.rs` with the real `next-auth/react` 4.24.15 client
//! (`tests/js/guest_checkout.client.mjs`): guest, cart, sign-in keeping the cart, and the guest
//! limit as `{ ok: false, error: "RateLimited" }`. The server runs in this process, served with
//! the connection's address (the per-client limit keys on it).
//!
//! Needs Node and npm: without them the test says it is skipped, except under `CI=true`, where a
//! missing Node is a failure. `tests/js/node_modules` is installed with `npm ci` when missing.

#[path = "support/formats.rs"]
mod formats;
#[path = "support/skip.rs"]
mod skip;
use skip::available;
use skip::skipped;

#[allow(dead_code)]
#[path = "../examples/guest_checkout.rs"]
mod shop;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use auth_runtime::guests::{GuestConfig, Limits, SqliteGuestStore};

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_next_auth_client_shops_as_a_guest_and_keeps_the_cart() {
    if !available("node") || !available("npm") {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
            "CI=true but node or npm is missing: the next-auth client suite cannot run"
        );
        skipped(
            "SKIPPED: the next-auth client suite needs Node 20 and npm (apt-get install nodejs npm)",
        );
        return;
    }
    if !js_dir()
        .join("node_modules/next-auth/package.json")
        .exists()
    {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(js_dir())
            .status()
            .expect("npm runs");
        assert!(status.success(), "npm ci --prefix tests/js failed");
    }

    let dir = std::env::temp_dir().join(format!("client-js-guests-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let limits = Limits {
        per_client_burst: 2,
        per_client_per_hour: 2,
        ..Limits::default()
    };
    let config = GuestConfig::default().limits(limits);
    let store = Arc::new(
        SqliteGuestStore::open_with(dir.join("shop.db"), config)
            .await
            .unwrap(),
    );
    shop::migrate(&store.clone().into()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let auth = shop::auth_builder::<shop::NextAuth>(store.clone())
        .secret("client-js-guests-secret-0123456789abcdef")
        .url(format!("{origin}/api/auth"))
        .token_format(formats::for_the_v4_client())
        .build()
        .unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            shop::app(auth).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });

    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new("node")
            .args([
                "--test",
                "--test-concurrency=1",
                "--test-reporter=spec",
                "guest_checkout.client.mjs",
            ])
            .current_dir(js_dir())
            .env("AUTH_ORIGIN", &origin)
            .env_remove("NEXTAUTH_URL")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the client suite finishes within 120 s")
    .expect("node starts");
    server.abort();
    let out = String::from_utf8_lossy(&output.stdout);
    println!("{out}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "the next-auth client suite failed ({}); its output is above",
        output.status
    );
    assert!(
        out.contains("ℹ fail 0") && !out.contains("ℹ pass 0"),
        "the suite ran no test or hid a failure"
    );

    // The shop's events, as its audit trail wrote them: the shopper was a guest, then signed in
    // as alice and was promoted; each event once, in the order things happened.
    let db: auth_runtime::guests::GuestDatabase = store.clone().into();
    let promoted: Vec<String> =
        sqlx::query_scalar("SELECT user_id FROM audit_log WHERE event = 'create_user'")
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(promoted.len(), 1, "one guest was promoted: {promoted:?}");
    let trail = shop::audit_trail(&db, &promoted[0]).await.unwrap();
    assert_eq!(
        trail,
        [
            "guest_created",
            "sign_in",
            "guest_upgraded",
            "create_user",
            "link_account",
            "sign_in"
        ]
    );
    // Bob signed in twice from his laptop (127.0.0.2), before and during the guessing, without
    // being a guest first: two sign-ins, nothing else.
    assert_eq!(
        shop::audit_trail(&db, "bob").await.unwrap(),
        ["sign_in", "sign_in"]
    );
    // Refused and redirected sign-ins (carol, dave) are no sign-in.
    assert!(shop::audit_trail(&db, "carol").await.unwrap().is_empty());
    assert!(shop::audit_trail(&db, "dave").await.unwrap().is_empty());
}
