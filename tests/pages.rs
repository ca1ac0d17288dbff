//! `pages` and `theme`: each page the app names replaces the built-in one with NextAuth's
//! redirects and query parameters; the built-in pages that remain wear the theme, escaped.

#[path = "support/browser.rs"]
mod browser;

use auth_runtime::{User, next_auth};
use bytes::Bytes;
use http::{Request, Response, StatusCode};

mod own_pages {
    use super::*;

    next_auth! {
        providers: [
            Credentials {
                id: "password",
                credentials: { username: { type: "text" }, password: { type: "password" } },
                authorize: |c| Ok((c.password == "right").then(|| User::with_id(c.username.clone()))),
            },
        ],
        pages: {
            sign_in: "/login",
            sign_out: "/goodbye",
            error: "/trouble?from=auth",
            verify_request: "/check-your-mail",
        },
    }

    pub fn auth() -> Auth {
        Auth::builder(())
            .secret("pages-suite-secret-0123456789abcdef")
            .url("https://shop.example/api/auth")
            .build()
            .unwrap()
    }
}

mod themed {
    use super::*;

    next_auth! {
        providers: [
            Credentials {
                id: "password",
                name: "Password",
                credentials: { username: { type: "text" }, password: { type: "password" } },
                authorize: |_c| Ok(None),
            },
            // Not configured in these tests: off, so not on the sign-in page.
            GitHub { optional: true },
        ],
        theme: { color_scheme: "dark", brand_color: "#0f766e", logo: "/logo.svg?v=1&x=2", button_text: "#fff" },
    }

    pub fn auth() -> Auth {
        Auth::builder(())
            .secret("pages-suite-secret-0123456789abcdef")
            .url("https://shop.example/api/auth")
            .build()
            .unwrap()
    }
}

async fn get<D: auth_runtime::AuthDefinition>(
    auth: &auth_runtime::Auth<D>,
    path: &str,
) -> Response<Bytes> {
    auth.handle(Request::get(path).body(Bytes::new()).unwrap())
        .await
}

fn location(response: &Response<Bytes>) -> &str {
    response.headers()["location"].to_str().unwrap()
}

#[tokio::test]
async fn each_page_the_app_names_replaces_the_built_in_one() {
    let auth = own_pages::auth();

    let signin = get(
        &auth,
        "/api/auth/signin?callbackUrl=%2Fcart&error=SessionRequired",
    )
    .await;
    assert_eq!(signin.status(), StatusCode::FOUND);
    assert_eq!(
        location(&signin),
        "/login?callbackUrl=https%3A%2F%2Fshop.example%2Fcart&error=SessionRequired"
    );
    assert!(
        signin.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );

    // A hostile callbackUrl is resolved (to the origin) before it is passed on.
    let hostile = get(
        &auth,
        "/api/auth/signin?callbackUrl=https%3A%2F%2Fevil.example",
    )
    .await;
    assert_eq!(
        location(&hostile),
        "/login?callbackUrl=https%3A%2F%2Fshop.example"
    );

    let signout = get(&auth, "/api/auth/signout").await;
    assert_eq!(
        (signout.status(), location(&signout)),
        (StatusCode::FOUND, "/goodbye")
    );

    let verify = get(&auth, "/api/auth/verify-request").await;
    assert_eq!(location(&verify), "/check-your-mail");

    // Errors the sign-in page shows go there (and from there to the app's page); the others
    // go to the app's error page, its own query kept.
    let credentials = get(&auth, "/api/auth/error?error=CredentialsSignin").await;
    assert_eq!(
        location(&credentials),
        "https://shop.example/api/auth/signin?error=CredentialsSignin"
    );
    let denied = get(&auth, "/api/auth/error?error=AccessDenied").await;
    assert_eq!(
        (denied.status(), location(&denied)),
        (StatusCode::FOUND, "/trouble?from=auth&error=AccessDenied")
    );
    // Whatever the code says is passed on encoded, never as markup or a second parameter.
    let odd = get(
        &auth,
        "/api/auth/error?error=%3Cb%3E%26next%3Dhttps%3A%2F%2Fevil",
    )
    .await;
    assert_eq!(
        location(&odd),
        "/trouble?from=auth&error=%3Cb%3E%26next%3Dhttps%3A%2F%2Fevil"
    );
}

