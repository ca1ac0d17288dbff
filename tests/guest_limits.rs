//! Guest creation limits written in `next_auth!` replace the store's own defaults.

use std::sync::Arc;

use auth_runtime::guests::{GuestStore, SqliteGuestStore};
use auth_runtime::{ClientAddr, next_auth};
use bytes::Bytes;
use http::{Request, StatusCode};

next_auth! {
    // Two guests per client at once, then one per half hour; the store alone would allow 30.
    guest_limit_per_hour: 2,
    guest_limit_burst: 2,
    providers: [Anonymous {}],
}

async fn send(auth: &Auth, request: Request<Bytes>) -> (StatusCode, http::HeaderMap, String) {
    let response = auth.handle(request).await;
    let (parts, body) = response.into_parts();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// A fresh browser at `addr` asking for a guest: GET csrf, then POST callback/anon.
async fn guest_sign_in(auth: &Auth, addr: &str) -> (StatusCode, http::HeaderMap, String) {
    let peer = ClientAddr(addr.parse().unwrap());
    let mut csrf = Request::get("/api/auth/csrf").body(Bytes::new()).unwrap();
    csrf.extensions_mut().insert(peer);
    let (_, headers, body) = send(auth, csrf).await;
    let token = serde_json::from_str::<serde_json::Value>(&body).unwrap()["csrfToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let cookie = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ");
    let mut callback = Request::post("/api/auth/callback/anon")
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from(format!("csrfToken={token}&json=true")))
        .unwrap();
    callback.extensions_mut().insert(peer);
    send(auth, callback).await
}

#[tokio::test]
async fn limits_written_in_the_macro_apply() {
    let dir = std::env::temp_dir().join(format!("auth-guest-limits-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Arc::new(SqliteGuestStore::open(dir.join("guests.db")).await.unwrap());
    let auth = Auth::builder(())
        .secret("guest-limits-test-secret-0123456789abcdef")
        .url("http://127.0.0.1:3000/api/auth")
        .guests(store.clone() as Arc<dyn GuestStore>)
        .build()
        .unwrap();

    for _ in 0..2 {
        let (status, _, body) = guest_sign_in(&auth, "203.0.113.7:40000").await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, headers, body) = guest_sign_in(&auth, "203.0.113.7:40001").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body.contains("error=RateLimited"), "{body}");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=1800).contains(&retry_after), "{retry_after}");

    // Another client is counted apart.
    let (status, _, _) = guest_sign_in(&auth, "198.51.100.9:40000").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(store.stats().await.unwrap().guests, 3);
    let _ = std::fs::remove_dir_all(&dir);
}
