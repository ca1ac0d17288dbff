//! Why a CAPTCHA configuration is refused, and why a request's CAPTCHA is.

use std::time::Duration;

use http::StatusCode;

use super::CaptchaProvider;

/// A CAPTCHA configuration the runtime refuses to start with. Each names the environment
/// variable (or the [`CaptchaConfig`](super::CaptchaConfig) setter) at fault and its value,
/// never the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CaptchaConfigError {
    /// A value that cannot be used.
    #[error("{setting}={value:?} is not valid: {expected}")]
    InvalidValue {
        /// The variable, e.g. `AUTH_CAPTCHA_TIMEOUT_MS`, or the setter.
        setting: &'static str,
        /// The value given.
        value: String,
        /// What would be accepted.
        expected: &'static str,
    },
    /// A provider without a secret key.
    #[error(
        "AUTH_CAPTCHA_SECRET is required with the CAPTCHA provider {provider}: set it to the \
         secret key the provider gave for this site"
    )]
    MissingSecret {
        /// The provider configured.
        provider: CaptchaProvider,
    },
    /// A CAPTCHA variable set while `AUTH_CAPTCHA_PROVIDER` is not: it would be ignored.
    #[error(
        "{variable} is set but AUTH_CAPTCHA_PROVIDER is not, so no CAPTCHA is checked: set \
         AUTH_CAPTCHA_PROVIDER (turnstile, hcaptcha or recaptcha) or remove {variable}"
    )]
    WithoutProvider {
        /// The variable that is set.
        variable: &'static str,
    },
    /// A minimum score for a provider whose answers have none to hold to it.
    #[error(
        "{setting}={value} only applies to reCAPTCHA v3, and the CAPTCHA provider is {provider}: \
         remove it, or use AUTH_CAPTCHA_PROVIDER=recaptcha"
    )]
    MinScoreWithoutScore {
        /// `AUTH_CAPTCHA_MIN_SCORE`, or the setter.
        setting: &'static str,
        /// The minimum given.
        value: String,
        /// The provider configured.
        provider: CaptchaProvider,
    },
    /// The HTTP client could not be built (the TLS stack failed to start).
    #[error("the CAPTCHA verifier's HTTP client could not be built: {0}")]
    Client(String),
}

/// Why a request's CAPTCHA was refused. [`code`](Self::code) and [`status`](Self::status) are
/// what to answer the client; the `Display` text is for the logs (it holds neither the token
/// nor the secret).
///
/// ```
/// use auth_runtime::captcha::CaptchaRefusal;
/// use http::StatusCode;
///
/// let refusal = CaptchaRefusal::Invalid { codes: vec!["timeout-or-duplicate".into()] };
/// assert_eq!(refusal.code(), "CaptchaInvalid");
/// assert_eq!(refusal.status(), StatusCode::FORBIDDEN);
/// assert_eq!(CaptchaRefusal::Missing.status(), StatusCode::BAD_REQUEST);
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CaptchaRefusal {
    /// No token, or an empty one: the client must solve the CAPTCHA (`400 CaptchaRequired`).
    #[error("no CAPTCHA token was sent")]
    Missing,
    /// The provider said the token is not good (forged, expired, used twice, for another
    /// site), or it was refused unsent for its shape (`403 CaptchaInvalid`).
    #[error("the CAPTCHA token was refused (error codes {codes:?})")]
    Invalid {
        /// The provider's `error-codes` (`invalid-input-response`, `timeout-or-duplicate`...).
        codes: Vec<String>,
    },
    /// reCAPTCHA v3 scored the request below the minimum (`403 CaptchaInvalid`).
    #[error("the CAPTCHA score {score} is below the minimum {min}")]
    LowScore {
        /// The score the provider gave, 0.0 (a bot) to 1.0 (a person).
        score: f64,
        /// The minimum configured.
        min: f64,
    },
    /// The token was made for another action than this request's (`403 CaptchaInvalid`):
    /// solved on another form, or on a page of the attacker's with this site's key.
    #[error("the CAPTCHA token was made for the action {actual:?}, not {expected:?}")]
    WrongAction {
        /// The action this request expects.
        expected: String,
        /// The action the provider reported, if any.
        actual: Option<String>,
    },
    /// The token could not be checked (`503 CaptchaUnavailable`). Only refused this way when
    /// the configuration fails closed, or when the fault is this server's own configuration.
    #[error("the CAPTCHA cannot be checked: {0}")]
    Unavailable(UnavailableReason),
}

