//! End to end for plain OAuth 2.0 (no OpenID Connect): the `GitHub {}` preset and an
//! `OAuth { .. }` provider, each pointed with `AuthBuilder::oauth_endpoints` at a small but real
//! authorization server written below (axum on 127.0.0.1), and driven over real HTTP by a
//! browser that follows no redirect by itself (tests/support/browser.rs).
//!
//! The server checks what a real one checks: the client id and the registered redirect URI at
//! `/authorize`, `response_type=code`, a state and a PKCE S256 challenge; at the token endpoint
//! the client's credentials, a code that is known, unused and issued to this client and
//! redirect URI, and the PKCE verifier; at the profile endpoint the Bearer token. In its GitHub
//! flavour it behaves as github.com does: errors of the token endpoint come back as `200` with an
//! `error` field, the token response is form-encoded unless JSON is asked for, scopes are
//! comma-separated, and `/user` wants a `User-Agent`.

#[path = "support/browser.rs"]
mod browser;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use auth_runtime::{Account, AuthDefinition, ConfigError, Profile};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use browser::{Browser, Http, Reply, query_param, wire};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const CLIENT_ID: &str = "oauth-e2e-client";
const CLIENT_SECRET: &str = "oauth-e2e-client-secret-0123456789";
const SECRET: &str = "oauth-e2e-test-secret-0123456789abcdef";

/// What the jwt callback saw at the last sign-in.
#[derive(Default)]
pub struct Seen {
    account: Option<Account>,
    profile: Option<Profile>,
}

/// The applications' state: what their jwt callback saw.
#[derive(Default)]
pub struct AppState {
    seen: Mutex<Seen>,
}

impl AppState {
    fn account(&self) -> Account {
        self.seen
            .lock()
            .unwrap()
            .account
            .clone()
            .expect("a sign-in")
    }

    fn profile(&self) -> Profile {
        self.seen
            .lock()
            .unwrap()
            .profile
            .clone()
            .expect("a sign-in")
    }
}

/// An application with the GitHub preset, as written for github.com.
mod github_app {
    use auth_runtime::next_auth;

    next_auth! {
        pub struct Session {
            user_id: Option<String>,
        }
        state: super::AppState,
        providers: [GitHub {}],
        jwt: |token, event, state| {
            if let JwtEvent::SignIn { account, profile, .. } = event {
                let mut seen = state.seen.lock().unwrap();
                seen.account = Some(account);
                seen.profile = profile;
            }
            Ok(token)
        },
        session: |session, token| Session { user_id: token.sub.clone(), ..session },
    }
}

/// An application with a plain OAuth 2.0 provider (endpoints given at run time), an optional
/// OpenID Connect one and a Credentials one, for the checks of `oauth_endpoints`.
mod corp_app {
    use auth_runtime::{User, next_auth};

    next_auth! {
        pub struct Session {
            user_id: Option<String>,
        }
        state: super::AppState,
        providers: [
            OAuth {
                id: "corp",
                name: "Corp SSO",
                authorization_url: "https://sso.corp.invalid/oauth/authorize",
                token_url: "https://sso.corp.invalid/oauth/token",
                userinfo_url: "https://sso.corp.invalid/api/user",
                scope: "profile email",
            },
            Oidc { id: "sso", name: "Staff SSO", issuer: "https://sso.corp.invalid", optional: true },
            Credentials {
                id: "anon",
                credentials: {},
                authorize: |_credentials| Ok(Some(User::default())),
            },
        ],
        jwt: |token, event, state| {
            if let JwtEvent::SignIn { account, profile, .. } = event {
                let mut seen = state.seen.lock().unwrap();
                seen.account = Some(account);
                seen.profile = profile;
            }
            Ok(token)
        },
        session: |session, token| Session { user_id: token.sub.clone(), ..session },
    }
}

// ---------------------------------------------------------------------------------------------
// The authorization server.
// ---------------------------------------------------------------------------------------------

/// How the server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// github.com: `/login/oauth/authorize`, `/login/oauth/access_token`, `/user`; token errors
    /// as `200 {"error": ..}`.
    GitHub,
    /// RFC 6749 to the letter: `/authorize`, `/token`, `/user`; token errors as `400`.
    Rfc,
}

impl Flavor {
    fn paths(self) -> [&'static str; 3] {
        match self {
            Flavor::GitHub => [
                "/login/oauth/authorize",
                "/login/oauth/access_token",
                "/user",
            ],
            Flavor::Rfc => ["/authorize", "/token", "/user"],
        }
    }
}

