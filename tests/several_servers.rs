//! Several app servers on one PostgreSQL: two servers of `examples/guest_checkout.rs` (each with
//! its own engine and pool, served over TCP on loopback as the example serves) and a browser
//! that alternates between them, as behind a load balancer with no sticky sessions. A guest made
//! on one is read, fills its cart and upgrades on the other; ending a user's sessions on one ends
//! them on the other at its next read; the creation limits hold across both, to the guest.

#[path = "support/browser.rs"]
mod browser;
#[path = "support/postgres.rs"]
mod pg;
#[path = "../examples/guest_checkout.rs"]
#[allow(dead_code)]
mod shop;

use std::net::IpAddr;

use auth_runtime::PostgresSessionVersions;
use auth_runtime::axum::{ServeConfig, serve_app};
use auth_runtime::guests::{GuestConfig, GuestDatabase, Limits, PostgresGuestStore};
use browser::{Browser, wire};
use reqwest::StatusCode;
use serde_json::json;

const SECRET: &str = "several-servers-secret-0123456789abcdef";

/// One server: its origin, its engine (for `sign_out_everywhere`), its store.
struct Server {
    origin: String,
    auth: shop::Auth,
    db: GuestDatabase,
}

/// Two servers of the shop on the schema `several_<test>`; `None` (skipped) without PostgreSQL.
async fn two_servers(test: &str, limits: Limits) -> Option<Vec<Server>> {
    let schema = pg::schema(
        &format!("several_{test}"),
        &format!("several_servers::{test}"),
    )
    .await?;
    let mut servers: Vec<Server> = Vec::new();
    for _ in 0..2 {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .connect_with(schema.scoped.clone())
            .await
            .unwrap();
        let config = GuestConfig::default().limits(limits);
        let store = PostgresGuestStore::with_config(pool.clone(), config)
            .await
            .unwrap();
        let db = GuestDatabase::from(store);
        shop::migrate(&db).await.unwrap();
        let versions = PostgresSessionVersions::new(pool).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        // Behind one load balancer every server has the same public URL (its tokens name it as
        // their issuer): here, the first server's.
        let public = servers.first().map_or(&origin, |first| &first.origin);
        let auth = shop::auth_builder::<shop::NextAuth>(db.clone())
            .session_versions(versions)
            .secret(SECRET)
            .url(format!("{public}/api/auth"))
            .build()
            .unwrap();
        let app = shop::app(auth.clone());
        tokio::spawn(async move { serve_app(listener, app, ServeConfig::default()).await });
        servers.push(Server { origin, auth, db });
    }
    Some(servers)
}

