//! `pages` and `theme`: each page the app names replaces the built-in one with NextAuth's
//! redirects and query parameters; the built-in pages that remain wear the theme, escaped.

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
