//! Session tokens shared with the real JavaScript libraries (the scripts in `tests/js/interop/`):
//! tokens minted by next-auth 4.24.15's `next-auth/jwt` and by `@auth/core` 0.41.3's
//! `@auth/core/jwt` open sessions here, chunked ones included; tokens this server issues are
//! decoded by their `decode` and `getToken`; a real next-auth handler (`NextAuth()` behind
//! `node:http`) accepts a session cookie this server issued, and this server accepts one it
//! issued. `examples/nextjs_backend.rs` is driven with cookies minted by next-auth.
//!
//! Needs Node and `tests/js/node_modules`. Without Node the tests say they are skipped, except
//! under `CI=true`, where that is a failure.

#[path = "support/skip.rs"]
mod skip;
use skip::skipped;

#[path = "support/browser.rs"]
mod browser;

#[path = "../examples/nextjs_backend.rs"]
#[allow(dead_code)]
mod backend;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use auth_runtime::{TokenClaims, TokenFormat, TokenReader, User, next_auth};
use axum::body::Body;
use browser::Browser;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

next_auth! {
    pub struct Token {
        /// Filler, to make tokens that need several cookies.
        padding: Option<String>,
    }
    pub struct Session {
        user_id: Option<String>,
    }
    providers: [
        Credentials {
            id: "login",
            name: "Login",
            credentials: { user: { label: "User" }, padding: { label: "Padding" } },
            authorize: |credentials| Ok(Some(User::with_id(credentials.user.clone()).name("Ada"))),
        },
    ],
    jwt: |token, event| match event {
        JwtEvent::Update { data } => Ok(Token {
            padding: data["padding"].as_str().map(str::to_owned),
            ..token
        }),
        _ => Ok(token),
    },
    session: |session, token| Session { user_id: token.sub.clone(), ..session },
}

const SECRET: &str = "interop-test-secret-0123456789abcdef-shared";
const URL: &str = "http://127.0.0.1:3000/api/auth";

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