/// What the token endpoint does with a valid request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenMode {
    Honest,
    /// `500` with a plain-text body.
    Fails,
    /// `200`, `application/json`, and a body that is not JSON.
    Garbage,
}

/// A code issued at `/authorize`.
struct Grant {
    redirect_uri: String,
    challenge: String,
    used: bool,
    /// The access token issued for it, revoked if the code is used again (RFC 6749, 4.1.2).
    access_token: Option<String>,
}

struct Server {
    origin: String,
    flavor: Flavor,
    redirect_uri: String,
    token_mode: TokenMode,
    /// `/user` refuses every token (one revoked right after it was issued).
    user_refuses: bool,
    profile: Value,
    grants: HashMap<String, Grant>,
    access_tokens: HashSet<String>,
    issued: u64,
    /// What happened, in order: `authorize`, `token ok`, `token refused: ..`, `user`, ...
    events: Vec<String>,
    /// How the client authenticated at each token request.
    client_auth: Vec<&'static str>,
    /// The `User-Agent` and `Accept` of the last token request (`/user` of the GitHub flavour
    /// refuses a request without a `User-Agent`, as github.com does).
    user_agent: Option<String>,
    token_accept: Option<String>,
}

#[derive(Clone)]
struct Idp(Arc<Mutex<Server>>);

impl Idp {
    fn lock(&self) -> std::sync::MutexGuard<'_, Server> {
        self.0.lock().unwrap()
    }

    fn url(&self, which: usize) -> String {
        let server = self.lock();
        format!("{}{}", server.origin, server.flavor.paths()[which])
    }

    fn authorization_url(&self) -> String {
        self.url(0)
    }

    fn token_url(&self) -> String {
        self.url(1)
    }

    fn userinfo_url(&self) -> String {
        self.url(2)
    }

    fn events(&self) -> Vec<String> {
        self.lock().events.clone()
    }

    fn saw(&self, prefix: &str) -> bool {
        self.lock().events.iter().any(|e| e.starts_with(prefix))
    }
}