impl CaptchaRefusal {
    /// The machine code for the client: `CaptchaRequired` (solve one and send its token),
    /// `CaptchaInvalid` (solve a new one), `CaptchaUnavailable` (try again later).
    pub fn code(&self) -> &'static str {
        match self {
            CaptchaRefusal::Missing => "CaptchaRequired",
            CaptchaRefusal::Invalid { .. }
            | CaptchaRefusal::LowScore { .. }
            | CaptchaRefusal::WrongAction { .. } => "CaptchaInvalid",
            CaptchaRefusal::Unavailable(_) => "CaptchaUnavailable",
        }
    }

    /// The HTTP status: 400 for a missing token, 403 for a refused one, 503 when it could not
    /// be checked.
    pub fn status(&self) -> StatusCode {
        match self {
            CaptchaRefusal::Missing => StatusCode::BAD_REQUEST,
            CaptchaRefusal::Invalid { .. }
            | CaptchaRefusal::LowScore { .. }
            | CaptchaRefusal::WrongAction { .. } => StatusCode::FORBIDDEN,
            CaptchaRefusal::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// Why a token could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnavailableReason {
    /// No connection, or it broke.
    #[error("the verify endpoint cannot be reached: {0}")]
    Unreachable(String),
    /// No whole answer within the configured timeout.
    #[error("the verify endpoint did not answer within {0:?}")]
    TimedOut(Duration),
    /// An answer whose status is not 2xx.
    #[error("the verify endpoint answered HTTP {0}")]
    Status(u16),
    /// An answer that is not the provider's JSON (or is too large to be).
    #[error("the verify endpoint's answer is not a siteverify answer: {0}")]
    BadAnswer(String),
    /// The provider said it failed inside (Turnstile's `internal-error`).
    #[error("the CAPTCHA provider failed to check the token (error codes {codes:?})")]
    ProviderFailed {
        /// The provider's `error-codes`.
        codes: Vec<String>,
    },
    /// The provider refused this server's secret key: a configuration fault, refused whether
    /// or not the configuration fails open.
    #[error(
        "the CAPTCHA provider refused the secret key (error codes {codes:?}): check \
         AUTH_CAPTCHA_SECRET"
    )]
    SecretRefused {
        /// The provider's `error-codes` (`invalid-input-secret`...).
        codes: Vec<String>,
    },
    /// reCAPTCHA said yes without a score: the secret is a reCAPTCHA v2 key, not a v3 one.
    /// A configuration fault, refused whether or not the configuration fails open.
    #[error(
        "reCAPTCHA answered without a score: AUTH_CAPTCHA_SECRET is a reCAPTCHA v2 key, not a \
         v3 one"
    )]
    NoScore,
}

impl UnavailableReason {
    /// Whether a configuration that fails open lets the request through: yes for an outage,
    /// no for this server's own misconfiguration (the CAPTCHA would silently check nothing).
    pub fn fails_open(&self) -> bool {
        !matches!(
            self,
            UnavailableReason::SecretRefused { .. } | UnavailableReason::NoScore
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_has_its_code_and_status() {
        let cases = [
            (CaptchaRefusal::Missing, "CaptchaRequired", 400),
            (
                CaptchaRefusal::Invalid { codes: Vec::new() },
                "CaptchaInvalid",
                403,
            ),
            (
                CaptchaRefusal::LowScore {
                    score: 0.1,
                    min: 0.5,
                },
                "CaptchaInvalid",
                403,
            ),
            (
                CaptchaRefusal::WrongAction {
                    expected: "login".into(),
                    actual: None,
                },
                "CaptchaInvalid",
                403,
            ),
            (
                CaptchaRefusal::Unavailable(UnavailableReason::Status(500)),
                "CaptchaUnavailable",
                503,
            ),
        ];
        for (refusal, code, status) in cases {
            assert_eq!(refusal.code(), code, "{refusal}");
            assert_eq!(refusal.status().as_u16(), status, "{refusal}");
        }
        assert!(UnavailableReason::TimedOut(Duration::from_secs(5)).fails_open());
        assert!(!UnavailableReason::NoScore.fails_open());
        assert!(!UnavailableReason::SecretRefused { codes: Vec::new() }.fails_open());
    }
}