/// Whether the scripts can run here; says why not (and fails under `CI=true`).
fn node_ready(test: &str) -> bool {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let modules = js_dir()
        .join("node_modules/@auth/core/package.json")
        .exists()
        && js_dir()
            .join("node_modules/next-auth/package.json")
            .exists();
    if node && modules {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(
        !ci,
        "CI=true but Node or tests/js/node_modules is missing (npm ci --prefix tests/js)"
    );
    skipped(&format!(
        "SKIPPED {test}: needs Node 20 and `npm ci --prefix tests/js` (next-auth, @auth/core)"
    ));
    false
}

/// Runs `tests/js/interop/jwt.mjs` with one JSON request; its JSON answer.
fn jwt_js(request: Value) -> Value {
    let mut child = Command::new("node")
        .arg(js_dir().join("interop/jwt.mjs"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        request.to_string().as_bytes(),
    )
    .unwrap();
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "jwt.mjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("jwt.mjs said {line:?}: {e}"))
}

/// A token minted by the JavaScript library of `format` (100 years, so it never expires here).
fn mint(format: &str, claims: Value) -> String {
    let mut request = json!({
        "op": "encode", "format": format, "secret": SECRET,
        "claims": claims, "maxAge": 3_153_600_000u64,
    });
    salted(&mut request);
    let answer = jwt_js(request);
    answer["token"].as_str().expect("a token").to_owned()
}

/// What the JavaScript library of `format` reads from `token` (`null` when it refuses it).
fn decode(format: &str, token: &str) -> Value {
    let mut request = json!({ "op": "decode", "format": format, "secret": SECRET, "token": token });
    salted(&mut request);
    let answer = jwt_js(request);
    if answer["claims"].is_null() {
        eprintln!("decode refused the token: {answer}");
    }
    answer["claims"].clone()
}

/// Auth.js v5 salts its key with the session cookie's name; next-auth v4 uses no salt.
fn salted(request: &mut Value) {
    if request["format"] == "authjs-v5" {
        request["salt"] = json!("authjs.session-token");
    }
}

fn auth(format: TokenFormat) -> Auth {
    Auth::builder(())
        .secret(SECRET)
        .url(URL)
        .token_format(format)
        .build()
        .unwrap()
}

/// Puts `token` in the jar as the browser would receive it: one cookie, or chunks of 3933.
fn store(client: &mut Browser<Auth>, name: &str, token: &str) {
    // The test client's jar speaks next-auth v4's names; it renames them on the wire.
    let name = &name.replacen("authjs.", "next-auth.", 1);
    client.jar.retain(|k, _| !k.starts_with(name.as_str()));
    if token.len() <= 3933 {
        client.jar.insert(name.to_owned(), token.to_owned());
        return;
    }
    for (i, chunk) in token.as_bytes().chunks(3933).enumerate() {
        let chunk = std::str::from_utf8(chunk).unwrap();
        client.jar.insert(format!("{name}.{i}"), chunk.to_owned());
    }
}

/// Signs in on this server; the session token as the browser holds it (chunks joined).
async fn our_token(auth: &Auth, padding: usize) -> (Browser<Auth>, String) {
    let mut client = Browser::engine(auth.clone());
    let reply = client.sign_in("login", &[("user", "u-7")]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    if padding > 0 {
        let csrf = client.csrf().await;
        let reply = client
            .post_json(
                "/api/auth/session",
                &json!({ "csrfToken": csrf, "data": { "padding": "x".repeat(padding) } }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    // The engine browser's jar speaks next-auth v4's names in every format (support/browser.rs).
    let name = "next-auth.session-token";
    let token = match client.jar.get(name) {
        Some(token) => token.clone(),
        None => (0..)
            .map_while(|i| client.jar.get(&format!("{name}.{i}")).cloned())
            .collect(),
    };
    (client, token)
}

#[tokio::test]
async fn tokens_minted_by_next_auth_v4_and_authjs_v5_open_sessions_here() {
    if skip::only_for_token_sessions(
        "tokens_minted_by_next_auth_v4_and_authjs_v5_open_sessions_here",
    ) {
        return;
    }
    if !node_ready("tokens_minted_by_next_auth_v4_and_authjs_v5_open_sessions_here") {
        return;
    }
    for (format, name, ours) in [
        (
            "nextauth-v4",
            "next-auth.session-token",
            TokenFormat::NextAuthV4,
        ),
        ("authjs-v5", "authjs.session-token", TokenFormat::AuthJsV5),
    ] {
        let auth = auth(ours);
        for padding in [0usize, 9000] {
            let claims = json!({
                "name": "Ada", "email": "ada@example.com", "picture": null, "sub": "user-42",
                "padding": "p".repeat(padding),
            });
            let token = mint(format, claims);
            let mut client = Browser::engine(auth.clone());
            store(&mut client, name, &token);
            if padding > 0 {
                assert!(
                    client.cookie_header().contains(&format!("{name}.2=")),
                    "chunked"
                );
            }
            let session = client.session().await;
            assert_eq!(
                session["user"]["name"], "Ada",
                "{format} {padding}: {session}"
            );
            assert_eq!(session["user"]["email"], "ada@example.com");
            assert_eq!(session["userId"], "user-42");
            // The application's readers see the same session.
            let mut headers = http::HeaderMap::new();
            headers.insert("cookie", client.cookie_header().parse().unwrap());
            let token = auth.token(&headers).await.unwrap();
            assert_eq!(token.padding.map(|p| p.len()), Some(padding));
        }
        // Another secret: no session.
        let mut other = Browser::engine(
            Auth::builder(())
                .secret("some-other-secret-0123456789abcdef")
                .url(URL)
                .token_format(ours)
                .build()
                .unwrap(),
        );
        store(&mut other, name, &mint(format, json!({ "sub": "user-42" })));
        assert_eq!(other.session().await, other.no_session());
    }
}

#[tokio::test]
async fn tokens_issued_here_are_decoded_by_next_auth_and_authjs() {
    if skip::only_for_token_sessions("tokens_issued_here_are_decoded_by_next_auth_and_authjs") {
        return;
    }
    if !node_ready("tokens_issued_here_are_decoded_by_next_auth_and_authjs") {
        return;
    }
    for (format, ours) in [
        ("nextauth-v4", TokenFormat::NextAuthV4),
        ("authjs-v5", TokenFormat::AuthJsV5),
    ] {
        for padding in [0usize, 6000] {
            let (_, token) = our_token(&auth(ours), padding).await;
            let claims = decode(format, &token);
            assert_eq!(claims["sub"], "u-7", "{format}: {claims}");
            assert_eq!(claims["name"], "Ada");
            assert_eq!(
                claims["padding"].as_str().map(str::len),
                (padding > 0).then_some(padding)
            );
            assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
        }
    }
    // next-auth's `getToken` reads our chunked cookie, and our Bearer token.
    let (client, token) = our_token(&auth(TokenFormat::NextAuthV4), 6000).await;
    let cookies: serde_json::Map<String, Value> = client
        .jar
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
        .collect();
    assert!(cookies.contains_key("next-auth.session-token.1"));
    let read = jwt_js(json!({ "op": "getToken", "secret": SECRET, "cookies": cookies }));
    assert_eq!(read["claims"]["sub"], "u-7", "{read}");
    let bearer = jwt_js(json!({
        "op": "getToken", "secret": SECRET, "cookies": {},
        "headers": { "authorization": format!("Bearer {token}") },
    }));
    assert_eq!(bearer["claims"]["sub"], "u-7", "{bearer}");
    // A JWS is not NextAuth's format: next-auth refuses it.
    let (_, jws) = our_token(&auth(TokenFormat::Jws), 0).await;
    assert_eq!(decode("nextauth-v4", &jws), Value::Null);
}

/// A real next-auth 4.24.15 server (`tests/js/interop/nextauth-server.mjs`), killed on drop.
struct NodeServer {
    child: tokio::process::Child,
    origin: String,
}

impl NodeServer {
    async fn start() -> NodeServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let origin = format!("http://127.0.0.1:{port}");
        let mut child = tokio::process::Command::new("node")
            .arg(js_dir().join("interop/nextauth-server.mjs"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("AUTH_SECRET", SECRET)
            .env("NEXTAUTH_URL", format!("{origin}/api/auth"))
            .env("PORT", port.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
        let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the next-auth server starts within 30 s")
            .unwrap()
            .unwrap_or_default();
        assert!(ready.starts_with("listening"), "{ready}");
        NodeServer { child, origin }
    }

    async fn get(&self, path: &str, cookie: &str) -> (StatusCode, Vec<String>, Value) {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", self.origin))
            .header("cookie", cookie)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let cookies = set_cookies(response.headers());
        let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null);
        (status, cookies, body)
    }
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn set_cookies(headers: &reqwest::header::HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_next_auth_server_and_this_one_accept_each_others_session_cookies() {
    if skip::only_for_token_sessions(
        "a_real_next_auth_server_and_this_one_accept_each_others_session_cookies",
    ) {
        return;
    }
    if !node_ready("a_real_next_auth_server_and_this_one_accept_each_others_session_cookies") {
        return;
    }
    let node = NodeServer::start().await;
    let auth = auth(TokenFormat::NextAuthV4);

    // Ours → theirs: the cookie this server issued opens the session on next-auth's own
    // `/api/auth/session`.
    let (client, _) = our_token(&auth, 0).await;
    let (status, _, session) = node.get("/api/auth/session", &client.cookie_header()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(session["user"]["name"], "Ada", "{session}");
    assert_eq!(session["userId"], "u-7");

    // Theirs → ours: a guest signs in on next-auth (CSRF double submit), and its cookie opens
    // the session here.
    let http = reqwest::Client::new();
    let csrf = http
        .get(format!("{}/api/auth/csrf", node.origin))
        .send()
        .await
        .unwrap();
    let mut jar = set_cookies(csrf.headers());
    let csrf: Value = serde_json::from_slice(&csrf.bytes().await.unwrap()).unwrap();
    let signed_in = http
        .post(format!("{}/api/auth/callback/anon", node.origin))
        .header("cookie", jar.join("; "))
        .form(&[
            ("csrfToken", csrf["csrfToken"].as_str().unwrap()),
            ("json", "true"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::OK);
    jar.extend(set_cookies(signed_in.headers()));
    let theirs = jar
        .iter()
        .find(|c| c.starts_with("next-auth.session-token="))
        .expect("next-auth issued a session cookie")
        .clone();
    let (_, _, their_session) = node.get("/api/auth/session", &theirs).await;
    let their_user = their_session["userId"].as_str().unwrap().to_owned();
    assert!(their_user.starts_with("anon-"), "{their_session}");
    let mut client = Browser::engine(auth.clone());
    let (name, value) = theirs.split_once('=').unwrap();
    client.jar.insert(name.to_owned(), value.to_owned());
    let session = client.session().await;
    assert_eq!(session["userId"], their_user, "{session}");
    assert!(session.get("expires").is_some());
}

async fn call(
    app: &axum::Router,
    path: &str,
    header: Option<(&str, String)>,
) -> (StatusCode, Value) {
    let mut request = Request::get(path);
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_nextjs_backend_example_trusts_cookies_minted_by_next_auth() {
    if !node_ready("the_nextjs_backend_example_trusts_cookies_minted_by_next_auth") {
        return;
    }
    let reader = TokenReader::<backend::Claims>::new(TokenFormat::NextAuthV4, [SECRET]).unwrap();
    let app = backend::app(reader);
    let member = mint(
        "nextauth-v4",
        json!({ "name": "Ada", "email": "ada@example.com", "sub": "user-42" }),
    );
    // The guide's guest: the jwt callback leaves `sub` out.
    let guest = mint("nextauth-v4", json!({ "thirdPartyToken": "anon-123" }));
    let cookie = |token: &str| Some(("cookie", format!("next-auth.session-token={token}")));

    let (status, body) = call(&app, "/api/me", cookie(&member)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], "user-42");
    assert_eq!(body["guest"], false);
    let (status, body) = call(&app, "/api/orders", cookie(&member)).await;
    assert_eq!((status, &body["user"]), (StatusCode::OK, &json!("user-42")));
    // Over https next-auth writes `__Secure-`; an API client sends a Bearer token.
    let secure = Some((
        "cookie",
        format!("__Secure-next-auth.session-token={member}"),
    ));
    assert_eq!(call(&app, "/api/me", secure).await.0, StatusCode::OK);
    let bearer = Some(("authorization", format!("Bearer {member}")));
    assert_eq!(call(&app, "/api/me", bearer).await.0, StatusCode::OK);

    let (status, body) = call(&app, "/api/me", cookie(&guest)).await;
    assert_eq!((status, &body["guest"]), (StatusCode::OK, &json!(true)));
    let (status, body) = call(&app, "/api/orders", cookie(&guest)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "MemberRequired");

    // No session, a forged one, one under another secret: 401 JSON.
    let (status, body) = call(&app, "/api/me", None).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNAUTHORIZED, &json!("SessionRequired"))
    );
    let mut forged = member.clone().into_bytes();
    let at = forged.len() - 5;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(
        call(&app, "/api/me", cookie(&forged)).await.0,
        StatusCode::UNAUTHORIZED
    );
    let other = TokenReader::<backend::Claims>::new(
        TokenFormat::NextAuthV4,
        ["another-secret-0123456789abcdef"],
    )
    .unwrap();
    assert_eq!(
        call(&backend::app(other), "/api/me", cookie(&member))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    // An expired token says so.
    let expired = jwt_js(json!({
        "op": "encode", "format": "nextauth-v4", "secret": SECRET,
        "claims": { "sub": "user-42" }, "maxAge": -3600,
    }))["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = call(&app, "/api/me", cookie(&expired)).await;
    assert_eq!(
        (status, &body["reason"]),
        (StatusCode::UNAUTHORIZED, &json!("expired"))
    );

    // Rotation: the backend reads tokens under the previous secret too.
    let rotated = TokenReader::<backend::Claims>::new(
        TokenFormat::NextAuthV4,
        ["the-new-secret-0123456789abcdef", SECRET],
    )
    .unwrap();
    assert_eq!(
        call(&backend::app(rotated), "/api/me", cookie(&member))
            .await
            .0,
        StatusCode::OK
    );
}

/// A JWS minted by a standard JWT library, claims in its own order and one unknown claim, is a
/// session; `alg` stays pinned to HS256.
#[tokio::test]
async fn a_jws_minted_by_a_standard_library_is_read_and_alg_is_pinned() {
    if skip::only_for_token_sessions("a_jws_minted_by_a_standard_library_is_read_and_alg_is_pinned")
    {
        return;
    }
    let auth = auth(TokenFormat::Jws);
    let mut key = [0u8; 32];
    hkdf::Hkdf::<sha2::Sha256>::new(None, SECRET.as_bytes())
        .expand(b"auth-runtime session token signing key", &mut key)
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims =
        json!({ "exp": now + 600, "zzz": [1, 2], "sub": "std-1", "iat": now, "name": "Std" });
    let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    let mint = |alg| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(alg),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(&key),
        )
        .unwrap()
    };
    let mut client = Browser::engine(auth.clone());
    client.jar.insert(
        "next-auth.session-token".into(),
        mint(jsonwebtoken::Algorithm::HS256),
    );
    let session = client.session().await;
    assert_eq!(session["userId"], "std-1", "{session}");
    assert_eq!(session["user"]["name"], "Std");
    let mut client = Browser::engine(auth.clone());
    client.jar.insert(
        "next-auth.session-token".into(),
        mint(jsonwebtoken::Algorithm::HS512),
    );
    assert_eq!(client.session().await, client.no_session());
    let mut token = Token::from_user(&User::with_id("x"));
    let ours = auth
        .encode_session_token(&mut token, now as i64)
        .await
        .unwrap();
    assert_eq!(ours.split('.').count(), 3);
}
