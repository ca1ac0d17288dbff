//! OpenID Connect sign-in against a fake provider on loopback whose misbehaviour each test
//! chooses: every failure ends on NextAuth's error page with the right code, and the guest
//! session the browser had is still there, unchanged. Also: what the jwt callback receives on
//! success, the check cookies' attributes, bounded timeouts, and that no token or secret reaches
//! the logs at info level.

#[path = "support/browser.rs"]
mod browser;

use std::collections::HashSet;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_runtime::{CallbackError, User, next_auth};
use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use browser::{Browser, Http, query_param};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sha2::{Digest, Sha256};

const CLIENT_ID: &str = "rust-app";
const CLIENT_SECRET: &str = "client-secret-never-logged-0001";
const ACCESS_TOKEN: &str = "access-token-never-logged-0002";
const REFRESH_TOKEN: &str = "refresh-token-never-logged-0003";
const GOOD_CODE: &str = "authorization-code-never-logged-0004";

/// What the jwt callback saw at the last OAuth sign-in.
#[derive(Default)]
struct Seen {
    previous_guest: Option<String>,
    profile_sub: Option<String>,
    profile_email: Option<String>,
    raw_has_custom_claim: bool,
    access_token: Option<String>,
    refresh_token: Option<String>,
    id_token: Option<String>,
    expires_at: Option<i64>,
}

struct AppState {
    seen: Mutex<Seen>,
}

next_auth! {
    struct Token {
        guest: Option<String>,
        carried_guest: Option<String>,
    }
    struct Session {
        is_logged_in: bool,
    }
    state: AppState,
    providers: [
        Credentials {
            id: "anon",
            credentials: {},
            authorize: |_credentials| Ok(Some(User::default())),
        },
        Oidc { id: "user", name: "Logged In Users" },
    ],
    jwt: |token, event, state| match event {
        JwtEvent::SignIn { provider: Provider::Anon, .. } => Ok(Token {
            sub: None,
            guest: Some(format!("guest-{}", std::process::id())),
            ..token
        }),
        JwtEvent::SignIn { provider: Provider::User, profile, account, previous, .. } => {
            let profile = profile.ok_or_else(|| CallbackError::message("no profile"))?;
            let mut seen = state.seen.lock().unwrap();
            seen.previous_guest = previous.as_ref().and_then(|p| p.guest.clone());
            seen.profile_sub = Some(profile.sub.clone());
            seen.profile_email = profile.email.clone();
            seen.raw_has_custom_claim = profile.raw["tenant"] == "acme";
            seen.access_token = account.access_token.clone();
            seen.refresh_token = account.refresh_token.clone();
            seen.id_token = account.id_token.clone();
            seen.expires_at = account.expires_at;
            Ok(Token { carried_guest: previous.and_then(|p| p.guest), ..token })
        }
        JwtEvent::Refresh | JwtEvent::Update { .. } => Ok(token),
    },
    session: |session, token| Session { is_logged_in: token.sub.is_some(), ..session },
}

/// How the fake provider misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Honest,
    WrongNonce,
    OtherKey,
    HangToken,
}

struct Idp {
    issuer: String,
    mode: Mode,
    /// The last authorization request's PKCE challenge and nonce (the test reads the URL and
    /// plays the provider's part of the front channel).
    challenge: Option<String>,
    nonce: Option<String>,
    used_codes: HashSet<String>,
}

type Shared = Arc<Mutex<Idp>>;

/// The PKCE S256 challenge of a verifier (RFC 7636), as the fake provider checks it.
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

