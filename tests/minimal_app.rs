//! The README's first example (`examples/minimal.rs`) does what it says: its API route answers
//! 401 JSON without a session, its page route sends the browser to the sign-in page with a
//! `callbackUrl` back, and both answer once the visitor signed in with the password.

#[path = "../examples/minimal.rs"]
#[allow(dead_code)]
mod minimal;

use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn cookies(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .filter(|pair| !pair.ends_with('='))
        .collect()
}

async fn signed_in(app: &axum::Router, password: &str) -> String {
    let (_, headers, body) = send(
        app,
        Request::get("/api/auth/csrf").body(Body::empty()).unwrap(),
    )
    .await;
    let csrf: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut jar = cookies(&headers);
    let form = format!(
        "username=ada&password={password}&csrfToken={}&json=true",
        csrf["csrfToken"].as_str().unwrap()
    );
    let request = Request::post("/api/auth/callback/password")
        .header("cookie", jar.join("; "))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let (_, headers, _) = send(app, request).await;
    jar.extend(cookies(&headers));
    jar.join("; ")
}

#[tokio::test]
async fn protected_routes_answer_401_redirect_then_open_after_sign_in() {
    let auth = minimal::Auth::builder(())
        .secret("minimal-app-test-secret-0123456789abcdef")
        .url("http://localhost:3000/api/auth")
        .build()
        .unwrap();
    let app = minimal::app(auth);
    let get = |path: &str, cookie: &str| {
        let mut request = Request::get(path);
        if !cookie.is_empty() {
            request = request.header("cookie", cookie);
        }
        request.body(Body::empty()).unwrap()
    };

    let (status, headers, body) = send(&app, get("/api/me", "")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "SessionRequired");

    let (status, headers, _) = send(&app, get("/account?tab=orders", "")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers["location"],
        "http://localhost:3000/api/auth/signin?callbackUrl=http%3A%2F%2Flocalhost%3A3000%2Faccount%3Ftab%3Dorders"
    );

    let wrong = signed_in(&app, "guess").await;
    assert_eq!(
        send(&app, get("/api/me", &wrong)).await.0,
        StatusCode::UNAUTHORIZED
    );

    let cookie = signed_in(&app, "demo").await;
    let (status, _, body) = send(&app, get("/api/me", &cookie)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "signed in"));
    let (status, _, body) = send(&app, get("/account", &cookie)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "your account"));
}
