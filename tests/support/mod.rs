//! An in-process client with a cookie jar, driving `Auth::handle` the way a browser would.
//!
//! The suites are written with NextAuth v4's cookie names (`next-auth.*`). When the engine writes
//! Auth.js v5's names (`AUTH_TOKEN_FORMAT=authjs-v5`), the client renames them on the wire, both
//! ways, so every suite runs unchanged in every token format. That format also speaks Auth.js
//! v5's wire (`null` for no session, v5's failure URLs): a suite asks the client what to expect
//! ([`Client::no_session`], [`Client::csrf_failure_url`], [`Client::credentials_refused`]).

#![allow(dead_code)]

use std::collections::BTreeMap;

use auth_runtime::{Auth, AuthDefinition};
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};

/// One response, with its `Set-Cookie` lines kept apart.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub set_cookies: Vec<String>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The JSON `url` of a redirect-as-JSON reply.
    pub fn url(&self) -> String {
        self.json()["url"]
            .as_str()
            .unwrap_or_else(|| panic!("no url in {}", self.text()))
            .to_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
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
}

/// A browser-like client: keeps cookies, drops deleted ones.
pub struct Client<D: AuthDefinition> {
    pub auth: Auth<D>,
    pub jar: BTreeMap<String, String>,
    /// The connection's address the engine sees (`ClientAddr`), if any: guests need one.
    pub peer: Option<std::net::SocketAddr>,
}

impl<D: AuthDefinition> Client<D> {
    pub fn new(auth: Auth<D>) -> Self {
        Client {
            auth,
            jar: BTreeMap::new(),
            peer: None,
        }
    }

    /// The `Cookie` header, with the names the engine writes.
    pub fn cookie_header(&self) -> String {
        let wire = self.auth.settings().token_format().cookie_prefix();
        self.jar
            .iter()
            .map(|(k, v)| format!("{}={v}", k.replacen("next-auth.", &format!("{wire}."), 1)))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if !self.jar.is_empty() {
            request = request.header("cookie", self.cookie_header());
        }
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        if let Some(peer) = self.peer {
            request = request.extension(auth_runtime::ClientAddr(peer));
        }
        let response = self
            .auth
            .handle(request.body(Bytes::from(body)).unwrap())
            .await;
        let (parts, body) = response.into_parts();
        let set_cookies: Vec<String> = parts
            .headers
            .get_all("set-cookie")
            .iter()
            .map(|v| {
                let line = v.to_str().unwrap();
                let wire = self.auth.settings().token_format().cookie_prefix();
                let (name, rest) = line.split_once('=').unwrap();
                format!(
                    "{}={rest}",
                    name.replacen(&format!("{wire}."), "next-auth.", 1)
                )
            })
            .collect();
        for line in &set_cookies {
            let pair = line.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || line.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
            set_cookies,
        }
    }

    pub async fn get(&mut self, path: &str) -> Reply {
        self.send(Method::GET, path, None, Vec::new()).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Reply {
        let body = form(fields);
        self.send(
            Method::POST,
            path,
            Some("application/x-www-form-urlencoded"),
            body.into_bytes(),
        )
        .await
    }

    pub async fn post_json(&mut self, path: &str, value: serde_json::Value) -> Reply {
        self.send(
            Method::POST,
            path,
            Some("application/json"),
            serde_json::to_vec(&value).unwrap(),
        )
        .await
    }

    pub async fn csrf(&mut self) -> String {
        self.get("/api/auth/csrf").await.json()["csrfToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// What `signIn(provider, { redirect: false, callbackUrl, ...fields })` sends.
    pub async fn sign_in(&mut self, provider: &str, fields: &[(&str, &str)]) -> Reply {
        let csrf = self.csrf().await;
        let mut all: Vec<(&str, &str)> = vec![("redirect", "false")];
        all.extend_from_slice(fields);
        all.push(("csrfToken", &csrf));
        all.push(("json", "true"));
        if !fields.iter().any(|(k, _)| *k == "callbackUrl") {
            all.push(("callbackUrl", "http://127.0.0.1:3000/shop"));
        }
        self.post_form(&format!("/api/auth/callback/{provider}"), &all)
            .await
    }

    pub async fn session(&mut self) -> serde_json::Value {
        let reply = self.get("/api/auth/session").await;
        assert_eq!(reply.status, StatusCode::OK);
        reply.json()
    }

    /// Whether the engine speaks Auth.js v5's wire (the `authjs-v5` token format).
    pub fn speaks_v5(&self) -> bool {
        self.auth.settings().token_format() == auth_runtime::TokenFormat::AuthJsV5
    }

    /// The body of `/session` without a session: `{}` (v4) or `null` (v5).
    pub fn no_session(&self) -> serde_json::Value {
        if self.speaks_v5() {
            serde_json::Value::Null
        } else {
            serde_json::json!({})
        }
    }

    /// [`Client::no_session`] as the text on the wire.
    pub fn no_session_text(&self) -> String {
        self.no_session().to_string()
    }

    /// Where a POST without the right CSRF token to `page` (`signin`, `signout`) is sent:
    /// `{base}/{page}?csrf=true` (v4) or `{base}/signin?error=MissingCSRF` (v5).
    pub fn csrf_failure_url(&self, page: &str) -> String {
        let base = self.auth.settings().base_url();
        if self.speaks_v5() {
            format!("{}?error=MissingCSRF", base.endpoint("signin"))
        } else {
            format!("{}?csrf=true", base.endpoint(page))
        }
    }

    /// The status and `{url}` of a wrong password for `provider`: 401 and
    /// `{base}/error?error=CredentialsSignin&provider=…` (v4), or 200 and
    /// `{base}/signin?error=CredentialsSignin&code=credentials` (v5).
    pub fn credentials_refused(&self, provider: &str) -> (StatusCode, String) {
        let base = self.auth.settings().base_url();
        if self.speaks_v5() {
            let url = format!(
                "{}?error=CredentialsSignin&code=credentials",
                base.endpoint("signin")
            );
            (StatusCode::OK, url)
        } else {
            let url = format!(
                "{}?error=CredentialsSignin&provider={provider}",
                base.endpoint("error")
            );
            (StatusCode::UNAUTHORIZED, url)
        }
    }

    pub fn session_cookie_names(&self) -> Vec<String> {
        self.jar
            .keys()
            .filter(|k| k.contains("session-token"))
            .cloned()
            .collect()
    }
}

pub fn form(fields: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        serializer.append_pair(k, v);
    }
    serializer.finish()
}

/// The `error` query value of an absolute URL.
pub fn error_of(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "error")
        .map(|(_, v)| v.into_owned())
}
