//! The CAPTCHA settings: written in code, then the `AUTH_CAPTCHA_*` variables over them.

use std::fmt;
use std::time::Duration;

use url::Url;

use super::{CaptchaConfigError, CaptchaMode, CaptchaProvider};

/// How tokens are checked: the provider and its secret key, where its `siteverify` endpoint is,
/// the minimum reCAPTCHA v3 score, when a token is asked for, how long a check may take, and
/// whether an outage lets requests through.
///
/// Settings written in code come first, then [`apply_env`](Self::apply_env) lays the
/// environment over them (the environment wins); [`from_env`](Self::from_env) reads the
/// environment alone. `Debug` never shows the secret.
///
/// ```
/// use std::time::Duration;
/// use auth_runtime::captcha::{CaptchaConfig, CaptchaMode, CaptchaProvider};
///
/// let written = CaptchaConfig::new(CaptchaProvider::ReCaptchaV3, "written-secret")
///     .with_min_score(0.7)
///     .with_mode(CaptchaMode::WhenLimited);
/// let env = |name: &str| match name {
///     "AUTH_CAPTCHA_SECRET" => Some("deployed-secret".to_owned()),
///     "AUTH_CAPTCHA_TIMEOUT_MS" => Some("2000".to_owned()),
///     _ => None,
/// };
/// let config = written.apply_env(env).unwrap();
/// assert_eq!(config.min_score(), 0.7);
/// assert_eq!(config.timeout(), Duration::from_secs(2));
/// assert!(!format!("{config:?}").contains("deployed-secret"));
///
/// // No AUTH_CAPTCHA_PROVIDER: no CAPTCHA.
/// assert_eq!(CaptchaConfig::from_env(|_| None), Ok(None));
/// ```
#[derive(Clone, PartialEq)]
pub struct CaptchaConfig {
    provider: CaptchaProvider,
    secret: String,
    verify_url: Option<Url>,
    /// `None` until set, so that a minimum given for a provider without scores is refused
    /// rather than ignored.
    min_score: Option<f64>,
    mode: CaptchaMode,
    timeout: Duration,
    fail_open: bool,
}

impl fmt::Debug for CaptchaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptchaConfig")
            .field("provider", &self.provider)
            .field("secret", &"[redacted]")
            .field("verify_url", &self.verify_url.as_ref().map(Url::as_str))
            .field("min_score", &self.min_score)
            .field("mode", &self.mode)
            .field("timeout", &self.timeout)
            .field("fail_open", &self.fail_open)
            .finish()
    }
}

const PROVIDER: &str = "AUTH_CAPTCHA_PROVIDER";
const SECRET: &str = "AUTH_CAPTCHA_SECRET";
const VERIFY_URL: &str = "AUTH_CAPTCHA_VERIFY_URL";
const MIN_SCORE: &str = "AUTH_CAPTCHA_MIN_SCORE";
const MODE: &str = "AUTH_CAPTCHA_MODE";
const TIMEOUT_MS: &str = "AUTH_CAPTCHA_TIMEOUT_MS";
const FAIL_OPEN: &str = "AUTH_CAPTCHA_FAIL_OPEN";

impl CaptchaConfig {
    /// The minimum reCAPTCHA v3 score unless one is set: Google's own suggestion.
    pub const DEFAULT_MIN_SCORE: f64 = 0.5;
    /// How long a check may take unless set, connecting included.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
    /// The longest timeout accepted: a sign-in should not wait longer on a CAPTCHA.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);

    /// The variables [`from_env`](Self::from_env) and [`apply_env`](Self::apply_env) read.
    pub const VARIABLES: [&'static str; 7] = [
        PROVIDER, SECRET, VERIFY_URL, MIN_SCORE, MODE, TIMEOUT_MS, FAIL_OPEN,
    ];

    /// `provider` checked with `secret` at its own endpoint; the defaults for the rest:
    /// tokens on every protected request, a 5 s timeout, failing closed.
    pub fn new(provider: CaptchaProvider, secret: impl Into<String>) -> Self {
        CaptchaConfig {
            provider,
            secret: secret.into(),
            verify_url: None,
            min_score: None,
            mode: CaptchaMode::default(),
            timeout: Self::DEFAULT_TIMEOUT,
            fail_open: false,
        }
    }