async fn discovery(State(idp): State<Shared>) -> axum::Json<serde_json::Value> {
    let issuer = idp.lock().unwrap().issuer.clone();
    axum::Json(serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks() -> axum::Json<serde_json::Value> {
    let key: serde_json::Value =
        serde_json::from_str(include_str!("oidc/keys/a.jwk.json")).unwrap();
    axum::Json(serde_json::json!({ "keys": [key] }))
}

async fn token(
    State(idp): State<Shared>,
    headers: axum::http::HeaderMap,
    axum::Form(form): axum::Form<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let (mode, issuer, challenge, nonce, fresh) = {
        let mut idp = idp.lock().unwrap();
        let code = form.get("code").cloned().unwrap_or_default();
        let fresh = idp.used_codes.insert(code);
        (
            idp.mode,
            idp.issuer.clone(),
            idp.challenge.clone(),
            idp.nonce.clone(),
            fresh,
        )
    };
    if mode == Mode::HangToken {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    let refuse = |why: &str| {
        (
            axum::http::StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({ "error": "invalid_grant", "error_description": why })),
        )
            .into_response()
    };
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    if basic != expected {
        return refuse("client authentication");
    }
    if form.get("code").map(String::as_str) != Some(GOOD_CODE) || !fresh {
        return refuse("code");
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if challenge.as_deref() != Some(s256(&verifier).as_str()) {
        return refuse("pkce");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": issuer,
        "aud": CLIENT_ID,
        "sub": "fake-sub-42",
        "iat": now,
        "exp": now + 300,
        "nonce": if mode == Mode::WrongNonce { "not-the-nonce".to_owned() } else { nonce.unwrap_or_default() },
        "email": "Ada@Example.com",
        "tenant": "acme",
    });
    let pem = if mode == Mode::OtherKey {
        include_str!("oidc/keys/b.pem")
    } else {
        include_str!("oidc/keys/a.pem")
    };
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("key-a".into());
    let id_token = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
    )
    .unwrap();
    axum::Json(serde_json::json!({
        "access_token": ACCESS_TOKEN,
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": REFRESH_TOKEN,
        "id_token": id_token,
        "scope": "openid profile email",
    }))
    .into_response()
}

async fn userinfo(headers: axum::http::HeaderMap) -> axum::response::Response {
    use axum::response::IntoResponse;
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {ACCESS_TOKEN}"))
    {
        return axum::http::StatusCode::UNAUTHORIZED.into_response();
    }
    axum::Json(
        serde_json::json!({ "sub": "fake-sub-42", "name": "Ada", "email": "Ada@Example.com" }),
    )
    .into_response()
}

async fn start_idp() -> Shared {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let idp = Arc::new(Mutex::new(Idp {
        issuer,
        mode: Mode::Honest,
        challenge: None,
        nonce: None,
        used_codes: HashSet::new(),
    }));
    let app = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .route("/userinfo", get(userinfo))
        .with_state(Arc::clone(&idp));
    tokio::spawn(async move {
        let config = auth_runtime::axum::ServeConfig::default();
        auth_runtime::axum::serve_app(listener, app, config)
            .await
            .unwrap()
    });
    idp
}

async fn start_app(issuer: &str, timeout: Duration) -> (String, Auth) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let auth = Auth::builder(AppState {
        seen: Mutex::new(Seen::default()),
    })
    .secret("oidc-failures-test-secret-0123456789")
    .url(format!("{origin}/api/auth"))
    .oauth_client("user", CLIENT_ID, CLIENT_SECRET)
    .oauth_issuer("user", issuer)
    .oauth_timeout(timeout)
    .build()
    .unwrap();
    let app = Router::new()
        .nest("/api/auth", auth.clone().router())
        .with_state(auth.clone());
    tokio::spawn(async move {
        let config = auth_runtime::axum::ServeConfig::default();
        auth_runtime::axum::serve_app(listener, app, config)
            .await
            .unwrap()
    });
    (origin, auth)
}

