//! NextAuth's "refresh token rotation" guide against a real OpenID provider: npm `oidc-provider`
//! (tests/oidc/server.mjs) on 127.0.0.1, issuing refresh tokens for `offline_access` and access
//! tokens that live 3 seconds. The app's `jwt` callback keeps the provider's tokens at sign-in,
//! and once the access token has expired renews it with
//! `auth_runtime::providers::refresh_access_token` on the next `GET /api/auth/session`; a
//! refresh the provider refuses leaves `error: "RefreshAccessTokenError"` in the session, and the
//! session read still answers 200.
//!
//! Needs Node and npm. Without them each test says it is skipped, except under `CI=true`, where a
//! missing Node is a failure. `node_modules` are installed with `npm ci` when missing.

#[path = "support/skip.rs"]
mod skip;

#[path = "support/oidc_provider.rs"]
mod oidc_provider;

#[path = "support/logs.rs"]
mod logs;

#[path = "support/browser.rs"]
mod browser;

use std::time::Duration;

use auth_runtime::next_auth;
use auth_runtime::providers::{REFRESH_ACCESS_TOKEN_ERROR, refresh_access_token};
use browser::{Browser, Http, Reply};
use oidc_provider::{bind_app, ensure_node_modules, node_or_skip, start_provider};

const CLIENT_ID: &str = "refresh-rotation-test";
const CLIENT_SECRET: &str = "refresh-client-secret-0123456789abcdef";
/// How long the provider's access tokens live, in seconds.
const ACCESS_TOKEN_TTL: i64 = 3;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

next_auth! {
    /// The provider's tokens, kept in the session token as the guide keeps them.
    struct Token {
        access_token: Option<String>,
        expires_at: Option<i64>,
        refresh_token: Option<String>,
        error: Option<String>,
    }
    /// Everything in the session, so that the test sees it (the refresh token is exposed to the
    /// browser only because this is a test: an application keeps it in the token).
    struct Session {
        access_token: Option<String>,
        expires_at: Option<i64>,
        refresh_token: Option<String>,
        error: Option<String>,
    }
    providers: [
        Oidc { id: "idp", name: "Test IdP", scope: "openid offline_access" },
    ],
    jwt: async |token, event| match event {
        JwtEvent::SignIn { account, .. } => Ok(Token {
            access_token: account.access_token,
            expires_at: account.expires_at,
            refresh_token: account.refresh_token,
            error: None,
            ..token
        }),
        _ if token.expires_at.is_none_or(|at| now() < at) => Ok(token),
        _ => {
            let refresh_token = token.refresh_token.clone().unwrap_or_default();
            match refresh_access_token("idp", &refresh_token).await {
                Ok(fresh) => Ok(Token {
                    access_token: Some(fresh.access_token),
                    expires_at: fresh.expires_at,
                    refresh_token: Some(fresh.refresh_token),
                    error: None,
                    ..token
                }),
                Err(_) => Ok(Token {
                    error: Some(REFRESH_ACCESS_TOKEN_ERROR.to_owned()),
                    ..token
                }),
            }
        }
    },
    session: |session, token| Session {
        access_token: token.access_token.clone(),
        expires_at: token.expires_at,
        refresh_token: token.refresh_token.clone(),
        error: token.error.clone(),
        ..session
    },
}

/// The app (only the auth API) served on 127.0.0.1, and the OpenID provider it signs in at.
struct Setup {
    base: String,
    origin: String,
    issuer: String,
    _provider: tokio::process::Child,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn setup(provider_env: &[(&str, &str)]) -> Setup {
    ensure_node_modules("oidc", "oidc-provider/package.json");
    let (listener, origin) = bind_app().await;
    let base = format!("{origin}/api/auth");
    let ttl = ACCESS_TOKEN_TTL.to_string();
    let mut env = vec![("ACCESS_TOKEN_TTL", ttl.as_str())];
    env.extend_from_slice(provider_env);
    let (provider, issuer) = start_provider(
        CLIENT_ID,
        CLIENT_SECRET,
        &format!("{base}/callback/idp"),
        &env,
    )
    .await;
    let auth = Auth::builder(())
        .secret("oidc-refresh-test-secret-0123456789abcdef")
        .url(base.clone())
        .oauth_issuer("idp", issuer.clone())
        .oauth_client("idp", CLIENT_ID, CLIENT_SECRET)
        .oauth_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let app = axum::Router::new().nest("/api/auth", auth.router());
    let server = tokio::spawn(async move {
        let config = auth_runtime::axum::ServeConfig::default();
        auth_runtime::axum::serve_app(listener, app, config)
            .await
            .unwrap();
    });
    Setup {
        base,
        origin,
        issuer,
        _provider: provider,
        server,
    }
}

/// What the session says of the provider's tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Tokens {
    access_token: String,
    expires_at: i64,
    refresh_token: String,
    error: Option<String>,
}