    /// Checks at `url` instead of the provider's endpoint (a proxy, a test server). Must be
    /// http(s).
    pub fn with_verify_url(mut self, url: Url) -> Self {
        self.verify_url = Some(url);
        self
    }

    /// Refuses reCAPTCHA v3 scores below `min` (0.0 to 1.0). Only for reCAPTCHA v3: set for
    /// another provider, [`Captcha::new`](super::Captcha::new) refuses the configuration.
    pub fn with_min_score(mut self, min: f64) -> Self {
        self.min_score = Some(min);
        self
    }

    /// When a token is asked for.
    pub fn with_mode(mut self, mode: CaptchaMode) -> Self {
        self.mode = mode;
        self
    }

    /// How long a check may take, connecting included (at most [`Self::MAX_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Whether a request goes through while the provider cannot be asked (down, slow, answering
    /// nonsense). Off by default: an outage refuses protected requests.
    pub fn with_fail_open(mut self, fail_open: bool) -> Self {
        self.fail_open = fail_open;
        self
    }

    /// The provider.
    pub fn provider(&self) -> CaptchaProvider {
        self.provider
    }

    /// The endpoint set instead of the provider's, if any.
    pub fn verify_url(&self) -> Option<&Url> {
        self.verify_url.as_ref()
    }

    /// The minimum reCAPTCHA v3 score ([`Self::DEFAULT_MIN_SCORE`] unless set).
    pub fn min_score(&self) -> f64 {
        self.min_score.unwrap_or(Self::DEFAULT_MIN_SCORE)
    }

    /// When a token is asked for.
    pub fn mode(&self) -> CaptchaMode {
        self.mode
    }

    /// How long a check may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Whether an outage lets requests through.
    pub fn fail_open(&self) -> bool {
        self.fail_open
    }

    pub(super) fn secret(&self) -> &str {
        &self.secret
    }

    /// The endpoint checks go to.
    pub(super) fn endpoint(&self) -> Result<Url, CaptchaConfigError> {
        match &self.verify_url {
            Some(url) => Ok(url.clone()),
            None => Url::parse(self.provider.default_verify_url()).map_err(|_| {
                CaptchaConfigError::InvalidValue {
                    setting: "CaptchaProvider::default_verify_url",
                    value: self.provider.default_verify_url().to_owned(),
                    expected: "an absolute URL",
                }
            }),
        }
    }

