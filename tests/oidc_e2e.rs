//! End to end against a real OpenID provider: npm `oidc-provider` (tests/oidc/server.mjs) on
//! 127.0.0.1, the `third_party_token` example in this process, a browser that follows every
//! redirect with one cookie jar, and then the real `next-auth/react` client's `signIn('user')`
//! (tests/js/oauth.test.mjs).
//!
//! Needs Node and npm. Without them the test says it is skipped, except under `CI=true`, where a
//! missing Node is a failure. `node_modules` are installed with `npm ci` when missing.

#[path = "support/oidc_provider.rs"]
mod oidc_provider;
#[path = "support/skip.rs"]
mod skip;

#[allow(dead_code)]
#[path = "../examples/third_party_token.rs"]
mod example;

#[path = "support/browser.rs"]
mod browser;

use std::time::{Duration, Instant};

use browser::{Browser, Http};
use oidc_provider::{bind_app, dir, ensure_node_modules, node_or_skip};

const CLIENT_ID: &str = "third-party-token-example";
const CLIENT_SECRET: &str = "e2e-client-secret-0123456789abcdef";

async fn me(browser: &mut Browser<Http>, origin: &str) -> serde_json::Value {
    browser.get(&format!("{origin}/api/me")).await.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_signs_in_at_a_real_openid_provider() {
    if !node_or_skip("the OpenID end-to-end test") {
        return;
    }
    ensure_node_modules("oidc", "oidc-provider/package.json");
    ensure_node_modules("js", "next-auth/package.json");
    let started_at = Instant::now();

    let (listener, origin) = bind_app().await;
    let base = format!("{origin}/api/auth");
    let redirect = format!("{base}/callback/user");
    let (_provider, issuer) =
        oidc_provider::start_provider(CLIENT_ID, CLIENT_SECRET, &redirect, &[]).await;
    let auth = example::Auth::builder(())
        .secret("oidc-e2e-test-secret-0123456789abcdef")
        .url(base.clone())
        .oauth_issuer("user", issuer.clone())
        .oauth_client("user", CLIENT_ID, CLIENT_SECRET)
        .oauth_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let server = tokio::spawn(async move {
        let config = auth_runtime::axum::ServeConfig::default();
        auth_runtime::axum::serve_app(listener, example::app(auth), config)
            .await
            .unwrap();
    });

    // GET /providers reports the OpenID provider as `oauth`, which makes the client navigate.
    let mut b = Browser::http(&origin, None);
    let providers = b.get(&format!("{base}/providers")).await.json();
    assert_eq!(providers["user"]["type"], "oauth");
    assert_eq!(providers["user"]["name"], "Logged In Users");
    assert_eq!(providers["anon"]["type"], "credentials");

    // A guest with an anonymous third-party token.
    let reply = b
        .sign_in("anon", &[("callbackUrl", &format!("{origin}/"))])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let guest = me(&mut b, &origin).await;
    assert_eq!(guest["isLoggedIn"], false, "{guest}");
    assert_eq!(guest["sub"], serde_json::Value::Null);
    let guest_token = guest["thirdPartyToken"].as_str().unwrap().to_owned();
    assert!(guest_token.starts_with("anon-"), "{guest}");

    // The user denies consent at the provider: AccessDenied, and still the same guest.
    let guest_cookies = b.session_cookies();
    let started = b
        .start_sign_in(
            "user",
            &[("callbackUrl", &format!("{origin}/account"))],
            "login_hint=deny",
        )
        .await;
    let url = started.json()["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with(&format!("{issuer}/auth?")), "{url}");
    let (visited, _) = b.follow(&url).await;
    assert!(
        visited
            .iter()
            .any(|u| u.starts_with(&format!("{base}/callback/user?error=access_denied"))),
        "{visited:#?}"
    );
    assert_eq!(
        visited.last().unwrap(),
        &format!("{base}/error?error=AccessDenied"),
        "{visited:#?}"
    );
    assert_eq!(b.session_cookies(), guest_cookies);
    assert_eq!(me(&mut b, &origin).await, guest);

    // Signing in for real: the provider's redirects end at the callback URL, logged in.
    let started = b
        .start_sign_in("user", &[("callbackUrl", &format!("{origin}/account"))], "")
        .await;
    let url = started.json()["url"].as_str().unwrap().to_owned();
    let (visited, _) = b.follow(&url).await;
    assert!(
        visited
            .iter()
            .any(|u| u.starts_with(&format!("{base}/callback/user?code="))),
        "{visited:#?}"
    );
    assert_eq!(visited.last().unwrap(), &format!("{origin}/account"));
    let session = b.get(&format!("{base}/session")).await.json();
    assert_eq!(session["isLoggedIn"], true, "{session}");
    assert_eq!(session["user"]["name"], "Alice Example");
    assert_eq!(session["user"]["email"], "alice@example.com");
    let user = me(&mut b, &origin).await;
    assert_eq!(user["sub"], "alice", "the provider's sub: {user}");
    assert_eq!(user["isLoggedIn"], true);
    assert_eq!(
        user["guestToken"],
        guest_token.as_str(),
        "the guest's token reached the jwt callback"
    );
    let logged_in = user["thirdPartyToken"].as_str().unwrap();
    assert!(
        logged_in.starts_with("user-alice-") && logged_in.ends_with("-merged"),
        "{user}"
    );
    assert!(
        !b.jar.keys().any(|k| k.starts_with("next-auth.state")
            || k.starts_with("next-auth.pkce")
            || k.starts_with("next-auth.nonce")),
        "the check cookies are cleared after use: {:?}",
        b.jar.keys()
    );

    // The real next-auth/react client: signIn('user') navigates; the test follows.
    let output = tokio::process::Command::new("node")
        .args([
            "--test",
            "--test-concurrency=1",
            "--test-reporter=spec",
            "oauth.test.mjs",
        ])
        .current_dir(dir("js"))
        .env("AUTH_ORIGIN", &origin)
        .env("AUTH_OAUTH_PROVIDER", "user")
        .env_remove("NEXTAUTH_URL")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("the client test finishes within 120 s")
        .expect("node runs");
    server.abort();
    let out = String::from_utf8_lossy(&output.stdout);
    println!("{out}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "tests/js/oauth.test.mjs failed; its output is above"
    );
    assert!(
        out.contains("ℹ pass 1") && out.contains("ℹ fail 0"),
        "the client test did not run"
    );
    eprintln!("OpenID end to end: {:?}", started_at.elapsed());
}
