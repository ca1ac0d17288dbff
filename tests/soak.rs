//! Soak: the shop's release build (`examples/guest_checkout.rs`) under a bounded mixed load for
//! 10 minutes: guest sign-ins, session reads, cart writes, upgrades. Its resident memory and open
//! file descriptors must stay flat (under 10% growth after the warm-up, the first third of the
//! run) and no answer may be a 5xx. Minutes long, so ignored by default:
//!
//! ```sh
//! cargo build --release --example guest_checkout
//! cargo test --test soak -- --ignored --nocapture      # SOAK_SECS=600 by default
//! ```
//!
//! `SOAK_BIN` names another binary, `SOAK_DATABASE_URL` runs it on PostgreSQL, `SOAK_ROUNDS`
//! sets the pace (rounds per second, default 100; a round is 14 requests).

#[path = "support/browser.rs"]
mod browser;
#[path = "support/process.rs"]
mod process;
#[path = "support/skip.rs"]
mod skip;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use browser::Browser;
use serde_json::json;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn binary() -> PathBuf {
    std::env::var_os("SOAK_BIN").map_or_else(
        || {
            let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
                || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
                PathBuf::from,
            );
            target.join("release/examples/guest_checkout")
        },
        PathBuf::from,
    )
}

/// Resident memory (KiB) and open file descriptors of `pid`, sockets apart: the sockets are the
/// connections in flight (at most one per visitor, and the listener), the rest (files, the
/// SQLite file and its WAL, pipes, the runtime's) must not grow at all.
fn footprint(pid: u32) -> (u64, usize, usize) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let (mut files, mut sockets) = (0, 0);
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let target = std::fs::read_link(entry.path()).unwrap_or_default();
        if target.to_string_lossy().starts_with("socket:") {
            sockets += 1;
        } else {
            files += 1;
        }
    }
    (rss, files, sockets)
}

#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    server_errors: AtomicU64,
    network_errors: AtomicU64,
    other: AtomicU64,
    first_wrong: Mutex<Option<String>>,
}

impl Counts {
    fn record(
        &self,
        what: &str,
        result: Result<browser::Reply, reqwest::Error>,
    ) -> Option<browser::Reply> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let wrong = match &result {
            Ok(answer) if answer.status.is_success() => return result.ok(),
            Ok(answer) if answer.status.is_server_error() => {
                self.server_errors.fetch_add(1, Ordering::Relaxed);
                format!("{what}: {} {}", answer.status, answer.body)
            }
            Ok(answer) => {
                self.other.fetch_add(1, Ordering::Relaxed);
                format!("{what}: {} {}", answer.status, answer.body)
            }
            Err(error) => {
                self.network_errors.fetch_add(1, Ordering::Relaxed);
                format!("{what}: {error}")
            }
        };
        self.first_wrong.lock().unwrap().get_or_insert(wrong);
        None
    }
}

