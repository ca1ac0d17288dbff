//! The per-request paths, in-process: token codec, cookie parsing, the whole `GET /session` and
//! `POST /callback/anon` handlers. `bare_jwt_decode` is the baseline measured in the same run: a
//! plain `jsonwebtoken` HS256 verification, all a minimal server does per session read.
//!
//! `cargo bench -p auth-runtime --bench hot_paths`

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use auth_runtime::cookies::RequestCookies;
use auth_runtime::{TokenClaims, User, next_auth};
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;

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
    let jwt = auth.encode_session_token(&mut token, now()).unwrap();
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
            auth.encode_session_token(black_box(&mut token.clone()), 1_800_000_000)
                .unwrap()
        })
    });
    let mut headers = http::HeaderMap::new();
    headers.insert("cookie", cookie.parse().unwrap());
    c.bench_function("token_decode_from_cookies", |b| {
        b.iter(|| auth.token(black_box(&headers)).unwrap())
    });
    c.bench_function("cookie_parse_and_join_chunks", |b| {
        b.iter(|| {
            let cookies = RequestCookies::parse([black_box(cookie.as_str())]).unwrap();
            cookies.chunked("next-auth.session-token").unwrap().len()
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

criterion_group!(benches, hot_paths);
criterion_main!(benches);