    /// The configuration `AUTH_CAPTCHA_*` describe, or `None` without `AUTH_CAPTCHA_PROVIDER`
    /// (then any other of them set is an error: it would be ignored). `var` reads a variable,
    /// `|name| std::env::var(name).ok()` in an application; an empty value counts as unset.
    pub fn from_env(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, CaptchaConfigError> {
        let var = |name: &str| read(&var, name);
        let Some(provider) = var(PROVIDER) else {
            if let Some(variable) = Self::VARIABLES.into_iter().find(|name| var(name).is_some()) {
                return Err(CaptchaConfigError::WithoutProvider { variable });
            }
            return Ok(None);
        };
        let provider = parse_provider(&provider)?;
        let secret = var(SECRET).ok_or(CaptchaConfigError::MissingSecret { provider })?;
        CaptchaConfig::new(provider, secret)
            .apply_env(var)
            .map(Some)
    }

    /// This configuration with every `AUTH_CAPTCHA_*` variable that `var` has laid over it (the
    /// environment wins), checked as a whole.
    pub fn apply_env(
        mut self,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, CaptchaConfigError> {
        let var = |name: &str| read(&var, name);
        if let Some(provider) = var(PROVIDER) {
            let provider = parse_provider(&provider)?;
            // The secret written for one provider is never sent to another.
            if provider != self.provider && var(SECRET).is_none() {
                return Err(CaptchaConfigError::MissingSecret { provider });
            }
            self.provider = provider;
        }
        if let Some(secret) = var(SECRET) {
            self.secret = secret;
        }
        if let Some(url) = var(VERIFY_URL) {
            self.verify_url = Some(parse_url(VERIFY_URL, &url)?);
        }
        if let Some(min) = var(MIN_SCORE) {
            let score = parse_score(MIN_SCORE, &min)?;
            if !self.provider.has_score() {
                return Err(CaptchaConfigError::MinScoreWithoutScore {
                    setting: MIN_SCORE,
                    value: min,
                    provider: self.provider,
                });
            }
            self.min_score = Some(score);
        }
        if let Some(mode) = var(MODE) {
            self.mode = mode
                .parse()
                .map_err(|_| invalid(MODE, &mode, "always or when-limited"))?;
        }
        if let Some(ms) = var(TIMEOUT_MS) {
            self.timeout = ms
                .parse::<u64>()
                .ok()
                .map(Duration::from_millis)
                .filter(|timeout| timeout_in_range(*timeout))
                .ok_or_else(|| invalid(TIMEOUT_MS, &ms, TIMEOUT_EXPECTED))?;
        }
        if let Some(flag) = var(FAIL_OPEN) {
            self.fail_open = match flag.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => return Err(invalid(FAIL_OPEN, &flag, "yes or no")),
            };
        }
        self.validate()?;
        Ok(self)
    }

    /// Checks the settings written in code (the environment's are checked as they are read):
    /// a secret, an http(s) endpoint, a minimum score only for reCAPTCHA v3 and within 0.0 to
    /// 1.0, a timeout from 1 ms to [`Self::MAX_TIMEOUT`].
    pub fn validate(&self) -> Result<(), CaptchaConfigError> {
        if self.secret.trim().is_empty() {
            return Err(CaptchaConfigError::MissingSecret {
                provider: self.provider,
            });
        }
        if let Some(url) = &self.verify_url {
            parse_url("CaptchaConfig::with_verify_url", url.as_str())?;
        }
        if let Some(min) = self.min_score {
            let setting = "CaptchaConfig::with_min_score";
            parse_score(setting, &min.to_string())?;
            if !self.provider.has_score() {
                return Err(CaptchaConfigError::MinScoreWithoutScore {
                    setting,
                    value: min.to_string(),
                    provider: self.provider,
                });
            }
        }
        if !timeout_in_range(self.timeout) {
            return Err(invalid(
                "CaptchaConfig::with_timeout",
                &format!("{:?}", self.timeout),
                TIMEOUT_EXPECTED,
            ));
        }
        Ok(())
    }
}

const TIMEOUT_EXPECTED: &str = "a whole number of milliseconds from 1 to 60000";

/// A variable's value, trimmed; empty counts as unset (`VAR=` in a compose file).
fn read(var: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    var(name)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

fn invalid(setting: &'static str, value: &str, expected: &'static str) -> CaptchaConfigError {
    CaptchaConfigError::InvalidValue {
        setting,
        value: value.to_owned(),
        expected,
    }
}

fn parse_provider(value: &str) -> Result<CaptchaProvider, CaptchaConfigError> {
    value
        .parse()
        .map_err(|_| invalid(PROVIDER, value, "turnstile, hcaptcha or recaptcha"))
}

fn parse_url(setting: &'static str, value: &str) -> Result<Url, CaptchaConfigError> {
    let expected = "an absolute http(s) URL with a host";
    let url = Url::parse(value).map_err(|_| invalid(setting, value, expected))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(setting, value, expected));
    }
    Ok(url)
}

fn parse_score(setting: &'static str, value: &str) -> Result<f64, CaptchaConfigError> {
    value
        .parse::<f64>()
        .ok()
        .filter(|score| (0.0..=1.0).contains(score))
        .ok_or_else(|| invalid(setting, value, "a number from 0.0 to 1.0"))
}

