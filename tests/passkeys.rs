//! Passkeys over HTTP, as `next-auth/webauthn`'s `signIn("passkey")` drives them (Auth.js v5's
//! protocol): `GET /webauthn-options/passkey`, then `POST /callback/passkey` with the answer of
//! a software authenticator (ES256, the file the runtime's unit tests use). A guest who saves
//! the cart with a passkey keeps its id; every refusal leaves no session. The ceremonies' own
//! refusals (origin, type, RP id hash, flags, counters, a credential of another user) are pinned
//! by the runtime's unit tests on SQLite and PostgreSQL; here, what the HTTP layer adds.

#[path = "support/browser.rs"]
mod browser;
#[path = "../auth-runtime/src/providers/passkey/soft_authenticator.rs"]
mod soft_authenticator;

use std::sync::Arc;

use auth_runtime::guests::SqliteGuestStore;
use auth_runtime::{SessionStrategy, next_auth};
use browser::{Browser, error_of};
use http::StatusCode;
use serde_json::Value;
use soft_authenticator::{SoftAuthenticator, Tweaks};

next_auth! {
    providers: [
        Anonymous {},
        Passkey {},
    ],
}

const SECRET: &str = "passkey-http-secret-0123456789abcdef";
const ORIGIN: &str = "http://localhost:3000";
const PEER: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40002);

async fn engine(test: &str, strategy: Option<SessionStrategy>) -> Auth {
    let path = std::env::temp_dir().join(format!(
        "passkeys-{test}-{}-{}.db",
        std::process::id(),
        rand::random::<u32>()
    ));
    let store = Arc::new(SqliteGuestStore::open(&path).await.unwrap());
    let mut builder = Auth::builder(())
        .secret(SECRET)
        .url(format!("{ORIGIN}/api/auth"))
        .guests(store);
    if let Some(strategy) = strategy {
        builder = builder.session_strategy(strategy);
    }
    builder.build().unwrap()
}

fn browser(auth: Auth) -> Browser<Auth> {
    let mut client = Browser::engine(auth);
    client.peer = Some(PEER);
    client
}

/// `GET /webauthn-options/passkey?..`, the options' JSON.
async fn options(client: &mut Browser<Auth>, query: &str) -> (StatusCode, Value) {
    let reply = client
        .get(&format!("/api/auth/webauthn-options/passkey?{query}"))
        .await;
    (reply.status, reply.json())
}

/// `POST /callback/passkey` as the client posts it.
async fn answer(client: &mut Browser<Auth>, action: &str, data: &Value) -> browser::Reply {
    let csrf = client.csrf().await;
    let data = data.to_string();
    client
        .post_form(
            "/api/auth/callback/passkey",
            &[
                ("action", action),
                ("data", &data),
                ("csrfToken", &csrf),
                ("callbackUrl", "http://localhost:3000/cart"),
                ("json", "true"),
            ],
        )
        .await
}

/// Registers a passkey for `email`; returns the authenticator.
async fn register(client: &mut Browser<Auth>, email: &str) -> SoftAuthenticator {
    let (status, body) = options(client, &format!("action=register&email={email}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["action"], "register");
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let data = authenticator.register(&body["options"], &Tweaks::default());
    let reply = answer(client, "register", &data).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.url(), "http://localhost:3000/cart");
    authenticator
}

async fn guest(client: &mut Browser<Auth>) -> String {
    let reply = client.sign_in("anon", &[]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    subject(client).await.expect("a guest session")
}

/// The session's subject (the user or guest id), read as the application reads it.
async fn subject(client: &Browser<Auth>) -> Option<String> {
    let mut headers = http::HeaderMap::new();
    headers.insert(http::header::COOKIE, client.cookie_header().parse().ok()?);
    client.server.token(&headers).await.ok()?.sub
}

async fn a_guest_saves_the_cart_with_a_passkey_and_signs_in_with_it(
    strategy: Option<SessionStrategy>,
) {
    let auth = engine("save", strategy).await;
    let mut client = browser(auth);
    let before = Some(guest(&mut client).await);
    let mut passkey = register(&mut client, "shopper@example.com").await;
    let session = client.session().await;
    assert_eq!(session["user"]["email"], "shopper@example.com", "{session}");
    let promoted = subject(&client).await;
    assert_eq!(
        promoted, before,
        "the guest is promoted in place: same id, same cart"
    );

    // Signed out, the passkey signs the same user in: no e-mail, so no allowCredentials
    // (the browser offers its passkeys in autofill).
    let csrf = client.csrf().await;
    client
        .post_form(
            "/api/auth/signout",
            &[("csrfToken", &csrf), ("json", "true")],
        )
        .await;
    assert!(subject(&client).await.is_none());
    let (status, body) = options(&mut client, "action=authenticate").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["options"].get("allowCredentials").is_none(), "{body}");
    let data = passkey.authenticate(&body["options"], &Tweaks::default());
    let reply = answer(&mut client, "authenticate", &data).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        client.session().await["user"]["email"],
        "shopper@example.com"
    );
    let again = subject(&client).await;
    assert_eq!(again, before, "the passkey signs in as the promoted guest");
}

#[tokio::test]
async fn a_guest_keeps_its_id_through_a_passkey_in_tokens() {
    a_guest_saves_the_cart_with_a_passkey_and_signs_in_with_it(Some(SessionStrategy::Jwt)).await;
}

#[tokio::test]
async fn a_guest_keeps_its_id_through_a_passkey_in_database_sessions() {
    a_guest_saves_the_cart_with_a_passkey_and_signs_in_with_it(Some(SessionStrategy::Database))
        .await;
}

