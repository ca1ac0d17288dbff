//! Which dialect of the REST API the engine speaks: NextAuth v4's or Auth.js v5's.
//!
//! Both serve the same routes with the same CSRF double-submit and cookies; the v5 client
//! (`next-auth@5` / `@auth/core` 0.41) depends on four differences, all applied here so the
//! handlers speak one dialect (v4's) and never check the format:
//!
//! - `X-Auth-Return-Redirect: 1` on a POST asks for `{url}` instead of a redirect (v4's body
//!   field `json=true` keeps working too);
//! - no session is the JSON `null`, not `{}` (the v5 client returns the body as it is, so `{}`
//!   would count as a session; the v4 client calls `Object.keys` on it and would throw on `null`);
//! - a wrong password is `{base}/signin?error=CredentialsSignin&code=credentials`, and a CSRF
//!   failure `{base}/signin?error=MissingCSRF` (v4: `{base}/error?error=CredentialsSignin&provider=…`
//!   and `{base}/signin?csrf=true`); the v5 client reads `error` and `code` from that URL;
//! - that wrong password is answered 200, as v5 does (v4: 401). The other refusals keep their
//!   statuses (403 `AccessDenied`, 401 for a message `authorize` threw, 429 with `Retry-After`,
//!   503, the CAPTCHA's 400 and 403, 500): v5 would answer 200, but its client reads `error`
//!   from the URL whatever the status, and the status is what servers and proxies count.

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use crate::base_url::BaseUrl;
use crate::protocol::reply::{JSON, Reply};
use crate::protocol::route::Action;
use crate::settings::Settings;
use crate::tokens::TokenFormat;

/// The request header with which the v5 client asks for `{url}` instead of a redirect.
pub(crate) const RETURN_REDIRECT: &str = "x-auth-return-redirect";

/// The dialect of the REST API, decided by the token format: a server that writes Auth.js v5's
/// tokens and `authjs.*` cookies serves the v5 client, the others the v4 client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    /// NextAuth v4 (`next-auth@4`): the `nextauth-v4` and `jws` token formats.
    V4,
    /// Auth.js v5 (`next-auth@5`, `@auth/core`): the `authjs-v5` token format.
    V5,
}

impl Flavour {
    /// The dialect the engine configured by `settings` speaks.
    pub(crate) fn of(settings: &Settings) -> Self {
        match settings.token_format {
            TokenFormat::AuthJsV5 => Flavour::V5,
            TokenFormat::NextAuthV4 | TokenFormat::Jws => Flavour::V4,
        }
    }

    /// Whether the request's headers ask for `{url}` instead of a redirect: v5 only, and only
    /// `X-Auth-Return-Redirect: 1` (the value the v5 client sends). `@auth/core` takes the
    /// header's mere presence; here `0`, an empty or any other value is no request for JSON,
    /// so a proxy that adds `X-Auth-Return-Redirect: 0` does not turn redirects into JSON.
    pub(crate) fn asks_for_json(self, headers: &HeaderMap) -> bool {
        self == Flavour::V5
            && headers
                .get_all(RETURN_REDIRECT)
                .iter()
                .any(|value| value.as_bytes().trim_ascii() == b"1")
    }

    /// Turns a reply the handlers wrote in v4's dialect into this dialect's.
    pub(crate) fn speak(self, base: &BaseUrl, action: Action, mut reply: Reply) -> Reply {
        if self == Flavour::V4 {
            return reply;
        }
        let json = reply.content_type == Some(JSON);
        if action == Action::Session {
            if json && reply.body.as_ref() == b"{}" {
                reply.body = Bytes::from_static(b"null");
            }
            return reply;
        }
        if let Some(location) = &reply.location {
            if let Some(url) = v5_url(base, location) {
                reply.location = Some(url);
            }
            return reply;
        }
        if !json {
            return reply;
        }
        let Ok(serde_json::Value::Object(mut fields)) =
            serde_json::from_slice::<serde_json::Value>(&reply.body)
        else {
            return reply;
        };
        let Some(url) = fields.get("url").and_then(|url| url.as_str()) else {
            return reply;
        };
        let Some(url) = v5_url(base, url) else {
            return reply;
        };
        // Only CSRF failures (200 already) and wrong passwords (401) are rewritten: both 200.
        reply.status = StatusCode::OK;
        fields.insert("url".to_owned(), serde_json::Value::String(url));
        if let Ok(body) = serde_json::to_vec(&fields) {
            reply.body = Bytes::from(body);
        }
        reply
    }
}