/// The PKCE S256 challenge of a verifier (RFC 7636, 4.2).
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The client of a token request: HTTP Basic (each part form-urlencoded, RFC 6749 2.3.1) or
/// `client_id` and `client_secret` in the body.
fn client_of(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Option<(&'static str, String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = String::from_utf8(STANDARD.decode(basic).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        let unescape = |part: &str| {
            form_urlencoded::parse(format!("v={part}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        return Some(("basic", unescape(id), unescape(secret)));
    }
    Some((
        "form",
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

async fn authorize(
    State(idp): State<Idp>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut server = idp.lock();
    let param = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
    // An unknown client or redirect URI is never redirected to (RFC 6749, 4.1.2.1).
    if param("client_id") != CLIENT_ID {
        server.events.push("authorize refused: client_id".into());
        return (StatusCode::BAD_REQUEST, "unknown client_id").into_response();
    }
    if param("redirect_uri") != server.redirect_uri {
        server.events.push("authorize refused: redirect_uri".into());
        return (StatusCode::BAD_REQUEST, "redirect_uri is not registered").into_response();
    }
    let redirect_uri = server.redirect_uri.clone();
    let back = move |fields: &[(&str, &str)]| {
        let location = format!("{redirect_uri}?{}", browser::form(fields));
        (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
    };
    let state = param("state");
    if state.len() < 16 {
        return back(&[("error", "invalid_request"), ("state", state)]);
    }
    if param("response_type") != "code" {
        return back(&[("error", "unsupported_response_type"), ("state", state)]);
    }
    let challenge = param("code_challenge");
    let challenge_ok = challenge.len() == 43
        && URL_SAFE_NO_PAD.decode(challenge).is_ok()
        && param("code_challenge_method") == "S256";
    if !challenge_ok {
        return back(&[
            ("error", "invalid_request"),
            ("error_description", "PKCE S256 is required"),
            ("state", state),
        ]);
    }
    server.issued += 1;
    let code = format!("code-{}-{}", server.issued, &s256(state)[..12]);
    let grant = Grant {
        redirect_uri: server.redirect_uri.clone(),
        challenge: challenge.to_owned(),
        used: false,
        access_token: None,
    };
    server.grants.insert(code.clone(), grant);
    server
        .events
        .push(format!("authorize scope={}", param("scope")));
    back(&[("code", &code), ("state", state)])
}

/// A refused token request, as the server's flavour words it.
fn refuse(server: &mut Server, status: StatusCode, error: &str, why: &str) -> Response {
    server.events.push(format!("token refused: {why}"));
    let body = json!({ "error": error, "error_description": why });
    match server.flavor {
        // github.com answers 200 whatever went wrong.
        Flavor::GitHub => axum::Json(body).into_response(),
        Flavor::Rfc => (status, axum::Json(body)).into_response(),
    }
}

async fn token(
    State(idp): State<Idp>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    let mut guard = idp.lock();
    let server = &mut *guard;
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    server.user_agent = text(header::USER_AGENT);
    server.token_accept = text(header::ACCEPT);
    let Some((how, id, secret)) = client_of(&headers, &form) else {
        return refuse(
            server,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "no client",
        );
    };
    server.client_auth.push(how);
    if id != CLIENT_ID || secret != CLIENT_SECRET {
        return refuse(
            server,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client credentials",
        );
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return refuse(
            server,
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type",
        );
    }
    let code = form.get("code").cloned().unwrap_or_default();
    let Some(grant) = server.grants.get_mut(&code) else {
        return refuse(
            server,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "unknown code",
        );
    };
    if grant.used {
        // A code used twice: refused, and what it bought is revoked (RFC 6749, 4.1.2).
        if let Some(revoked) = grant.access_token.take() {
            server.access_tokens.remove(&revoked);
        }
        return refuse(
            server,
            StatusCode::BAD_REQUEST,
            "bad_verification_code",
            "code already used",
        );
    }
    grant.used = true;
    let redirect_ok = form.get("redirect_uri") == Some(&grant.redirect_uri);
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let pkce_ok = s256(&verifier) == grant.challenge;
    if !redirect_ok {
        return refuse(
            server,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "redirect_uri",
        );
    }
    if !pkce_ok {
        return refuse(
            server,
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "code_verifier",
        );
    }
    match server.token_mode {
        TokenMode::Honest => {}
        TokenMode::Fails => {
            server.events.push("token 500".into());
            return (StatusCode::INTERNAL_SERVER_ERROR, "upstream exploded").into_response();
        }
        TokenMode::Garbage => {
            server.events.push("token garbage".into());
            return (
                [(header::CONTENT_TYPE, "application/json")],
                "{\"access_token\": \"half",
            )
                .into_response();
        }
    }
    server.issued += 1;
    let access_token = match server.flavor {
        Flavor::GitHub => format!("gho_e2e{:030}", server.issued),
        Flavor::Rfc => format!("corp-at-{}", server.issued),
    };
    if let Some(grant) = server.grants.get_mut(&code) {
        grant.access_token = Some(access_token.clone());
    }
    server.access_tokens.insert(access_token.clone());
    server.events.push("token ok".into());
    let wants_json = server
        .token_accept
        .as_deref()
        .is_some_and(|a| a.contains("application/json"));
    match server.flavor {
        // What github.com sends to a client asking for JSON; form-encoded to anyone else.
        Flavor::GitHub if wants_json => axum::Json(json!({
            "access_token": access_token,
            "token_type": "bearer",
            "scope": "read:user,user:email",
        }))
        .into_response(),
        Flavor::GitHub => (
            [(header::CONTENT_TYPE, "application/x-www-form-urlencoded")],
            browser::form(&[
                ("access_token", &access_token),
                ("scope", "read:user,user:email"),
                ("token_type", "bearer"),
            ]),
        )
            .into_response(),
        Flavor::Rfc => (
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": "profile email",
            })),
        )
            .into_response(),
    }
}

/// The Bearer token of a request, if it is one the server issued and did not revoke.
fn bearer_ok(server: &Server, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| server.access_tokens.contains(token))
}

async fn user(State(idp): State<Idp>, headers: HeaderMap) -> Response {
    let mut server = idp.lock();
    if server.flavor == Flavor::GitHub && !headers.contains_key(header::USER_AGENT) {
        server.events.push("user refused: no User-Agent".into());
        return (
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a \
             User-Agent header",
        )
            .into_response();
    }
    if server.user_refuses || !bearer_ok(&server, &headers) {
        server.events.push("user refused: token".into());
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "message": "Bad credentials" })),
        )
            .into_response();
    }
    server.events.push("user".into());
    axum::Json(server.profile.clone()).into_response()
}

