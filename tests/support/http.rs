//! A browser over real HTTP (reqwest): a cookie jar, the origin it talks to (change it to
//! alternate between servers), and the local address its connections come from (the client
//! address the guest limits see). Failures of the network are returned by the `try_` methods,
//! for load that must count them rather than stop at the first.
//!
//! Included with `#[path]` by the suites that drive servers on loopback.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

/// A browser: a cookie jar, and the local address its connections come from.
#[derive(Clone)]
pub struct Browser {
    pub origin: String,
    pub http: reqwest::Client,
    pub jar: BTreeMap<String, String>,
}

/// A response: status, headers, and the body as JSON (`Null` when it is not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn no_store(&self) -> bool {
        self.headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("no-store"))
    }
}

impl Browser {
    pub fn new(origin: &str, from: IpAddr) -> Self {
        Browser {
            origin: origin.to_owned(),
            http: reqwest::Client::builder()
                .local_address(from)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            jar: BTreeMap::new(),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Sends `request` with the jar's cookies (or `cookie`), and keeps the cookies it sets.
    pub async fn try_send(
        &mut self,
        request: reqwest::RequestBuilder,
        cookie: Option<String>,
    ) -> Result<Answer, reqwest::Error> {
        let cookie = cookie.unwrap_or_else(|| self.cookie_header());
        let request = if cookie.is_empty() {
            request
        } else {
            request.header("cookie", cookie)
        };
        let response = request.send().await?;
        for line in response.headers().get_all("set-cookie") {
            let line = line.to_str().unwrap();
            let (name, value) = line.split(';').next().unwrap().split_once('=').unwrap();
            if value.is_empty() || line.contains("Max-Age=0") {
                self.jar.remove(name);
            } else {
                self.jar.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await?;
        Ok(Answer {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }

    pub async fn send(
        &mut self,
        request: reqwest::RequestBuilder,
        cookie: Option<String>,
    ) -> Answer {
        self.try_send(request, cookie).await.unwrap()
    }

    pub async fn try_get(&mut self, path: &str) -> Result<Answer, reqwest::Error> {
        let request = self.http.get(format!("{}{path}", self.origin));
        self.try_send(request, None).await
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.try_get(path).await.unwrap()
    }

    pub async fn try_post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<Answer, reqwest::Error> {
        let request = self.http.post(format!("{}{path}", self.origin)).form(form);
        self.try_send(request, None).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.try_post(path, form).await.unwrap()
    }

    pub async fn post_json(&mut self, path: &str, body: &Value) -> Answer {
        let request = self
            .http
            .post(format!("{}{path}", self.origin))
            .header("content-type", "application/json")
            .body(body.to_string());
        self.send(request, None).await
    }

    pub async fn csrf(&mut self) -> String {
        self.get("/api/auth/csrf").await.body["csrfToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A sign-in as `next-auth/react`'s `signIn(provider, { redirect: false })` makes it: a
    /// CSRF token, then the callback. The first answer that is not a token is returned.
    pub async fn try_sign_in(
        &mut self,
        provider: &str,
        fields: &[(&str, &str)],
    ) -> Result<Answer, reqwest::Error> {
        let csrf = self.try_get("/api/auth/csrf").await?;
        let Some(csrf) = csrf.body["csrfToken"].as_str() else {
            return Ok(csrf);
        };
        let mut form = fields.to_vec();
        form.extend([("csrfToken", csrf), ("json", "true")]);
        self.try_post(&format!("/api/auth/callback/{provider}"), &form)
            .await
    }

    pub async fn sign_in(&mut self, provider: &str, fields: &[(&str, &str)]) -> Answer {
        self.try_sign_in(provider, fields).await.unwrap()
    }

    pub async fn session(&mut self) -> Value {
        self.get("/api/auth/session").await.body
    }
}
