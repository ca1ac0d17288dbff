//! NextAuth's per-request "init" step: the body, the CSRF token and the callback URL every
//! action starts from.

use bytes::Bytes;
use http::header;

use crate::body::RequestBody;
use crate::cookies::{self, Lifetime, RequestCookies};
use crate::csrf::{self, CsrfToken};
use crate::definition::AuthDefinition;
use crate::error::RequestError;
use crate::protocol::flavour::Flavour;
use crate::settings::Settings;

/// The address of the client's connection, for the guest creation limits. The axum glue puts
/// it in the request's extensions when the app is served with
/// `into_make_service_with_connect_info::<SocketAddr>()`; callers of
/// [`Auth::handle`](crate::Auth::handle) may insert it themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::SocketAddr);

/// A `Set-Cookie` line with a fresh CSRF token (after a sign-out or a guest's upgrade: the old
/// token keyed the browser's guest).
pub(crate) fn fresh_csrf_cookie(settings: &Settings) -> Option<String> {
    csrf::bootstrap(None, &settings.secrets)
        .new_cookie
        .map(|value| {
            cookies::set_cookie(
                &settings.cookies.csrf_token,
                &value,
                Lifetime::Session,
                settings.secure,
            )
        })
}

/// The body of a POST, from either content type the clients send. Whether it asks for `{url}`
/// instead of a redirect is decided here, once: v4's `json=true` field, or v5's header.
pub(crate) fn parse_body(
    headers: &http::HeaderMap,
    body: &Bytes,
    limit: usize,
    flavour: Flavour,
) -> Result<RequestBody, RequestError> {
    if body.len() > limit {
        return Err(RequestError::BodyTooLarge { limit });
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let parsed = match essence.as_str() {
        "application/x-www-form-urlencoded" => RequestBody::from_form(body),
        "application/json" => RequestBody::from_json(body),
        "" if body.is_empty() => Ok(RequestBody::default()),
        "" => RequestBody::from_form(body),
        _ if essence.ends_with("+json") => RequestBody::from_json(body),
        _ => Err(RequestError::UnsupportedContentType(
            content_type.chars().take(100).collect(),
        )),
    }?;
    Ok(parsed.with_return_redirect(flavour.asks_for_json(headers)))
}

/// What NextAuth's "init" step computes for every action: the CSRF token and the callback URL.
pub(crate) struct RequestContext<'r> {
    pub body: &'r RequestBody,
    /// The request's headers (for a trusted proxy's client address).
    #[cfg_attr(not(feature = "guests"), allow(dead_code))]
    pub headers: &'r http::HeaderMap,
    /// The connection's peer address, when the server provides it ([`ClientAddr`]).
    #[cfg_attr(not(feature = "guests"), allow(dead_code))]
    pub peer: Option<std::net::IpAddr>,
    pub query: &'r str,
    pub csrf: CsrfToken,
    pub callback_url: String,
    pub queued_cookies: Vec<String>,
}

impl<'r> RequestContext<'r> {
    /// The `User-Agent` header, for the device list of database sessions.
    pub(crate) fn user_agent(&self) -> Option<String> {
        let agent = self.headers.get(http::header::USER_AGENT)?.to_str().ok()?;
        Some(agent.to_owned())
    }

    pub(crate) async fn init<D: AuthDefinition>(
        settings: &Settings,
        state: &D::State,
        cookies: &RequestCookies<'_>,
        body: &'r RequestBody,
        query: &'r str,
        headers: &'r http::HeaderMap,
        read_only: bool,
    ) -> Self {
        let names = &settings.cookies;
        let mut queued_cookies = Vec::new();
        if read_only
            && cookies.contains(&names.csrf_token)
            && cookies.contains(&names.callback_url)
            && !query.contains("callbackUrl")
        {
            let csrf = CsrfToken {
                token: String::new(),
                new_cookie: None,
                from_cookie: false,
            };
            let callback_url = String::new();
            return RequestContext {
                body,
                headers,
                peer: None,
                query,
                csrf,
                callback_url,
                queued_cookies,
            };
        }
        let csrf = csrf::bootstrap(cookies.get(&names.csrf_token).as_deref(), &settings.secrets);
        if let Some(value) = &csrf.new_cookie {
            queued_cookies.push(cookies::set_cookie(
                &names.csrf_token,
                value,
                Lifetime::Session,
                settings.secure,
            ));
        }
        let cookie_url = cookies.get(&names.callback_url);
        let query_url = query_param(query, "callbackUrl");
        let candidate = body
            .get("callbackUrl")
            .map(str::to_owned)
            .or(query_url)
            .or_else(|| cookie_url.as_deref().map(str::to_owned));
        let callback_url = match candidate {
            Some(candidate) => {
                let chosen = D::redirect(&candidate, settings.base.origin(), state).await;
                settings.resolve_redirect(&chosen)
            }
            None => settings.base.origin().to_owned(),
        };
        if cookie_url.as_deref() != Some(callback_url.as_str()) {
            queued_cookies.push(cookies::set_cookie(
                &names.callback_url,
                &callback_url,
                Lifetime::Session,
                settings.secure,
            ));
        }
        RequestContext {
            body,
            headers,
            peer: None,
            query,
            csrf,
            callback_url,
            queued_cookies,
        }
    }

    /// Whether the POST carried the right `csrfToken` for a valid CSRF cookie.
    pub fn csrf_verified(&self) -> bool {
        csrf::submitted_matches(&self.csrf, self.body.get("csrfToken"))
    }

    /// A query parameter, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        query_param(self.query, name)
    }
}

/// The first value of `name` in a query string.
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
