//! One browser for every suite: a cookie jar that follows no redirect by itself, so every hop and
//! every `Set-Cookie` stays visible to the test. It talks to one of three servers, each a
//! [`Server`]: the engine alone in process ([`Browser::engine`], `Auth::handle`, no sockets), an
//! app's router in process ([`Browser::app`], as its own routes and the engine's are served
//! together), or anything over real HTTP ([`Browser::http`], reqwest; the network's failures come
//! back from the `try_` methods, for load that must count them rather than stop at the first).
//!
//! The in-process suites are written with NextAuth v4's cookie names (`next-auth.*`). When the
//! engine writes Auth.js v5's (`AUTH_TOKEN_FORMAT=authjs-v5`), the jar renames them on the wire,
//! both ways, so those suites run unchanged in every token format. Over HTTP or through a router
//! the jar keeps the names the wire has: the engine behind is not at hand to say its format, and
//! those suites read the names a real browser would. What else changes with v5's wire (`null` for
//! no session, v5's failure URLs) is said once, by [`Wire`].
//!
//! Included with `#[path]`.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use auth_runtime::{Auth, AuthDefinition, TokenFormat};
use bytes::Bytes;
use http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// Only the network fails: in process every request has an answer.
pub type Failure = reqwest::Error;

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// What a browser talks to.
pub trait Server {
    /// One request, its response. `peer` is the connection's address in process; over HTTP the
    /// socket has its own (see [`Browser::http`]).
    fn exchange(
        &self,
        request: Request<Bytes>,
        peer: Option<SocketAddr>,
    ) -> impl Future<Output = Result<Response<Bytes>, Failure>> + Send;

    /// The prefix the server gives the cookies the suites call `next-auth.*`, where the jar is
    /// to translate; `None` keeps the names the wire has.
    fn cookie_prefix(&self) -> Option<&'static str> {
        None
    }

    /// The wire the server speaks. Servers whose engine the suite cannot ask speak the one
    /// `AUTH_TOKEN_FORMAT` names, as every engine built without a format does.
    fn wire(&self) -> Wire {
        Wire::from_env()
    }
}

/// The engine alone: the request is given to `Auth::handle` as a host would.
impl<D: AuthDefinition> Server for Auth<D> {
    async fn exchange(
        &self,
        mut request: Request<Bytes>,
        peer: Option<SocketAddr>,
    ) -> Result<Response<Bytes>, Failure> {
        if let Some(peer) = peer {
            request
                .extensions_mut()
                .insert(auth_runtime::ClientAddr(peer));
        }
        Ok(self.handle(request).await)
    }

    fn cookie_prefix(&self) -> Option<&'static str> {
        Some(self.settings().token_format().cookie_prefix())
    }

    fn wire(&self) -> Wire {
        Wire::of(self.settings().token_format())
    }
}

/// An app's router: its own routes beside the engine's, the peer as `serve` hands it over.
impl Server for axum::Router {
    async fn exchange(
        &self,
        request: Request<Bytes>,
        peer: Option<SocketAddr>,
    ) -> Result<Response<Bytes>, Failure> {
        let (parts, body) = request.into_parts();
        let mut request = Request::from_parts(parts, axum::body::Body::from(body));
        if let Some(peer) = peer {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
        }
        let response = self.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        Ok(Response::from_parts(parts, bytes))
    }
}

/// Real HTTP. A path is joined to `origin` (change it to alternate between servers); an absolute
/// URL goes where it says, so one jar serves every port of 127.0.0.1 (cookies ignore ports, as
/// in a browser).
#[derive(Clone)]
pub struct Http {
    pub origin: String,
    pub http: reqwest::Client,
}

impl Server for Http {
    async fn exchange(
        &self,
        request: Request<Bytes>,
        _peer: Option<SocketAddr>,
    ) -> Result<Response<Bytes>, Failure> {
        let (parts, body) = request.into_parts();
        let url = match parts.uri.scheme() {
            Some(_) => parts.uri.to_string(),
            None => format!("{}{}", self.origin, parts.uri),
        };
        let response = self
            .http
            .request(parts.method, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut answer = Response::new(response.bytes().await?);
        *answer.status_mut() = status;
        *answer.headers_mut() = headers;
        Ok(answer)
    }
}

/// Which wire a server speaks, and so what a suite written against NextAuth v4's expects there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    NextAuthV4,
    AuthJsV5,
}

