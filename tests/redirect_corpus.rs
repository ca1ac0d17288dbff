//! A hostile redirect corpus: every form resolves to the origin or a URL on it, through
//! `BaseUrl::resolve_redirect` and through every way the engine receives a callback URL (body,
//! query, cookie).

use auth_runtime::BaseUrl;

const ORIGIN: &str = "http://127.0.0.1:3000";

fn base() -> BaseUrl {
    BaseUrl::parse("AUTH_URL", "http://127.0.0.1:3000/api/auth", "/api/auth").unwrap()
}

/// Each must resolve to a URL on the origin: most to the origin itself; a few that a browser
/// also reads as this very origin (`http://0x7f.0.0.1:3000/`, full-width digits, encoded
/// backslashes in the path) to their normalised same-origin form.
fn hostile() -> Vec<String> {
    let mut corpus: Vec<String> = [
        // Protocol-relative and slash games.
        "//evil.example",
        "//evil.example/",
        "///evil.example",
        "////evil.example",
        "//evil.example:3000/x",
        "/\\evil.example",
        "\\/evil.example",
        "\\\\evil.example",
        "/\\/evil.example",
        "//\\evil.example",
        "http:/\\evil.example",
        "http:\\\\evil.example",
        "https:evil.example",
        "http:evil.example",
        "http:/evil.example",
        "http:///evil.example",
        // Encoded slashes and dots that a second decode would turn into another host.
        "%2F%2Fevil.example",
        "%2f%2fevil.example",
        "/%5Cevil.example",
        "%5C%5Cevil.example",
        "http%3A%2F%2Fevil.example",
        // Userinfo.
        "http://127.0.0.1:3000@evil.example/",
        "http://127.0.0.1:3000:@evil.example/",
        "http://user@127.0.0.1:3000/",
        "http://user:pass@127.0.0.1:3000/",
        "http://evil.example@127.0.0.1:3000/",
        "http://127.0.0.1:3000%40evil.example/",
        "http://127.0.0.1:3000\\@evil.example/",
        // Other hosts and look-alikes, IDN included.
        "http://evil.example/",
        "http://127.0.0.1.evil.example:3000/",
        "http://127.0.0.1:3000.evil.example/",
        "http://127.0.0.2:3000/",
        "http://localhost:3000/",
        "http://0x7f.0.0.1:3000/x",
        "http://2130706433:3000/x",
        "http://[::1]:3000/",
        "http://xn--12-9ja.0.0.1:3000/",
        "http://127。0。0。1:3000/",
        "http://１２７.0.0.1:3000/",
        "http://ехаmple.com/",
        "http://xn--e1awd7f.com/",
        "http://evil.example#http://127.0.0.1:3000/",
        "http://evil.example?http://127.0.0.1:3000/",
        // Schemes.
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "javascript://127.0.0.1:3000/%0aalert(1)",
        "jav\tascript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "ftp://127.0.0.1:3000/",
        "blob:http://127.0.0.1:3000/uuid",
        "ws://127.0.0.1:3000/",
        // Scheme and port of the origin, but not the origin.
        "https://127.0.0.1:3000/",
        "http://127.0.0.1:3001/",
        "http://127.0.0.1/",
        "http://127.0.0.1:80/",
        "http://127.0.0.1:03000x/",
        "http://127.0.0.1:99999/",
        // Whitespace and control characters.
        "/\tevil",
        "/\nevil",
        "/\r\n//evil.example",
        "\u{0}//evil.example",
        "/a\u{7f}",
        "\u{1b}[31m/red",
        "\u{85}//evil.example",
        " //evil.example",
        "\u{3000}//evil.example",
        "\u{feff}//evil.example",
        "\u{200b}//evil.example",
        // Not URLs.
        "",
        "foo",
        "evil.example",
        "evil.example/path",
        "?x=1",
        "#top",
        ".",
        "..",
        "../evil",
        ":",
        "@evil.example",
        "http://",
        "http://[",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    // Very long URLs.
    corpus.push(format!("/{}", "a".repeat(5000)));
    corpus.push(format!("{ORIGIN}/{}", "%2F".repeat(2000)));
    corpus.push(format!("//{}.evil.example/", "a".repeat(300)));
    corpus
}

/// Same-origin forms that must be kept (as the absolute URL on the right).
const KEPT: &[(&str, &str)] = &[
    ("/", "http://127.0.0.1:3000/"),
    ("/shop", "http://127.0.0.1:3000/shop"),
    (
        "/shop?x=1&y=%2F#frag",
        "http://127.0.0.1:3000/shop?x=1&y=%2F#frag",
    ),
    ("http://127.0.0.1:3000", "http://127.0.0.1:3000"),
    ("http://127.0.0.1:3000/a/b", "http://127.0.0.1:3000/a/b"),
    ("HTTP://127.0.0.1:3000/a", "http://127.0.0.1:3000/a"),
    (
        "http://127.0.0.1:3000/%2F%2Fevil.example",
        "http://127.0.0.1:3000/%2F%2Fevil.example",
    ),
    ("/@evil.example", "http://127.0.0.1:3000/@evil.example"),
];

fn same_origin(url: &str) -> bool {
    url == ORIGIN || url.starts_with(&format!("{ORIGIN}/"))
}

#[test]
fn the_corpus_is_large_enough() {
    assert!(hostile().len() >= 60, "{}", hostile().len());
}

#[test]
fn every_hostile_form_resolves_on_the_origin() {
    let base = base();
    let mut failures = Vec::new();
    for candidate in hostile() {
        let resolved = base.resolve_redirect(&candidate);
        if !same_origin(&resolved)
            || resolved.contains("evil") && !resolved.starts_with(&format!("{ORIGIN}/"))
        {
            failures.push(format!("{candidate:?} -> {resolved:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "left the origin:\n{}",
        failures.join("\n")
    );
}

#[test]
fn same_origin_forms_are_kept() {
    let base = base();
    for (candidate, expected) in KEPT {
        assert_eq!(base.resolve_redirect(candidate), *expected, "{candidate:?}");
    }
}

mod engine {
    use super::*;
    use auth_runtime::{User, next_auth};
    use bytes::Bytes;

    next_auth! {
        providers: [
            Credentials {
                id: "anon",
                name: "Anonymous",
                credentials: {},
                authorize: |_credentials| Ok(Some(User::with_id("guest"))),
            },
        ],
    }

    fn auth() -> Auth {
        Auth::builder(())
            .secret("redirect-corpus-secret-0123456789abcdef")
            .url("http://127.0.0.1:3000/api/auth")
            .build()
            .unwrap()
    }

    fn encode(text: &str) -> String {
        form_urlencoded::byte_serialize(text.as_bytes()).collect()
    }

    async fn send(auth: &Auth, request: http::Request<Bytes>) -> http::Response<Bytes> {
        auth.handle(request).await
    }

    /// The callback URL the engine settled on, from its `callback-url` cookie (or the cookie it
    /// kept).
    fn callback_cookie(response: &http::Response<Bytes>) -> Option<String> {
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            // `next-auth.callback-url`, or `authjs.callback-url` under AUTH_TOKEN_FORMAT=authjs-v5.
            .find_map(|line| {
                let (name, rest) = line.split_once('=')?;
                name.ends_with("callback-url").then_some(rest)
            })
            .map(|rest| {
                let value = rest.split(';').next().unwrap_or_default();
                percent_decode(value)
            })
    }

    fn percent_decode(value: &str) -> String {
        form_urlencoded::parse(format!("v={}", value.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn query_body_and_cookie_candidates_never_leave_the_origin_nor_fail() {
        let auth = auth();
        for candidate in hostile() {
            let query = format!("/api/auth/signin?callbackUrl={}", encode(&candidate));
            let by_query = send(&auth, http::Request::get(query).body(Bytes::new()).unwrap()).await;
            assert!(by_query.status().is_success() || by_query.status().is_redirection());
            if let Some(url) = callback_cookie(&by_query) {
                assert!(same_origin(&url), "query {candidate:?} -> {url:?}");
            }

            let body = format!("callbackUrl={}&json=true", encode(&candidate));
            let by_body = send(
                &auth,
                http::Request::post("/api/auth/signin/anon")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Bytes::from(body))
                    .unwrap(),
            )
            .await;
            assert!(!by_body.status().is_server_error(), "{candidate:?}");
            if let Some(url) = callback_cookie(&by_body) {
                assert!(same_origin(&url), "body {candidate:?} -> {url:?}");
            }

            // A cookie the attacker planted: every route keeps working.
            if let Ok(cookie) = http::HeaderValue::from_str(&format!(
                "next-auth.callback-url={}",
                encode(&candidate)
            )) {
                let by_cookie = send(
                    &auth,
                    http::Request::get("/api/auth/session")
                        .header("cookie", cookie)
                        .body(Bytes::new())
                        .unwrap(),
                )
                .await;
                assert_eq!(by_cookie.status(), 200, "{candidate:?}");
                if let Some(url) = callback_cookie(&by_cookie) {
                    assert!(same_origin(&url), "cookie {candidate:?} -> {url:?}");
                }
            }
        }
    }
}

#[test]
fn most_hostile_forms_become_the_origin_itself() {
    let base = base();
    let kept: Vec<String> = hostile()
        .into_iter()
        .filter(|c| base.resolve_redirect(c) != ORIGIN)
        .collect();
    // Only the five same-origin spellings named in `hostile`'s doc, plus the long path and the
    // long encoded path, which are paths on the origin.
    assert!(kept.len() <= 7, "{kept:?}");
}

/// Look-alikes of an allowed other origin resolve to our origin; the allowed origin itself is
/// kept, path and query included.
#[test]
fn an_allowed_origin_is_kept_and_its_look_alikes_are_not() {
    let base = base();
    let allowed = [BaseUrl::origin_of("https://docs.example/").unwrap()];
    assert_eq!(allowed[0], "https://docs.example");
    for kept in [
        "https://docs.example/guide?x=1",
        "https://DOCS.example:443/a",
    ] {
        let resolved = base.resolve_redirect_allowing(kept, &allowed);
        assert!(
            resolved.starts_with("https://docs.example/"),
            "{kept:?} -> {resolved:?}"
        );
    }
    let look_alikes = [
        "https://docs.example.evil.example/",
        "https://docs.example@evil.example/",
        "https://evil.example/#@docs.example",
        "https://docs.example:443@evil.example/",
        "https://evil.example\\@docs.example/",
        "http://docs.example/",
        "https://docs.example:8443/",
        "https://user:pass@docs.example/",
        "//docs.example/",
        "https://docs.example/\r\nLocation: https://evil.example/",
    ];
    for candidate in look_alikes.into_iter().map(str::to_owned).chain(hostile()) {
        let resolved = base.resolve_redirect_allowing(&candidate, &allowed);
        assert!(
            same_origin(&resolved),
            "{candidate:?} -> {resolved:?} left the origin"
        );
    }
}

/// The `redirect` callback chooses where to go, and what it returns is checked again: a
/// callback that sends everyone away still leaves no one off the origin and the allowed one.
mod redirect_callback {
    use super::{ORIGIN, hostile, same_origin};
    use auth_runtime::{User, next_auth};
    use bytes::Bytes;

    next_auth! {
        providers: [
            Credentials {
                id: "anon",
                credentials: {},
                authorize: |_credentials| Ok(Some(User::with_id("guest"))),
            },
        ],
        redirect: |url, base_url| {
            if let Some(page) = url.strip_prefix("/docs/") {
                format!("https://docs.example/{page}")
            } else if url.contains("evil") {
                // A careless callback: whatever it says, the check holds.
                "https://evil.example/phish".to_owned()
            } else {
                format!("{base_url}/moved{}", url.strip_prefix(base_url).unwrap_or(url))
            }
        },
    }

    async fn settled(auth: &Auth, candidate: &str) -> Option<String> {
        let encoded: String = form_urlencoded::byte_serialize(candidate.as_bytes()).collect();
        let request = http::Request::get(format!("/api/auth/signin?callbackUrl={encoded}"))
            .body(Bytes::new())
            .unwrap();
        let response = auth.handle(request).await;
        assert!(!response.status().is_server_error(), "{candidate:?}");
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            // `next-auth.callback-url`, or `authjs.callback-url` under AUTH_TOKEN_FORMAT=authjs-v5.
            .find_map(|line| {
                let (name, rest) = line.split_once('=')?;
                name.ends_with("callback-url").then_some(rest)
            })
            .map(|rest| {
                let value = rest.split(';').next().unwrap_or_default();
                form_urlencoded::parse(format!("v={value}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            })
    }

    #[tokio::test]
    async fn the_callback_chooses_and_the_check_still_holds() {
        let auth = Auth::builder(())
            .secret("redirect-callback-secret-0123456789abcdef")
            .url(format!("{ORIGIN}/api/auth"))
            .allow_redirect_origin("https://docs.example")
            .build()
            .unwrap();
        assert_eq!(
            settled(&auth, "/docs/getting-started").await.as_deref(),
            Some("https://docs.example/getting-started")
        );
        assert_eq!(
            settled(&auth, "/cart").await.as_deref(),
            Some(&*format!("{ORIGIN}/moved/cart"))
        );
        for candidate in hostile() {
            if let Some(url) = settled(&auth, &candidate).await {
                assert!(
                    same_origin(&url) || url.starts_with("https://docs.example/"),
                    "{candidate:?} -> {url:?}"
                );
                assert!(!url.starts_with("https://evil"), "{candidate:?} -> {url:?}");
            }
        }
    }

    #[tokio::test]
    async fn without_the_allowed_origin_the_callback_cannot_leave_the_origin() {
        let auth = Auth::builder(())
            .secret("redirect-callback-secret-0123456789abcdef")
            .url(format!("{ORIGIN}/api/auth"))
            .build()
            .unwrap();
        assert_eq!(
            settled(&auth, "/docs/getting-started").await.as_deref(),
            Some(ORIGIN)
        );
        let refused = Auth::builder(())
            .secret("redirect-callback-secret-0123456789abcdef")
            .allow_redirect_origin("javascript:alert(1)")
            .build();
        assert!(refused.is_err());
    }
}