fn tokens_of(session: &serde_json::Value) -> Tokens {
    let text = |name: &str| {
        session[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in the session: {session}"))
            .to_owned()
    };
    Tokens {
        access_token: text("accessToken"),
        expires_at: session["expiresAt"]
            .as_i64()
            .unwrap_or_else(|| panic!("no expiresAt in the session: {session}")),
        refresh_token: text("refreshToken"),
        error: session["error"].as_str().map(str::to_owned),
    }
}

/// Signs in at the provider as alice, asking for a refresh token (`offline_access` needs
/// `prompt=consent`), and returns the session's tokens.
async fn sign_in(browser: &mut Browser<Http>, setup: &Setup) -> Tokens {
    let callback_url = format!("{}/account", setup.origin);
    let started = browser
        .start_sign_in("idp", &[("callbackUrl", &callback_url)], "prompt=consent")
        .await;
    let url = started.json()["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{}/auth?", setup.issuer)), "{url}");
    assert!(url.contains("offline_access"), "{url}");
    let (visited, _) = browser.follow(&url).await;
    assert_eq!(visited.last().unwrap(), &callback_url, "{visited:#?}");
    let tokens = tokens_of(&read_session(browser, setup).await.0);
    assert_eq!(tokens.error, None);
    let lifetime = tokens.expires_at - now();
    assert!(
        (0..=ACCESS_TOKEN_TTL + 1).contains(&lifetime),
        "the access token lives {ACCESS_TOKEN_TTL} s: {tokens:?}"
    );
    tokens
}

/// `GET /api/auth/session`, which must answer 200 whatever happened to the refresh.
async fn read_session(browser: &mut Browser<Http>, setup: &Setup) -> (serde_json::Value, Reply) {
    let page = browser.get(&format!("{}/session", setup.base)).await;
    assert_eq!(page.status, 200, "{}", page.text());
    (page.json(), page)
}