/// GitHub's `/user/emails`, which NextAuth reads when the profile's email is null.
async fn emails(State(idp): State<Idp>, headers: HeaderMap) -> Response {
    let mut server = idp.lock();
    server.events.push("emails".into());
    if !bearer_ok(&server, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    axum::Json(json!([
        { "email": "private@users.example", "primary": true, "verified": true, "visibility": null },
    ]))
    .into_response()
}

/// Starts the authorization server for the client whose callback is `redirect_uri`.
async fn start_idp(flavor: Flavor, redirect_uri: &str, profile: Value) -> Idp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let idp = Idp(Arc::new(Mutex::new(Server {
        origin,
        flavor,
        redirect_uri: redirect_uri.to_owned(),
        token_mode: TokenMode::Honest,
        user_refuses: false,
        profile,
        grants: HashMap::new(),
        access_tokens: HashSet::new(),
        issued: 0,
        events: Vec::new(),
        client_auth: Vec::new(),
        user_agent: None,
        token_accept: None,
    })));
    let [authorize_path, token_path, user_path] = flavor.paths();
    let app = Router::new()
        .route(authorize_path, get(authorize))
        .route(token_path, post(token))
        .route(user_path, get(user))
        .route("/user/emails", get(emails))
        .with_state(idp.clone());
    serve(listener, app);
    idp
}

fn serve(listener: tokio::net::TcpListener, app: Router) {
    tokio::spawn(async move {
        let config = auth_runtime::axum::ServeConfig::default();
        auth_runtime::axum::serve_app(listener, app, config)
            .await
            .unwrap()
    });
}

/// The profile github.com's `/user` answers (trimmed).
fn octocat() -> Value {
    json!({
        "login": "octocat",
        "id": 583231,
        "node_id": "MDQ6VXNlcjU4MzIzMQ==",
        "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
        "type": "User",
        "site_admin": false,
        "name": "The Octocat",
        "company": "@github",
        "email": "Octocat@GitHub.com",
    })
}

// ---------------------------------------------------------------------------------------------
// The applications.
// ---------------------------------------------------------------------------------------------

/// A bound listener for an app, and its origin (the redirect URI needs it first).
async fn bind() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    (listener, origin)
}

/// An application signed in through a fake authorization server: its origin, its auth API's
/// base URL, the server, and the engine (for what its `jwt` callback saw).
struct Setup<D: AuthDefinition> {
    origin: String,
    base: String,
    idp: Idp,
    auth: auth_runtime::Auth<D>,
}

/// The provider `id` of definition `D` pointed at a fake server of `flavor` serving `profile`.
async fn setup<D: AuthDefinition<State = AppState>>(
    id: &str,
    flavor: Flavor,
    profile: Value,
) -> Setup<D> {
    let (listener, origin) = bind().await;
    let base = format!("{origin}/api/auth");
    let idp = start_idp(flavor, &format!("{base}/callback/{id}"), profile).await;
    let auth = auth_runtime::Auth::<D>::builder(AppState::default())
        .secret(SECRET)
        .url(base.clone())
        .oauth_client(id, CLIENT_ID, CLIENT_SECRET)
        .oauth_endpoints(
            id,
            idp.authorization_url(),
            idp.token_url(),
            idp.userinfo_url(),
        )
        .oauth_timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap();
    let app = Router::new()
        .nest("/api/auth", auth.clone().router())
        .with_state(auth.clone());
    serve(listener, app);
    Setup {
        origin,
        base,
        idp,
        auth,
    }
}

/// The GitHub preset pointed at a fake github.com serving `profile`.
async fn github(profile: Value) -> Setup<github_app::NextAuth> {
    setup("github", Flavor::GitHub, profile).await
}

/// The plain `corp` provider pointed at an RFC 6749 server serving a GitHub-shaped profile.
async fn corp() -> Setup<corp_app::NextAuth> {
    let profile = json!({
        "id": 1017,
        "login": "ada",
        "name": "Ada Lovelace",
        "email": "Ada@Corp.Example",
        "avatar_url": "https://corp.example/avatars/1017.png",
    });
    setup("corp", Flavor::Rfc, profile).await
}

// ---------------------------------------------------------------------------------------------
// The browser's part.
// ---------------------------------------------------------------------------------------------

