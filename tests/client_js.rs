//! Drives the anonymous example with the real `next-auth/react` 4.24.15 client (Node 20 and
//! jsdom + React; the JavaScript lives in `tests/js/`). The server runs in this process.
//!
//! Needs Node and npm. Without them the test says it is skipped, except under `CI=true`, where a
//! missing Node is a failure. `tests/js/node_modules` is installed with `npm ci` when missing.

#[path = "support/formats.rs"]
mod formats;
#[path = "support/skip.rs"]
mod skip;
use skip::skipped;
use skip::{available, under_ci};

#[allow(dead_code)]
#[path = "../examples/anonymous.rs"]
mod anonymous;

use auth_runtime::guests::{GuestConfig, SqliteGuestStore};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
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
    assert!(status.success(), "npm ci --prefix tests/js failed");
}

async fn start_example() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let file = std::env::temp_dir().join(format!("auth-client-js-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let guests = SqliteGuestStore::open_with(&file, GuestConfig::default())
        .await
        .unwrap();
    let auth = anonymous::Auth::builder(anonymous::AppState {
        guests: std::sync::Arc::new(guests),
    })
    .secret("client-js-test-secret-0123456789abcdef")
    .url(format!("{origin}/api/auth"))
    .token_format(formats::for_the_v4_client())
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_next_auth_client_signs_a_guest_in() {
    if !available("node") || !available("npm") {
        assert!(
            !under_ci(),
            "CI=true but node or npm is missing: the next-auth client suite cannot run"
        );
        skipped(
            "SKIPPED: the next-auth client suite needs Node 20 and npm (apt-get install nodejs npm)",
        );
        return;
    }
    ensure_node_modules();
    let (origin, server) = start_example().await;

    let mut child = tokio::process::Command::new("node")
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .current_dir(js_dir())
        .env("AUTH_ORIGIN", &origin)
        .env_remove("NEXTAUTH_URL")
        .kill_on_drop(true)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node starts");
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let read = |mut pipe: Box<dyn tokio::io::AsyncRead + Unpin + Send>| async move {
        let mut text = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut pipe, &mut text)
            .await
            .ok();
        text
    };
    let outcome = tokio::time::timeout(Duration::from_secs(180), async {
        let (out, err, status) =
            tokio::join!(read(Box::new(stdout)), read(Box::new(stderr)), child.wait());
        (out, err, status)
    })
    .await;
    server.abort();
    let (out, err, status) = outcome.expect("the client suite finishes within 180 s");
    println!("{out}");
    eprintln!("{err}");
    let status = status.unwrap();
    assert!(
        status.success(),
        "the next-auth client suite failed ({status}); its output is above"
    );
    assert!(
        out.contains("ℹ fail 0") && !out.contains("ℹ pass 0"),
        "the suite ran no test or hid a failure"
    );
}
