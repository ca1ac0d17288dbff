//! The real OpenID provider of tests/oidc/server.mjs (npm `oidc-provider`) on 127.0.0.1, for the
//! suites that sign in through it, and the Node skip rule they share: without Node and npm the
//! test says it is skipped, except under `CI=true`, where a missing Node is a failure.
//! `node_modules` are installed with `npm ci` when missing.
//!
//! Included with `#[path]`, next to `support/skip.rs` as `mod skip`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use super::skip::{available, under_ci};

/// `tests/<name>`.
pub fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

/// Whether Node and npm are here; without them, says that `test` is skipped (a failure under
/// `CI=true`).
pub fn node_or_skip(test: &str) -> bool {
    if available("node") && available("npm") {
        return true;
    }
    assert!(
        !under_ci(),
        "CI=true but node or npm is missing: {test} cannot run"
    );
    super::skip::skipped(&format!(
        "SKIPPED {test}: the OpenID provider needs Node 20 and npm (apt-get install nodejs npm)"
    ));
    false
}

/// `npm ci` in `tests/<name>` unless `marker` is already installed.
pub fn ensure_node_modules(name: &str, marker: &str) {
    if dir(name).join("node_modules").join(marker).exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(dir(name))
        .status()
        .expect("npm runs");
    assert!(status.success(), "npm ci --prefix tests/{name} failed");
}

/// A listener for the app on a free port, and its origin (the provider's redirect URI needs it
/// before the app is built).
pub async fn bind_app() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    (listener, origin)
}

/// Starts tests/oidc/server.mjs for one client, with `env` on top (`ACCESS_TOKEN_TTL`, ...);
/// returns the child (killed on drop) and the issuer.
pub async fn start_provider(
    client_id: &str,
    client_secret: &str,
    redirect_uri: &str,
    env: &[(&str, &str)],
) -> (tokio::process::Child, String) {
    let mut command = tokio::process::Command::new("node");
    command
        .arg("server.mjs")
        .current_dir(dir("oidc"))
        .env("CLIENT_ID", client_id)
        .env("CLIENT_SECRET", client_secret)
        .env("REDIRECT_URI", redirect_uri)
        .kill_on_drop(true)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("node starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let issuer = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(issuer) = line.strip_prefix("READY ") {
                return issuer.to_owned();
            }
        }
        panic!("the OpenID provider exited before it was ready");
    })
    .await
    .expect("the OpenID provider starts within 30 s");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, issuer)
}
