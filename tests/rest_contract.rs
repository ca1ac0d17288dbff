//! The REST contract: every endpoint and every Credentials outcome of NextAuth v4's protocol,
//! cookie attributes over http and https, chunking, renewal, and hostile input.

#[path = "support/browser.rs"]
mod browser;
#[path = "support/skip.rs"]
mod skip;

use std::sync::atomic::{AtomicU32, Ordering};

use auth_runtime::{CallbackError, TokenClaims, User, next_auth};
use browser::{Browser, error_of};
use http::{Method, StatusCode};

pub struct TestState {
    guests: AtomicU32,
}

next_auth! {
    pub struct Token {
        role: Option<String>,
        padding: Option<String>,
    }
    pub struct Session {
        role: Option<String>,
        is_logged_in: bool,
    }

    state: TestState,

    providers: [
        Credentials {
            id: "password",
            name: "Password",
            credentials: {
                username: { label: "Username", type: "text" },
                password: { label: "Password", type: "password" },
            },
            authorize: |credentials, _state| match (credentials.username.as_str(), credentials.password.as_str()) {
                ("ada", "lovelace") => Ok(Some(User::with_id("1").name("Ada").email("ada@example.com"))),
                ("locked", _) => Err(CallbackError::message("Account locked: call us")),
                ("crash", _) => Err(CallbackError::internal(std::io::Error::other("database down"))),
                ("jwt-refuses", _) => Ok(Some(User::with_id("jwt-refuses"))),
                _ => Ok(None),
            },
        },
        Credentials {
            id: "anon",
            name: "Anonymous",
            credentials: {},
            authorize: async |_credentials, state| {
                let n = state.guests.fetch_add(1, Ordering::Relaxed);
                Ok(Some(User::with_id(format!("guest-{n}"))))
            },
        },
    ],

    jwt: |token, event| match event {
        JwtEvent::SignIn { user, .. } if user.id == "jwt-refuses" => Err(CallbackError::message("third party unavailable")),
        JwtEvent::SignIn { provider: Provider::Password, .. } => Ok(Token { role: Some("member".into()), ..token }),
        JwtEvent::SignIn { provider: Provider::Anon, .. } | JwtEvent::Refresh => Ok(token),
        JwtEvent::Update { data } => {
            if data["fail"] == true {
                return Err(CallbackError::message("update refused"));
            }
            let padding = data["padding"].as_u64().map(|n| "x".repeat(n as usize));
            Ok(Token { padding, ..token })
        }
    },

    session: |session, token| Session {
        role: token.role.clone(),
        is_logged_in: token.role.is_some(),
        ..session
    },
}

const SECRET: &str = "rest-contract-secret-0123456789abcdef";
const ORIGIN: &str = "http://127.0.0.1:3000";
const BASE: &str = "http://127.0.0.1:3000/api/auth";

fn auth_at(url: &str) -> Auth {
    Auth::builder(TestState {
        guests: AtomicU32::new(0),
    })
    .secret(SECRET)
    .url(url)
    .build()
    .unwrap()
}

