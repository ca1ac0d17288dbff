//! The database session strategy on SQLite and PostgreSQL, through the REST API: the cookie
//! holds an opaque token whose hash keys a `sessions` row; sign-out deletes the row, so a
//! replayed cookie opens nothing; a session ended from another device is over at its next
//! request; next-auth's plain tokens are accepted once and rewritten hashed; hostile tokens get
//! `{}`; 500 concurrent guest sign-ins make 500 users and 500 sessions.
//!
//! Every test runs on both databases; the adapter is the guest store's (one database for the
//! guests, the users and their sessions).

#[path = "support/browser.rs"]
mod browser;
#[path = "support/postgres.rs"]
mod pg;

use std::sync::Arc;

use auth_runtime::adapter::{Adapter, UserFields};
use auth_runtime::guests::{GuestConfig, GuestStore, Limits, PostgresGuestStore, SqliteGuestStore};
use auth_runtime::{User, next_auth};
use browser::{Browser, wire};
use http::{HeaderMap, StatusCode};

next_auth! {
    strategy: "database",
    update_age: 60,
    providers: [
        Credentials {
            id: "password",
            credentials: { username: {}, password: { type: "password" } },
            authorize: |c| Ok((c.password == "secret").then(|| {
                User::with_id(c.username.clone()).name(format!("{} (db)", c.username))
            })),
        },
        Anonymous { id: "guest" },
    ],
}

/// The guests' address (the store's limits are off in these tests).
const PEER: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40000);

const SECRET: &str = "database-sessions-secret-0123456789abcdef";

/// One of the two databases: the guest store on it, and a raw pool to look at its tables.
enum Db {
    Sqlite(Arc<SqliteGuestStore>),
    Postgres(Arc<PostgresGuestStore>, Box<pg::TestSchema>),
}

