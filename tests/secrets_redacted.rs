//! No secret leaves the process by accident: the `Debug` output of every public type that holds
//! one, and every log line at every level during a full sign-in (CSRF, sign-in, session read,
//! update, sign-out) and during refused requests, never contain the secret or a session token;
//! also with `AUTH_DEBUG` on, which logs each protocol step in a span with a request id.

#[path = "support/browser.rs"]
mod browser;
#[path = "support/logs.rs"]
mod logs;

use auth_runtime::{TokenFormat, TokenReader, User, next_auth};
use browser::Browser;

next_auth! {
    providers: [
        Credentials {
            id: "login",
            name: "Login",
            credentials: { user: { label: "User" }, password: { label: "Password", type: "password" } },
            authorize: |credentials| Ok((credentials.password == "hunter2")
                .then(|| User::with_id(credentials.user.clone()))),
        },
    ],
}

const SECRET: &str = "the-one-secret-that-must-never-be-printed-0123";
const OLD_SECRET: &str = "the-older-secret-that-must-never-be-printed";

#[test]
fn no_secret_in_debug_output_or_in_any_log_line() {
    let captured = logs::Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let auth = Auth::builder(())
        .secrets([SECRET, OLD_SECRET])
        .url("https://shop.example/api/auth")
        .debug(true)
        .build()
        .unwrap();
    let reader = TokenReader::<serde_json::Value>::new(TokenFormat::AuthJsV5, [SECRET]).unwrap();
    let debug = format!(
        "{auth:?} {:?} {:?} {reader:?}",
        auth.settings(),
        auth.settings().cookie_names()
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tokens = runtime.block_on(async {
        let mut client = Browser::engine(auth.clone());
        // A refused password, then a good one.
        client
            .sign_in("login", &[("user", "ann"), ("password", "wrong")])
            .await;
        let reply = client
            .sign_in("login", &[("user", "ann"), ("password", "hunter2")])
            .await;
        assert!(reply.status.is_success());
        let session = client.session().await;
        assert!(session.get("expires").is_some());
        let csrf = client.csrf().await;
        client
            .post_json(
                "/api/auth/session",
                &serde_json::json!({ "csrfToken": csrf, "data": {} }),
            )
            .await;
        let token = client.jar.get("__Secure-next-auth.session-token").cloned();
        let current = {
            let mut headers = http::HeaderMap::new();
            headers.insert("cookie", client.cookie_header().parse().unwrap());
            auth.session(&headers).await.unwrap()
        };
        let debug = format!("{current:?}");
        // A forged token and a client error beacon are logged without their content.
        let mut forged = Browser::engine(auth.clone());
        forged.jar.insert(
            "__Secure-next-auth.session-token".into(),
            format!("{}x", token.clone().unwrap_or_default()),
        );
        forged.session().await;
        client
            .post_form("/api/auth/_log", &[("level", "error"), ("message", "boom")])
            .await;
        client
            .post_form(
                "/api/auth/signout",
                &[("csrfToken", &csrf), ("json", "true")],
            )
            .await;
        (token.expect("signed in"), csrf, debug)
    });
    let (token, csrf, current_debug) = tokens;
    let logs = captured.text();
    assert!(logs.contains("signed in"), "the capture works: {logs}");
    // Debugging logs each step, in the request's span.
    for step in [
        "step=\"init\"",
        "step=\"attempt_limits\"",
        "step=\"authorize\"",
        "step=\"sign_in_callback\"",
        "step=\"session_issued\"",
        "step=\"session\"",
        "step=\"sign_out\"",
        "step=\"reply\"",
    ] {
        let line = logs.lines().find(|line| line.contains(step));
        let line = line.unwrap_or_else(|| panic!("no {step} line:\n{logs}"));
        assert!(line.contains("auth_request{request_id="), "{line}");
    }
    for (what, text) in [
        ("Debug output", format!("{debug} {current_debug}")),
        ("logs", logs),
    ] {
        for (name, secret) in [
            ("the secret", SECRET),
            ("the older secret", OLD_SECRET),
            ("the session token", token.as_str()),
            ("the CSRF token", csrf.as_str()),
            ("the password", "hunter2"),
        ] {
            assert!(!text.contains(secret), "{what} contain {name}:\n{text}");
        }
    }
}