fn client() -> Browser<Auth> {
    Browser::engine(auth_at(BASE))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

// ---------------------------------------------------------------------------------------------
// GET /providers, GET /csrf

#[tokio::test]
async fn providers_lists_every_provider_with_absolute_urls_and_no_cookies() {
    let mut c = client();
    let reply = c.get("/api/auth/providers").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert!(reply.set_cookies.is_empty());
    assert_eq!(
        reply.json(),
        serde_json::json!({
            "password": {"id": "password", "name": "Password", "type": "credentials",
                "signinUrl": format!("{BASE}/signin/password"), "callbackUrl": format!("{BASE}/callback/password")},
            "anon": {"id": "anon", "name": "Anonymous", "type": "credentials",
                "signinUrl": format!("{BASE}/signin/anon"), "callbackUrl": format!("{BASE}/callback/anon")},
        })
    );
}

#[tokio::test]
async fn csrf_sets_its_cookies_once_and_reuses_the_token() {
    let mut c = client();
    let first = c.get("/api/auth/csrf").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        first.header("cache-control"),
        Some("private, no-cache, no-store")
    );
    assert_eq!(first.header("pragma"), Some("no-cache"));
    assert_eq!(first.header("expires"), Some("0"));
    let token = first.json()["csrfToken"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let csrf_cookie = first.cookie("next-auth.csrf-token").unwrap();
    assert!(csrf_cookie.starts_with(&format!("next-auth.csrf-token={token}%7C")));
    assert_eq!(
        first.cookie("next-auth.callback-url"),
        Some(
            "next-auth.callback-url=http%3A%2F%2F127.0.0.1%3A3000; Path=/; HttpOnly; SameSite=Lax"
        )
    );

    let second = c.get("/api/auth/csrf").await;
    assert_eq!(second.json()["csrfToken"], token.as_str());
    assert!(second.set_cookies.is_empty(), "{:?}", second.set_cookies);
}

#[tokio::test]
async fn a_forged_csrf_cookie_is_replaced() {
    let mut c = client();
    c.jar.insert(
        "next-auth.csrf-token".into(),
        format!("{}%7C{}", "a".repeat(64), "b".repeat(64)),
    );
    let reply = c.get("/api/auth/csrf").await;
    assert_ne!(reply.json()["csrfToken"], "a".repeat(64));
    assert!(reply.cookie("next-auth.csrf-token").is_some());
}

// ---------------------------------------------------------------------------------------------
// POST /callback/:id, every Credentials outcome

#[tokio::test]
async fn credentials_success_sets_the_session_and_answers_the_callback_url() {
    let mut c = client();
    let reply = c
        .sign_in("password", &[("username", "ada"), ("password", "lovelace")])
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.url(), format!("{ORIGIN}/shop"));
    let cookie = reply
        .cookie("next-auth.session-token")
        .expect("session cookie");
    assert!(
        cookie.contains("; Path=/; Expires=") && cookie.ends_with("; HttpOnly; SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"));

    let session = c.session().await;
    assert_eq!(
        session["user"],
        serde_json::json!({"name": "Ada", "email": "ada@example.com", "image": null})
    );
    assert_eq!(session["role"], "member");
    assert_eq!(session["isLoggedIn"], true);
    let expires = session["expires"].as_str().unwrap();
    assert!(
        expires.ends_with(".000Z") && expires.len() == 24,
        "{expires}"
    );
}