fn timeout_in_range(timeout: Duration) -> bool {
    !timeout.is_zero() && timeout <= CaptchaConfig::MAX_TIMEOUT
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn from_env(pairs: &[(&str, &str)]) -> Result<Option<CaptchaConfig>, CaptchaConfigError> {
        CaptchaConfig::from_env(vars(pairs))
    }

    /// The error for `pairs`, which must name `variable` and, if given, `value`.
    fn refused(pairs: &[(&str, &str)], variable: &str, value: Option<&str>) -> CaptchaConfigError {
        let error = from_env(pairs).expect_err("refused");
        let text = error.to_string();
        assert!(text.contains(variable), "{text}");
        if let Some(value) = value {
            assert!(text.contains(value), "{text}");
        }
        error
    }

    #[test]
    fn without_a_provider_there_is_no_captcha_and_no_other_variable() {
        assert_eq!(from_env(&[]), Ok(None));
        assert_eq!(from_env(&[(PROVIDER, "  ")]), Ok(None));
        for variable in CaptchaConfig::VARIABLES.into_iter().skip(1) {
            let error = refused(&[(variable, "x")], variable, None);
            assert_eq!(error, CaptchaConfigError::WithoutProvider { variable });
        }
    }

    #[test]
    fn a_provider_and_a_secret_give_the_defaults() {
        for (name, provider) in [
            ("turnstile", CaptchaProvider::Turnstile),
            ("HCaptcha", CaptchaProvider::HCaptcha),
            (" recaptcha ", CaptchaProvider::ReCaptchaV3),
        ] {
            let config = from_env(&[(PROVIDER, name), (SECRET, " s3cret\n")])
                .unwrap()
                .unwrap();
            assert_eq!(config, CaptchaConfig::new(provider, "s3cret"));
            assert_eq!(config.mode(), CaptchaMode::Always);
            assert_eq!(config.timeout(), Duration::from_secs(5));
            assert_eq!(config.min_score(), 0.5);
            assert!(!config.fail_open());
            assert_eq!(
                config.endpoint().unwrap().as_str(),
                provider.default_verify_url()
            );
        }
    }

    #[test]
    fn every_variable_is_read() {
        let config = from_env(&[
            (PROVIDER, "recaptcha"),
            (SECRET, "s"),
            (VERIFY_URL, "http://127.0.0.1:9/siteverify"),
            (MIN_SCORE, "0.7"),
            (MODE, "when-limited"),
            (TIMEOUT_MS, "1500"),
            (FAIL_OPEN, "yes"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(config.provider(), CaptchaProvider::ReCaptchaV3);
        assert_eq!(
            config.verify_url().map(Url::as_str),
            Some("http://127.0.0.1:9/siteverify")
        );
        assert_eq!(config.min_score(), 0.7);
        assert_eq!(config.mode(), CaptchaMode::WhenLimited);
        assert_eq!(config.timeout(), Duration::from_millis(1500));
        assert!(config.fail_open());
        for (value, open) in [("no", false), ("ON", true), ("0", false), ("true", true)] {
            let config = from_env(&[(PROVIDER, "hcaptcha"), (SECRET, "s"), (FAIL_OPEN, value)]);
            assert_eq!(config.unwrap().unwrap().fail_open(), open, "{value}");
        }
        for score in ["0", "1", "1.0", "0.25"] {
            let config = from_env(&[(PROVIDER, "recaptcha"), (SECRET, "s"), (MIN_SCORE, score)]);
            assert!(config.is_ok(), "{score}");
        }
        let slowest = from_env(&[
            (PROVIDER, "turnstile"),
            (SECRET, "s"),
            (TIMEOUT_MS, "60000"),
        ]);
        assert_eq!(slowest.unwrap().unwrap().timeout(), Duration::from_secs(60));
    }

    #[test]
    fn every_bad_value_is_an_error_naming_the_variable_and_the_value() {
        let with = |variable: &'static str, value: &'static str| {
            vec![(PROVIDER, "recaptcha"), (SECRET, "s"), (variable, value)]
        };
        let bad = [
            (PROVIDER, "friendlycaptcha"),
            (VERIFY_URL, "not a url"),
            (VERIFY_URL, "ftp://files.example/siteverify"),
            (VERIFY_URL, "file:///etc/passwd"),
            (VERIFY_URL, "/siteverify"),
            (MIN_SCORE, "high"),
            (MIN_SCORE, "1.5"),
            (MIN_SCORE, "-0.1"),
            (MIN_SCORE, "NaN"),
            (MODE, "sometimes"),
            (TIMEOUT_MS, "0"),
            (TIMEOUT_MS, "-5"),
            (TIMEOUT_MS, "5s"),
            (TIMEOUT_MS, "60001"),
            (TIMEOUT_MS, "99999999999999999999999"),
            (FAIL_OPEN, "maybe"),
        ];
        for (variable, value) in bad {
            let error = refused(&with(variable, value), variable, Some(value));
            assert!(
                matches!(error, CaptchaConfigError::InvalidValue { setting, .. } if setting == variable),
                "{error:?}"
            );
        }
    }

    #[test]
    fn a_provider_needs_its_secret() {
        for secret in [None, Some(""), Some("   ")] {
            let mut pairs = vec![(PROVIDER, "turnstile")];
            pairs.extend(secret.map(|s| (SECRET, s)));
            let error = refused(&pairs, SECRET, Some("turnstile"));
            assert_eq!(
                error,
                CaptchaConfigError::MissingSecret {
                    provider: CaptchaProvider::Turnstile
                }
            );
        }
    }

    #[test]
    fn a_minimum_score_is_refused_for_a_provider_without_scores() {
        for provider in ["turnstile", "hcaptcha"] {
            let error = refused(
                &[(PROVIDER, provider), (SECRET, "s"), (MIN_SCORE, "0.7")],
                MIN_SCORE,
                Some("0.7"),
            );
            assert!(error.to_string().contains(provider), "{error}");
        }
        // Written in code for reCAPTCHA, then the deployment switches to Turnstile.
        let written = CaptchaConfig::new(CaptchaProvider::ReCaptchaV3, "s").with_min_score(0.7);
        let error = written.apply_env(vars(&[(PROVIDER, "turnstile"), (SECRET, "t")]));
        assert!(matches!(
            error,
            Err(CaptchaConfigError::MinScoreWithoutScore {
                provider: CaptchaProvider::Turnstile,
                ..
            })
        ));
    }

    #[test]
    fn the_environment_wins_over_what_the_code_wrote() {
        let written = CaptchaConfig::new(CaptchaProvider::Turnstile, "written")
            .with_mode(CaptchaMode::WhenLimited)
            .with_timeout(Duration::from_secs(3))
            .with_fail_open(true);
        // Nothing set: unchanged.
        assert_eq!(written.clone().apply_env(vars(&[])), Ok(written.clone()));
        let config = written
            .apply_env(vars(&[
                (PROVIDER, "hcaptcha"),
                (SECRET, "deployed"),
                (MODE, "always"),
                (FAIL_OPEN, "no"),
                (VERIFY_URL, "https://proxy.example/siteverify"),
            ]))
            .unwrap();
        assert_eq!(config.provider(), CaptchaProvider::HCaptcha);
        assert_eq!(config.secret(), "deployed");
        assert_eq!(config.mode(), CaptchaMode::Always);
        assert_eq!(config.timeout(), Duration::from_secs(3));
        assert!(!config.fail_open());
        assert_eq!(
            config.endpoint().unwrap().as_str(),
            "https://proxy.example/siteverify"
        );
    }

    #[test]
    fn switching_the_provider_needs_its_own_secret() {
        let written = CaptchaConfig::new(CaptchaProvider::Turnstile, "turnstile-secret");
        let switched = written.clone().apply_env(vars(&[(PROVIDER, "hcaptcha")]));
        assert_eq!(
            switched,
            Err(CaptchaConfigError::MissingSecret {
                provider: CaptchaProvider::HCaptcha
            })
        );
        // Naming the same provider again is no switch.
        let same = written.clone().apply_env(vars(&[(PROVIDER, "turnstile")]));
        assert_eq!(same, Ok(written));
    }

    #[test]
    fn settings_written_in_code_are_checked_too() {
        let base = || CaptchaConfig::new(CaptchaProvider::ReCaptchaV3, "s");
        assert_eq!(base().validate(), Ok(()));
        assert!(matches!(
            CaptchaConfig::new(CaptchaProvider::Turnstile, " ").validate(),
            Err(CaptchaConfigError::MissingSecret { .. })
        ));
        for bad in [
            base().with_min_score(1.01),
            base().with_min_score(f64::NAN),
            base().with_timeout(Duration::ZERO),
            base().with_timeout(Duration::from_secs(61)),
            base().with_verify_url(Url::parse("ftp://files.example/").unwrap()),
        ] {
            let error = bad.validate().expect_err("refused");
            assert!(
                error.to_string().contains("CaptchaConfig::with_"),
                "{error}"
            );
        }
        let hcaptcha = CaptchaConfig::new(CaptchaProvider::HCaptcha, "s").with_min_score(0.5);
        assert!(matches!(
            hcaptcha.validate(),
            Err(CaptchaConfigError::MinScoreWithoutScore { .. })
        ));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let config = CaptchaConfig::new(CaptchaProvider::Turnstile, "0x4AAAAAAA-very-secret");
        let debug = format!("{config:?}");
        assert!(!debug.contains("very-secret"), "{debug}");
        assert!(
            debug.contains("[redacted]") && debug.contains("Turnstile"),
            "{debug}"
        );
    }
}