fn client(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_made_on_one_server_shops_and_signs_in_on_the_other() {
    let Some(servers) = two_servers("journey", Limits::unlimited()).await else {
        return;
    };
    let (a, b) = (&servers[0].origin, &servers[1].origin);
    let mut browser = Browser::http(a, Some(client(1)));

    // Made on A, read on B.
    assert_eq!(browser.sign_in("anon", &[]).await.status, StatusCode::OK);
    let guest = browser.session().await;
    assert_eq!(guest["isGuest"], true);
    let guest_id = guest["userId"].as_str().unwrap().to_owned();
    browser.server.origin = b.clone();
    assert_eq!(browser.session().await["userId"], guest_id.as_str());

    // The cart, filled on B, is read on A.
    let added = browser
        .post_json("/api/cart", &json!({ "product": "tea", "qty": 2 }))
        .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    browser.server.origin = a.clone();
    let cart = browser.get("/api/cart").await.body;
    assert_eq!(cart["items"], json!({ "tea": 2 }));

    // The upgrade on B promotes the guest made on A; A sees the user and the same cart.
    browser.server.origin = b.clone();
    let answer = browser
        .sign_in(
            "password",
            &[("username", "alice"), ("password", "alice-password")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    browser.server.origin = a.clone();
    let member = browser.session().await;
    assert_eq!(
        (member["isGuest"].clone(), member["userId"].clone()),
        (json!(false), json!(guest_id))
    );
    assert_eq!(
        browser.get("/api/cart").await.body["items"],
        json!({ "tea": 2 })
    );
    let checkout = browser.post_json("/api/checkout", &json!({})).await;
    assert_eq!(
        checkout.body["ordered"],
        json!({ "tea": 2 }),
        "{}",
        checkout.body
    );

    // A second device of the same user, signed in on A.
    let mut phone = Browser::http(a, Some(client(2)));
    phone
        .sign_in(
            "password",
            &[("username", "alice"), ("password", "alice-password")],
        )
        .await;
    assert_eq!(phone.session().await["userId"], guest_id.as_str());

    // Signing the user out everywhere on A ends both sessions at their next read on B.
    servers[0]
        .auth
        .sign_out_everywhere(&guest_id)
        .await
        .unwrap();
    browser.server.origin = b.clone();
    phone.server.origin = b.clone();
    assert_eq!(browser.session().await, wire::no_session());
    assert_eq!(phone.session().await, wire::no_session());
    let checkout = phone.post_json("/api/checkout", &json!({})).await;
    assert_eq!(
        checkout.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        checkout.body
    );

    // Both servers see the one guest, now promoted, in the shared database.
    for server in &servers {
        let stats = server.db.store().stats().await.unwrap();
        assert_eq!((stats.guests, stats.promoted_total), (0, 1));
    }
}

/// 24 concurrent guest sign-ins from one client, spread over both servers, under a per-client
/// budget of 5: exactly 5 are granted. Then 24 from 24 other clients under a global budget of 7
/// (with the 5 already spent): exactly 2 more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_creation_limits_grant_exactly_the_budget_across_both_servers() {
    let limits = Limits {
        per_client_burst: 5,
        per_client_per_hour: 5,
        global_burst: 7,
        global_per_hour: 7,
    };
    let Some(servers) = two_servers("limits", limits).await else {
        return;
    };
    let burst = |clients: Vec<u8>| {
        let origins: Vec<String> = servers.iter().map(|s| s.origin.clone()).collect();
        async move {
            let tasks: Vec<_> = clients
                .into_iter()
                .enumerate()
                .map(|(i, last)| {
                    let mut browser = Browser::http(&origins[i % 2], Some(client(last)));
                    tokio::spawn(async move { browser.sign_in("anon", &[]).await.status })
                })
                .collect();
            let mut granted = 0;
            for task in tasks {
                match task.await.unwrap() {
                    StatusCode::OK => granted += 1,
                    StatusCode::TOO_MANY_REQUESTS => {}
                    other => panic!("unexpected {other}"),
                }
            }
            granted
        }
    };
    assert_eq!(
        burst(vec![10; 24]).await,
        5,
        "the per-client budget, across both servers"
    );
    assert_eq!(
        burst((20..44).collect()).await,
        2,
        "the global budget, across both servers"
    );
    let stats = servers[1].db.store().stats().await.unwrap();
    assert_eq!(stats.guests, 7);
}

/// Password attempts count on both servers together: a client alternating between them meets
/// the limit after the same 10 wrong attempts as on one, with `Retry-After`; those spend the
/// identifier on both, and the owner's browser (its device cookie) still signs in on either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_attempts_are_counted_across_both_servers() {
    let Some(servers) = two_servers("attempts", Limits::unlimited()).await else {
        return;
    };
    // Bob signed in on the first server before: his browser holds a device cookie, which
    // every server sharing the secret reads.
    let mut owner = Browser::http(&servers[0].origin, Some(client(32)));
    let right = [("username", "bob"), ("password", "bob-password")];
    assert_eq!(
        owner.sign_in("password", &right).await.status,
        StatusCode::OK
    );
    owner.jar.retain(|name, _| !name.contains("session-token"));

    let mut guesser = Browser::http(&servers[0].origin, Some(client(31)));
    let mut statuses = Vec::new();
    for i in 0..14 {
        guesser.server.origin = servers[i % 2].origin.clone();
        let password = format!("guess-{i}");
        let answer = guesser
            .sign_in("password", &[("username", "bob"), ("password", &password)])
            .await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(answer.body["error"], "RateLimited");
            let retry: u64 = answer.headers["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            // 30 an hour once the burst is spent: one every 120 s.
            assert!((100..=120).contains(&retry), "Retry-After: {retry}");
        }
        statuses.push(answer.status.as_u16());
    }
    let wrong = wire::wrong_password_status().as_u16();
    assert_eq!(statuses[..10], [wrong; 10], "{statuses:?}");
    assert_eq!(statuses[10..], [429; 4], "{statuses:?}");

    for (i, server) in servers.iter().enumerate() {
        // The ten guesses, counted across both servers, spent bob's identifier: a browser that
        // never signed in as bob waits on either server...
        let mut stranger = Browser::http(&server.origin, Some(client(40 + i as u8)));
        let answer = stranger.sign_in("password", &right).await;
        assert_eq!(
            answer.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            answer.body
        );
        // ...and bob's own browser signs in on both.
        owner.server.origin = server.origin.clone();
        let answer = owner.sign_in("password", &right).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(owner.session().await["user"]["name"], "bob");
        owner.jar.retain(|name, _| !name.contains("session-token"));
    }
}