impl Wire {
    /// The wire of this run's engines when they do not pin a format (a pass of `.ci/run`).
    pub fn from_env() -> Wire {
        let v5 = std::env::var("AUTH_TOKEN_FORMAT").is_ok_and(|name| name.trim() == "authjs-v5");
        if v5 { Wire::AuthJsV5 } else { Wire::NextAuthV4 }
    }

    pub fn of(format: TokenFormat) -> Wire {
        match format {
            TokenFormat::AuthJsV5 => Wire::AuthJsV5,
            _ => Wire::NextAuthV4,
        }
    }

    /// The body of `/session` without a session: `{}` (v4) or `null` (v5).
    pub fn no_session(self) -> Value {
        match self {
            Wire::NextAuthV4 => serde_json::json!({}),
            Wire::AuthJsV5 => Value::Null,
        }
    }

    /// Where a POST without the right CSRF token to `page` (`signin`, `signout`) under `base`
    /// (`…/api/auth`) is sent: `{base}/{page}?csrf=true` (v4) or `{base}/signin?error=MissingCSRF`
    /// (v5).
    pub fn csrf_failure_url(self, base: &str, page: &str) -> String {
        match self {
            Wire::NextAuthV4 => format!("{base}/{page}?csrf=true"),
            Wire::AuthJsV5 => format!("{base}/signin?error=MissingCSRF"),
        }
    }

    /// The status of a wrong password: 401 (v4) or 200 (v5).
    pub fn wrong_password_status(self) -> StatusCode {
        match self {
            Wire::NextAuthV4 => StatusCode::UNAUTHORIZED,
            Wire::AuthJsV5 => StatusCode::OK,
        }
    }

    /// The status and `{url}` of a wrong password for `provider`: 401 and
    /// `{base}/error?error=CredentialsSignin&provider=…` (v4), or 200 and
    /// `{base}/signin?error=CredentialsSignin&code=credentials` (v5).
    pub fn credentials_refused(self, base: &str, provider: &str) -> (StatusCode, String) {
        let url = match self {
            Wire::NextAuthV4 => format!("{base}/error?error=CredentialsSignin&provider={provider}"),
            Wire::AuthJsV5 => format!("{base}/signin?error=CredentialsSignin&code=credentials"),
        };
        (self.wrong_password_status(), url)
    }
}

/// [`Wire::from_env`]'s expectations by name, for suites whose servers the browser cannot ask (or
/// that read them without a browser at hand).
pub mod wire {
    use super::Wire;

    pub fn speaks_v5() -> bool {
        Wire::from_env() == Wire::AuthJsV5
    }

    pub fn no_session() -> serde_json::Value {
        Wire::from_env().no_session()
    }

    pub fn wrong_password_status() -> http::StatusCode {
        Wire::from_env().wrong_password_status()
    }
}

/// The cookies a browser holds, by name: a map the suites read and write as they please (to plant,
/// steal or drop a cookie), which takes `Set-Cookie` lines and gives the `Cookie` header.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Jar(BTreeMap<String, String>);