/// A guest with a session, plus a started sign-in with `user`: returns the authorization URL.
async fn guest_then_start(
    browser: &mut Browser<Http>,
    origin: &str,
    idp: &Shared,
) -> (String, Vec<(String, String)>) {
    let reply = browser
        .sign_in("anon", &[("callbackUrl", &format!("{origin}/shop"))])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let guest_cookies = browser.session_cookies();
    assert_eq!(guest_cookies.len(), 1);
    let started = browser
        .start_sign_in("user", &[("callbackUrl", &format!("{origin}/account"))], "")
        .await;
    assert_eq!(started.status, 200, "{}", started.text());
    let url = started.json()["url"].as_str().unwrap().to_owned();
    let mut idp = idp.lock().unwrap();
    assert!(
        url.starts_with(&format!("{}/authorize?", idp.issuer)),
        "{url}"
    );
    idp.challenge = query_param(&url, "code_challenge");
    idp.nonce = query_param(&url, "nonce");
    (url, guest_cookies)
}

async fn assert_guest_intact(
    browser: &mut Browser<Http>,
    origin: &str,
    guest: &[(String, String)],
) {
    assert_eq!(
        browser.session_cookies(),
        guest,
        "the guest session cookie changed"
    );
    let session = browser
        .get(&format!("{origin}/api/auth/session"))
        .await
        .json();
    assert_eq!(session["isLoggedIn"], false, "{session}");
}

/// Runs the callback `query` and expects a redirect to the error page with `code`.
async fn expect_error(browser: &mut Browser<Http>, origin: &str, query: &str, code: &str) {
    let page = browser
        .get(&format!("{origin}/api/auth/callback/user?{query}"))
        .await;
    page.assert_oauth_failure(
        &format!("{origin}/api/auth"),
        code,
        &[
            "next-auth.state",
            "next-auth.pkce.code_verifier",
            "next-auth.nonce",
        ],
    );
}

fn state_of(url: &str) -> String {
    query_param(url, "state").unwrap()
}

