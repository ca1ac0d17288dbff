//! The axum integration: the nested router, the body limit, and the session extractors, through
//! the anonymous example's own `app()`.

#[allow(dead_code)]
#[path = "../examples/anonymous.rs"]
mod anonymous;

use auth_runtime::guests::{GuestConfig, SqliteGuestStore};
use axum::body::Body;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn app() -> axum::Router {
    let options = sqlx::sqlite::SqliteConnectOptions::new().in_memory(true);
    // One connection: every connection to `:memory:` is a database of its own.
    let guests = sqlx::pool::PoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    let guests = SqliteGuestStore::with_config(guests, GuestConfig::default())
        .await
        .unwrap();
    let auth = anonymous::Auth::builder(anonymous::AppState {
        guests: std::sync::Arc::new(guests),
    })
    .secret("axum-glue-test-secret-0123456789abcdef")
    .url("http://127.0.0.1:3000/api/auth")
    .build()
    .unwrap();
    anonymous::app(auth)
}

async fn send(app: &axum::Router, request: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    // As `serve_app` serves it: the connection's address in every request.
    let mut request = request;
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
            [127, 0, 0, 1],
            40000,
        ))));
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn cookies_of(headers: &http::HeaderMap) -> String {
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn a_guest_signs_in_through_the_nested_router_and_reaches_a_protected_handler() {
    let app = app().await;
    let (status, _, body) = send(&app, Request::get("/api/me").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("SessionRequired"));

    let (status, headers, body) = send(
        &app,
        Request::get("/api/auth/csrf").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let csrf: serde_json::Value = serde_json::from_str(&body).unwrap();
    let csrf = csrf["csrfToken"].as_str().unwrap().to_owned();
    let jar = cookies_of(&headers);

    let form = format!("redirect=false&csrfToken={csrf}&callbackUrl=%2F&json=true");
    let request = Request::post("/api/auth/callback/anon")
        .header("cookie", &jar)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    let (status, headers, body) = send(&app, request).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, r#"{"url":"http://127.0.0.1:3000/"}"#)
    );
    let session = cookies_of(&headers);
    // `next-auth.*`, or Auth.js v5's `authjs.*` under AUTH_TOKEN_FORMAT=authjs-v5.
    assert!(session.contains(".session-token="), "{session}");

    let request = Request::get("/api/me")
        .header("cookie", &session)
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = send(&app, request).await;
    assert_eq!(status, StatusCode::OK);
    let me: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(me["isLoggedIn"], false);
    assert_eq!(me["guestId"].as_str().unwrap().len(), 32);
}

#[tokio::test]
async fn oversized_bodies_are_413_json_before_they_are_buffered() {
    let app = app().await;
    let request = Request::post("/api/auth/callback/anon")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(vec![b'a'; 1024 * 1024]))
        .unwrap();
    let (status, headers, body) = send(&app, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(headers.get("content-type").unwrap(), "application/json");
    assert!(body.contains("error=BadRequest"), "{body}");
}

#[tokio::test]
async fn the_page_and_the_api_live_side_by_side() {
    let app = app().await;
    let (status, _, body) = send(&app, Request::get("/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("/callback/anon"));
    let (status, _, body) = send(
        &app,
        Request::get("/api/auth/providers")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#""signinUrl":"http://127.0.0.1:3000/api/auth/signin/anon""#));
    let (status, _, _) = send(
        &app,
        Request::get("/api/auth/unknown")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