impl Jar {
    /// The `Cookie` header, the names as a server with `prefix` writes them.
    pub fn header(&self, prefix: Option<&str>) -> String {
        self.0
            .iter()
            .map(|(name, value)| format!("{}={value}", to_wire(name, prefix)))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Keeps what a `Set-Cookie` line sets, or drops the cookie it deletes (empty, expired), and
    /// returns the line with the name as the suites call it.
    pub fn keep(&mut self, line: &str, prefix: Option<&str>) -> String {
        let (name, rest) = line
            .split_once('=')
            .expect("a Set-Cookie line names its cookie");
        let name = from_wire(name.trim(), prefix);
        let mut attributes = rest.split(';');
        let value = attributes.next().unwrap_or_default();
        if value.is_empty() || attributes.any(deletes) {
            self.0.remove(&name);
        } else {
            self.0.insert(name.clone(), value.to_owned());
        }
        format!("{name}={rest}")
    }
}

/// Whether a cookie attribute ends the cookie now: `Max-Age` of zero or less, or an `Expires` at
/// the epoch, as servers write a deletion.
fn deletes(attribute: &str) -> bool {
    let (key, value) = attribute.split_once('=').unwrap_or((attribute, ""));
    let (key, value) = (key.trim(), value.trim());
    (key.eq_ignore_ascii_case("max-age") && value.parse::<i64>().is_ok_and(|age| age <= 0))
        || (key.eq_ignore_ascii_case("expires") && value.contains("1970"))
}

fn to_wire(name: &str, prefix: Option<&str>) -> String {
    match prefix {
        Some(prefix) => name.replacen("next-auth.", &format!("{prefix}."), 1),
        None => name.to_owned(),
    }
}

fn from_wire(name: &str, prefix: Option<&str>) -> String {
    match prefix {
        Some(prefix) => name.replacen(&format!("{prefix}."), "next-auth.", 1),
        None => name.to_owned(),
    }
}

impl Deref for Jar {
    type Target = BTreeMap<String, String>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Jar {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl FromIterator<(String, String)> for Jar {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(cookies: I) -> Self {
        Jar(cookies.into_iter().collect())
    }
}

impl fmt::Debug for Jar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One response, with its `Set-Cookie` lines kept apart (named as the jar names them).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body as JSON, `Null` when it is not JSON (a page, an empty redirect); [`Reply::json`]
    /// where it must be JSON.
    pub body: Value,
    pub bytes: Bytes,
    pub set_cookies: Vec<String>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// The JSON `url` of a redirect-as-JSON reply.
    pub fn url(&self) -> String {
        self.json()["url"]
            .as_str()
            .unwrap_or_else(|| panic!("no url in {}", self.text()))
            .to_owned()
    }

    /// The `error` of the JSON `url`, if the reply has one that names an error.
    pub fn error(&self) -> Option<String> {
        error_of(self.body["url"].as_str()?)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    pub fn no_store(&self) -> bool {
        self.header("cache-control")
            .is_some_and(|v| v.contains("no-store"))
    }

    /// The `Set-Cookie` line for `name`, if any.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.set_cookies
            .iter()
            .find(|c| c.split('=').next() == Some(name))
            .map(String::as_str)
    }

    pub fn cookie_names(&self) -> Vec<&str> {
        self.set_cookies
            .iter()
            .filter_map(|c| c.split('=').next())
            .collect()
    }

    /// A failed OAuth callback: a redirect to `{base}/error?error={code}`, each of the `checks`
    /// cookies cleared (they are single-use), and no session cookie written.
    pub fn assert_oauth_failure(&self, base: &str, code: &str, checks: &[&str]) {
        assert_eq!(self.status, 302, "{}", self.text());
        assert_eq!(
            self.location(),
            Some(format!("{base}/error?error={code}").as_str()),
            "wrong error redirect"
        );
        for name in checks {
            assert!(
                self.set_cookies
                    .iter()
                    .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0")),
                "{name} not cleared: {:?}",
                self.set_cookies
            );
        }
        assert!(
            !self.set_cookies.iter().any(|c| c.contains("session-token")),
            "a failed OAuth sign-in touched the session: {:?}",
            self.set_cookies
        );
    }
}

/// A browser: a cookie jar, and the server it talks to.
#[derive(Clone)]
pub struct Browser<S> {
    pub server: S,
    pub jar: Jar,
    /// The connection's address the server sees in process (the engine's `ClientAddr`, a
    /// router's `ConnectInfo`), if any: guests need one.
    pub peer: Option<SocketAddr>,
    /// The `X-Forwarded-For` a proxy in front of the server adds, if there is one.
    pub forwarded_for: Option<String>,
    /// The `callbackUrl` of a sign-in whose fields name none, as `signIn` sends the page it is
    /// called on; `None` sends none.
    pub callback_url: Option<String>,
}

impl<D: AuthDefinition> Browser<Auth<D>> {
    /// The engine alone, as a host that passes no connection's address calls it (set `peer`
    /// where guests need one); sign-ins are made from the shop's page.
    pub fn engine(auth: Auth<D>) -> Self {
        Browser::with(auth, None, Some("http://127.0.0.1:3000/shop"))
    }

    /// [`Wire::csrf_failure_url`] at this engine.
    pub fn csrf_failure_url(&self, page: &str) -> String {
        let base = self.server.settings().base_url().as_str();
        self.server.wire().csrf_failure_url(base, page)
    }