/// A visitor's round: a guest sign-in, ten session reads, a cart line, a cart read, and every
/// tenth round an upgrade (to one of 50 users).
async fn round(n: u64, origin: &str, counts: &Counts) {
    let mut browser = Browser::http(
        origin,
        Some(IpAddr::from([127, 2, (n >> 8) as u8, n as u8])),
    );
    if counts
        .record("guest sign-in", browser.try_sign_in("anon", &[]).await)
        .is_none()
    {
        return;
    }
    for _ in 0..10 {
        counts.record("session read", browser.try_get("/api/auth/session").await);
    }
    let cart = json!({ "product": "mug", "qty": 1 });
    counts.record(
        "cart write",
        browser.try_post_json("/api/cart", &cart).await,
    );
    counts.record("cart read", browser.try_get("/api/cart").await);
    if n.is_multiple_of(10) {
        let user = if n.is_multiple_of(20) { "alice" } else { "bob" };
        let password = format!("{user}-password");
        counts.record(
            "upgrade",
            browser
                .try_sign_in("password", &[("username", user), ("password", &password)])
                .await,
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "ten minutes: cargo test --test soak -- --ignored"]
async fn ten_minutes_of_mixed_load_keep_memory_and_descriptors_flat_with_no_5xx() {
    let seconds: u64 = env_or("SOAK_SECS", 600);
    let pace: u64 = env_or("SOAK_ROUNDS", 100);
    let bin = binary();
    assert!(
        bin.is_file(),
        "{} is missing: cargo build --release --example guest_checkout",
        bin.display()
    );
    let dir = std::env::temp_dir().join(format!("soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let port = process::free_port();
    let origin = format!("http://127.0.0.1:{port}");
    let database = std::env::var("SOAK_DATABASE_URL")
        .unwrap_or_else(|_| dir.join("shop.db").display().to_string());
    let mut child = tokio::process::Command::new(&bin)
        .env("PORT", port.to_string())
        .env("DATABASE_URL", &database)
        .env("AUTH_SECRET", "soak-test-secret-0123456789abcdef0123")
        .env("AUTH_GUEST_LIMIT_BURST", "off")
        .env("AUTH_GUEST_LIMIT_PER_HOUR", "off")
        .env("AUTH_GUEST_GLOBAL_BURST", "off")
        .env("AUTH_GUEST_GLOBAL_PER_HOUR", "off")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    process::wait_until_serving(&origin).await;

    let counts = Arc::new(Counts::default());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let next = Arc::new(AtomicU64::new(0));
    // Eight visitors at a time, at most `pace` rounds a second between them.
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (counts, next, origin) = (counts.clone(), next.clone(), origin.clone());
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let due = started + Duration::from_micros(n * 1_000_000 / pace);
                    if due >= deadline {
                        return;
                    }
                    tokio::time::sleep_until(due.into()).await;
                    round(n, &origin, &counts).await;
                }
            })
        })
        .collect();

    let mut samples = Vec::new();
    let mut most_sockets = 0;
    println!("t_s\trss_kib\tfds\tsockets\trequests");
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(10).min(deadline - Instant::now())).await;
        let (rss, fds, sockets) = footprint(pid);
        let t = started.elapsed().as_secs();
        let requests = counts.requests.load(Ordering::Relaxed);
        println!("{t}\t{rss}\t{fds}\t{sockets}\t{requests}");
        samples.push((t, rss, fds));
        most_sockets = most_sockets.max(sockets);
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let (rss_end, fds_end, _) = footprint(pid);
    let _ = tokio::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await;
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();

    // After the warm-up (the first third: SQLite's page caches, 2 MB for each of the store's six
    // connections, fill as the file grows): the largest value of the last minute against the
    // largest of the minute after the warm-up.
    let warm = (seconds / 3).max(10);
    let window = |from: u64, to: u64| {
        samples
            .iter()
            .filter(|(t, _, _)| *t >= from && *t <= to)
            .fold((0, 0), |(r, f), (_, rss, fds)| (r.max(*rss), f.max(*fds)))
    };
    let (rss_warm, fds_warm) = window(warm, warm + 60);
    let (rss_last, fds_last) = window(seconds.saturating_sub(60), seconds);
    let growth = |last: u64, base: u64| (last as f64 / base.max(1) as f64 - 1.0) * 100.0;
    let requests = counts.requests.load(Ordering::Relaxed);
    let report = format!(
        "soak {seconds} s, {} rounds, {requests} requests ({:.0}/s): RSS {rss_warm} -> {rss_last} KiB \
         ({:+.1}%), fds other than sockets {fds_warm} -> {fds_last} ({:+.1}%), sockets at most {most_sockets}, at the end {rss_end} KiB / {fds_end} fds; \
         5xx {}, network errors {}, other non-2xx {}; exit {status}",
        next.load(Ordering::Relaxed).min(seconds * pace),
        requests as f64 / seconds as f64,
        growth(rss_last, rss_warm),
        growth(fds_last as u64, fds_warm as u64),
        counts.server_errors.load(Ordering::Relaxed),
        counts.network_errors.load(Ordering::Relaxed),
        counts.other.load(Ordering::Relaxed),
    );
    println!("{report}");
    if let Some(first) = counts.first_wrong.lock().unwrap().as_ref() {
        println!("first answer that was not 2xx: {first}");
    }
    assert_eq!(counts.server_errors.load(Ordering::Relaxed), 0, "{report}");
    assert_eq!(counts.network_errors.load(Ordering::Relaxed), 0, "{report}");
    assert!(growth(rss_last, rss_warm) < 10.0, "{report}");
    assert!(growth(fds_last as u64, fds_warm as u64) < 10.0, "{report}");
    // The listener, and one connection per visitor (8) at most, with room for closing ones.
    assert!(most_sockets <= 1 + 2 * 8, "{report}");
    assert!(status.success(), "{report}");
    let _ = std::fs::remove_dir_all(&dir);
}