/// `signIn(provider, { callbackUrl: origin + "/account" })`, then the provider's authorization
/// page, which redirects straight back (the user is signed in there and has consented).
/// Returns the callback URL the provider sent the browser to.
async fn to_the_provider_and_back(
    b: &mut Browser<Http>,
    base: &str,
    origin: &str,
    provider: &str,
    authorization_url: &str,
) -> String {
    let started = b
        .start_sign_in(
            provider,
            &[("callbackUrl", &format!("{origin}/account"))],
            "",
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.text());
    let url = started.json()["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{authorization_url}?")),
        "{url} is not at {authorization_url}"
    );
    for check in ["next-auth.state", "next-auth.pkce.code_verifier"] {
        assert!(b.jar.contains_key(check), "no {check}: {:?}", b.jar.keys());
    }
    assert!(
        !b.jar.contains_key("next-auth.nonce"),
        "plain OAuth 2.0 has no nonce"
    );
    let at_provider = b.get(&url).await;
    assert_eq!(at_provider.status, 302, "{}", at_provider.text());
    let callback = at_provider.location().unwrap().to_owned();
    assert!(
        callback.starts_with(&format!("{base}/callback/{provider}?code=")),
        "{callback}"
    );
    assert_eq!(query_param(&callback, "state"), query_param(&url, "state"));
    callback
}

/// The callback failed: a redirect to the error page with `code`, the check cookies cleared, no
/// session cookie set; the error page (the sign-in page, for NextAuth's sign-in errors) renders.
async fn assert_failed(b: &mut Browser<Http>, page: &Reply, base: &str, code: &str) {
    page.assert_oauth_failure(
        base,
        code,
        &["next-auth.state", "next-auth.pkce.code_verifier"],
    );
    assert!(b.session_cookies().is_empty(), "{:?}", b.jar);
    let (visited, shown) = b.follow(page.location().unwrap()).await;
    assert_eq!(shown.status, 200, "{visited:?}: {}", shown.text());
    assert!(
        shown
            .text()
            .contains("Try signing in with a different account."),
        "{visited:?}: {}",
        shown.text()
    );
    let session = b.get(&format!("{base}/session")).await;
    assert_eq!(session.status, 200);
    assert_eq!(
        session.json(),
        wire::no_session(),
        "no session after a failure"
    );
}

/// A successful callback: to `origin/account`, with a session cookie.
async fn assert_signed_in(b: &mut Browser<Http>, callback: &str, origin: &str) -> Value {
    let page = b.get(callback).await;
    assert_eq!(page.status, 302, "{}", page.text());
    assert_eq!(page.location(), Some(format!("{origin}/account").as_str()));
    assert_eq!(b.session_cookies().len(), 1, "{:?}", page.set_cookies);
    for name in ["next-auth.state", "next-auth.pkce.code_verifier"] {
        assert!(!b.jar.contains_key(name), "{name} kept after the callback");
    }
    let session = b.get(&format!("{origin}/api/auth/session")).await;
    assert_eq!(session.status, 200);
    session.json()
}

/// The callback URL with its `state` replaced.
fn with_state(callback: &str, state: &str) -> String {
    let code = query_param(callback, "code").unwrap();
    let (path, _) = callback.split_once('?').unwrap();
    format!(
        "{path}?{}",
        browser::form(&[("code", &code), ("state", state)])
    )
}

