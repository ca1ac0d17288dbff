//! A database next-auth's own PostgreSQL adapter (npm `@auth/pg-adapter`) writes is this
//! library's: the user, their GitHub account and a live session it wrote open a session here
//! (the plain token rewritten hashed); its e-mail link token (hashed with the secret, as
//! next-auth hashes it) signs in through our Email callback; and an account we link is found
//! by its `getUserByAccount`. The node side is `tests/pg_adapter/adapter.mjs`.
//!
//! Needs PostgreSQL, Node and npm; without them the test says it is skipped, and under `CI=true`
//! fails.

#[path = "support/browser.rs"]
mod browser;
#[path = "support/postgres.rs"]
mod pg;
#[path = "support/skip.rs"]
mod skip;

use std::path::Path;
use std::sync::Arc;

use auth_runtime::adapter::{AdapterAccount, UserFields};
use auth_runtime::guests::{GuestConfig, GuestStore, PostgresGuestStore};
use auth_runtime::{SessionStrategy, next_auth};
use browser::Browser;
use http::StatusCode;

next_auth! {
    strategy: "database",
    providers: [Email {}],
}

const SECRET: &str = "pg-adapter-interop-secret-0123456789abcdef";

fn node_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pg_adapter")
}

/// Runs `node adapter.mjs <args>` on `schema`; its last line of output, as JSON.
async fn adapter_js(schema: &str, args: &[&str]) -> serde_json::Value {
    let output = tokio::process::Command::new("node")
        .arg("adapter.mjs")
        .args(args)
        .current_dir(node_dir())
        .env("PG_SCHEMA", schema)
        .env("AUTH_SECRET", SECRET)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "node adapter.mjs {args:?} failed: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_next_auths_pg_adapter_wrote_opens_here_and_back() {
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but node is missing"
        );
        skip::skipped("SKIPPED the @auth/pg-adapter interop test: no node");
        return;
    }
    assert!(
        node_dir()
            .join("node_modules/@auth/pg-adapter/package.json")
            .exists(),
        "tests/pg_adapter/node_modules is missing: npm ci --prefix tests/pg_adapter"
    );
    let Some(schema) = pg::schema("pgadapter", "the @auth/pg-adapter interop test").await else {
        return;
    };
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect_with(schema.scoped.clone())
        .await
        .unwrap();
    // Our schema first: Auth.js's tables plus our columns, as an app moving over would have
    // after its first start (the same tables next-auth's adapter already used).
    let store = Arc::new(
        PostgresGuestStore::with_config(pool, GuestConfig::default())
            .await
            .unwrap(),
    );
    let written = adapter_js(&schema.name, &["write"]).await;
    let auth = Auth::builder(())
        .secret(SECRET)
        .url("http://127.0.0.1:3000/api/auth")
        .guests(store.clone())
        .session_strategy(SessionStrategy::Database)
        .build()
        .unwrap();

    // The live session next-auth wrote (a plain UUID token) opens here.
    let mut nora = Browser::engine(auth.clone());
    nora.jar.insert(
        "next-auth.session-token".into(),
        written["sessionToken"].as_str().unwrap().into(),
    );
    let session = nora.session().await;
    assert_eq!(session["user"]["name"], "Nora Next", "{session}");
    assert_eq!(session["user"]["email"], "nora@example.com");
    assert_eq!(session["user"]["image"], "https://example.com/nora.png");
    let current = auth.token(&headers(&nora)).await.unwrap();
    assert_eq!(current.sub.as_deref(), written["userId"].as_str());
    let stored: String = sqlx::query_scalar("SELECT \"sessionToken\" FROM sessions")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(stored.starts_with("sha256:"), "rewritten hashed: {stored}");

    // Its user and account, through our adapter.
    let adapter = store.adapter().unwrap();
    let user = adapter
        .get_user_by_account("github", "4242")
        .await
        .unwrap()
        .expect("the account next-auth linked");
    assert_eq!(Some(user.id.as_str()), written["userId"].as_str());

    // Its e-mail link token (sha256(token + secret)) signs in through our Email callback, as the
    // same user (found by address).
    let mut mail_reader = Browser::engine(auth.clone());
    let link = format!(
        "/api/auth/callback/email?token={}&email=nora%40example.com&callbackUrl=%2F",
        written["emailToken"].as_str().unwrap()
    );
    let reply = mail_reader.get(&link).await;
    assert_eq!(
        reply.status,
        StatusCode::FOUND,
        "{:?}",
        reply.header("location")
    );
    assert!(!reply.header("location").unwrap().contains("error"));
    assert_eq!(
        mail_reader.session().await["user"]["email"],
        "nora@example.com"
    );
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(users, 1, "the address's user, not a new one");

    // And the other way: an account we link is next-auth's to find.
    let ours = adapter
        .create_user_with_account(
            UserFields {
                name: Some("Rusty".into()),
                email: Some("rusty@example.com".into()),
                ..UserFields::default()
            },
            AdapterAccount {
                kind: "oauth".into(),
                provider: "github".into(),
                provider_account_id: "777".into(),
                ..AdapterAccount::default()
            },
        )
        .await
        .unwrap();
    let found = adapter_js(&schema.name, &["read", "github", "777"]).await;
    assert_eq!(found["name"], "Rusty", "{found}");
    assert_eq!(found["id"].to_string(), ours.id);

    store.close().await;
    let drop = format!("DROP SCHEMA IF EXISTS {} CASCADE", schema.name);
    sqlx::query(sqlx::AssertSqlSafe(drop))
        .execute(&schema.admin)
        .await
        .unwrap();
}

fn headers(client: &Browser<Auth>) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert("cookie", client.cookie_header().parse().unwrap());
    headers
}