impl Db {
    async fn sqlite(test: &str) -> Db {
        let dir = std::env::temp_dir().join(format!("db-sessions-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = GuestConfig::default().limits(Limits::unlimited());
        let store = SqliteGuestStore::open_with(dir.join("app.db"), config)
            .await
            .unwrap();
        Db::Sqlite(Arc::new(store))
    }

    async fn postgres(test: &str) -> Option<Db> {
        let schema = pg::schema(&format!("dbs_{test}"), "database sessions on PostgreSQL").await?;
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .connect_with(schema.scoped.clone())
            .await
            .unwrap();
        let config = GuestConfig::default().limits(Limits::unlimited());
        let store = PostgresGuestStore::with_config(pool, config).await.unwrap();
        Some(Db::Postgres(Arc::new(store), Box::new(schema)))
    }

    fn store(&self) -> Arc<dyn GuestStore> {
        match self {
            Db::Sqlite(store) => store.clone(),
            Db::Postgres(store, _) => store.clone(),
        }
    }

    fn adapter(&self) -> Arc<dyn Adapter> {
        self.store()
            .adapter()
            .expect("the SQL stores have an adapter")
    }

    fn auth(&self) -> Auth {
        Auth::builder(())
            .secret(SECRET)
            .url("http://127.0.0.1:3000/api/auth")
            .guests(self.store())
            .build()
            .unwrap()
    }

    /// The first column of the first row of `sql` (a count or a text), as text.
    async fn scalar(&self, sql: &str) -> Option<String> {
        match self {
            Db::Sqlite(store) => {
                let row: Option<(Option<String>,)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT CAST(({sql}) AS TEXT)")))
                        .fetch_optional(store.pool())
                        .await
                        .unwrap();
                row.and_then(|(value,)| value)
            }
            Db::Postgres(store, _) => {
                let row: Option<(Option<String>,)> =
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT CAST(({sql}) AS TEXT)")))
                        .fetch_optional(store.pool())
                        .await
                        .unwrap();
                row.and_then(|(value,)| value)
            }
        }
    }

    async fn count(&self, table_and_filter: &str) -> i64 {
        self.scalar(&format!("SELECT COUNT(*) FROM {table_and_filter}"))
            .await
            .unwrap()
            .parse()
            .unwrap()
    }

    async fn execute(&self, sql: &str) {
        match self {
            Db::Sqlite(store) => {
                sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(store.pool())
                    .await
                    .unwrap();
            }
            Db::Postgres(store, _) => {
                sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(store.pool())
                    .await
                    .unwrap();
            }
        }
    }

    async fn close(self) {
        match self {
            Db::Sqlite(store) => store.close().await,
            Db::Postgres(store, schema) => {
                store.close().await;
                let drop = format!("DROP SCHEMA IF EXISTS {} CASCADE", schema.name);
                sqlx::query(sqlx::AssertSqlSafe(drop))
                    .execute(&schema.admin)
                    .await
                    .unwrap();
            }
        }
    }
}

/// Runs `check` on SQLite, then on PostgreSQL (skipped, and said, without one; a failure under
/// CI).
macro_rules! on_both {
    ($test:ident, $check:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $test() {
            let db = Db::sqlite(stringify!($test)).await;
            $check(&db).await;
            db.close().await;
            if let Some(db) = Db::postgres(stringify!($test)).await {
                $check(&db).await;
                db.close().await;
            }
        }
    };
}

async fn signed_in(auth: &Auth, username: &str) -> Browser<Auth> {
    let mut client = Browser::engine(auth.clone());
    let reply = client
        .sign_in(
            "password",
            &[("username", username), ("password", "secret")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    client
}

fn session_cookie(client: &Browser<Auth>) -> String {
    client.jar["next-auth.session-token"].clone()
}

fn headers_of(client: &Browser<Auth>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("cookie", client.cookie_header().parse().unwrap());
    headers
}

on_both!(a_sign_in_stores_a_hashed_session, stores_a_hashed_session);
async fn stores_a_hashed_session(db: &Db) {
    let auth = db.auth();
    let mut alice = signed_in(&auth, "alice").await;
    let token = session_cookie(&alice);
    // An opaque token, not a JWT: 256 random bits in base64url.
    assert_eq!(token.len(), 43, "{token}");
    assert!(!token.contains('.'));
    let session = alice.session().await;
    assert_eq!(session["user"]["name"], "alice (db)");
    assert!(session["expires"].is_string());
    // The row holds the token's hash, never the token; the user came with a credentials account.
    assert_eq!(db.count("sessions").await, 1);
    let stored = db
        .scalar("SELECT \"sessionToken\" FROM sessions")
        .await
        .unwrap();
    assert!(stored.starts_with("sha256:"), "{stored}");
    assert!(!stored.contains(&token));
    assert_eq!(
        db.count("accounts WHERE provider = 'password' AND \"providerAccountId\" = 'alice' AND type = 'credentials'")
            .await,
        1
    );
    // A second sign-in of alice is the same user, with a second session.
    let _again = signed_in(&auth, "alice").await;
    assert_eq!(db.count("users").await, 1);
    assert_eq!(db.count("sessions").await, 2);
    // The session read answers the claims: `Auth::session` in a handler sees alice.
    let current = auth.session(&headers_of(&alice)).await.unwrap();
    assert_eq!(current.token.sub.as_deref(), Some("alice"));
    // `session.user` is the user row's, as in NextAuth's database strategy: a renamed user is
    // renamed in every session at its next read.
    db.execute("UPDATE users SET name = 'Alice Liddell'").await;
    assert_eq!(alice.session().await["user"]["name"], "Alice Liddell");
    assert_eq!(current.session.user.name.as_deref(), Some("alice (db)"));
}

on_both!(
    after_sign_out_the_old_cookie_opens_nothing,
    sign_out_deletes_the_row
);
async fn sign_out_deletes_the_row(db: &Db) {
    let auth = db.auth();
    let mut alice = signed_in(&auth, "alice").await;
    let stolen = alice.cookie_header();
    let csrf = alice.csrf().await;
    let reply = alice
        .post_form(
            "/api/auth/signout",
            &[("csrfToken", &csrf), ("json", "true")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(db.count("sessions").await, 0, "sign-out deletes the row");
    // The cookie as it was before the sign-out, replayed by someone who copied it.
    let mut thief = Browser::engine(auth.clone());
    for pair in stolen.split("; ") {
        let (name, value) = pair.split_once('=').unwrap();
        thief.jar.insert(name.to_owned(), value.to_owned());
    }
    let reply = thief.get("/api/auth/session").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), wire::no_session());
}

on_both!(
    a_session_ended_from_another_device_is_over_at_its_next_request,
    end_from_another_device
);
async fn end_from_another_device(db: &Db) {
    let auth = db.auth();
    let laptop = signed_in(&auth, "alice").await;
    let mut phone = signed_in(&auth, "alice").await;
    let mut tablet = signed_in(&auth, "alice").await;
    let mut bob = signed_in(&auth, "bob").await;
    let devices = auth.devices(&headers_of(&laptop)).await.unwrap();
    assert_eq!(devices.len(), 3, "alice's three sessions, not bob's");
    assert_eq!(devices.iter().filter(|d| d.current).count(), 1);
    assert!(devices[0].created_at.is_some());
    let phone_id = auth.devices(&headers_of(&phone)).await.unwrap();
    let phone_id = phone_id.iter().find(|d| d.current).unwrap().id.clone();
    // Bob cannot end alice's session by its id.
    assert!(!auth.end_device(&headers_of(&bob), &phone_id).await.unwrap());
    assert!(
        auth.end_device(&headers_of(&laptop), &phone_id)
            .await
            .unwrap()
    );
    assert_eq!(
        phone.get("/api/auth/session").await.json(),
        wire::no_session()
    );
    assert_eq!(tablet.session().await["user"]["name"], "alice (db)");
    // All but this one: the tablet is signed out, the laptop stays.
    assert_eq!(
        auth.end_other_devices(&headers_of(&laptop)).await.unwrap(),
        1
    );
    assert_eq!(
        tablet.get("/api/auth/session").await.json(),
        wire::no_session()
    );
    assert_eq!(auth.devices(&headers_of(&laptop)).await.unwrap().len(), 1);
    // Sign-out everywhere deletes every session of the subject.
    auth.sign_out_everywhere("alice").await.unwrap();
    assert!(auth.devices(&headers_of(&laptop)).await.is_err());
    assert_eq!(bob.session().await["user"]["name"], "bob (db)");
}

on_both!(
    a_plain_token_next_auth_wrote_is_accepted_once_and_rewritten_hashed,
    plain_tokens_are_rehashed
);
async fn plain_tokens_are_rehashed(db: &Db) {
    let auth = db.auth();
    let adapter = db.adapter();
    // What next-auth's adapter writes: a user, and a session under a plain UUID token.
    let user = adapter
        .create_user(UserFields {
            name: Some("Nora Next".into()),
            email: Some("nora@example.com".into()),
            ..UserFields::default()
        })
        .await
        .unwrap();
    let token = "6b1f1c8e-3b7a-4d0e-9a55-0c2f7e1d9b42";
    let expires = auth_runtime_now() + 3600;
    let expiry = match db {
        Db::Sqlite(_) => expires.to_string(),
        Db::Postgres(..) => format!("to_timestamp({expires})"),
    };
    db.execute(&format!(
        "INSERT INTO sessions (\"userId\", expires, \"sessionToken\") VALUES ({}, {expiry}, '{token}')",
        user.id
    ))
    .await;
    let mut nora = Browser::engine(auth.clone());
    nora.jar
        .insert("next-auth.session-token".into(), token.into());
    let session = nora.session().await;
    assert_eq!(session["user"]["name"], "Nora Next");
    assert_eq!(session["user"]["email"], "nora@example.com");
    let stored = db
        .scalar("SELECT \"sessionToken\" FROM sessions")
        .await
        .unwrap();
    assert!(stored.starts_with("sha256:"), "rewritten hashed: {stored}");
    // The same cookie keeps working; the stored hash itself, presented as a cookie, does not.
    assert_eq!(nora.session().await["user"]["name"], "Nora Next");
    let mut thief = Browser::engine(auth.clone());
    thief.jar.insert("next-auth.session-token".into(), stored);
    assert_eq!(
        thief.get("/api/auth/session").await.json(),
        wire::no_session()
    );
}

on_both!(hostile_session_tokens_open_nothing, hostile_tokens);
async fn hostile_tokens(db: &Db) {
    let auth = db.auth();
    let _alice = signed_in(&auth, "alice").await;
    let long = "A".repeat(4000);
    for hostile in [
        "x",
        "' OR '1'='1",
        "'; DROP TABLE sessions; --",
        "sha256:' OR 1=1 --",
        "%00%00",
        "\u{feff}token",
        long.as_str(),
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aaaa.bbbb.cccc",
    ] {
        let mut client = Browser::engine(auth.clone());
        client
            .jar
            .insert("next-auth.session-token".into(), hostile.into());
        let reply = client.get("/api/auth/session").await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "{hostile:?}: {}",
            reply.text()
        );
        assert_eq!(reply.json(), wire::no_session(), "{hostile:?}");
    }
    assert_eq!(db.count("sessions").await, 1, "alice's session is intact");
    // An SQL metacharacter in a user name is data.
    let name = "o'brien\"; DROP TABLE users; --";
    let mut sneaky = signed_in(&auth, name).await;
    assert_eq!(
        sneaky.session().await["user"]["name"],
        format!("{name} (db)")
    );
    assert_eq!(db.count("users").await, 2);
}

on_both!(
    an_expired_row_is_refused_and_deleted,
    expired_rows_are_deleted
);
async fn expired_rows_are_deleted(db: &Db) {
    let auth = db.auth();
    let mut alice = signed_in(&auth, "alice").await;
    let past = match db {
        Db::Sqlite(_) => "1".to_owned(),
        Db::Postgres(..) => "to_timestamp(1)".to_owned(),
    };
    db.execute(&format!("UPDATE sessions SET expires = {past}"))
        .await;
    let reply = alice.get("/api/auth/session").await;
    assert_eq!(reply.json(), wire::no_session());
    assert!(
        reply.set_cookies.iter().any(|c| c.contains("Max-Age=0")),
        "the dead cookie is cleared"
    );
    assert_eq!(db.count("sessions").await, 0);
}

on_both!(
    a_read_after_update_age_renews_the_row_not_the_token,
    renewal_keeps_the_token
);
async fn renewal_keeps_the_token(db: &Db) {
    let auth = db.auth();
    let mut alice = signed_in(&auth, "alice").await;
    let token = session_cookie(&alice);
    // A read inside update_age writes nothing.
    let reply = alice.get("/api/auth/session").await;
    assert!(reply.set_cookies.is_empty(), "{:?}", reply.set_cookies);
    // Age the row's claims past update_age (60 s): the next read renews the row and sets the
    // same token again with the new expiry.
    let claims = db.scalar("SELECT claims FROM sessions").await.unwrap();
    let mut claims: serde_json::Value = serde_json::from_str(&claims).unwrap();
    claims["iat"] = (claims["iat"].as_i64().unwrap() - 120).into();
    let aged = serde_json::to_string(&claims).unwrap().replace('\'', "''");
    db.execute(&format!(
        "UPDATE sessions SET claims = '{aged}', last_seen_at = 5"
    ))
    .await;
    let reply = alice.get("/api/auth/session").await;
    let cookie = reply.cookie("next-auth.session-token").expect("renewed");
    assert!(cookie.starts_with(&format!("next-auth.session-token={token};")));
    let seen: i64 = db
        .scalar("SELECT last_seen_at FROM sessions")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(seen > 5);
}

on_both!(
    five_hundred_concurrent_guests_make_five_hundred_users_and_sessions,
    concurrent_guests
);
async fn concurrent_guests(db: &Db) {
    let auth = db.auth();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..500 {
        let auth = auth.clone();
        tasks.spawn(async move {
            let mut client = Browser::engine(auth);
            client.peer = Some(PEER);
            let reply = client.sign_in("guest", &[]).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
            let session = client.session().await;
            assert!(session["expires"].is_string(), "{session}");
            session_cookie(&client)
        });
    }
    let mut cookies = std::collections::HashSet::new();
    while let Some(cookie) = tasks.join_next().await {
        cookies.insert(cookie.unwrap());
    }
    assert_eq!(cookies.len(), 500);
    assert_eq!(db.count("users").await, 500);
    assert_eq!(db.count("sessions WHERE guest_id IS NOT NULL").await, 500);
    assert_eq!(db.count("accounts WHERE type = 'anonymous'").await, 500);
}

// A guest's database session ends when the guest signs in: the guest's cookie is replaced, the
// old one opens nothing.
on_both!(a_guest_signing_in_replaces_its_session, guest_upgrade);
async fn guest_upgrade(db: &Db) {
    let auth = db.auth();
    let mut visitor = Browser::engine(auth.clone());
    visitor.peer = Some(PEER);
    let reply = visitor.sign_in("guest", &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let guest_cookie = visitor.cookie_header();
    let reply = visitor
        .sign_in("password", &[("username", "carol"), ("password", "secret")])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(visitor.session().await["user"]["name"], "carol (db)");
    assert_eq!(
        db.count("sessions WHERE guest_id IS NOT NULL").await,
        0,
        "the guest's row went with its cookie"
    );
    let mut replay = Browser::engine(auth.clone());
    for pair in guest_cookie.split("; ") {
        let (name, value) = pair.split_once('=').unwrap();
        replay.jar.insert(name.to_owned(), value.to_owned());
    }
    assert_eq!(
        replay.get("/api/auth/session").await.json(),
        wire::no_session()
    );
}

// A guest's session rows end with the guest, in the upgrade's or the cleanup's own
// transaction: a guest's read is its row alone, and a renewal records the guest's activity.
on_both!(
    a_guest_session_ends_with_its_guest,
    guest_rows_follow_the_guest
);
async fn guest_rows_follow_the_guest(db: &Db) {
    let auth = db.auth();
    let store = db.store();
    // An upgrade the application runs itself (not a sign-in) ends the guest's session.
    let mut upgraded = Browser::engine(auth.clone());
    upgraded.peer = Some(PEER);
    assert_eq!(upgraded.sign_in("guest", &[]).await.status, StatusCode::OK);
    let only_guest = "SELECT guest_id FROM sessions WHERE guest_id IS NOT NULL";
    let guest_id = db
        .scalar(only_guest)
        .await
        .expect("the guest's session row");
    let users_before_upgrade = db.count("users").await;
    let identity = auth_runtime::guests::Identity::new("password", "dora");
    store
        .upgrade(&guest_id, &identity, &auth_runtime::guests::NoHook)
        .await
        .unwrap();
    assert_eq!(
        db.count(&format!("sessions WHERE guest_id = '{guest_id}'"))
            .await,
        0
    );
    assert_eq!(upgraded.session().await, wire::no_session());
    let anonymous_of =
        |id: &str| format!("accounts WHERE type = 'anonymous' AND \"providerAccountId\" = '{id}'");
    assert_eq!(
        db.count(&anonymous_of(&guest_id)).await,
        0,
        "the upgrade took the guest's user row and anonymous account"
    );
    assert_eq!(db.count("users").await, users_before_upgrade - 1);

    // A renewal records the guest's activity (the read itself asks only the session row).
    let mut idle = Browser::engine(auth.clone());
    idle.peer = Some(PEER);
    assert_eq!(idle.sign_in("guest", &[]).await.status, StatusCode::OK);
    let idle_id = db
        .scalar(only_guest)
        .await
        .expect("the guest's session row");
    let claims = db
        .scalar(&format!(
            "SELECT claims FROM sessions WHERE guest_id = '{idle_id}'"
        ))
        .await
        .unwrap();
    let mut claims: serde_json::Value = serde_json::from_str(&claims).unwrap();
    claims["iat"] = (claims["iat"].as_i64().unwrap() - 120).into();
    let aged = serde_json::to_string(&claims).unwrap().replace('\'', "''");
    db.execute(&format!(
        "UPDATE sessions SET claims = '{aged}' WHERE guest_id = '{idle_id}'"
    ))
    .await;
    db.execute(&format!(
        "UPDATE auth_guests SET last_seen_at = 5 WHERE id = '{idle_id}'"
    ))
    .await;
    let renewed = idle.get("/api/auth/session").await;
    assert!(renewed.cookie("next-auth.session-token").is_some());
    let seen: i64 = db
        .scalar(&format!(
            "SELECT last_seen_at FROM auth_guests WHERE id = '{idle_id}'"
        ))
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(seen > 5, "the renewal recorded the guest's activity");

    // Cleanup removes an idle guest and its session row in one transaction.
    db.execute(&format!(
        "UPDATE auth_guests SET last_seen_at = 5 WHERE id = '{idle_id}'"
    ))
    .await;
    let policy = auth_runtime::guests::CleanupPolicy {
        idle: std::time::Duration::from_secs(3600),
        ..auth_runtime::guests::CleanupPolicy::default()
    };
    let users = db.count("users").await;
    let report = store
        .cleanup(&policy, &auth_runtime::guests::NoCleanupHook)
        .await
        .unwrap();
    assert_eq!(report.guests, 1, "{report:?}");
    assert_eq!(
        db.count(&format!("sessions WHERE guest_id = '{idle_id}'"))
            .await,
        0
    );
    assert_eq!(
        db.count(&anonymous_of(&idle_id)).await,
        0,
        "its account went too"
    );
    assert_eq!(db.count("users").await, users - 1, "and its user row");
    assert_eq!(idle.session().await, wire::no_session());
}

fn auth_runtime_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