// ---------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_preset_signs_in_through_a_fake_github() {
    let s = github(octocat()).await;
    let mut b = Browser::http(&s.origin, None);

    let providers = b.get(&format!("{}/providers", s.base)).await.json();
    assert_eq!(
        providers["github"],
        json!({
            "id": "github",
            "name": "GitHub",
            "type": "oauth",
            "signinUrl": format!("{}/signin/github", s.base),
            "callbackUrl": format!("{}/callback/github", s.base),
        })
    );

    let started = b
        .start_sign_in(
            "github",
            &[("callbackUrl", &format!("{}/account", s.origin))],
            "",
        )
        .await;
    let url = started.json()["url"].as_str().unwrap().to_owned();
    assert_eq!(query_param(&url, "client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(
        query_param(&url, "redirect_uri"),
        Some(format!("{}/callback/github", s.base))
    );
    assert_eq!(query_param(&url, "response_type").as_deref(), Some("code"));
    assert_eq!(
        query_param(&url, "scope").as_deref(),
        Some("read:user user:email"),
        "the preset's default scope"
    );
    assert_eq!(
        query_param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );

    let mut b = Browser::http(&s.origin, None);
    let callback = to_the_provider_and_back(
        &mut b,
        &s.base,
        &s.origin,
        "github",
        &s.idp.authorization_url(),
    )
    .await;
    let session = assert_signed_in(&mut b, &callback, &s.origin).await;
    assert_eq!(
        session["user"],
        json!({
            "name": "The Octocat",
            "email": "octocat@github.com",
            "image": "https://avatars.githubusercontent.com/u/583231?v=4",
        }),
        "{session}"
    );
    assert_eq!(
        session["userId"], "583231",
        "GitHub's numeric id, as a string"
    );

    let account = s.auth.state().account();
    assert_eq!(account.provider, "github");
    assert_eq!(account.kind, "oauth");
    assert_eq!(account.provider_account_id, "583231");
    assert!(
        account
            .access_token
            .as_deref()
            .is_some_and(|t| t.starts_with("gho_e2e"))
    );
    assert_eq!(account.token_type.as_deref(), Some("bearer"));
    assert_eq!(
        account.scope.as_deref(),
        Some("read:user,user:email"),
        "GitHub's comma-separated scopes are kept as sent"
    );
    assert_eq!(
        account.expires_at, None,
        "GitHub OAuth app tokens do not expire"
    );
    assert_eq!(account.refresh_token, None);
    assert_eq!(account.id_token, None);
    let profile = s.auth.state().profile();
    assert_eq!(profile.sub, "583231");
    assert_eq!(profile.preferred_username.as_deref(), Some("octocat"));
    assert_eq!(profile.raw["company"], "@github", "the raw profile is kept");

    // What went over the back channel.
    let events = s.idp.events();
    assert_eq!(
        events,
        ["authorize scope=read:user user:email", "token ok", "user"],
        "{events:?}"
    );
    let server = s.idp.lock();
    assert_eq!(
        server.client_auth,
        ["basic"],
        "client_secret_basic, as NextAuth"
    );
    assert!(
        server
            .token_accept
            .as_deref()
            .is_some_and(|a| a.contains("application/json")),
        "JSON is asked for, or github.com answers form-encoded: {:?}",
        server.token_accept
    );
    assert!(
        server
            .user_agent
            .as_deref()
            .is_some_and(|ua| ua.starts_with("auth-runtime/")),
        "{:?}",
        server.user_agent
    );
}

/// GitHub's `/user` has `email: null` when the user keeps their address private, and
/// `name: null` when none is set. The name falls back to the login (as NextAuth's
/// `profile.name ?? profile.login`); unlike NextAuth, `/user/emails` is not read, so the
/// session has no email.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_profile_without_a_public_email_or_name() {
    let mut profile = octocat();
    profile["email"] = Value::Null;
    profile["name"] = Value::Null;
    let s = github(profile).await;
    let mut b = Browser::http(&s.origin, None);
    let callback = to_the_provider_and_back(
        &mut b,
        &s.base,
        &s.origin,
        "github",
        &s.idp.authorization_url(),
    )
    .await;
    let session = assert_signed_in(&mut b, &callback, &s.origin).await;
    assert_eq!(
        session["user"],
        json!({
            "name": "octocat",
            "email": null,
            "image": "https://avatars.githubusercontent.com/u/583231?v=4",
        }),
        "{session}"
    );
    assert_eq!(session["userId"], "583231");
    assert_eq!(s.auth.state().profile().email, None);
    assert!(
        !s.idp.saw("emails"),
        "/user/emails is not read: {:?}",
        s.idp.events()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_oauth_provider_signs_in_at_endpoints_given_to_the_builder() {
    let s = corp().await;
    let mut b = Browser::http(&s.origin, None);
    let providers = b.get(&format!("{}/providers", s.base)).await.json();
    assert_eq!(providers["corp"]["type"], "oauth");
    assert_eq!(providers["corp"]["name"], "Corp SSO");
    assert!(
        providers.get("sso").is_none(),
        "the optional OpenID provider is off: {providers}"
    );

    let callback = to_the_provider_and_back(
        &mut b,
        &s.base,
        &s.origin,
        "corp",
        &s.idp.authorization_url(),
    )
    .await;
    let session = assert_signed_in(&mut b, &callback, &s.origin).await;
    assert_eq!(
        session["user"],
        json!({
            "name": "Ada Lovelace",
            "email": "ada@corp.example",
            "image": "https://corp.example/avatars/1017.png",
        }),
        "{session}"
    );
    assert_eq!(session["userId"], "1017");

    let account = s.auth.state().account();
    assert_eq!(account.provider, "corp");
    assert_eq!(account.provider_account_id, "1017");
    assert!(
        account
            .access_token
            .as_deref()
            .is_some_and(|t| t.starts_with("corp-at-"))
    );
    assert_eq!(account.token_type.as_deref(), Some("bearer"), "lower-cased");
    assert_eq!(account.scope.as_deref(), Some("profile email"));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let expires_at = account.expires_at.expect("expires_in becomes expires_at");
    assert!(
        (now + 3600 - 30..=now + 3600 + 30).contains(&expires_at),
        "{expires_at} vs {now}"
    );
    assert_eq!(
        s.idp.events(),
        ["authorize scope=profile email", "token ok", "user"]
    );
    assert_eq!(s.idp.lock().client_auth, ["basic"]);
}

/// A `state` that is not the one in the state cookie: `OAuthCallback`, and the code is never
/// sent to the token endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_state_is_refused_before_the_code_is_spent() {
    let s = github(octocat()).await;
    let mut b = Browser::http(&s.origin, None);
    let callback = to_the_provider_and_back(
        &mut b,
        &s.base,
        &s.origin,
        "github",
        &s.idp.authorization_url(),
    )
    .await;
    let original = query_param(&callback, "state").unwrap();
    let mut forged = original.clone();
    let last = if forged.ends_with('A') { "B" } else { "A" };
    forged.replace_range(forged.len() - 1.., last);
    let page = b.get(&with_state(&callback, &forged)).await;
    assert_failed(&mut b, &page, &s.base, "OAuthCallback").await;

    // Without any state at all.
    let mut b = Browser::http(&s.origin, None);
    let callback = to_the_provider_and_back(
        &mut b,
        &s.base,
        &s.origin,
        "github",
        &s.idp.authorization_url(),
    )
    .await;
    let code = query_param(&callback, "code").unwrap();
    let page = b
        .get(&format!("{}/callback/github?code={code}", s.base))
        .await;
    assert_failed(&mut b, &page, &s.base, "OAuthCallback").await;

    // The right state, from another browser (no state cookie there).
    let mut other = Browser::http(&s.origin, None);
    let page = other.get(&callback).await;
    assert_eq!(
        page.location(),
        Some(format!("{}/error?error=OAuthCallback", s.base).as_str())
    );
    assert!(other.session_cookies().is_empty());

    assert!(
        !s.idp.saw("token"),
        "a refused state must not spend the code: {:?}",
        s.idp.events()
    );
}