#[tokio::test]
async fn credentials_without_json_redirect_with_302() {
    let mut c = client();
    let csrf = c.csrf().await;
    let reply = c
        .post_form(
            "/api/auth/callback/password",
            &[
                ("username", "ada"),
                ("password", "lovelace"),
                ("csrfToken", &csrf),
                ("callbackUrl", "/after"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(
        reply.header("location"),
        Some("http://127.0.0.1:3000/after")
    );
    assert!(reply.bytes.is_empty());
    assert!(reply.cookie("next-auth.session-token").is_some());
}

#[tokio::test]
async fn authorize_returning_none_is_credentials_signin_401() {
    let mut c = client();
    let reply = c
        .sign_in("password", &[("username", "ada"), ("password", "wrong")])
        .await;
    // Auth.js v5's wire (authjs-v5 format): 200 `{base}/signin?error=CredentialsSignin&code=…`.
    assert_eq!(
        (reply.status, reply.url()),
        c.credentials_refused("password")
    );
    assert!(reply.cookie("next-auth.session-token").is_none());
    assert_eq!(c.session().await, c.no_session());
}

#[tokio::test]
async fn authorize_error_message_reaches_the_client_with_401() {
    let mut c = client();
    let reply = c.sign_in("password", &[("username", "locked")]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        error_of(&reply.url()).as_deref(),
        Some("Account locked: call us")
    );
    assert!(
        reply
            .url()
            .contains("error=Account%20locked%3A%20call%20us"),
        "{}",
        reply.url()
    );
}

#[tokio::test]
async fn an_internal_callback_error_is_json_with_a_code_not_an_html_500() {
    let mut c = client();
    let reply = c.sign_in("password", &[("username", "crash")]).await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(error_of(&reply.url()).as_deref(), Some("Callback"));
    assert!(
        !reply.text().contains("database down"),
        "internal details must not leak"
    );
}

#[tokio::test]
async fn csrf_failures_answer_the_signin_url_with_csrf_true_and_no_session() {
    // No cookies at all (plain fetch without a jar).
    let mut c = client();
    let token = c.csrf().await;
    c.jar.clear();
    let fields = [
        ("csrfToken", token.as_str()),
        ("json", "true"),
        ("username", "ada"),
        ("password", "lovelace"),
    ];
    let reply = c.post_form("/api/auth/callback/password", &fields).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.url(), c.csrf_failure_url("signin"));
    assert!(reply.cookie("next-auth.session-token").is_none());

    // A valid cookie, the wrong token; and a missing token.
    let mut c = client();
    c.csrf().await;
    for fields in [
        vec![("csrfToken", "0".repeat(64)), ("json", "true".into())],
        vec![("json", "true".into())],
    ] {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = c.post_form("/api/auth/callback/anon", &fields).await;
        assert_eq!(reply.url(), c.csrf_failure_url("signin"));
        assert!(reply.cookie("next-auth.session-token").is_none());
    }
}

#[tokio::test]
async fn unknown_providers_are_refused() {
    let mut c = client();
    let reply = c.sign_in("github", &[]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.url().starts_with(&format!("{BASE}/error?error=")));
    let reply = c.post_form("/api/auth/callback/github", &[]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.text().contains("not supported"));
    let reply = c.get("/api/auth/callback/github").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn get_callback_of_a_credentials_provider_is_405_not_500() {
    let mut c = client();
    let reply = c.get("/api/auth/callback/password").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("allow"), Some("POST"));
}

#[tokio::test]
async fn a_failing_jwt_callback_at_sign_in_is_json_the_client_understands() {
    let mut c = client();
    let reply = c.sign_in("password", &[("username", "jwt-refuses")]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        error_of(&reply.url()).as_deref(),
        Some("third party unavailable")
    );
    assert!(reply.cookie("next-auth.session-token").is_none());
}

// ---------------------------------------------------------------------------------------------
// POST /signin/:id

#[tokio::test]
async fn post_signin_sends_credentials_users_to_the_signin_page() {
    let mut c = client();
    let csrf = c.csrf().await;
    let reply = c
        .post_form(
            "/api/auth/signin/password",
            &[("csrfToken", &csrf), ("json", "true")],
        )
        .await;
    assert_eq!(
        (reply.status, reply.url()),
        (StatusCode::OK, format!("{BASE}/signin"))
    );
    let reply = c
        .post_form(
            "/api/auth/signin/password",
            &[("csrfToken", "bad"), ("json", "true")],
        )
        .await;
    assert_eq!(reply.url(), c.csrf_failure_url("signin"));
    let reply = c
        .post_form(
            "/api/auth/signin/nope",
            &[("csrfToken", &csrf), ("json", "true")],
        )
        .await;
    assert_eq!(reply.url(), c.csrf_failure_url("signin"));
}

// ---------------------------------------------------------------------------------------------
// GET/POST /session

#[tokio::test]
async fn no_session_is_an_empty_object_without_session_cookies() {
    let mut c = client();
    let reply = c.get("/api/auth/session").await;
    // `null` on Auth.js v5's wire (authjs-v5 format), which its client returns as it is.
    assert_eq!(
        (reply.status, reply.text()),
        (StatusCode::OK, c.no_session_text())
    );
    assert_eq!(
        reply.header("cache-control"),
        Some("private, no-cache, no-store")
    );
    assert!(reply.cookie("next-auth.session-token").is_none());
    assert!(
        reply.cookie("next-auth.csrf-token").is_some(),
        "the init step still sets the CSRF cookie"
    );
}

#[tokio::test]
async fn hostile_session_cookies_give_an_empty_session_and_are_cleared() {
    if skip::only_for_token_sessions(
        "hostile_session_cookies_give_an_empty_session_and_are_cleared",
    ) {
        return;
    }
    let auth = auth_at(BASE);
    let mut valid = Token::from_user(&User::with_id("7"));
    let good = auth.encode_session_token(&mut valid, now()).await.unwrap();
    let mut old = Token::from_user(&User::with_id("7"));
    let expired = auth
        .encode_session_token(&mut old, now() - 31 * 24 * 3600)
        .await
        .unwrap();
    let other = auth_with_secret("another-secret-entirely-0123456789");
    let mut foreign = Token::from_user(&User::with_id("7"));
    let foreign = other
        .encode_session_token(&mut foreign, now())
        .await
        .unwrap();

    // The segments of the token in whatever format is in use (JWE: five, JWS: three).
    let segments: Vec<&str> = good.split('.').collect();
    let rest = segments[1..].join(".");
    let b64 = |s: &str| base64url(s.as_bytes());
    let with_header = |header: &str| format!("{}.{rest}", b64(header));
    let alg_none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), segments[1]);
    let alg_hs512 = with_header(r#"{"alg":"HS512","typ":"JWT"}"#);
    let alg_rs256 = with_header(r#"{"alg":"RS256","typ":"JWT"}"#);
    let enc_a128 = with_header(r#"{"alg":"dir","enc":"A128GCM"}"#);
    let enc_cbc = with_header(r#"{"alg":"dir","enc":"A256CBC-HS512"}"#);
    let flip = |segment_from_end: usize| {
        let mut parts: Vec<String> = segments.iter().map(|s| (*s).to_owned()).collect();
        let at = parts.len() - segment_from_end;
        let mut bytes = parts[at].clone().into_bytes();
        bytes[2] = if bytes[2] == b'A' { b'B' } else { b'A' };
        parts[at] = String::from_utf8(bytes).unwrap();
        parts.join(".")
    };
    let tampered = flip(2);
    let tampered_tag = flip(1);
    let truncated = segments[..segments.len() - 1].join(".");

    for (what, value) in [
        ("garbage", "not-a-token".to_owned()),
        ("empty segments", "..".to_owned()),
        ("binary", "%FF%00%FE".to_owned()),
        ("expired", expired),
        ("another secret", foreign),
        ("alg none", alg_none),
        ("alg HS512", alg_hs512),
        ("alg RS256", alg_rs256),
        ("enc A128GCM", enc_a128),
        ("enc A256CBC-HS512", enc_cbc),
        ("tampered payload or ciphertext", tampered),
        ("tampered signature or tag", tampered_tag),
        ("truncated", truncated),
        ("huge", "x".repeat(3900)),
    ] {
        let mut c = Browser::engine(auth.clone());
        c.jar.insert("next-auth.session-token".into(), value);
        let reply = c.get("/api/auth/session").await;
        assert_eq!(
            (reply.status, reply.text()),
            (StatusCode::OK, c.no_session_text()),
            "{what}"
        );
        let cleared = reply
            .cookie("next-auth.session-token")
            .unwrap_or_else(|| panic!("{what}: not cleared"));
        assert_eq!(
            cleared, "next-auth.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax",
            "{what}"
        );
    }

    let mut c = Browser::engine(auth.clone());
    c.jar.insert("next-auth.session-token".into(), good);
    assert_eq!(c.session().await["user"]["name"], serde_json::Value::Null);
    assert!(
        c.session().await.get("expires").is_some(),
        "the valid token still works"
    );
}

fn auth_with_secret(secret: &str) -> Auth {
    Auth::builder(TestState {
        guests: AtomicU32::new(0),
    })
    .secret(secret)
    .url(BASE)
    .build()
    .unwrap()
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[tokio::test]
async fn reads_do_not_rewrite_a_fresh_token_but_renew_an_old_one() {
    if skip::only_for_token_sessions("reads_do_not_rewrite_a_fresh_token_but_renew_an_old_one") {
        return;
    }
    let auth = auth_at(BASE);
    let mut c = Browser::engine(auth.clone());
    c.sign_in("password", &[("username", "ada"), ("password", "lovelace")])
        .await;
    let reply = c.get("/api/auth/session").await;
    assert!(
        reply.cookie("next-auth.session-token").is_none(),
        "renewal is not due yet"
    );
    let first_expires = reply.json()["expires"].as_str().unwrap().to_owned();

    // A token issued 25 hours ago (update age: 24 hours) is renewed with a new expiry.
    let mut token = Token::from_user(&User::with_id("1"));
    token.role = Some("member".into());
    let issued = now() - 25 * 3600;
    let old = auth.encode_session_token(&mut token, issued).await.unwrap();
    c.jar.insert("next-auth.session-token".into(), old.clone());
    let reply = c.get("/api/auth/session").await;
    let renewed = reply.cookie("next-auth.session-token").expect("renewed");
    assert!(!renewed.contains(&old));
    let expires = reply.json()["expires"].as_str().unwrap().to_owned();
    assert!(expires >= first_expires, "{expires} < {first_expires}");
    let renewed_token = auth.token(&cookie_headers(&c)).await.unwrap();
    assert!(renewed_token.iat.unwrap() >= now() - 5);
    assert_ne!(renewed_token.jti, token.jti);
}

#[tokio::test]
async fn update_age_zero_renews_on_every_read_like_nextauth() {
    let auth = Auth::builder(TestState {
        guests: AtomicU32::new(0),
    })
    .secret(SECRET)
    .url(BASE)
    .update_age(0)
    .build()
    .unwrap();
    let mut c = Browser::engine(auth);
    c.sign_in("anon", &[]).await;
    for _ in 0..2 {
        let reply = c.get("/api/auth/session").await;
        assert!(reply.cookie("next-auth.session-token").is_some());
    }
}

fn cookie_headers<D: auth_runtime::AuthDefinition>(
    c: &Browser<auth_runtime::Auth<D>>,
) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert("cookie", c.cookie_header().parse().unwrap());
    headers
}

#[tokio::test]
async fn update_requires_csrf_and_passes_the_data_to_the_jwt_callback() {
    let mut c = client();
    c.sign_in("anon", &[]).await;
    let reply = c
        .post_json(
            "/api/auth/session",
            &serde_json::json!({"csrfToken": "wrong", "data": {}}),
        )
        .await;
    assert_eq!(
        (reply.status, reply.text()),
        (StatusCode::BAD_REQUEST, c.no_session_text())
    );

    let csrf = c.csrf().await;
    let reply = c
        .post_json(
            "/api/auth/session",
            &serde_json::json!({"csrfToken": csrf, "data": {"padding": 3}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.json().get("expires").is_some());
    assert!(
        reply.cookie("next-auth.session-token").is_some(),
        "an update always re-issues the token"
    );
    assert_eq!(
        c.server
            .token(&cookie_headers(&c))
            .await
            .unwrap()
            .padding
            .as_deref(),
        Some("xxx")
    );

    // A jwt callback that refuses the update signs the session out, as NextAuth does.
    let reply = c
        .post_json(
            "/api/auth/session",
            &serde_json::json!({"csrfToken": csrf, "data": {"fail": true}}),
        )
        .await;
    assert_eq!(reply.text(), c.no_session_text());
    assert!(c.session_cookie_names().is_empty());
}

#[tokio::test]
async fn large_sessions_are_chunked_at_3933_characters_and_reassembled() {
    if skip::only_for_token_sessions(
        "large_sessions_are_chunked_at_3933_characters_and_reassembled",
    ) {
        return;
    }
    let mut c = client();
    c.sign_in("anon", &[]).await;
    let csrf = c.csrf().await;
    let reply = c
        .post_json(
            "/api/auth/session",
            &serde_json::json!({"csrfToken": csrf, "data": {"padding": 4000}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        c.session_cookie_names(),
        ["next-auth.session-token.0", "next-auth.session-token.1"]
    );
    let first = reply.cookie("next-auth.session-token.0").unwrap();
    assert_eq!(
        first.split(';').next().unwrap().len(),
        "next-auth.session-token.0=".len() + 3933
    );
    assert!(
        reply
            .cookie("next-auth.session-token")
            .unwrap()
            .contains("Max-Age=0"),
        "the unchunked cookie is deleted"
    );

    // The chunks are read back in order, even when the browser sends them reversed.
    let session = c.session().await;
    assert!(session.get("expires").is_some(), "{session}");
    let header = c.cookie_header();
    let mut pairs: Vec<&str> = header.split("; ").collect();
    pairs.reverse();
    let reversed = pairs.join("; ");
    let mut headers = http::HeaderMap::new();
    headers.insert("cookie", reversed.parse().unwrap());
    assert_eq!(
        c.server
            .token(&headers)
            .await
            .unwrap()
            .padding
            .map(|p| p.len()),
        Some(4000)
    );

    // Back to one cookie: both chunks are deleted.
    let reply = c
        .post_json(
            "/api/auth/session",
            &serde_json::json!({"csrfToken": csrf, "data": {}}),
        )
        .await;
    assert!(
        reply
            .cookie("next-auth.session-token.0")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert!(
        reply
            .cookie("next-auth.session-token.1")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(c.session_cookie_names(), ["next-auth.session-token"]);
}

// ---------------------------------------------------------------------------------------------
// Sign out

#[tokio::test]
async fn signout_requires_csrf_and_clears_every_chunk() {
    let mut c = client();
    c.sign_in("anon", &[]).await;
    let reply = c
        .post_form(
            "/api/auth/signout",
            &[("csrfToken", "nope"), ("json", "true")],
        )
        .await;
    assert_eq!(reply.url(), c.csrf_failure_url("signout"));
    assert!(!c.session_cookie_names().is_empty());

    let csrf = c.csrf().await;
    let reply = c
        .post_form(
            "/api/auth/signout",
            &[
                ("csrfToken", &csrf),
                ("callbackUrl", "/bye"),
                ("json", "true"),
            ],
        )
        .await;
    assert_eq!(
        (reply.status, reply.url()),
        (StatusCode::OK, format!("{ORIGIN}/bye"))
    );
    assert_eq!(
        reply.cookie("next-auth.session-token"),
        Some("next-auth.session-token=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax")
    );
    assert_eq!(c.session().await, c.no_session());
}

// ---------------------------------------------------------------------------------------------
// Pages, errors, _log, routing

#[tokio::test]
async fn signin_and_signout_pages_are_html_with_forms() {
    let mut c = client();
    let page = c.get("/api/auth/signin").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.text();
    assert!(html.contains(&format!("action=\"{BASE}/callback/password\"")));
    assert!(html.contains("name=\"password\" type=\"password\""));
    let csrf = c.csrf().await;
    assert!(html.contains(&csrf));
    assert_eq!(c.get("/api/auth/signin/anon").await.status, StatusCode::OK);
    let page = c.get("/api/auth/signin?error=CredentialsSignin").await;
    assert!(page.text().contains("Sign in failed"));
    let page = c.get("/api/auth/signout").await;
    assert!(page.text().contains(&format!("action=\"{BASE}/signout\"")));
}

#[tokio::test]
async fn error_endpoint_follows_nextauth() {
    let mut c = client();
    let reply = c.get("/api/auth/error?error=CredentialsSignin").await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(
        reply.header("location"),
        Some(format!("{BASE}/signin?error=CredentialsSignin").as_str())
    );
    assert_eq!(
        c.get("/api/auth/error?error=AccessDenied").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.get("/api/auth/error/Verification").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.get("/api/auth/error?error=Configuration").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let reply = c
        .get("/api/auth/error?error=%3Cscript%3Ealert(1)%3C/script%3E")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(!reply.text().contains("<script>"));
    assert_eq!(
        c.get("/api/auth/verify-request").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn log_is_accepted_silently() {
    let mut c = client();
    let reply = c
        .post_form(
            "/api/auth/_log",
            &[
                ("level", "error"),
                ("code", "CLIENT_FETCH_ERROR"),
                ("client", "true"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.bytes.is_empty() && reply.set_cookies.is_empty());
}

#[tokio::test]
async fn unknown_actions_and_wrong_methods_are_400_text() {
    let mut c = client();
    for (method, path) in [
        (Method::GET, "/api/auth/nope"),
        (Method::GET, "/api/auth"),
        (Method::POST, "/api/auth/providers"),
        (Method::POST, "/api/auth/csrf"),
        (Method::GET, "/api/auth/_log"),
        (Method::PUT, "/api/auth/session"),
        (Method::DELETE, "/api/auth/signout"),
        (Method::GET, "/api/auth/callback/anon/extra"),
    ] {
        let reply = c.send(method.clone(), path, None, Vec::new()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{method} {path}");
        assert_eq!(
            reply.text(),
            format!("Error: This action with HTTP {method} is not supported by NextAuth.js")
        );
        assert!(reply.set_cookies.is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// https: prefixed, Secure cookies

#[tokio::test]
async fn https_uses_secure_prefixed_cookies() {
    let mut c = Browser::engine(auth_at("https://shop.example/api/auth"));
    let reply = c.get("/api/auth/csrf").await;
    let csrf = reply
        .cookie("__Host-next-auth.csrf-token")
        .expect("__Host- csrf cookie");
    assert!(
        csrf.ends_with("; Path=/; HttpOnly; Secure; SameSite=Lax"),
        "{csrf}"
    );
    assert!(!csrf.contains("Domain"));
    let callback = reply
        .cookie("__Secure-next-auth.callback-url")
        .expect("__Secure- callback cookie");
    assert!(callback.contains("https%3A%2F%2Fshop.example") && callback.contains("; Secure"));
    let reply = c
        .sign_in("anon", &[("callbackUrl", "https://shop.example/cart")])
        .await;
    assert_eq!(reply.url(), "https://shop.example/cart");
    let session = reply
        .cookie("__Secure-next-auth.session-token")
        .expect("__Secure- session cookie");
    assert!(session.contains("; HttpOnly; Secure; SameSite=Lax"));
    assert!(reply.cookie("next-auth.session-token").is_none());
    assert!(c.session().await.get("expires").is_some());
}

// ---------------------------------------------------------------------------------------------
// Hostile input: never a 5xx, never a redirect off-origin

#[tokio::test]
async fn hostile_callback_urls_resolve_to_the_origin() {
    for hostile in [
        "foo",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "//evil.example",
        "///evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "http://127.0.0.1:3000.evil.example/",
        "http://127.0.0.1:3000@evil.example/",
        "data:text/html,<script>alert(1)</script>",
        "http://127.0.0.1:4000/",
        "https://127.0.0.1:3000/",
        "\u{0}/x",
        " //evil.example",
    ] {
        let mut c = client();
        let reply = c.sign_in("anon", &[("callbackUrl", hostile)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{hostile:?}");
        assert_eq!(reply.url(), ORIGIN, "{hostile:?}");

        let mut c = client();
        let query: String = form_urlencoded::byte_serialize(hostile.as_bytes()).collect();
        let reply = c
            .get(&format!("/api/auth/session?callbackUrl={query}"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{hostile:?}");
        let cookie = reply.cookie("next-auth.callback-url").unwrap();
        assert!(
            cookie.starts_with("next-auth.callback-url=http%3A%2F%2F127.0.0.1%3A3000;"),
            "{hostile:?}: {cookie}"
        );

        // A hostile callback-url cookie breaks nothing either.
        let mut c = client();
        c.jar.insert("next-auth.callback-url".into(), query.clone());
        for path in [
            "/api/auth/providers",
            "/api/auth/csrf",
            "/api/auth/session",
            "/api/auth/signin",
        ] {
            assert!(
                c.get(path).await.status.is_success(),
                "{hostile:?} on {path}"
            );
        }
        let csrf = c.csrf().await;
        let reply = c
            .post_form(
                "/api/auth/signout",
                &[("csrfToken", &csrf), ("json", "true")],
            )
            .await;
        assert_eq!(reply.url(), ORIGIN, "{hostile:?}");
    }
}

#[tokio::test]
async fn malformed_bodies_get_clear_4xx_json() {
    let mut c = client();
    let csrf = c.csrf().await;
    let cases: Vec<(&str, Vec<u8>, StatusCode)> = vec![
        (
            "application/json",
            b"{not json".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "application/json",
            b"[1,2,3]".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "application/json",
            b"\"csrf\"".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "application/json",
            vec![0xff, 0xfe, 0x00],
            StatusCode::BAD_REQUEST,
        ),
        (
            "text/xml",
            b"<a/>".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "application/x-www-form-urlencoded",
            vec![b'a'; 70 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "application/json",
            format!(
                "{{\"csrfToken\":\"{csrf}\",\"data\":{}}}",
                "[".repeat(200) + &"]".repeat(200)
            )
            .into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for path in [
        "/api/auth/session",
        "/api/auth/callback/anon",
        "/api/auth/signout",
    ] {
        for (content_type, body, status) in &cases {
            let reply = c
                .send(Method::POST, path, Some(content_type), body.clone())
                .await;
            assert_eq!(reply.status, *status, "{path} {content_type}");
            assert_eq!(
                error_of(&reply.url()).as_deref(),
                Some("BadRequest"),
                "{path}"
            );
            assert!(!reply.json()["message"].as_str().unwrap().is_empty());
        }
    }
    // Odd but valid forms are simply read.
    let reply = c
        .send(
            Method::POST,
            "/api/auth/callback/anon",
            Some("application/x-www-form-urlencoded"),
            b"%%%&&==&json=true".to_vec(),
        )
        .await;
    assert_eq!(reply.url(), c.csrf_failure_url("signin"));
}

#[tokio::test]
async fn oversized_and_odd_cookie_headers_are_handled() {
    let mut c = client();
    c.jar.insert("big".into(), "x".repeat(90 * 1024));
    let reply = c.get("/api/auth/session").await;
    assert_eq!(reply.status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(error_of(&reply.url()).as_deref(), Some("BadRequest"));

    let mut c = client();
    c.jar.insert("next-auth.session-token.0".into(), "a".into());
    c.jar.insert("next-auth.session-token.5".into(), "b".into());
    c.jar
        .insert("next-auth.session-token.999".into(), "c".into());
    let reply = c.get("/api/auth/session").await;
    assert_eq!(reply.text(), c.no_session_text());
    assert_eq!(
        reply
            .set_cookies
            .iter()
            .filter(|l| l.contains("Max-Age=0"))
            .count(),
        3,
        "every chunk is cleared"
    );
}
