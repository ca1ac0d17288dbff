//! Server-side CAPTCHA checks (feature `captcha`, on by default): Cloudflare Turnstile,
//! hCaptcha and Google reCAPTCHA v3.
//!
//! The page runs the provider's widget, which gives the browser a token; the client sends it
//! with the request (the `x-captcha-response` header, or the `captchaToken` field that
//! `signIn(provider, { captchaToken })` posts, see [`token_from`]); [`Captcha::verify`] asks the
//! provider's `siteverify` endpoint whether the token is good, then holds the answer to the
//! configured minimum score (reCAPTCHA v3) and to the action the request expects.
//!
//! A refusal ([`CaptchaRefusal`]) says what to answer: `400 CaptchaRequired` without a token,
//! `403 CaptchaInvalid` for a refused one, `503 CaptchaUnavailable` when the provider cannot be
//! asked. An outage refuses requests unless the configuration fails open
//! (`AUTH_CAPTCHA_FAIL_OPEN=yes`), which lets them through with a warning in the log; a secret
//! the provider refuses is refused either way (failing open would check nothing, silently).
//! Neither the secret nor a token is ever logged.
//!
//! | Variable | Values | Default |
//! | --- | --- | --- |
//! | `AUTH_CAPTCHA_PROVIDER` | `turnstile`, `hcaptcha`, `recaptcha` | none: no CAPTCHA |
//! | `AUTH_CAPTCHA_SECRET` | the provider's secret key for the site | required with a provider |
//! | `AUTH_CAPTCHA_VERIFY_URL` | an http(s) URL | the provider's `siteverify` |
//! | `AUTH_CAPTCHA_MIN_SCORE` | 0.0 to 1.0, reCAPTCHA v3 only | 0.5 |
//! | `AUTH_CAPTCHA_MODE` | `always`, `when-limited` | `always` |
//! | `AUTH_CAPTCHA_TIMEOUT_MS` | 1 to 60000 | 5000 |
//! | `AUTH_CAPTCHA_FAIL_OPEN` | `yes`, `no` | `no` |
//!
//! ```no_run
//! use auth_runtime::captcha::{Captcha, CaptchaConfig, token_from};
//!
//! # async fn run(headers: http::HeaderMap, body: auth_runtime::RequestBody,
//! #              client: std::net::IpAddr) -> Result<(), Box<dyn std::error::Error>> {
//! let Some(config) = CaptchaConfig::from_env(|name| std::env::var(name).ok())? else {
//!     return Ok(()); // no AUTH_CAPTCHA_PROVIDER: no CAPTCHA
//! };
//! let captcha = Captcha::new(config)?;
//! // In a handler:
//! match captcha.verify(token_from(&headers, Some(&body)), Some(client), Some("login")).await {
//!     Ok(()) => { /* go on with the sign-in */ }
//!     Err(refusal) => {
//!         tracing::info!(%refusal, "CAPTCHA refused");
//!         // answer refusal.status() with {"error": refusal.code()}
//!     }
//! }
//! # Ok(()) }
//! ```

mod answer;
mod config;
mod error;
mod provider;
mod token;

pub use config::CaptchaConfig;
pub use error::{CaptchaConfigError, CaptchaRefusal, UnavailableReason};
pub use provider::{CaptchaMode, CaptchaProvider, UnknownCaptchaMode, UnknownCaptchaProvider};
pub use token::{MAX_TOKEN_LEN, TOKEN_FIELD, TOKEN_HEADER, token_from};
/// The URL type of [`CaptchaConfig::with_verify_url`], re-exported so that no other crate is needed.
pub use url::Url;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use url::Host;

use crate::http_client;
use crate::log_budget::{LogBudget, Verdict};
use answer::Answer;

/// The largest `siteverify` answer read: a real one is a few hundred bytes.
const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// The CAPTCHA verifier: one HTTP client and the configuration, cheap to clone (an `Arc`).
///
/// ```
/// use auth_runtime::captcha::{Captcha, CaptchaConfig, CaptchaMode, CaptchaProvider};
///
/// let config = CaptchaConfig::new(CaptchaProvider::Turnstile, "0x4AAAAAAA-secret")
///     .with_mode(CaptchaMode::WhenLimited);
/// let captcha = Captcha::new(config).unwrap();
/// assert_eq!(captcha.mode(), CaptchaMode::WhenLimited);
/// assert!(!format!("{captcha:?}").contains("0x4AAAAAAA-secret"));
/// ```
#[derive(Clone)]
pub struct Captcha {
    inner: Arc<Inner>,
}

struct Inner {
    config: CaptchaConfig,
    endpoint: Url,
    http: reqwest::Client,
    /// Outages can be caused by every request: their log lines are budgeted.
    outage_log: LogBudget,
}

impl fmt::Debug for Captcha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Captcha")
            .field("config", &self.inner.config)
            .field("endpoint", &self.inner.endpoint.as_str())
            .finish_non_exhaustive()
    }
}