#[tokio::test]
async fn the_built_in_pages_wear_the_theme() {
    let auth = themed::auth();
    for path in [
        "/api/auth/signin",
        "/api/auth/signout",
        "/api/auth/error?error=AccessDenied",
        "/api/auth/verify-request",
    ] {
        let page = get(&auth, path).await;
        let html = String::from_utf8(page.body().to_vec()).unwrap();
        assert!(html.contains("--brand:#0f766e"), "{path}: {html}");
        assert!(html.contains("--on-brand:#fff"), "{path}");
        assert!(html.contains("content=\"dark\""), "{path}");
        assert!(
            html.contains("<img class=\"logo\" src=\"/logo.svg?v=1&amp;x=2\""),
            "{path}"
        );
    }
    let signin = get(&auth, "/api/auth/signin").await;
    let html = String::from_utf8(signin.body().to_vec()).unwrap();
    assert!(html.contains("Sign in with Password"), "{html}");
    assert!(
        !html.contains("GitHub"),
        "an optional provider that is off is not offered"
    );
}

/// Found by a probe: the built-in pages could be framed, so the sign-out form was a
/// click-jacking target. Every built-in page forbids framing and script, in the header.
#[tokio::test]
async fn the_built_in_pages_cannot_be_framed_and_run_no_script() {
    let auth = themed::auth();
    for path in [
        "/api/auth/signin",
        "/api/auth/signout",
        "/api/auth/error?error=Configuration",
        "/api/auth/verify-request",
    ] {
        let page = get(&auth, path).await;
        assert!(
            page.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        let policy = page.headers()["content-security-policy"].to_str().unwrap();
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(policy.contains("default-src 'none'"), "{path}: {policy}");
        assert!(!policy.contains("script-src"), "{path}: {policy}");
        assert_eq!(page.headers()["x-frame-options"], "DENY", "{path}");
        assert_eq!(
            page.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
    // JSON answers are not pages: no page policy on them.
    let csrf = get(&auth, "/api/auth/csrf").await;
    assert!(csrf.headers().get("x-frame-options").is_none());
}

mod welcome {
    use super::*;
    use auth_runtime::providers::email::{SendError, VerificationRequest};
    use std::sync::{Arc, Mutex};

    next_auth! {
        providers: [Email {}],
        pages: { new_user: "/welcome" },
    }

    pub type Outbox = Arc<Mutex<Vec<VerificationRequest>>>;

    pub fn auth() -> (Auth, Outbox) {
        let outbox = Outbox::default();
        let sent = outbox.clone();
        let auth = Auth::builder(())
            .secret("pages-suite-secret-0123456789abcdef")
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
        (auth, outbox)
    }
}

/// Found by a probe: `pages.new_user` applied to OAuth only. An e-mail link that makes its
/// user sends the visitor to the welcome page (with the callback URL); the next link does not.
#[tokio::test]
async fn an_e_mail_users_first_sign_in_goes_to_the_welcome_page() {
    let (auth, outbox) = welcome::auth();
    let mut client = browser::Browser::engine(auth);
    let follow_link = async |client: &mut browser::Browser<welcome::Auth>| {
        let csrf = client.csrf().await;
        let asked = client
            .post_form(
                "/api/auth/signin/email",
                &[
                    ("email", "new@shop.example"),
                    ("csrfToken", &csrf),
                    ("callbackUrl", "http://127.0.0.1:3000/cart"),
                    ("json", "true"),
                ],
            )
            .await;
        assert_eq!(asked.status, StatusCode::OK, "{}", asked.text());
        let link = outbox.lock().unwrap().pop().expect("a link was sent").url;
        let rest = link.split_once("://").unwrap().1;
        let followed = client.get(&rest[rest.find('/').unwrap()..]).await;
        assert_eq!(followed.status, StatusCode::FOUND);
        followed.header("location").unwrap().to_owned()
    };
    assert_eq!(
        follow_link(&mut client).await,
        "/welcome?callbackUrl=http%3A%2F%2F127.0.0.1%3A3000%2Fcart"
    );
    assert_eq!(follow_link(&mut client).await, "http://127.0.0.1:3000/cart");
}