/// Log lines at info level and above, for the "no secrets in logs" check.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_sign_in_succeeds_and_every_failure_keeps_the_guest() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Global: the servers log from the runtime's worker threads (one test in this binary).
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let idp = start_idp().await;
    let issuer = idp.lock().unwrap().issuer.clone();
    let (origin, auth) = start_app(&issuer, Duration::from_secs(2)).await;

    // The check cookies: HttpOnly, SameSite=Lax, 15 minutes, no Secure over http.
    let mut b = Browser::http(&origin, None);
    let base = format!("{origin}/api/auth");
    b.sign_in("anon", &[("callbackUrl", &format!("{origin}/shop"))])
        .await;
    let started = b
        .start_sign_in(
            "user",
            &[("callbackUrl", &format!("{origin}/account"))],
            "prompt=login",
        )
        .await;
    let url = started.json()["url"].as_str().unwrap().to_owned();
    assert_eq!(
        query_param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(query_param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(
        query_param(&url, "prompt").as_deref(),
        Some("login"),
        "authorization params pass through"
    );
    assert_eq!(
        query_param(&url, "redirect_uri"),
        Some(format!("{base}/callback/user"))
    );
    let checks: Vec<&String> = started
        .set_cookies
        .iter()
        .filter(|c| {
            [
                "next-auth.state=",
                "next-auth.pkce.code_verifier=",
                "next-auth.nonce=",
            ]
            .iter()
            .any(|n| c.starts_with(n))
        })
        .collect();
    assert_eq!(checks.len(), 3, "{:?}", started.set_cookies);
    for cookie in checks {
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        assert!(
            cookie.contains("Max-Age=900") && !cookie.contains("Secure"),
            "{cookie}"
        );
    }

    // The built-in sign-in page: a button for the OpenID provider posting to signin/user; a
    // form POST (no `json`) is a 302 to the provider.
    let page = b.get(&format!("{base}/signin")).await;
    assert!(
        page.text()
            .contains(&format!("action=\"{base}/signin/user\"")),
        "{}",
        page.text()
    );
    assert!(page.text().contains("Sign in with Logged In Users"));
    let csrf = b.csrf().await;
    let posted = b
        .post_form(&format!("{base}/signin/user"), &[("csrfToken", &csrf)])
        .await;
    assert_eq!(posted.status, 302);
    assert!(
        posted
            .location()
            .unwrap()
            .starts_with(&format!("{issuer}/authorize?"))
    );

    // The user denies consent at the provider.
    let mut b = Browser::http(&origin, None);
    let (url, guest) = guest_then_start(&mut b, &origin, &idp).await;
    let query = format!("error=access_denied&state={}", state_of(&url));
    expect_error(&mut b, &origin, &query, "AccessDenied").await;
    assert_guest_intact(&mut b, &origin, &guest).await;

    // Another error from the provider.
    let (url, guest) = guest_then_start(&mut b, &origin, &idp).await;
    expect_error(
        &mut b,
        &origin,
        &format!("error=server_error&state={}", state_of(&url)),
        "Callback",
    )
    .await;
    assert_guest_intact(&mut b, &origin, &guest).await;

    // State mismatch.
    let (_, guest) = guest_then_start(&mut b, &origin, &idp).await;
    expect_error(
        &mut b,
        &origin,
        &format!("code={GOOD_CODE}&state=forged"),
        "OAuthCallback",
    )
    .await;
    assert_guest_intact(&mut b, &origin, &guest).await;

    // The PKCE verifier cookie is missing.
    let (url, guest) = guest_then_start(&mut b, &origin, &idp).await;
    b.jar.remove("next-auth.pkce.code_verifier");
    expect_error(
        &mut b,
        &origin,
        &format!("code={GOOD_CODE}&state={}", state_of(&url)),
        "OAuthCallback",
    )
    .await;
    assert_guest_intact(&mut b, &origin, &guest).await;

    // A tampered PKCE verifier cookie.
    let (url, guest) = guest_then_start(&mut b, &origin, &idp).await;
    let pkce = b.jar.get_mut("next-auth.pkce.code_verifier").unwrap();
    pkce.replace_range(pkce.len() - 4.., "AAAA");
    expect_error(
        &mut b,
        &origin,
        &format!("code={GOOD_CODE}&state={}", state_of(&url)),
        "OAuthCallback",
    )
    .await;
    assert_guest_intact(&mut b, &origin, &guest).await;

    // A tampered code.
    let (url, guest) = guest_then_start(&mut b, &origin, &idp).await;
    expect_error(
        &mut b,
        &origin,
        &format!("code={GOOD_CODE}x&state={}", state_of(&url)),
        "OAuthCallback",
    )
    .await;
    assert_guest_intact(&mut b, &origin, &guest).await;

    // A wrong nonce in the ID token.
    idp.lock().unwrap().mode = Mode::WrongNonce;
    idp.lock().unwrap().used_codes.clear();
    let (url, guest) = guest_then_start(&mut b, &origin, &idp).await;
    expect_error(
        &mut b,
        &origin,
        &format!("code={GOOD_CODE}&state={}", state_of(&url)),
        "OAuthCallback",
    )
    .await;
    assert_guest_intact(&mut b, &origin, &guest).await;

    // An ID token signed by another key (claiming the published key's kid).
    idp.lock().unwrap().mode = Mode::OtherKey;
    idp.lock().unwrap().used_codes.clear();
    let (url, guest) = guest_then_start(&mut b, &origin, &idp).await;
    expect_error(
        &mut b,
        &origin,
        &format!("code={GOOD_CODE}&state={}", state_of(&url)),
        "OAuthCallback",
    )
    .await;
    assert_guest_intact(&mut b, &origin, &guest).await;

    // The token endpoint hangs: the callback gives up after the 2 s timeout.
    idp.lock().unwrap().mode = Mode::HangToken;
    let (url, guest) = guest_then_start(&mut b, &origin, &idp).await;
    let started_at = Instant::now();
    expect_error(
        &mut b,
        &origin,
        &format!("code={GOOD_CODE}&state={}", state_of(&url)),
        "OAuthCallback",
    )
    .await;
    assert!(
        started_at.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started_at.elapsed()
    );
    assert_guest_intact(&mut b, &origin, &guest).await;

    // Success: the guest becomes a logged-in user; the jwt callback saw the guest's token.
    {
        let mut idp = idp.lock().unwrap();
        idp.mode = Mode::Honest;
        idp.used_codes.clear();
    }
    let (url, _) = guest_then_start(&mut b, &origin, &idp).await;
    let callback = format!(
        "{origin}/api/auth/callback/user?code={GOOD_CODE}&state={}",
        state_of(&url)
    );
    let replay_cookies = b.jar.clone();
    let page = b.get(&callback).await;
    assert_eq!(page.status, 302, "{}", page.text());
    assert_eq!(page.location(), Some(format!("{origin}/account").as_str()));
    let session = b.get(&format!("{origin}/api/auth/session")).await.json();
    assert_eq!(session["isLoggedIn"], true, "{session}");
    assert_eq!(
        session["user"]["email"], "ada@example.com",
        "emails are lower-cased: {session}"
    );
    assert_eq!(session["user"]["name"], "Ada");
    {
        let seen = auth.state().seen.lock().unwrap();
        assert_eq!(
            seen.previous_guest,
            Some(format!("guest-{}", std::process::id())),
            "the guest's token reached the jwt callback"
        );
        assert_eq!(seen.profile_sub.as_deref(), Some("fake-sub-42"));
        assert_eq!(seen.profile_email.as_deref(), Some("Ada@Example.com"));
        assert!(
            seen.raw_has_custom_claim,
            "the raw profile keeps non-standard claims"
        );
        assert_eq!(seen.access_token.as_deref(), Some(ACCESS_TOKEN));
        assert_eq!(seen.refresh_token.as_deref(), Some(REFRESH_TOKEN));
        assert_eq!(
            seen.id_token.as_ref().map(|t| t.split('.').count()),
            Some(3)
        );
        assert!(seen.expires_at.is_some_and(|at| at > 0));
    }

    // Replays: the browser no longer has the check cookies; an attacker who kept them and the
    // code is refused by the provider (codes are single-use).
    let logged_in = b.session_cookies();
    expect_error(
        &mut b,
        &origin,
        callback.split_once('?').unwrap().1,
        "OAuthCallback",
    )
    .await;
    assert_eq!(b.session_cookies(), logged_in);
    let mut attacker = Browser::http(&origin, None);
    attacker.jar = replay_cookies;
    expect_error(
        &mut attacker,
        &origin,
        callback.split_once('?').unwrap().1,
        "OAuthCallback",
    )
    .await;

    // The provider is unreachable at sign-in: nobody listens, or it accepts and never answers.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    for issuer in [format!("http://{closed}"), format!("http://{silent_addr}")] {
        let (origin, _) = start_app(&issuer, Duration::from_secs(1)).await;
        let base = format!("{origin}/api/auth");
        let mut b = Browser::http(&origin, None);
        b.sign_in("anon", &[("callbackUrl", &format!("{origin}/shop"))])
            .await;
        let guest = b.session_cookies();
        let started_at = Instant::now();
        let reply = b
            .start_sign_in("user", &[("callbackUrl", &format!("{origin}/account"))], "")
            .await;
        assert!(
            started_at.elapsed() < Duration::from_secs(6),
            "took {:?}",
            started_at.elapsed()
        );
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.json()["url"],
            format!("{base}/error?error=OAuthSignin")
        );
        assert!(
            !reply
                .set_cookies
                .iter()
                .any(|c| c.contains("next-auth.state"))
        );
        assert_guest_intact(&mut b, &origin, &guest).await;
    }

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("signed in"), "the success is logged: {logs}");
    for secret in [CLIENT_SECRET, ACCESS_TOKEN, REFRESH_TOKEN, GOOD_CODE, "eyJ"] {
        assert!(
            !logs.contains(secret),
            "{secret} leaked into the logs:\n{logs}"
        );
    }
}