/// A callback replayed with the check cookies it had (a stolen URL and cookies, or a
/// double-submit): the server refuses the code the second time, and the replay gets no session.
/// github.com answers `200 {"error": "bad_verification_code"}`; an RFC 6749 server `400
/// invalid_grant`: both are `OAuthCallback`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_code_is_refused_by_the_server_and_gives_no_session() {
    async fn replay(base: &str, origin: &str, idp: &Idp, provider: &str) {
        let mut b = Browser::http(origin, None);
        let callback =
            to_the_provider_and_back(&mut b, base, origin, provider, &idp.authorization_url())
                .await;
        let stolen = b.jar.clone();
        let session = assert_signed_in(&mut b, &callback, origin).await;
        assert!(session["user"]["name"].is_string(), "{session}");

        let mut attacker = Browser::http(origin, None);
        attacker.jar = stolen;
        let page = attacker.get(&callback).await;
        assert_failed(&mut attacker, &page, base, "OAuthCallback").await;
        let events = idp.events();
        assert_eq!(
            events.last().map(String::as_str),
            Some("token refused: code already used"),
            "{events:?}"
        );
        assert_eq!(
            events.iter().filter(|e| *e == "user").count(),
            1,
            "the profile is read for the first sign-in only: {events:?}"
        );
    }

    let s = github(octocat()).await;
    replay(&s.base, &s.origin, &s.idp, "github").await;
    let c = corp().await;
    replay(&c.base, &c.origin, &c.idp, "corp").await;
}

/// A token endpoint answering `500`, or `200` with a body that is not JSON: `OAuthCallback`,
/// no session, no panic, and the error page renders.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_token_endpoint_fails_the_sign_in_cleanly() {
    let s = github(octocat()).await;
    let c = corp().await;
    for mode in [TokenMode::Fails, TokenMode::Garbage] {
        for (base, origin, idp, provider) in [
            (&s.base, &s.origin, &s.idp, "github"),
            (&c.base, &c.origin, &c.idp, "corp"),
        ] {
            idp.lock().token_mode = mode;
            let mut b = Browser::http(origin, None);
            let callback =
                to_the_provider_and_back(&mut b, base, origin, provider, &idp.authorization_url())
                    .await;
            let page = b.get(&callback).await;
            assert_failed(&mut b, &page, base, "OAuthCallback").await;
            let expected = match mode {
                TokenMode::Fails => "token 500",
                _ => "token garbage",
            };
            assert_eq!(
                idp.events().last().map(String::as_str),
                Some(expected),
                "{provider} {mode:?}"
            );
        }
    }
    assert!(!s.idp.saw("user") && !c.idp.saw("user"));
}

