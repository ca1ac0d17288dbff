//! Drives the real next-auth v5 client (`next-auth/react` 5.0.0-beta.32 with `@auth/core` 0.41.3;
//! the JavaScript lives in `tests/js5/`) against the anonymous and the minimal examples serving
//! the `authjs-v5` token format, and with it Auth.js v5's wire. The servers run in this process
//! and pin their format, whatever `AUTH_TOKEN_FORMAT` the run sets.
//!
//! Needs Node and npm. Without them the test says it is skipped, except under `CI=true`, where a
//! missing Node is a failure. `tests/js5/node_modules` is installed with `npm ci` when missing.

#[path = "support/skip.rs"]
mod skip;
use skip::skipped;
use skip::{available, under_ci};

#[allow(dead_code)]
#[path = "../examples/anonymous.rs"]
mod anonymous;

#[allow(dead_code)]
#[path = "../examples/minimal.rs"]
mod minimal;

use auth_runtime::TokenFormat;
use auth_runtime::guests::{GuestConfig, SqliteGuestStore};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js5")
}

/// Installs the pinned client with `npm ci` unless it is already there.
fn ensure_node_modules() {
    let marker = js_dir().join("node_modules/next-auth/package.json");
    if marker.exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(js_dir())
        .status()
        .expect("npm runs");
    assert!(status.success(), "npm ci --prefix tests/js5 failed");
}

async fn listener() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    (listener, origin)
}

/// The anonymous example (the set-up), in Auth.js v5's format.
async fn start_anonymous() -> (String, tokio::task::JoinHandle<()>) {
    let (listener, origin) = listener().await;
    let file = std::env::temp_dir().join(format!("auth-client-js-v5-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let guests = SqliteGuestStore::open_with(&file, GuestConfig::default())
        .await
        .unwrap();
    let auth = anonymous::Auth::builder(anonymous::AppState {
        guests: std::sync::Arc::new(guests),
    })
    .secret("client-js-v5-test-secret-0123456789abcdef")
    .url(format!("{origin}/api/auth"))
    .token_format(TokenFormat::AuthJsV5)
    .build()
    .unwrap();
    let server = tokio::spawn(async move {
        let config = auth_runtime::axum::ServeConfig::default();
        auth_runtime::axum::serve_app(listener, anonymous::app(auth), config)
            .await
            .unwrap();
    });
    (origin, server)
}

/// The minimal example (a `password` provider), in Auth.js v5's format.
async fn start_minimal() -> (String, tokio::task::JoinHandle<()>) {
    let (listener, origin) = listener().await;
    let auth = minimal::Auth::builder(())
        .secret("client-js-v5-test-secret-0123456789abcdef")
        .url(format!("{origin}/api/auth"))
        .token_format(TokenFormat::AuthJsV5)
        .build()
        .unwrap();
    let server = tokio::spawn(async move {
        let config = auth_runtime::axum::ServeConfig::default();
        auth_runtime::axum::serve_app(listener, minimal::app(auth), config)
            .await
            .unwrap();
    });
    (origin, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_next_auth_v5_client_signs_in_and_out() {
    if !available("node") || !available("npm") {
        assert!(
            !under_ci(),
            "CI=true but node or npm is missing: the next-auth v5 client suite cannot run"
        );
        skipped(
            "SKIPPED: the next-auth v5 client suite needs Node 20 and npm (apt-get install nodejs npm)",
        );
        return;
    }
    ensure_node_modules();
    let (origin, anonymous) = start_anonymous().await;
    let (password_origin, minimal) = start_minimal().await;

    let output = tokio::time::timeout(
        Duration::from_secs(180),
        tokio::process::Command::new("node")
            .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
            .current_dir(js_dir())
            .env("AUTH_ORIGIN", &origin)
            .env("AUTH_PASSWORD_ORIGIN", &password_origin)
            .env_remove("NEXTAUTH_URL")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the client suite finishes within 180 s")
    .expect("node starts");
    anonymous.abort();
    minimal.abort();
    let out = String::from_utf8_lossy(&output.stdout);
    println!("{out}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "the next-auth v5 client suite failed ({}); its output is above",
        output.status
    );
    assert!(
        out.contains("ℹ fail 0") && !out.contains("ℹ pass 0"),
        "the suite ran no test or hid a failure"
    );
}
