//! Sign-out everywhere: with a session version store, `Auth::sign_out_everywhere(user)` ends every
//! session of that user on every server, and nobody else's. SQLite always; PostgreSQL at
//! 127.0.0.1:5432 database `test` (skipped with a message when absent, a failure under `CI=true`).

#[path = "support/skip.rs"]
mod skip;
use skip::skipped;

#[path = "support/browser.rs"]
mod browser;

use auth_runtime::{
    PostgresSessionVersions, SessionError, SessionVersionError, SessionVersions,
    SqliteSessionVersions, TokenClaims, User, next_auth,
};
use browser::{Browser, wire};

next_auth! {
    providers: [
        Credentials {
            id: "login",
            name: "Login",
            credentials: { user: { label: "User" } },
            authorize: |credentials| Ok(Some(User::with_id(credentials.user.clone()))),
        },
    ],
}

const URL: &str = "http://127.0.0.1:3000/api/auth";
const SECRET: &str = "session-versions-secret-0123456789abcdef";

fn auth(store: impl SessionVersions) -> Auth {
    Auth::builder(())
        .secret(SECRET)
        .url(URL)
        .session_versions(store)
        .build()
        .unwrap()
}

async fn signed_in(auth: &Auth, user: &str) -> Browser<Auth> {
    let mut client = Browser::engine(auth.clone());
    let reply = client.sign_in("login", &[("user", user)]).await;
    assert!(reply.status.is_success(), "{}", reply.text());
    assert!(client.session().await.get("expires").is_some());
    client
}

async fn signs_out_everywhere(auth: Auth, other_server: Auth) {
    let user = format!("user-{}", std::process::id());
    let mut laptop = signed_in(&auth, &user).await;
    let mut phone = signed_in(&other_server, &user).await;
    let mut someone_else = signed_in(&auth, &format!("{user}-other")).await;

    let version = auth.sign_out_everywhere(&user).await.unwrap();
    assert!(version >= 1);

    // Both devices, on either server, are signed out; their cookies are cleared.
    let reply = laptop.get("/api/auth/session").await;
    assert_eq!(reply.json(), wire::no_session());
    assert!(
        reply
            .cookie("next-auth.session-token")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(phone.session().await, wire::no_session());
    // Somebody else is untouched; a new sign-in works again.
    assert!(someone_else.session().await.get("expires").is_some());
    let mut again = signed_in(&other_server, &user).await;
    assert!(again.session().await.get("expires").is_some());
    // The token extractor path checks the version too.
    let mut headers = http::HeaderMap::new();
    headers.insert("cookie", again.cookie_header().parse().unwrap());
    assert!(auth.token(&headers).await.is_ok());
    auth.sign_out_everywhere(&user).await.unwrap();
    assert_eq!(
        auth.token(&headers).await.unwrap_err(),
        SessionError::Revoked
    );
    assert_eq!(
        auth.session(&headers).await.unwrap_err(),
        SessionError::Revoked
    );
}

#[tokio::test]
async fn sqlite_store_signs_a_user_out_everywhere() {
    if skip::only_for_token_sessions("sqlite_store_signs_a_user_out_everywhere") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("auth-sv-{}.db", std::process::id()));
    let url = format!("sqlite://{}?mode=rwc", dir.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let a = SqliteSessionVersions::new(pool.clone()).await.unwrap();
    let b = SqliteSessionVersions::new(pool).await.unwrap();
    assert_eq!(a.current("nobody").await.unwrap(), 0);
    signs_out_everywhere(auth(a), auth(b)).await;
    let _ = std::fs::remove_file(dir);
}

#[tokio::test]
async fn postgres_store_signs_a_user_out_everywhere() {
    if skip::only_for_token_sessions("postgres_store_signs_a_user_out_everywhere") {
        return;
    }
    let user = std::env::var("USER").unwrap_or_else(|_| "postgres".into());
    let mut pool = None;
    for role in ["postgres", user.as_str()] {
        let url = format!("postgres://{role}@127.0.0.1:5432/test");
        if let Ok(p) = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(std::time::Duration::from_secs(3))
            .connect(&url)
            .await
        {
            pool = Some(p);
            break;
        }
    }
    let Some(pool) = pool else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("PostgreSQL is not reachable at 127.0.0.1:5432/test, and CI=true");
        }
        skipped(
            "SKIPPED postgres_store_signs_a_user_out_everywhere: no PostgreSQL at 127.0.0.1:5432/test \
             (apt-get install postgresql, then createdb test)",
        );
        return;
    };
    let a = PostgresSessionVersions::new(pool.clone()).await.unwrap();
    let b = PostgresSessionVersions::new(pool).await.unwrap();
    signs_out_everywhere(auth(a), auth(b)).await;
}