    /// [`Wire::credentials_refused`] at this engine.
    pub fn credentials_refused(&self, provider: &str) -> (StatusCode, String) {
        let base = self.server.settings().base_url().as_str();
        self.server.wire().credentials_refused(base, provider)
    }
}

impl Browser<axum::Router> {
    /// An app's router, as `serve` serves it: a connection's address on every request.
    pub fn app(app: &axum::Router) -> Self {
        let peer = SocketAddr::from(([127, 0, 0, 1], 40000));
        Browser::with(app.clone(), Some(peer), Some("http://127.0.0.1:3000/"))
    }
}

impl Browser<Http> {
    /// Over HTTP to `origin`, its connections from `from` when given (the client address the
    /// guest limits see); sign-ins name no page, so the server picks where they land.
    pub fn http(origin: &str, from: Option<IpAddr>) -> Self {
        let mut http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60));
        if let Some(from) = from {
            http = http.local_address(from);
        }
        let server = Http {
            origin: origin.to_owned(),
            http: http.build().unwrap(),
        };
        Browser::with(server, None, None)
    }
}

impl<S: Server> Browser<S> {
    fn with(server: S, peer: Option<SocketAddr>, callback_url: Option<&str>) -> Self {
        Browser {
            server,
            jar: Jar::default(),
            peer,
            forwarded_for: None,
            callback_url: callback_url.map(str::to_owned),
        }
    }

    /// The `Cookie` header, with the names the server writes.
    pub fn cookie_header(&self) -> String {
        self.jar.header(self.server.cookie_prefix())
    }

    /// Sends `request` with the jar's cookies (unless it carries a `Cookie` header of its own),
    /// and keeps the cookies the answer sets.
    pub async fn try_exchange(
        &mut self,
        request: Request<impl Into<Bytes>>,
    ) -> Result<Reply, Failure> {
        let (mut parts, body) = request.into_parts();
        if !parts.headers.contains_key(COOKIE) && !self.jar.is_empty() {
            let cookies = self.cookie_header().parse().unwrap();
            parts.headers.insert(COOKIE, cookies);
        }
        if let Some(forwarded) = &self.forwarded_for {
            parts
                .headers
                .insert("x-forwarded-for", forwarded.parse().unwrap());
        }
        let request = Request::from_parts(parts, body.into());
        let (parts, bytes) = self.server.exchange(request, self.peer).await?.into_parts();
        let prefix = self.server.cookie_prefix();
        let set_cookies = parts
            .headers
            .get_all(SET_COOKIE)
            .iter()
            .map(|line| self.jar.keep(line.to_str().unwrap(), prefix))
            .collect();
        Ok(Reply {
            status: parts.status,
            headers: parts.headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            bytes,
            set_cookies,
        })
    }

    pub async fn exchange(&mut self, request: Request<impl Into<Bytes>>) -> Reply {
        self.try_exchange(request).await.unwrap()
    }