/// The profile endpoint refuses the token, or answers a profile without an id: `OAuthCallback`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_or_unusable_profile_fails_the_sign_in() {
    let s = corp().await;
    s.idp.lock().user_refuses = true;
    let mut b = Browser::http(&s.origin, None);
    let callback = to_the_provider_and_back(
        &mut b,
        &s.base,
        &s.origin,
        "corp",
        &s.idp.authorization_url(),
    )
    .await;
    let page = b.get(&callback).await;
    assert_failed(&mut b, &page, &s.base, "OAuthCallback").await;
    assert_eq!(
        s.idp.events()[1..],
        ["token ok", "user refused: token"],
        "{:?}",
        s.idp.events()
    );

    {
        let mut server = s.idp.lock();
        server.user_refuses = false;
        server.profile = json!({ "login": "ada", "name": "Ada Lovelace" });
    }
    let callback = to_the_provider_and_back(
        &mut b,
        &s.base,
        &s.origin,
        "corp",
        &s.idp.authorization_url(),
    )
    .await;
    let page = b.get(&callback).await;
    assert_failed(&mut b, &page, &s.base, "OAuthCallback").await;
    assert_eq!(s.idp.events().last().map(String::as_str), Some("user"));
}

/// `oauth_endpoints` without an override leaves the preset's URLs; with one it is checked at
/// build: absolute http(s) URLs only, a declared plain OAuth provider only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_endpoints_are_checked_at_build() {
    // Without the override, the preset's github.com endpoint (nothing is fetched to start).
    let auth = github_app::Auth::builder(AppState::default())
        .secret(SECRET)
        .url("http://127.0.0.1:3000/api/auth")
        .oauth_client("github", CLIENT_ID, CLIENT_SECRET)
        .build()
        .unwrap();
    let (listener, origin) = bind().await;
    let app = Router::new()
        .nest("/api/auth", auth.clone().router())
        .with_state(auth);
    serve(listener, app);
    let mut b = Browser::http(&origin, None);
    let csrf = b.csrf().await;
    let started = b
        .post_form(
            &format!("{origin}/api/auth/signin/github"),
            &[("csrfToken", &csrf), ("json", "true")],
        )
        .await;
    let url = started.json()["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with("https://github.com/login/oauth/authorize?"),
        "{url}"
    );

    let build = |provider: &str, urls: [&str; 3]| -> Result<corp_app::Auth, ConfigError> {
        corp_app::Auth::builder(AppState::default())
            .secret(SECRET)
            .url("http://127.0.0.1:3000/api/auth")
            .oauth_client("corp", CLIENT_ID, CLIENT_SECRET)
            .oauth_endpoints(provider, urls[0], urls[1], urls[2])
            .build()
    };
    let good = [
        "http://127.0.0.1:9/authorize",
        "https://sso.example.com/token",
        "https://api.sso.example.com/user?fields=all",
    ];
    build("corp", good).expect("http and https URLs, with a query");

    let refused = |provider: &str, urls: [&str; 3]| match build(provider, urls) {
        Ok(_) => panic!("{urls:?} accepted for {provider}"),
        Err(error) => {
            assert!(
                matches!(error, ConfigError::ProviderSetting { .. }),
                "{error:?}"
            );
            error.to_string()
        }
    };
    for (at, bad) in [
        (0, "/authorize"),
        (1, "sso.example.com/token"),
        (2, "ftp://sso.example.com/user"),
        (1, "https://corp:secret@sso.example.com/token"),
        (0, "https://sso.example.com/authorize#top"),
        (2, "https://"),
        (0, "https://sso.example.com/auth orize"),
    ] {
        let mut urls = good;
        urls[at] = bad;
        let message = refused("corp", urls);
        let name = ["authorization_url", "token_url", "userinfo_url"][at];
        assert!(
            message.starts_with(&format!("provider `corp`: oauth_endpoints.{name}: {bad:?}")),
            "{message}"
        );
    }
    let message = refused("sso", good);
    assert!(
        message.contains("OpenID Connect") && message.contains("oauth_issuer"),
        "{message}"
    );
    let message = refused("anon", good);
    assert!(message.contains("not an OAuth provider"), "{message}");
    let message = refused("crop", good);
    assert!(
        message.contains("provider `crop`") && message.contains("no provider with this id"),
        "{message}"
    );
}