impl Captcha {
    /// The verifier `config` describes, once it is checked ([`CaptchaConfig::validate`]). Its
    /// client follows no redirect and gives up after the configured timeout.
    pub fn new(config: CaptchaConfig) -> Result<Self, CaptchaConfigError> {
        config.validate()?;
        let endpoint = config.endpoint()?;
        if endpoint.scheme() == "http" && !is_loopback(&endpoint) {
            tracing::warn!(
                endpoint = endpoint.as_str(),
                "the CAPTCHA verify endpoint is plain http: the secret key crosses the network \
                 unencrypted"
            );
        }
        let http = http_client::build(config.timeout())
            .map_err(|error| CaptchaConfigError::Client(error.to_string()))?;
        Ok(Captcha {
            inner: Arc::new(Inner {
                config,
                endpoint,
                http,
                outage_log: LogBudget::new(1, 5),
            }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CaptchaConfig {
        &self.inner.config
    }

    /// When a token is asked for.
    pub fn mode(&self) -> CaptchaMode {
        self.inner.config.mode()
    }

    /// Checks `token` with the provider, telling it the client's address (`remote_ip`, which
    /// helps its judgement), and holds the answer to the minimum score (reCAPTCHA v3) and, where
    /// the provider reports one (Turnstile, reCAPTCHA v3; hCaptcha has none), to
    /// `expected_action`.
    ///
    /// A missing, empty or malformed token (longer than [`MAX_TOKEN_LEN`], control characters)
    /// is refused without asking. While the provider cannot be asked, the request is refused
    /// ([`CaptchaRefusal::Unavailable`]), or let through with a warning in the log if the
    /// configuration fails open.
    pub async fn verify(
        &self,
        token: Option<&str>,
        remote_ip: Option<IpAddr>,
        expected_action: Option<&str>,
    ) -> Result<(), CaptchaRefusal> {
        let token = token::checked(token)?;
        let config = &self.inner.config;
        let verdict = match self.ask(token, remote_ip).await {
            Ok(answer) => answer.judge(config.provider(), config.min_score(), expected_action),
            Err(reason) => Err(CaptchaRefusal::Unavailable(reason)),
        };
        match verdict {
            Err(CaptchaRefusal::Unavailable(reason)) => self.unavailable(reason),
            verdict => verdict,
        }
    }

    /// Lets the request through if the configuration fails open and the fault is an outage,
    /// else refuses it; says so in the log, within its budget.
    fn unavailable(&self, reason: UnavailableReason) -> Result<(), CaptchaRefusal> {
        let config = &self.inner.config;
        let let_through = config.fail_open() && reason.fails_open();
        if let Verdict::Write { dropped } = self.inner.outage_log.take() {
            let provider = config.provider().name();
            if let_through {
                tracing::warn!(
                    provider, %reason, dropped_since_last = dropped,
                    "the CAPTCHA cannot be checked; letting the request through \
                     (AUTH_CAPTCHA_FAIL_OPEN)"
                );
            } else if reason.fails_open() {
                tracing::warn!(
                    provider, %reason, dropped_since_last = dropped,
                    "the CAPTCHA cannot be checked; refusing the request"
                );
            } else {
                tracing::error!(
                    provider, %reason, dropped_since_last = dropped,
                    "the CAPTCHA configuration is wrong; refusing every request it protects"
                );
            }
        }
        if let_through {
            Ok(())
        } else {
            Err(CaptchaRefusal::Unavailable(reason))
        }
    }

    /// The provider's answer for `token`, whole within the timeout.
    async fn ask(
        &self,
        token: &str,
        remote_ip: Option<IpAddr>,
    ) -> Result<Answer, UnavailableReason> {
        let timeout = self.inner.config.timeout();
        // reqwest's own timeout bounds each request too; this one also covers reading the body.
        tokio::time::timeout(timeout, self.exchange(token, remote_ip))
            .await
            .unwrap_or(Err(UnavailableReason::TimedOut(timeout)))
    }

    async fn exchange(
        &self,
        token: &str,
        remote_ip: Option<IpAddr>,
    ) -> Result<Answer, UnavailableReason> {
        let timeout = self.inner.config.timeout();
        // Finished before the first await: the serializer is not `Send`.
        let form = {
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("secret", self.inner.config.secret())
                .append_pair("response", token);
            if let Some(ip) = remote_ip {
                // An IPv4 client seen through an IPv6 socket is sent as the IPv4 address it is.
                form.append_pair("remoteip", &ip.to_canonical().to_string());
            }
            form.finish()
        };
        let mut response = self
            .inner
            .http
            .post(self.inner.endpoint.clone())
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .body(form)
            .send()
            .await
            .map_err(|error| unreachable(error, timeout))?;
        let status = response.status();
        if !status.is_success() {
            return Err(UnavailableReason::Status(status.as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| unreachable(error, timeout))?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(UnavailableReason::BadAnswer(format!(
                    "larger than {MAX_ANSWER_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Answer::parse(&body)
    }
}

/// A transport failure, with its causes (never the request, which holds the secret).
fn unreachable(error: reqwest::Error, timeout: Duration) -> UnavailableReason {
    if error.is_timeout() {
        return UnavailableReason::TimedOut(timeout);
    }
    UnavailableReason::Unreachable(
        crate::http_client::describe(error)
            .chars()
            .filter(|c| !c.is_control())
            .take(300)
            .collect(),
    )
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests;