/// A store that fails: reads are refused with a 503 and the cookies are kept.
struct Down;

impl SessionVersions for Down {
    fn current<'a>(&'a self, _: &'a str) -> auth_runtime::session_version::VersionFuture<'a, u64> {
        Box::pin(async { Err(SessionVersionError("database is down".into())) })
    }
    fn bump<'a>(&'a self, user: &'a str) -> auth_runtime::session_version::VersionFuture<'a, u64> {
        self.current(user)
    }
}

#[tokio::test]
async fn an_unavailable_store_refuses_reads_without_signing_out() {
    if skip::only_for_token_sessions("an_unavailable_store_refuses_reads_without_signing_out") {
        return;
    }
    let up = auth(
        SqliteSessionVersions::new(sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap())
            .await
            .unwrap(),
    );
    let client = signed_in(&up, "u1").await;
    let mut down = Browser {
        server: auth(Down),
        peer: None,
        ..client
    };
    let reply = down.get("/api/auth/session").await;
    assert_eq!(reply.status, 503);
    assert!(
        reply.cookie("next-auth.session-token").is_none(),
        "cookies kept"
    );
    // Sign-in fails closed too.
    let reply = down.sign_in("login", &[("user", "u2")]).await;
    assert!(reply.cookie("next-auth.session-token").is_none());
    assert!(down.server.sign_out_everywhere("u1").await.is_err());
    // The application's readers give the same answer as GET /session: unavailable (503), not
    // "no session".
    let mut headers = http::HeaderMap::new();
    headers.insert("cookie", down.cookie_header().parse().unwrap());
    assert_eq!(
        down.server.session(&headers).await.unwrap_err(),
        SessionError::Unavailable
    );
    assert_eq!(SessionError::Unavailable.status(), 503);
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Every path that mints a token stamps its version: a token from `encode_session_token`, and a
/// token minted without any version (by a server without the store, or by next-auth itself)
/// counts as version 0 of its subject, so sign-out everywhere ends both.
#[tokio::test]
async fn sign_out_everywhere_ends_tokens_minted_outside_the_rest_api_and_without_a_version() {
    if skip::only_for_token_sessions(
        "sign_out_everywhere_ends_tokens_minted_outside_the_rest_api_and_without_a_version",
    ) {
        return;
    }
    let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    let auth = auth(SqliteSessionVersions::new(pool).await.unwrap());
    let unversioned = Auth::builder(()).secret(SECRET).url(URL).build().unwrap();
    let header = |jwt: &str| {
        let mut headers = http::HeaderMap::new();
        let name = &auth.settings().cookie_names().session_token;
        headers.insert("cookie", format!("{name}={jwt}").parse().unwrap());
        headers
    };
    let mut token = Token::from_user(&User::with_id("api-user"));
    let stamped = auth.encode_session_token(&mut token, now()).await.unwrap();
    let mut token = Token::from_user(&User::with_id("api-user"));
    let bare = unversioned
        .encode_session_token(&mut token, now())
        .await
        .unwrap();
    for jwt in [&stamped, &bare] {
        assert!(auth.token(&header(jwt)).await.is_ok());
    }
    auth.sign_out_everywhere("api-user").await.unwrap();
    for jwt in [&stamped, &bare] {
        assert_eq!(
            auth.token(&header(jwt)).await.unwrap_err(),
            SessionError::Revoked
        );
        let mut client = Browser::engine(auth.clone());
        // The client's jar speaks v4 names whatever the format (tests/support/browser.rs).
        client
            .jar
            .insert("next-auth.session-token".into(), jwt.clone());
        assert_eq!(client.session().await, wire::no_session());
    }
}

#[tokio::test]
async fn without_a_store_sign_out_everywhere_says_so() {
    if skip::only_for_token_sessions("without_a_store_sign_out_everywhere_says_so") {
        return;
    }
    let auth = Auth::builder(()).secret(SECRET).url(URL).build().unwrap();
    let error = auth.sign_out_everywhere("u1").await.unwrap_err();
    assert!(error.to_string().contains("no session version store"));
}
