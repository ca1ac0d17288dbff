//! The per-request paths, in-process: token codec, cookie parsing and chunk reassembly, the CSRF
//! check, the whole `GET /session` and `POST /callback/anon` handlers, and `GET /session` through
//! an axum router. Two baselines are measured in the same run: `bare_jwt_decode`, a plain
//! `jsonwebtoken` HS256 verification (all a minimal server does per session read), and
//! `bare_axum_session_router`, that verification behind an axum route answering a small JSON.
//!
//! `cargo bench -p auth-runtime --bench hot_paths`

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use auth_runtime::cookies::RequestCookies;
use auth_runtime::{TokenClaims, TokenFormat, User, next_auth};
use axum::body::Body;
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use tower::ServiceExt;

next_auth! {
    pub struct Token { third_party_token: Option<String> }
    pub struct Session { is_logged_in: bool }
    providers: [
        Credentials {
            id: "anon",
            name: "Anonymous",
            credentials: {},
            authorize: |_credentials| Ok(Some(User::with_id("guest-1"))),
        },
    ],
    jwt: |token, event| match event {
        JwtEvent::SignIn { .. } => Ok(Token { third_party_token: Some("anon-token".into()), ..token }),
        _ => Ok(token),
    },
    session: |session, token| Session { is_logged_in: token.sub.is_some(), ..session },
}

const SECRET: &str = "benchmark-secret-0123456789abcdef0123456789";

