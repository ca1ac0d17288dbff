//! `examples/magic_link.rs` through its axum router: a guest fills a cart, asks for a sign-in
//! link, follows it, and the cart is the member's; the session is a database row; a second
//! guest's cart merges into the same user at the next link. (The mail itself, over a real SMTP
//! server, is in `email_sign_in.rs`; here the app's `send_verification_request` keeps the links.)

#[path = "support/browser.rs"]
mod browser;
#[path = "../examples/magic_link.rs"]
#[allow(dead_code)]
mod magic;

use std::sync::{Arc, Mutex};

use auth_runtime::guests::{GuestConfig, Limits, SqliteGuestStore};
use auth_runtime::providers::email::{SendError, VerificationRequest};
use axum::Router;
use browser::Browser;
use http::StatusCode;
use serde_json::json;

/// The shop's own calls, as its pages make them.
impl Browser<Router> {
    async fn add(&mut self, product: &str) {
        let line = json!({ "product": product, "qty": 1 });
        let answer = self.post_json("/api/cart", &line).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    }

    /// Asks for a link to `email` and follows it.
    async fn sign_in_by_link(&mut self, email: &str, outbox: &Mutex<Vec<VerificationRequest>>) {
        let answer = self
            .start_sign_in("email", &[("email", email)], "")
            .await
            .body;
        assert!(
            answer["url"].as_str().unwrap().contains("verify-request"),
            "{answer}"
        );
        let link = outbox.lock().unwrap().pop().expect("a link").url;
        let path = &link[link.find("/api/").unwrap()..];
        let followed = self.get(path).await;
        assert_eq!(followed.status, StatusCode::FOUND);
        assert_eq!(followed.location(), Some("http://127.0.0.1:3000/"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_keeps_the_cart_when_signing_in_by_email() {
    let dir = std::env::temp_dir().join(format!("magic-link-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = GuestConfig::default().limits(Limits::unlimited());
    let store = Arc::new(
        SqliteGuestStore::open_with(dir.join("shop.db"), config)
            .await
            .unwrap(),
    );
    magic::shop::migrate(&store.clone().into()).await.unwrap();
    let outbox = Arc::new(Mutex::new(Vec::new()));
    let sent = outbox.clone();
    let auth = magic::shop::auth_builder::<magic::NextAuth>(store.clone())
        .secret("magic-link-test-secret-0123456789abcdef")
        .url("http://127.0.0.1:3000/api/auth")
        .send_verification_request(move |request: VerificationRequest| {
            let sent = sent.clone();
            async move {
                sent.lock().unwrap().push(request);
                Ok::<(), SendError>(())
            }
        })
        .build()
        .unwrap();
    let app = magic::shop::app(auth);

    let mut first = Browser::app(&app);
    first.sign_in("anon", &[]).await;
    assert_eq!(first.get("/api/auth/session").await.body["isGuest"], true);
    first.add("tea").await;
    first.add("mug").await;
    first.sign_in_by_link("kim@shop.example", &outbox).await;
    let session = first.get("/api/auth/session").await.body;
    assert_eq!(session["isGuest"], false, "{session}");
    assert_eq!(session["user"]["email"], "kim@shop.example");
    assert_eq!(
        first.get("/api/cart").await.body["items"],
        json!({ "tea": 1, "mug": 1 })
    );

    // Another browser's guest signs in as kim too: its cart merges into kim's.
    let mut second = Browser::app(&app);
    second.sign_in("anon", &[]).await;
    second.add("tea").await;
    second.sign_in_by_link("KIM@shop.example", &outbox).await;
    assert_eq!(
        second.get("/api/cart").await.body["items"],
        json!({ "tea": 2, "mug": 1 })
    );

    // Database sessions: two rows of kim's, and the device list shows them.
    let devices = first.get("/api/devices").await.body;
    assert_eq!(
        devices["devices"].as_array().map(Vec::len),
        Some(2),
        "{devices}"
    );
    store.close().await;
}
