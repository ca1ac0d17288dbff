//! Server-side CAPTCHA checks (feature `captcha`, on by default): Cloudflare Turnstile,
//! hCaptcha and Google reCAPTCHA v3.
//!
//! The page runs the provider's widget, which gives the browser a token; the client sends it
//! with the request (the `x-captcha-response` header, or the `captchaToken` field that
//! `signIn(provider, { captchaToken })` posts); the verifier asks the
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

mod config;
mod error;
mod provider;

pub use config::CaptchaConfig;
pub use error::{CaptchaConfigError, CaptchaRefusal, UnavailableReason};
pub use provider::{CaptchaMode, CaptchaProvider, UnknownCaptchaMode, UnknownCaptchaProvider};