/// The handlers only await the callbacks, which are ready at once here.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn hot_paths(c: &mut Criterion) {
    let auth = Auth::builder(())
        .secret(SECRET)
        .url("http://127.0.0.1:3000/api/auth")
        .build()
        .unwrap();
    let mut token = Token::from_user(&User::with_id("guest-1"));
    token.third_party_token = Some("anon-token".into());
    let jwt = block_on(auth.encode_session_token(&mut token, now())).unwrap();
    let csrf = {
        let response =
            block_on(auth.handle(Request::get("/api/auth/csrf").body(Bytes::new()).unwrap()));
        let cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        (cookie, body["csrfToken"].as_str().unwrap().to_owned())
    };
    let cookie = format!(
        "{}; next-auth.callback-url=http%3A%2F%2F127.0.0.1%3A3000; next-auth.session-token={jwt}",
        csrf.0
    );

    // Baseline: what a bare axum + jsonwebtoken server does per session read.
    let bare_key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    let bare_token =
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &token, &bare_key).unwrap();
    let bare_decoding = jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes());
    let validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    c.bench_function("bare_jwt_decode", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<Token>(black_box(&bare_token), &bare_decoding, &validation)
                .unwrap()
        })
    });

    c.bench_function("token_encode", |b| {
        b.iter(|| {
            block_on(auth.encode_session_token(black_box(&mut token.clone()), 1_800_000_000))
                .unwrap()
        })
    });
    let mut headers = http::HeaderMap::new();
    headers.insert("cookie", cookie.parse().unwrap());
    c.bench_function("token_decode_from_cookies", |b| {
        b.iter(|| block_on(auth.token(black_box(&headers))).unwrap())
    });
    c.bench_function("cookie_parse_and_join_chunks", |b| {
        b.iter(|| {
            let cookies = RequestCookies::parse([black_box(cookie.as_str())]).unwrap();
            cookies.chunked("next-auth.session-token").unwrap().len()
        })
    });
    // A token too large for one cookie arrives as `.0`, `.1`: reassembled before verification.
    let (first, second) = jwt.split_at(jwt.len() / 2);
    let chunked_cookie = format!(
        "{}; next-auth.session-token.1={second}; next-auth.session-token.0={first}",
        csrf.0
    );
    c.bench_function("cookie_parse_and_join_two_chunks", |b| {
        b.iter(|| {
            let cookies = RequestCookies::parse([black_box(chunked_cookie.as_str())]).unwrap();
            cookies.chunked("next-auth.session-token").unwrap().len()
        })
    });

    // The CSRF check: `GET /csrf` with a valid cookie verifies its hash and answers its token.
    let csrf_cookies = format!(
        "{}; next-auth.callback-url=http%3A%2F%2F127.0.0.1%3A3000",
        csrf.0
    );
    c.bench_function("csrf_endpoint_verifies_cookie", |b| {
        b.iter(|| {
            let request = Request::get("/api/auth/csrf")
                .header("cookie", &csrf_cookies)
                .body(Bytes::new())
                .unwrap();
            let response = block_on(auth.handle(request));
            assert!(response.headers().get("set-cookie").is_none());
            response
        })
    });
    c.bench_function("csrf_endpoint_new_token", |b| {
        b.iter(|| {
            let request = Request::get("/api/auth/csrf").body(Bytes::new()).unwrap();
            block_on(auth.handle(request))
        })
    });

    c.bench_function("get_session_handler", |b| {
        b.iter(|| {
            let request = Request::get("/api/auth/session")
                .header("cookie", &cookie)
                .body(Bytes::new())
                .unwrap();
            let response = block_on(auth.handle(request));
            assert_eq!(response.status(), 200);
            response
        })
    });

    // `GET /session` in each token format, same run (the default one is `get_session_handler`).
    for format in TokenFormat::ALL {
        let auth = Auth::builder(())
            .secret(SECRET)
            .url("http://127.0.0.1:3000/api/auth")
            .token_format(format)
            .build()
            .unwrap();
        let mut token = token.clone();
        let jwt = block_on(auth.encode_session_token(&mut token, now())).unwrap();
        let name = &auth.settings().cookie_names().session_token;
        let cookie = format!("{}; {name}={jwt}", csrf.0);
        c.bench_function(&format!("get_session_handler_{format}"), |b| {
            b.iter(|| {
                let request = Request::get("/api/auth/session")
                    .header("cookie", &cookie)
                    .body(Bytes::new())
                    .unwrap();
                let response = block_on(auth.handle(request));
                assert_eq!(response.status(), 200);
                response
            })
        });
    }

    // The same read as an application serves it: the auth router nested in an axum app, against
    // the bare server's route (find the cookie, verify HS256, answer a small JSON).
    let app: axum::Router = axum::Router::new().nest("/api/auth", auth.router());
    c.bench_function("get_session_router", |b| {
        b.iter(|| {
            let request = Request::get("/api/auth/session")
                .header("cookie", &cookie)
                .body(Body::empty())
                .unwrap();
            let response = block_on(app.clone().oneshot(request)).unwrap();
            assert_eq!(response.status(), 200);
            response
        })
    });
    let bare_state = std::sync::Arc::new((bare_decoding.clone(), validation.clone()));
    let bare_app: axum::Router = axum::Router::new()
        .route("/api/auth/session", axum::routing::get(bare_session))
        .with_state(bare_state);
    let bare_cookie = format!("next-auth.session-token={bare_token}");
    c.bench_function("bare_axum_session_router", |b| {
        b.iter(|| {
            let request = Request::get("/api/auth/session")
                .header("cookie", &bare_cookie)
                .body(Body::empty())
                .unwrap();
            let response = block_on(bare_app.clone().oneshot(request)).unwrap();
            assert_eq!(response.status(), 200);
            response
        })
    });

    let form = Bytes::from(format!(
        "redirect=false&callbackUrl=http%3A%2F%2F127.0.0.1%3A3000%2F&csrfToken={}&json=true",
        csrf.1
    ));
    c.bench_function("credentials_callback_handler", |b| {
        b.iter(|| {
            let request = Request::post("/api/auth/callback/anon")
                .header("cookie", &csrf.0)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.clone())
                .unwrap();
            let response = block_on(auth.handle(request));
            assert_eq!(response.status(), 200);
            response
        })
    });
}

type BareState = std::sync::Arc<(jsonwebtoken::DecodingKey, jsonwebtoken::Validation)>;

/// What a minimal server does for a session read: the cookie, an HS256 verification, a JSON.
async fn bare_session(
    axum::extract::State(state): axum::extract::State<BareState>,
    headers: http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let token = headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("next-auth.session-token="));
    let json = [(http::header::CONTENT_TYPE, "application/json")];
    let Some(claims) =
        token.and_then(|t| jsonwebtoken::decode::<Token>(t, &state.0, &state.1).ok())
    else {
        return (json, "null").into_response();
    };
    let body = serde_json::json!({
        "user": { "id": claims.claims.sub },
        "expires": "2026-12-27T00:00:00.000Z",
        "isLoggedIn": true,
    });
    (json, serde_json::to_vec(&body).unwrap()).into_response()
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