/// Waits until the access token that expires at `expires_at` has expired.
async fn wait_until_expired(expires_at: i64) {
    while now() < expires_at {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the provider accepts `access_token` at its userinfo endpoint.
async fn userinfo_accepts(browser: &Browser<Http>, issuer: &str, access_token: &str) -> bool {
    let response = browser
        .server
        .http
        .get(format!("{issuer}/me"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("the provider answers");
    response.status().is_success()
}

/// Asserts that the log lines of this binary mention none of `secrets`.
fn assert_not_logged(secrets: &[&str]) {
    let logged = logs::global().text();
    for secret in secrets {
        assert!(
            !logged.contains(secret),
            "a token reached the logs: {logged}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_token_is_refreshed_and_the_rotated_refresh_token_kept() {
    if !node_or_skip("an_expired_access_token_is_refreshed_and_the_rotated_refresh_token_kept") {
        return;
    }
    logs::global();
    let setup = setup(&[("ROTATE_REFRESH_TOKENS", "1")]).await;
    let mut b = Browser::http(&setup.origin, None);
    let first = sign_in(&mut b, &setup).await;
    assert!(userinfo_accepts(&b, &setup.issuer, &first.access_token).await);

    // Before it expires, a session read leaves the access token alone.
    if now() + 1 < first.expires_at {
        let (session, _) = read_session(&mut b, &setup).await;
        assert_eq!(tokens_of(&session), first);
    }

    // Expired: the next session read refreshes it, and the session cookie is re-issued.
    wait_until_expired(first.expires_at).await;
    let (session, page) = read_session(&mut b, &setup).await;
    let second = tokens_of(&session);
    assert_eq!(second.error, None, "{session}");
    assert_ne!(second.access_token, first.access_token);
    assert!(second.expires_at > first.expires_at, "{second:?}");
    assert_ne!(
        second.refresh_token, first.refresh_token,
        "the provider rotates refresh tokens: the new one is kept"
    );
    assert!(
        page.set_cookies
            .iter()
            .any(|c| c.split('=').next().unwrap().contains(".session-token")),
        "the refreshed token is written back: {:?}",
        page.set_cookies
    );
    assert!(userinfo_accepts(&b, &setup.issuer, &second.access_token).await);

    // The rotated refresh token is the one kept: it refreshes again (the first one, now used,
    // would be refused and would revoke the grant).
    wait_until_expired(second.expires_at).await;
    let (session, _) = read_session(&mut b, &setup).await;
    let third = tokens_of(&session);
    assert_eq!(third.error, None, "{session}");
    assert_ne!(third.access_token, second.access_token);
    assert_ne!(third.refresh_token, second.refresh_token);
    assert!(userinfo_accepts(&b, &setup.issuer, &third.access_token).await);

    assert_not_logged(&[
        &first.access_token,
        &first.refresh_token,
        &second.access_token,
        &second.refresh_token,
        &third.access_token,
        &third.refresh_token,
        CLIENT_SECRET,
    ]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_refresh_token_gives_refresh_access_token_error() {
    if !node_or_skip("a_revoked_refresh_token_gives_refresh_access_token_error") {
        return;
    }
    logs::global();
    let setup = setup(&[("REVOCATION", "1")]).await;
    let mut b = Browser::http(&setup.origin, None);
    let first = sign_in(&mut b, &setup).await;

    // The provider revokes the refresh token (the user removed the app's access, say).
    let revoked = b
        .server
        .http
        .post(format!("{}/token/revocation", setup.issuer))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("token", first.refresh_token.as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert!(revoked.status().is_success(), "{:?}", revoked.status());

    // The next read after expiry cannot refresh: the session says so, and still answers 200
    // with the token as it was.
    wait_until_expired(first.expires_at).await;
    let (session, _) = read_session(&mut b, &setup).await;
    let after = tokens_of(&session);
    assert_eq!(
        after.error.as_deref(),
        Some("RefreshAccessTokenError"),
        "{session}"
    );
    assert_eq!(after.access_token, first.access_token);
    assert_eq!(after.refresh_token, first.refresh_token);
    assert!(session["user"].is_object(), "still a session: {session}");

    // Every later read tries again, fails again, and still answers 200.
    let (session, _) = read_session(&mut b, &setup).await;
    assert_eq!(session["error"], "RefreshAccessTokenError", "{session}");

    let logged = logs::global().text();
    assert!(
        logged.contains("the provider refused to refresh an access token")
            && logged.contains("invalid_grant"),
        "the refusal is logged: {logged}"
    );
    assert_not_logged(&[&first.access_token, &first.refresh_token, CLIENT_SECRET]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_out_refresh_token_used_again_gives_refresh_access_token_error() {
    if skip::only_for_token_sessions(
        "a_rotated_out_refresh_token_used_again_gives_refresh_access_token_error",
    ) {
        return;
    }
    if !node_or_skip("a_rotated_out_refresh_token_used_again_gives_refresh_access_token_error") {
        return;
    }
    logs::global();
    let setup = setup(&[("ROTATE_REFRESH_TOKENS", "1")]).await;
    let mut a = Browser::http(&setup.origin, None);
    let first = sign_in(&mut a, &setup).await;
    // A stale copy of the same session (a second tab's old cookie, a stolen cookie).
    let mut stale = Browser::http(&setup.origin, None);
    stale.jar = a.jar.clone();

    wait_until_expired(first.expires_at).await;
    let (session, _) = read_session(&mut a, &setup).await;
    let second = tokens_of(&session);
    assert_eq!(second.error, None, "{session}");
    assert_ne!(second.refresh_token, first.refresh_token);

    // The stale copy still holds the first refresh token, which the provider rotated out: it
    // is refused (and the provider revokes the whole grant, as reuse detection does).
    let (session, _) = read_session(&mut stale, &setup).await;
    assert_eq!(session["error"], "RefreshAccessTokenError", "{session}");
    assert_eq!(session["refreshToken"], first.refresh_token.as_str());

    // So the grant is gone for the fresh session too, once its access token expires.
    wait_until_expired(second.expires_at).await;
    let (session, _) = read_session(&mut a, &setup).await;
    assert_eq!(session["error"], "RefreshAccessTokenError", "{session}");
    assert_eq!(session["accessToken"], second.access_token.as_str());

    assert_not_logged(&[
        &first.access_token,
        &first.refresh_token,
        &second.access_token,
        &second.refresh_token,
        CLIENT_SECRET,
    ]);
}
