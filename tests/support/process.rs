//! Running an example's binary as its own process (the way it is deployed), for the suites that
//! signal it or watch its memory.
//!
//! Included with `#[path]`.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A loopback port nobody listens on (at the moment of asking).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The binary of example `name`, which `cargo test` builds next to this test's own; `None`
/// with a `SKIPPED` message (naming `test`) when it is missing, a failure under `CI=true`.
pub fn example_binary(name: &str, test: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.parent()?.join("examples").join(name);
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{} is missing (cargo test builds the examples), and CI=true",
            path.display()
        );
    }
    super::skip::skipped(&format!(
        "SKIPPED {test}: {} is missing; run `cargo test --workspace` (which builds the examples)",
        path.display()
    ));
    None
}

/// Waits until `origin` answers `GET /api/auth/csrf` (20 s at most).
pub async fn wait_until_serving(origin: &str) {
    let started = Instant::now();
    while reqwest::get(format!("{origin}/api/auth/csrf"))
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{origin} did not start serving"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