/// The same provider with a guest store: the OpenID sign-in upgrades the browser's guest.
mod with_guests {
    use auth_runtime::next_auth;

    next_auth! {
        pub struct Token {
            upgrade: Option<String>,
        }
        pub struct Session {
            user_id: Option<String>,
            upgrade: Option<String>,
        }
        providers: [
            Anonymous {},
            Oidc { id: "user", name: "Logged In Users" },
        ],
        // A sign-in that made the user (the guest promoted) goes to the welcome page first.
        pages: { new_user: "/welcome" },
        jwt: |token, event| match event {
            JwtEvent::SignIn { upgrade: Some(upgrade), .. } => Ok(Token {
                upgrade: Some(format!("{upgrade:?}")),
                ..token
            }),
            JwtEvent::SignIn { .. } | JwtEvent::Refresh | JwtEvent::Update { .. } => Ok(token),
        },
        session: |session, token| Session {
            user_id: token.sub.clone(),
            upgrade: token.upgrade.clone(),
            ..session
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oidc_sign_in_upgrades_the_guest_promoted_then_merged() {
    use auth_runtime::guests::{GuestConfig, GuestStore, Limits, SqliteGuestStore};

    let idp = start_idp().await;
    let issuer = idp.lock().unwrap().issuer.clone();
    let dir = std::env::temp_dir().join(format!("oidc-guests-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = GuestConfig::default().limits(Limits::unlimited());
    let store = Arc::new(
        SqliteGuestStore::open_with(dir.join("guests.db"), config)
            .await
            .unwrap(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let auth = with_guests::Auth::builder(())
        .secret("oidc-failures-test-secret-0123456789")
        .url(format!("{origin}/api/auth"))
        .oauth_client("user", CLIENT_ID, CLIENT_SECRET)
        .oauth_issuer("user", &issuer)
        .guests(store.clone())
        .build()
        .unwrap();
    let app = Router::new()
        .nest("/api/auth", auth.clone().router())
        .with_state(auth);
    tokio::spawn(async move {
        let config = auth_runtime::axum::ServeConfig::default();
        auth_runtime::axum::serve_app(listener, app, config)
            .await
            .unwrap()
    });

    let mut user_ids = Vec::new();
    for expected in ["Promoted", "Merged"] {
        idp.lock().unwrap().used_codes.clear();
        let mut b = Browser::http(&origin, None);
        let (url, _) = guest_then_start(&mut b, &origin, &idp).await;
        let session = b.get(&format!("{origin}/api/auth/session")).await.json();
        let guest = session["userId"].as_str().unwrap().to_owned();
        let page = b
            .get(&format!(
                "{origin}/api/auth/callback/user?code={GOOD_CODE}&state={}",
                state_of(&url)
            ))
            .await;
        assert_eq!(page.status, 302, "{}", page.text());
        let callback_url = format!("{origin}/account");
        let welcome = format!(
            "/welcome?callbackUrl={}",
            form_urlencoded::byte_serialize(callback_url.as_bytes()).collect::<String>()
        );
        let expected_location = match expected {
            "Promoted" => welcome.as_str(),
            _ => callback_url.as_str(),
        };
        assert_eq!(page.location(), Some(expected_location));
        let session = b.get(&format!("{origin}/api/auth/session")).await.json();
        let upgrade = session["upgrade"].as_str().unwrap_or_default();
        assert!(upgrade.starts_with(expected), "{session}");
        assert!(upgrade.contains(&guest), "{session}");
        user_ids.push(session["userId"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        user_ids[0], user_ids[1],
        "the second guest merged into the first's user"
    );
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.promoted_total, stats.merged_total), (1, 1));
}
