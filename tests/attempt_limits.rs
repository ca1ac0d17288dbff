//! Password attempt limits at the REST API, on the shop of `examples/guest_checkout.rs` served
//! over TCP, with the SQLite store's table as the buckets (`AuthBuilder::attempt_buckets`; by
//! default an SQLite store counts in memory): hostile identifiers are only counted, never
//! interpreted; the limits hold while the store is unreachable (the server counts on its own);
//! they can be turned off. Shared counting on PostgreSQL is in `several_servers.rs`; the real
//! client's view in `client_js_guests.rs`.

#[path = "support/browser.rs"]
mod browser;
#[path = "../examples/guest_checkout.rs"]
#[allow(dead_code)]
mod shop;

use std::net::IpAddr;
use std::sync::Arc;

use auth_runtime::AttemptLimits;
use auth_runtime::axum::{ServeConfig, serve_app};
use auth_runtime::guests::{GuestConfig, GuestStore, Limits, SqliteGuestStore};
use browser::{Browser, wire};
use reqwest::StatusCode;

async fn shop(test: &str, limits: Option<AttemptLimits>) -> (String, Arc<SqliteGuestStore>) {
    let dir = std::env::temp_dir().join(format!("attempt-limits-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = GuestConfig::default().limits(Limits::unlimited());
    let store = Arc::new(
        SqliteGuestStore::open_with(dir.join("shop.db"), config)
            .await
            .unwrap(),
    );
    shop::migrate(&store.clone().into()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let mut builder = shop::auth_builder::<shop::NextAuth>(store.clone())
        .secret("attempt-limits-secret-0123456789abcdef")
        .url(format!("{origin}/api/auth"))
        .attempt_buckets(store.clone());
    if let Some(limits) = limits {
        builder = builder.attempt_limits(limits);
    }
    let app = shop::app(builder.build().unwrap());
    tokio::spawn(async move { serve_app(listener, app, ServeConfig::default()).await });
    (origin, store)
}

fn client(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// SQL metacharacters, control characters, a header injection, very long and non-ASCII names:
/// each is a wrong attempt like any other (401, counted), the buckets' table is intact, and the
/// identifier's limit applies to them as to a plain name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_identifiers_are_only_counted() {
    let limits = AttemptLimits {
        per_client_per_hour: 0,
        per_identifier_burst: 3,
        ..AttemptLimits::default()
    };
    let (origin, store) = shop("hostile", Some(limits)).await;
    let hostile = [
        "'; DROP TABLE auth_guest_limits;--",
        "bob' OR '1'='1",
        "a@b.c\r\nBcc: x@y.z",
        "\0nul",
        "ｂｏｂ",
        "%00%27",
        &"x".repeat(1500),
    ];
    for (i, name) in hostile.iter().enumerate() {
        let mut browser = Browser::http(&origin, Some(client(10 + i as u8)));
        for attempt in 0..4 {
            let answer = browser
                .sign_in("password", &[("username", name), ("password", "nope")])
                .await;
            let expected = if attempt < 3 {
                wire::wrong_password_status()
            } else {
                StatusCode::TOO_MANY_REQUESTS
            };
            assert_eq!(answer.status, expected, "{name:?} attempt {attempt}");
        }
    }
    // Names that differ only in case and surrounding spaces are one identifier.
    let mut browser = Browser::http(&origin, Some(client(40)));
    for (attempt, name) in ["Carol", " carol", "CAROL "].iter().enumerate() {
        let answer = browser
            .sign_in("password", &[("username", name), ("password", "nope")])
            .await;
        assert_eq!(
            answer.status,
            wire::wrong_password_status(),
            "attempt {attempt}"
        );
    }
    let answer = browser
        .sign_in("password", &[("username", "carol"), ("password", "nope")])
        .await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM auth_guest_limits")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows, hostile.len() as i64 + 1, "one bucket per identifier");
}

/// With the store closed, attempts are counted in the server's memory: still 10, then 429.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limits_hold_while_the_store_is_unreachable() {
    let (origin, store) = shop("outage", None).await;
    GuestStore::close(&*store).await.unwrap();
    let mut guesser = Browser::http(&origin, Some(client(50)));
    let mut statuses = Vec::new();
    for i in 0..12 {
        let password = format!("guess-{i}");
        let answer = guesser
            .sign_in(
                "password",
                &[("username", "alice"), ("password", &password)],
            )
            .await;
        statuses.push(answer.status.as_u16());
    }
    let wrong = wire::wrong_password_status().as_u16();
    assert_eq!(statuses[..10], [wrong; 10], "{statuses:?}");
    assert_eq!(statuses[10..], [429; 2], "{statuses:?}");
}

/// `AttemptLimits::off()`: no limit at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_can_be_turned_off() {
    let (origin, _store) = shop("off", Some(AttemptLimits::off())).await;
    let mut guesser = Browser::http(&origin, Some(client(60)));
    for i in 0..25 {
        let password = format!("guess-{i}");
        let answer = guesser
            .sign_in(
                "password",
                &[("username", "alice"), ("password", &password)],
            )
            .await;
        assert_eq!(answer.status, wire::wrong_password_status());
    }
}