#[tokio::test]
async fn a_replayed_answer_is_refused_and_issues_no_session() {
    let mut client = browser(engine("replay", None).await);
    let (_, body) = options(&mut client, "action=register&email=replay@example.com").await;
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let data = authenticator.register(&body["options"], &Tweaks::default());
    let first = answer(&mut client, "register", &data).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());

    // Another browser replays the captured request with the captured challenge cookie.
    let mut thief = browser(client.server.clone());
    thief.jar = client
        .jar
        .iter()
        .filter(|(name, _)| name.contains("challenge"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let (_, fresh) = options(&mut thief, "action=authenticate").await;
    let _ = fresh;
    let replay = answer(&mut thief, "register", &data).await;
    assert!(replay.cookie("next-auth.session-token").is_none());
    assert!(
        error_of(&replay.url()).is_some(),
        "refused: {}",
        replay.text()
    );
    assert!(subject(&thief).await.is_none());
}

#[tokio::test]
async fn a_tampered_signature_is_a_verification_error() {
    let mut client = browser(engine("tampered", None).await);
    let mut passkey = register(&mut client, "tamper@example.com").await;
    let csrf = client.csrf().await;
    client
        .post_form(
            "/api/auth/signout",
            &[("csrfToken", &csrf), ("json", "true")],
        )
        .await;
    let (_, body) = options(&mut client, "action=authenticate").await;
    let tweaks = Tweaks {
        bad_signature: true,
        ..Tweaks::default()
    };
    let data = passkey.authenticate(&body["options"], &tweaks);
    let reply = answer(&mut client, "authenticate", &data).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        error_of(&reply.url()).as_deref(),
        Some("WebAuthnVerificationError")
    );
    assert!(reply.cookie("next-auth.session-token").is_none());
    assert!(subject(&client).await.is_none());

    // The challenge went with the failed answer: an honest retry needs new options.
    let honest = passkey.authenticate(&body["options"], &Tweaks::default());
    let retry = answer(&mut client, "authenticate", &honest).await;
    assert_eq!(error_of(&retry.url()).as_deref(), Some("Configuration"));
}

#[tokio::test]
async fn the_callback_checks_csrf() {
    let mut client = browser(engine("csrf", None).await);
    let (_, body) = options(&mut client, "action=register&email=csrf@example.com").await;
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let data = authenticator
        .register(&body["options"], &Tweaks::default())
        .to_string();
    let reply = client
        .post_form(
            "/api/auth/callback/passkey",
            &[("action", "register"), ("data", &data), ("json", "true")],
        )
        .await;
    assert_eq!(
        reply.url(),
        client.csrf_failure_url("signin"),
        "{}",
        reply.text()
    );
    assert!(reply.cookie("next-auth.session-token").is_none());
}

#[tokio::test]
async fn hostile_options_requests_get_auth_js_s_answers() {
    let mut client = browser(engine("hostile", None).await);
    let (status, body) = options(&mut client, "action=steal").await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("Invalid action"))
    );
    // Registering signed out needs an e-mail.
    let (status, body) = options(&mut client, "action=register").await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &Value::from("Invalid request"))
    );
    for email in ["not-an-address", "%00", &"a".repeat(400)] {
        let (status, _) = options(&mut client, &format!("action=register&email={email}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{email}");
    }
    // A provider without a ceremony: Auth.js's configuration error.
    let reply = client.get("/api/auth/webauthn-options/anon").await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert!(
        reply
            .header("location")
            .unwrap()
            .contains("error=Configuration")
    );
    // Garbage answers: refused, no session.
    for (action, data) in [
        ("register", "not json"),
        ("authenticate", "{}"),
        ("dance", "{}"),
        ("register", &"[".repeat(10_000)),
    ] {
        let csrf = client.csrf().await;
        let reply = client
            .post_form(
                "/api/auth/callback/passkey",
                &[
                    ("action", action),
                    ("data", data),
                    ("csrfToken", &csrf),
                    ("json", "true"),
                ],
            )
            .await;
        assert!(
            error_of(&reply.url()).is_some(),
            "{action}: {}",
            reply.text()
        );
        assert!(reply.cookie("next-auth.session-token").is_none());
    }
    // The callback takes POST only.
    let reply = client.get("/api/auth/callback/passkey").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_signed_in_user_adds_a_second_passkey() {
    let mut client = browser(engine("second", None).await);
    register(&mut client, "two@example.com").await;
    // Signed in: the session's user, no e-mail needed.
    let (status, body) = options(&mut client, "action=register").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["options"]["excludeCredentials"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let mut second = SoftAuthenticator::new(ORIGIN);
    let data = second.register(&body["options"], &Tweaks::default());
    let reply = answer(&mut client, "register", &data).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(client.session().await["user"]["email"], "two@example.com");
}

#[tokio::test]
async fn another_guest_signing_in_with_the_passkey_is_merged_into_its_user() {
    let mut client = browser(engine("merge", None).await);
    let member = guest(&mut client).await;
    let mut passkey = register(&mut client, "merge@example.com").await;
    let csrf = client.csrf().await;
    client
        .post_form(
            "/api/auth/signout",
            &[("csrfToken", &csrf), ("json", "true")],
        )
        .await;

    // A new guest on the same browser (a cart of its own), then the passkey: merged.
    let second = guest(&mut client).await;
    assert_ne!(second, member);
    let (_, body) = options(&mut client, "action=authenticate").await;
    let data = passkey.authenticate(&body["options"], &Tweaks::default());
    let reply = answer(&mut client, "authenticate", &data).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(subject(&client).await.as_deref(), Some(member.as_str()));
}
