//! Rotating the secret while sessions are live signs nobody out: tokens and CSRF cookies minted
//! under the old secret are accepted while it is listed, and re-issued under the new one.

#[path = "support/browser.rs"]
mod browser;
#[path = "support/skip.rs"]
mod skip;

use std::sync::atomic::{AtomicU32, Ordering};

use auth_runtime::{User, next_auth};
use browser::{Browser, wire};

pub struct Guests(AtomicU32);

next_auth! {
    state: Guests,
    providers: [
        Credentials {
            id: "anon",
            name: "Anonymous",
            credentials: {},
            authorize: |_credentials, guests| {
                let n = guests.0.fetch_add(1, Ordering::Relaxed);
                Ok(Some(User::with_id(format!("guest-{n}"))))
            },
        },
    ],
    session: |session, token| Session { user_id: token.sub.clone(), ..session },
    pub struct Session { user_id: Option<String> }
}

const OLD: &str = "the-old-secret-0123456789abcdef";
const NEW: &str = "the-new-secret-0123456789abcdef";
const URL: &str = "http://127.0.0.1:3000/api/auth";
const SESSION: &str = "next-auth.session-token";
const CSRF: &str = "next-auth.csrf-token";

fn auth(secrets: &[&str]) -> Auth {
    Auth::builder(Guests(AtomicU32::new(0)))
        .secrets(secrets.iter().copied())
        .url(URL)
        .build()
        .unwrap()
}

/// Moves a browser's cookies to another server (a deploy with new settings).
fn moved(client: Browser<Auth>, to: &Auth) -> Browser<Auth> {
    Browser {
        server: to.clone(),
        ..client
    }
}

#[tokio::test]
async fn rotating_the_secret_signs_nobody_out() {
    if skip::only_for_token_sessions("rotating_the_secret_signs_nobody_out") {
        return;
    }
    let before = auth(&[OLD]);
    let mut browsers = Vec::new();
    for _ in 0..20 {
        let mut client = Browser::engine(before.clone());
        assert!(client.sign_in("anon", &[]).await.status.is_success());
        let id = client.session().await["userId"]
            .as_str()
            .unwrap()
            .to_owned();
        browsers.push((client, id));
    }

    // Deploy 1: the new secret signs, the old one still verifies.
    let during = auth(&[NEW, OLD]);
    let after = auth(&[NEW]);
    for (client, id) in std::mem::take(&mut browsers) {
        let old_token = client.jar[SESSION].clone();
        let mut client = moved(client, &during);
        let reply = client.get("/api/auth/session").await;
        assert_eq!(
            reply.json()["userId"],
            id.as_str(),
            "signed out by the rotation"
        );
        let renewed = reply
            .cookie(SESSION)
            .expect("re-issued under the new secret");
        assert!(!renewed.contains("Max-Age=0"));
        assert_ne!(client.jar[SESSION], old_token);
        // The re-issued token is the new secret's alone.
        let mut only_new = moved(client, &after);
        assert_eq!(only_new.session().await["userId"], id.as_str());
        browsers.push((only_new, id));
    }

    // A token still under the old secret is refused once the old secret is dropped.
    let mut stale = Browser::engine(before.clone());
    stale.sign_in("anon", &[]).await;
    let mut stale = moved(stale, &after);
    assert_eq!(stale.session().await, wire::no_session());
}

#[tokio::test]
async fn a_csrf_cookie_of_the_old_secret_still_verifies_and_is_re_minted() {
    let before = auth(&[OLD]);
    let mut client = Browser::engine(before.clone());
    let csrf = client.csrf().await;
    let old_cookie = client.jar[CSRF].clone();

    // The form the browser holds (csrfToken) was minted before the rotation.
    let mut client = moved(client, &auth(&[NEW, OLD]));
    let reply = client
        .post_form(
            "/api/auth/callback/anon",
            &[("csrfToken", &csrf), ("json", "true")],
        )
        .await;
    assert!(reply.status.is_success(), "{}", reply.text());
    assert!(!reply.url().contains("csrf=true"), "{}", reply.url());
    assert!(reply.cookie(SESSION).is_some());
    let re_minted = reply.cookie(CSRF).expect("CSRF cookie re-minted");
    assert!(re_minted.starts_with(&format!("{CSRF}={csrf}%7C")));
    assert_ne!(client.jar[CSRF], old_cookie);

    // The re-minted cookie verifies under the new secret alone, with the same token.
    let mut client = moved(client, &auth(&[NEW]));
    assert_eq!(client.csrf().await, csrf);
}

#[test]
fn secrets_are_validated() {
    let build = |secrets: Vec<&str>| {
        Auth::builder(Guests(AtomicU32::new(0)))
            .secrets(secrets)
            .url(URL)
            .build()
    };
    assert!(build(vec![]).is_err());
    assert!(build(vec![NEW, "short"]).is_err());
    assert!(build(vec![NEW; 9]).is_err());
    assert_eq!(build(vec![NEW, OLD]).unwrap().settings().secret_count(), 2);
}
