//! A browser for the OAuth tests: follows redirects by hand with one cookie jar for 127.0.0.1
//! (cookies ignore ports, as in a browser), so every hop and every `Set-Cookie` is visible.

use std::collections::BTreeMap;
use std::time::Duration;

pub struct Browser {
    pub http: reqwest::Client,
    pub jar: BTreeMap<String, String>,
}

pub struct Page {
    pub status: u16,
    pub url: String,
    pub location: Option<String>,
    pub body: String,
    pub set_cookies: Vec<String>,
}

impl Page {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// A failed OAuth callback: a redirect to `{base}/error?error={code}`, each of the `checks`
    /// cookies cleared (they are single-use), and no session cookie written.
    pub fn assert_oauth_failure(&self, base: &str, code: &str, checks: &[&str]) {
        assert_eq!(self.status, 302, "{}", self.body);
        assert_eq!(
            self.location.as_deref(),
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

impl Default for Browser {
    fn default() -> Self {
        Browser::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
            jar: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = if self.jar.is_empty() {
            request
        } else {
            request.header("cookie", self.cookie_header())
        };
        let response = request.send().await.expect("request");
        let url = response.url().to_string();
        let status = response.status().as_u16();
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for line in &set_cookies {
            let pair = line.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let lower = line.to_ascii_lowercase();
            let expired = lower.contains("max-age=0") || lower.contains("expires=thu, 01 jan 1970");
            if value.is_empty() || expired {
                self.jar.remove(name.trim());
            } else {
                self.jar.insert(name.trim().to_owned(), value.to_owned());
            }
        }
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.text().await.unwrap_or_default();
        Page {
            status,
            url,
            location,
            body,
            set_cookies,
        }
    }

    pub async fn get(&mut self, url: &str) -> Page {
        let request = self.http.get(url);
        self.send(request).await
    }

    pub async fn post_form(&mut self, url: &str, fields: &[(&str, &str)]) -> Page {
        let request = self
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(fields));
        self.send(request).await
    }

    /// Follows redirects from `url` (relative `Location`s resolved) until a non-redirect, and
    /// returns every URL visited, the last one included.
    pub async fn follow(&mut self, url: &str) -> (Vec<String>, Page) {
        let mut visited = vec![url.to_owned()];
        let mut page = self.get(url).await;
        for _ in 0..20 {
            let Some(location) = page
                .location
                .clone()
                .filter(|_| (300..400).contains(&page.status))
            else {
                return (visited, page);
            };
            let next = reqwest::Url::parse(&page.url)
                .unwrap()
                .join(&location)
                .unwrap()
                .to_string();
            visited.push(next.clone());
            page = self.get(&next).await;
        }
        panic!("more than 20 redirects: {visited:?}");
    }

    /// The CSRF token, as the client's `getCsrfToken()` reads it.
    pub async fn csrf(&mut self, base: &str) -> String {
        self.get(&format!("{base}/csrf")).await.json()["csrfToken"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// `signIn('anon', { redirect: false })`.
    pub async fn sign_in_as_guest(&mut self, base: &str, callback_url: &str) -> Page {
        let csrf = self.csrf(base).await;
        self.post_form(
            &format!("{base}/callback/anon"),
            &[
                ("redirect", "false"),
                ("callbackUrl", callback_url),
                ("csrfToken", &csrf),
                ("json", "true"),
            ],
        )
        .await
    }

    /// What `signIn(provider, { callbackUrl }, params)` POSTs before navigating: `{url}`.
    pub async fn start_sign_in(
        &mut self,
        base: &str,
        provider: &str,
        callback_url: &str,
        query: &str,
    ) -> Page {
        let csrf = self.csrf(base).await;
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        self.post_form(
            &format!("{base}/signin/{provider}{query}"),
            &[
                ("callbackUrl", callback_url),
                ("csrfToken", &csrf),
                ("json", "true"),
            ],
        )
        .await
    }

    pub fn session_cookies(&self) -> Vec<(String, String)> {
        self.jar
            .iter()
            .filter(|(k, _)| k.contains(".session-token"))
            .map(|(k, v)| (k.clone(), v.clone()))
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

/// A query parameter of an absolute URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