    pub async fn try_send(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Reply, Failure> {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(content_type) = content_type {
            request = request.header(CONTENT_TYPE, content_type);
        }
        self.try_exchange(request.body(body).unwrap()).await
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        self.try_send(method, path, content_type, body)
            .await
            .unwrap()
    }

    pub async fn try_get(&mut self, path: &str) -> Result<Reply, Failure> {
        self.try_send(Method::GET, path, None, Vec::new()).await
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.try_get(path).await.unwrap()
    }

    pub async fn try_post_form(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Result<Reply, Failure> {
        let body = form(fields).into_bytes();
        self.try_send(Method::POST, path, Some(FORM), body).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        self.try_post_form(path, fields).await.unwrap()
    }

    pub async fn try_post_json(&mut self, path: &str, value: &Value) -> Result<Reply, Failure> {
        let body = serde_json::to_vec(value).unwrap();
        self.try_send(Method::POST, path, Some(JSON), body).await
    }

    pub async fn post_json(&mut self, path: &str, value: &Value) -> Reply {
        self.try_post_json(path, value).await.unwrap()
    }

    /// The CSRF token, as the client's `getCsrfToken()` reads it.
    pub async fn csrf(&mut self) -> String {
        self.get("/api/auth/csrf").await.json()["csrfToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// What `signIn(provider, { redirect: false, ...fields })` sends: a CSRF token, then the
    /// callback. The first answer that is not a token is returned.
    pub async fn try_sign_in(
        &mut self,
        provider: &str,
        fields: &[(&str, &str)],
    ) -> Result<Reply, Failure> {
        let answer = self.try_get("/api/auth/csrf").await?;
        let Some(csrf) = answer.body["csrfToken"].as_str() else {
            return Ok(answer);
        };
        self.try_post_sign_in(provider, fields, csrf).await
    }

    pub async fn sign_in(&mut self, provider: &str, fields: &[(&str, &str)]) -> Reply {
        self.try_sign_in(provider, fields).await.unwrap()
    }

    /// The callback of a sign-in with a CSRF token read before (the same one in each of a
    /// double-submit's requests).
    pub async fn try_post_sign_in(
        &mut self,
        provider: &str,
        fields: &[(&str, &str)],
        csrf: &str,
    ) -> Result<Reply, Failure> {
        let path = format!("/api/auth/callback/{provider}");
        let callback_url = self.callback_url.clone();
        let all = sign_in_fields(fields, csrf, callback_url.as_deref());
        self.try_post_form(&path, &all).await
    }

    pub async fn post_sign_in(
        &mut self,
        provider: &str,
        fields: &[(&str, &str)],
        csrf: &str,
    ) -> Reply {
        self.try_post_sign_in(provider, fields, csrf).await.unwrap()
    }

    /// What `signIn(provider, { callbackUrl, ...fields }, query)` POSTs first for a sign-in that
    /// leaves the page (OAuth, an e-mail link): its answer's `{url}` is where to go next.
    pub async fn start_sign_in(
        &mut self,
        provider: &str,
        fields: &[(&str, &str)],
        query: &str,
    ) -> Reply {
        let csrf = self.csrf().await;
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        let callback_url = self.callback_url.clone();
        let all = sign_in_fields(fields, &csrf, callback_url.as_deref());
        self.post_form(&format!("/api/auth/signin/{provider}{query}"), &all)
            .await
    }

    /// `GET /session`, which answers 200 with or without a session.
    pub async fn session(&mut self) -> Value {
        let reply = self.get("/api/auth/session").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply.json()
    }

    /// Follows redirects from `url` (relative `Location`s resolved) until a non-redirect, and
    /// returns every URL visited, the last one included.
    pub async fn follow(&mut self, url: &str) -> (Vec<String>, Reply) {
        let mut visited = vec![url.to_owned()];
        let mut reply = self.get(url).await;
        for _ in 0..20 {
            let Some(location) = reply.location().filter(|_| reply.status.is_redirection()) else {
                return (visited, reply);
            };
            let here = visited.last().unwrap();
            let next = match reqwest::Url::parse(here) {
                Ok(here) => here.join(location).unwrap().to_string(),
                Err(_) => location.to_owned(),
            };
            visited.push(next.clone());
            reply = self.get(&next).await;
        }
        panic!("more than 20 redirects: {visited:?}");
    }

    /// Whether the server speaks Auth.js v5's wire.
    pub fn speaks_v5(&self) -> bool {
        self.server.wire() == Wire::AuthJsV5
    }

    /// [`Wire::no_session`] of the server.
    pub fn no_session(&self) -> Value {
        self.server.wire().no_session()
    }

    /// [`Browser::no_session`] as the text on the wire.
    pub fn no_session_text(&self) -> String {
        self.no_session().to_string()
    }

    pub fn session_cookies(&self) -> Vec<(String, String)> {
        self.jar
            .iter()
            .filter(|(name, _)| name.contains(".session-token"))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }

    pub fn session_cookie_names(&self) -> Vec<String> {
        self.session_cookies()
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }
}

/// A sign-in's form: what `signIn` adds to the caller's fields.
fn sign_in_fields<'a>(
    fields: &[(&'a str, &'a str)],
    csrf: &'a str,
    callback_url: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![("redirect", "false")];
    all.extend_from_slice(fields);
    all.extend([("csrfToken", csrf), ("json", "true")]);
    if let Some(callback_url) = callback_url
        && !fields.iter().any(|(name, _)| *name == "callbackUrl")
    {
        all.push(("callbackUrl", callback_url));
    }
    all
}

pub fn form(fields: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        serializer.append_pair(k, v);
    }
    serializer.finish()
}

/// The `error` query value of a URL.
pub fn error_of(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "error")
        .map(|(_, v)| v.into_owned())
}

/// A query parameter of an absolute URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
