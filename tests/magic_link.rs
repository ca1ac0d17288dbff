//! `examples/magic_link.rs` through its axum router: a guest fills a cart, asks for a sign-in
//! link, follows it, and the cart is the member's; the session is a database row; a second
//! guest's cart merges into the same user at the next link. (The mail itself, over a real SMTP
//! server, is in `email_sign_in.rs`; here the app's `send_verification_request` keeps the links.)

#[path = "../examples/magic_link.rs"]
#[allow(dead_code)]
mod magic;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use auth_runtime::guests::{GuestConfig, Limits, SqliteGuestStore};
use auth_runtime::providers::email::{SendError, VerificationRequest};
use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Browser {
    app: Router,
    jar: BTreeMap<String, String>,
}

impl Browser {
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        content_type: &str,
        body: String,
    ) -> (StatusCode, Option<String>, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if !self.jar.is_empty() {
            let cookies: Vec<String> = self.jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", cookies.join("; "));
        }
        if !content_type.is_empty() {
            request = request.header("content-type", content_type);
        }
        let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 40002));
        let request = request
            .extension(axum::extract::ConnectInfo(peer))
            .body(Body::from(body))
            .unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        for line in response.headers().get_all("set-cookie") {
            let line = line.to_str().unwrap();
            let (name, rest) = line.split_once('=').unwrap();
            let value = rest.split(';').next().unwrap();
            if value.is_empty() || line.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            location,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn get(&mut self, path: &str) -> Value {
        self.send(Method::GET, path, "", String::new()).await.2
    }

    async fn form(&mut self, path: &str, fields: &[(&str, &str)]) -> Value {
        let csrf = self.get("/api/auth/csrf").await["csrfToken"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut form = form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            form.append_pair(k, v);
        }
        form.append_pair("csrfToken", &csrf)
            .append_pair("json", "true")
            .append_pair("callbackUrl", "http://127.0.0.1:3000/");
        let body = form.finish();
        self.send(
            Method::POST,
            path,
            "application/x-www-form-urlencoded",
            body,
        )
        .await
        .2
    }

    async fn add(&mut self, product: &str) {
        let body = json!({ "product": product, "qty": 1 }).to_string();
        let (status, _, answer) = self
            .send(Method::POST, "/api/cart", "application/json", body)
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }

    /// Asks for a link to `email` and follows it.
    async fn sign_in_by_link(&mut self, email: &str, outbox: &Mutex<Vec<VerificationRequest>>) {
        let answer = self
            .form("/api/auth/signin/email", &[("email", email)])
            .await;
        assert!(
            answer["url"].as_str().unwrap().contains("verify-request"),
            "{answer}"
        );
        let link = outbox.lock().unwrap().pop().expect("a link").url;
        let path = &link[link.find("/api/").unwrap()..];
        let (status, location, _) = self.send(Method::GET, path, "", String::new()).await;
        assert_eq!(status, StatusCode::FOUND);
        assert_eq!(location.as_deref(), Some("http://127.0.0.1:3000/"));
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

    let mut first = Browser {
        app: app.clone(),
        jar: BTreeMap::new(),
    };
    first.form("/api/auth/callback/anon", &[]).await;
    assert_eq!(first.get("/api/auth/session").await["isGuest"], true);
    first.add("tea").await;
    first.add("mug").await;
    first.sign_in_by_link("kim@shop.example", &outbox).await;
    let session = first.get("/api/auth/session").await;
    assert_eq!(session["isGuest"], false, "{session}");
    assert_eq!(session["user"]["email"], "kim@shop.example");
    assert_eq!(
        first.get("/api/cart").await["items"],
        json!({ "tea": 1, "mug": 1 })
    );

    // Another browser's guest signs in as kim too: its cart merges into kim's.
    let mut second = Browser {
        app: app.clone(),
        jar: BTreeMap::new(),
    };
    second.form("/api/auth/callback/anon", &[]).await;
    second.add("tea").await;
    second.sign_in_by_link("KIM@shop.example", &outbox).await;
    assert_eq!(
        second.get("/api/cart").await["items"],
        json!({ "tea": 2, "mug": 1 })
    );

    // Database sessions: two rows of kim's, and the device list shows them.
    let devices = first.get("/api/devices").await;
    assert_eq!(
        devices["devices"].as_array().map(Vec::len),
        Some(2),
        "{devices}"
    );
    store.close().await;
}
