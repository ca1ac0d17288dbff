//! Responses as the engine builds them, turned into `http::Response`.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

/// One response under construction.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub content_type: Option<&'static str>,
    pub body: Bytes,
    pub cookies: Vec<String>,
    pub location: Option<String>,
    pub no_cache: bool,
    pub retry_after: Option<u64>,
    pub allow: Option<&'static str>,
}

pub(crate) const JSON: &str = "application/json";
pub(crate) const HTML: &str = "text/html; charset=utf-8";
pub(crate) const TEXT: &str = "text/plain; charset=utf-8";

/// The built-in pages' policy: their own inline style, images from anywhere (the theme's logo),
/// no script, no plugin, no `<base>`, and no page may frame them. No `form-action`: an OAuth
/// sign-in form is answered with a redirect to the provider, which browsers check against it.
pub(crate) const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; \
     img-src * data:; base-uri 'none'; frame-ancestors 'none'";

impl Reply {
    pub fn new(status: StatusCode) -> Self {
        Reply {
            status,
            content_type: None,
            body: Bytes::new(),
            cookies: Vec::new(),
            location: None,
            no_cache: false,
            retry_after: None,
            allow: None,
        }
    }

    pub fn json(status: StatusCode, body: impl Into<Bytes>) -> Self {
        Reply {
            content_type: Some(JSON),
            body: body.into(),
            ..Reply::new(status)
        }
    }

    pub fn json_value(status: StatusCode, value: &serde_json::Value) -> Self {
        Reply::json(
            status,
            serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec()),
        )
    }

    pub fn html(status: StatusCode, body: String) -> Self {
        Reply {
            content_type: Some(HTML),
            body: body.into(),
            ..Reply::new(status)
        }
    }

    pub fn text(status: StatusCode, body: impl Into<Bytes>) -> Self {
        Reply {
            content_type: Some(TEXT),
            body: body.into(),
            ..Reply::new(status)
        }
    }

    /// NextAuth's answer to an unknown action or a method an action does not take.
    pub fn unsupported(method: &http::Method) -> Self {
        Reply::text(
            StatusCode::BAD_REQUEST,
            format!("Error: This action with HTTP {method} is not supported by NextAuth.js"),
        )
    }

    /// A redirect: `{"url": ...}` with `status` when the client asked for JSON, else a 302.
    pub fn redirect(url: String, wants_json: bool, status: StatusCode) -> Self {
        if wants_json {
            Reply::json_value(status, &serde_json::json!({ "url": url }))
        } else {
            Reply {
                location: Some(url),
                ..Reply::new(StatusCode::FOUND)
            }
        }
    }

    pub fn with_cookies(mut self, cookies: impl IntoIterator<Item = String>) -> Self {
        self.cookies.extend(cookies);
        self
    }

    pub fn no_cache(mut self) -> Self {
        self.no_cache = true;
        self
    }

    pub fn into_response(self) -> Response<Bytes> {
        let mut response = Response::new(self.body);
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if let Some(content_type) = self.content_type {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        if let Some(location) = self.location.and_then(|l| HeaderValue::try_from(l).ok()) {
            headers.insert(header::LOCATION, location);
        }
        // Whatever sets a cookie carries a session token or a CSRF value: never cached.
        if self.no_cache || !self.cookies.is_empty() {
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache, no-store"),
            );
            headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            headers.insert(header::EXPIRES, HeaderValue::from_static("0"));
        }
        if self.content_type == Some(HTML) {
            // The built-in pages run no script and are never framed (a framed sign-out form is
            // a click-jacking target).
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_POLICY),
            );
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            headers.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(allow) = self.allow {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        for cookie in self.cookies {
            if let Ok(value) = HeaderValue::try_from(cookie) {
                headers.append(header::SET_COOKIE, value);
            }
        }
        response
    }
}

/// A request the engine cannot parse: JSON that the client's `signIn()` turns into an error.
pub(crate) fn bad_request(
    settings: &crate::settings::Settings,
    status: StatusCode,
    message: &str,
) -> Reply {
    Reply::json_value(
        status,
        &serde_json::json!({
            "error": "BadRequest",
            "message": message,
            "url": format!("{}?error=BadRequest", settings.base.endpoint("error")),
        }),
    )
}

pub(crate) use crate::base_url::error_url;

pub(crate) use crate::refusal::Refusal;

impl Refusal {
    /// JSON `{ url, error }` whatever the client asked for: the status carries the meaning
    /// (429, 503), and `signIn()` turns the `error` of the URL into `{ ok: false, error }`.
    pub fn reply(&self, base: &crate::base_url::BaseUrl, provider: &str) -> Reply {
        let mut reply = Reply::json_value(
            self.status,
            &serde_json::json!({
                "url": error_url(base, self.code, Some(provider)),
                "error": self.code,
            }),
        );
        reply.retry_after = self.retry_after;
        reply
    }
}

/// The body of `GET /providers`: `{ id: { id, name, type, signinUrl, callbackUrl } }`.
pub(crate) fn providers_json(
    providers: &[crate::definition::ProviderInfo],
    base: &crate::base_url::BaseUrl,
) -> Bytes {
    let map: serde_json::Map<String, serde_json::Value> = providers
        .iter()
        .map(|p| {
            let value = serde_json::json!({
                "id": p.id,
                "name": p.name,
                "type": p.kind.as_str(),
                "signinUrl": base.endpoint(&format!("signin/{}", p.id)),
                "callbackUrl": base.endpoint(&format!("callback/{}", p.id)),
            });
            (p.id.to_owned(), value)
        })
        .collect();
    Bytes::from(serde_json::to_vec(&map).unwrap_or_else(|_| b"{}".to_vec()))
}