/// v5's URL for a v4 failure URL of ours, or `None` when v5 says the same.
fn v5_url(base: &BaseUrl, url: &str) -> Option<String> {
    let signin = base.endpoint("signin");
    let (path, query) = url.split_once('?')?;
    if query == "csrf=true" && (path == signin || path == base.endpoint("signout")) {
        return Some(format!("{signin}?error=MissingCSRF"));
    }
    if path == base.endpoint("error") {
        let mut pairs = form_urlencoded::parse(query.as_bytes());
        let first = pairs.next()?;
        if first.0 == "error" && first.1 == "CredentialsSignin" {
            return Some(format!("{signin}?error=CredentialsSignin&code=credentials"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> BaseUrl {
        BaseUrl::parse("AUTH_URL", "http://127.0.0.1:3000/api/auth", "/api/auth").unwrap()
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(RETURN_REDIRECT, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn only_the_value_1_asks_for_json_and_only_in_v5() {
        assert!(Flavour::V5.asks_for_json(&headers(&["1"])));
        assert!(Flavour::V5.asks_for_json(&headers(&[" 1 "])));
        assert!(Flavour::V5.asks_for_json(&headers(&["0", "1"])));
        for hostile in ["0", "", "true", "11", "1,1", "yes", "\u{7f}"] {
            let Ok(value) = hostile.parse::<http::HeaderValue>() else {
                continue;
            };
            let mut map = HeaderMap::new();
            map.insert(RETURN_REDIRECT, value);
            assert!(!Flavour::V5.asks_for_json(&map), "{hostile:?}");
        }
        assert!(!Flavour::V5.asks_for_json(&HeaderMap::new()));
        assert!(!Flavour::V4.asks_for_json(&headers(&["1"])));
    }

    #[test]
    fn no_session_is_null_in_v5_and_an_empty_object_in_v4() {
        let empty = || Reply::json(StatusCode::OK, Bytes::from_static(b"{}"));
        let v5 = Flavour::V5.speak(&base(), Action::Session, empty());
        assert_eq!(v5.body.as_ref(), b"null");
        let v4 = Flavour::V4.speak(&base(), Action::Session, empty());
        assert_eq!(v4.body.as_ref(), b"{}");
        let refused = Reply::json(StatusCode::BAD_REQUEST, Bytes::from_static(b"{}"));
        let refused = Flavour::V5.speak(&base(), Action::Session, refused);
        assert_eq!(
            (refused.status, refused.body.as_ref()),
            (StatusCode::BAD_REQUEST, &b"null"[..])
        );
        let session = Reply::json(StatusCode::OK, Bytes::from_static(b"{\"user\":{}}"));
        let session = Flavour::V5.speak(&base(), Action::Session, session);
        assert_eq!(session.body.as_ref(), b"{\"user\":{}}");
    }

    #[test]
    fn a_wrong_password_is_credentials_signin_with_its_code_and_200() {
        let url = "http://127.0.0.1:3000/api/auth/error?error=CredentialsSignin&provider=password";
        let reply = Reply::redirect(url.to_owned(), true, StatusCode::UNAUTHORIZED);
        let reply = Flavour::V5.speak(&base(), Action::Callback, reply);
        assert_eq!(reply.status, StatusCode::OK);
        let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({ "url": "http://127.0.0.1:3000/api/auth/signin?error=CredentialsSignin&code=credentials" })
        );
        let redirect = Reply::redirect(url.to_owned(), false, StatusCode::UNAUTHORIZED);
        let redirect = Flavour::V5.speak(&base(), Action::Callback, redirect);
        assert_eq!(redirect.status, StatusCode::FOUND);
        assert_eq!(
            redirect.location.as_deref(),
            Some("http://127.0.0.1:3000/api/auth/signin?error=CredentialsSignin&code=credentials")
        );
        let v4 = Reply::redirect(url.to_owned(), true, StatusCode::UNAUTHORIZED);
        let v4 = Flavour::V4.speak(&base(), Action::Callback, v4);
        assert_eq!(v4.status, StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn a_csrf_failure_is_missing_csrf_on_the_sign_in_page() {
        for page in ["signin", "signout"] {
            let url = format!("http://127.0.0.1:3000/api/auth/{page}?csrf=true");
            let reply = Reply::redirect(url, true, StatusCode::OK);
            let reply = Flavour::V5.speak(&base(), Action::SignOut, reply);
            let body: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
            assert_eq!(
                body["url"],
                "http://127.0.0.1:3000/api/auth/signin?error=MissingCSRF"
            );
        }
    }

    #[test]
    fn other_answers_keep_their_url_and_the_statuses_that_mean_more() {
        // A success, a foreign URL that looks like ours, a rate limit with its `error`.
        let cases = [
            (
                "http://127.0.0.1:3000/shop",
                StatusCode::OK,
                serde_json::json!({ "url": "http://127.0.0.1:3000/shop" }),
            ),
            (
                "http://evil.example/api/auth/error?error=CredentialsSignin",
                StatusCode::OK,
                serde_json::json!({ "url": "http://evil.example/api/auth/error?error=CredentialsSignin" }),
            ),
            (
                "http://127.0.0.1:3000/api/auth/error?error=RateLimited&provider=anon",
                StatusCode::TOO_MANY_REQUESTS,
                serde_json::json!({
                    "url": "http://127.0.0.1:3000/api/auth/error?error=RateLimited&provider=anon",
                    "error": "RateLimited",
                }),
            ),
            (
                "http://127.0.0.1:3000/api/auth/error?error=CaptchaInvalid&provider=anon",
                StatusCode::FORBIDDEN,
                serde_json::json!({
                    "url": "http://127.0.0.1:3000/api/auth/error?error=CaptchaInvalid&provider=anon",
                    "error": "CaptchaInvalid",
                }),
            ),
        ];
        // AccessDenied and a message `authorize` threw keep v4's 403 and 401.
        let cases = cases.into_iter().chain([
            (
                "",
                StatusCode::FORBIDDEN,
                serde_json::json!({ "url": "http://127.0.0.1:3000/api/auth/error?error=AccessDenied" }),
            ),
            (
                "",
                StatusCode::UNAUTHORIZED,
                serde_json::json!({ "url": "http://127.0.0.1:3000/api/auth/error?error=RateLimited" }),
            ),
        ]);
        for (_, status, body) in cases {
            let reply = Reply::json_value(status, &body);
            let reply = Flavour::V5.speak(&base(), Action::Callback, reply);
            assert_eq!(reply.status, status);
            let answered: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
            assert_eq!(answered, body);
        }
        // Not JSON, or JSON without a URL: untouched.
        let text = Reply::text(StatusCode::BAD_REQUEST, "Error");
        let text = Flavour::V5.speak(&base(), Action::Callback, text);
        assert_eq!(text.body.as_ref(), b"Error");
        let garbage = Reply::json(StatusCode::UNAUTHORIZED, Bytes::from_static(b"{\"url\":"));
        let garbage = Flavour::V5.speak(&base(), Action::Callback, garbage);
        assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    }
}
