//! `events`: each fires after the fact, once, with what happened; a handler that fails is logged
//! and changes no response; and an app without `events` builds none (the engine checks
//! `HANDLES_EVENTS` first). The real client's view of a guest's events is in
//! `client_js_guests.rs`.

#[path = "support/browser.rs"]
mod browser;
#[path = "support/logs.rs"]
mod logs;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;

use auth_runtime::{CallbackError, User, next_auth};
use browser::wire;
use reqwest::StatusCode;
use serde_json::json;

/// What the handlers saw, in order.
#[derive(Default)]
pub struct Seen(Mutex<Vec<String>>);

impl Seen {
    fn push(&self, line: String) -> Result<(), CallbackError> {
        self.0.lock().unwrap().push(line);
        Ok(())
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

next_auth! {
    state: Seen,
    providers: [
        Credentials {
            id: "password",
            credentials: { username: { type: "text" }, password: { type: "password" } },
            authorize: |c| Ok((c.password == "right").then(|| User::with_id(c.username.clone()))),
        },
    ],
    events: {
        sign_in: |m, seen| {
            seen.push(format!("sign_in {} new={}", m.user.id, m.is_new_user))?;
            // A handler that fails for one user: the response must not notice.
            match m.user.id.as_str() {
                "bob" => Err(CallbackError::internal("the audit database is down")),
                _ => Ok(()),
            }
        },
        sign_out: |m, seen| {
            let who = m.token.and_then(|t| t.sub.clone()).unwrap_or_else(|| "nobody".into());
            seen.push(format!("sign_out {who}"))
        },
        session: |m, seen| seen.push(format!("session {}", m.token.sub.as_deref().unwrap_or("?"))),
    },
}

async fn serve() -> (String, Auth) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let auth = Auth::builder(Seen::default())
        .secret("events-suite-secret-0123456789abcdef")
        .url(format!("{origin}/api/auth"))
        .build()
        .unwrap();
    let app = axum::Router::new().nest("/api/auth", auth.router());
    tokio::spawn(async move {
        let config = auth_runtime::axum::ServeConfig::default();
        auth_runtime::axum::serve_app(listener, app, config)
            .await
            .unwrap();
    });
    (origin, auth)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_session_and_sign_out_are_told_once_each_in_order() {
    let (origin, auth) = serve().await;
    let seen = auth.state();
    let mut browser = browser::Browser::http(&origin, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));

    // A refused sign-in is no event.
    let wrong = browser
        .sign_in("password", &[("username", "ann"), ("password", "wrong")])
        .await;
    assert_eq!(wrong.status, wire::wrong_password_status());
    assert_eq!(seen.take(), Vec::<String>::new());

    let right = browser
        .sign_in("password", &[("username", "ann"), ("password", "right")])
        .await;
    assert_eq!(right.status, StatusCode::OK);
    assert_eq!(seen.take(), ["sign_in ann new=false"]);

    for _ in 0..2 {
        assert_eq!(browser.session().await["user"]["name"], json!(null));
    }
    assert_eq!(seen.take(), ["session ann", "session ann"]);

    let csrf = browser.csrf().await;
    let out = browser
        .post_form(
            "/api/auth/signout",
            &[("csrfToken", csrf.as_str()), ("json", "true")],
        )
        .await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(seen.take(), ["sign_out ann"]);

    // Signed out: no session to read, no session event; a second sign-out has no token.
    assert_eq!(browser.session().await, wire::no_session());
    let csrf = browser.csrf().await;
    browser
        .post_form(
            "/api/auth/signout",
            &[("csrfToken", csrf.as_str()), ("json", "true")],
        )
        .await;
    assert_eq!(seen.take(), ["sign_out nobody"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_handler_changes_no_response() {
    let (origin, auth) = serve().await;
    let seen = auth.state();
    let mut browser = browser::Browser::http(&origin, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    logs::global();
    let answer = browser
        .sign_in("password", &[("username", "bob"), ("password", "right")])
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(seen.take(), ["sign_in bob new=false"]);
    assert_eq!(browser.session().await["user"]["name"], json!(null));
    assert!(browser.session().await["expires"].is_string());
    let text = logs::global().text();
    let line = text
        .lines()
        .find(|line| line.contains("an event handler failed"))
        .unwrap_or_else(|| panic!("no log line for the failed handler:\n{text}"));
    assert!(line.contains("sign_in"), "{line}");
    assert!(line.contains("the audit database is down"), "{line}");
}
