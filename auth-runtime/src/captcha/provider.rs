//! Which CAPTCHA service checks the tokens, and when a token is asked for.

use std::fmt;
use std::str::FromStr;

/// A CAPTCHA service whose `siteverify` endpoint checks the tokens its widget gives browsers.
/// All three take the same form POST (`secret`, `response`, `remoteip`) and answer
/// `{"success": bool, "error-codes": [..]}` with a few fields of their own.
///
/// ```
/// use auth_runtime::captcha::CaptchaProvider;
///
/// let provider: CaptchaProvider = "recaptcha".parse().unwrap();
/// assert_eq!(provider, CaptchaProvider::ReCaptchaV3);
/// assert_eq!(provider.to_string(), "recaptcha");
/// assert!(provider.default_verify_url().starts_with("https://www.google.com/"));
/// assert!("friendly".parse::<CaptchaProvider>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaptchaProvider {
    /// Cloudflare Turnstile (`turnstile`). Its answer also says the widget's `action`.
    Turnstile,
    /// hCaptcha (`hcaptcha`). Its answer has no `action`, and its enterprise `score` is a risk
    /// (higher is more likely a bot), so neither is checked.
    HCaptcha,
    /// Google reCAPTCHA v3 (`recaptcha`): its answer has a `score` from 0.0 (a bot) to 1.0 (a
    /// person), held to [`CaptchaConfig::min_score`](super::CaptchaConfig::min_score), and the
    /// `action` the page executed.
    ReCaptchaV3,
}

impl CaptchaProvider {
    /// Every provider, in the order the names are listed in errors.
    pub const ALL: [CaptchaProvider; 3] = [
        CaptchaProvider::Turnstile,
        CaptchaProvider::HCaptcha,
        CaptchaProvider::ReCaptchaV3,
    ];

    /// The name `AUTH_CAPTCHA_PROVIDER` takes.
    pub fn name(self) -> &'static str {
        match self {
            CaptchaProvider::Turnstile => "turnstile",
            CaptchaProvider::HCaptcha => "hcaptcha",
            CaptchaProvider::ReCaptchaV3 => "recaptcha",
        }
    }

    /// The provider's own `siteverify` endpoint.
    pub fn default_verify_url(self) -> &'static str {
        match self {
            CaptchaProvider::Turnstile => {
                "https://challenges.cloudflare.com/turnstile/v0/siteverify"
            }
            CaptchaProvider::HCaptcha => "https://api.hcaptcha.com/siteverify",
            CaptchaProvider::ReCaptchaV3 => "https://www.google.com/recaptcha/api/siteverify",
        }
    }

    /// Whether the answer carries a score this crate holds to a minimum.
    pub fn has_score(self) -> bool {
        self == CaptchaProvider::ReCaptchaV3
    }

    /// Whether the answer says the widget's action, so an expected one can be checked.
    pub fn reports_action(self) -> bool {
        self != CaptchaProvider::HCaptcha
    }
}

impl fmt::Display for CaptchaProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not `turnstile`, `hcaptcha` or `recaptcha`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown CAPTCHA provider {0:?}: use turnstile, hcaptcha or recaptcha")]
pub struct UnknownCaptchaProvider(pub String);

impl FromStr for CaptchaProvider {
    type Err = UnknownCaptchaProvider;

    /// Case and surrounding spaces do not matter.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let name = name.trim();
        CaptchaProvider::ALL
            .into_iter()
            .find(|provider| provider.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownCaptchaProvider(name.to_owned()))
    }
}

/// When a protected request must carry a CAPTCHA token.
///
/// ```
/// use auth_runtime::captcha::CaptchaMode;
///
/// assert_eq!("when-limited".parse(), Ok(CaptchaMode::WhenLimited));
/// assert_eq!(CaptchaMode::default(), CaptchaMode::Always);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CaptchaMode {
    /// On every protected request (`always`, the default).
    #[default]
    Always,
    /// Only once the client's budget of attempts runs low (`when-limited`): a person signing in
    /// normally never sees a challenge.
    WhenLimited,
}

impl CaptchaMode {
    /// The name `AUTH_CAPTCHA_MODE` takes.
    pub fn name(self) -> &'static str {
        match self {
            CaptchaMode::Always => "always",
            CaptchaMode::WhenLimited => "when-limited",
        }
    }
}

impl fmt::Display for CaptchaMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not `always` or `when-limited`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown CAPTCHA mode {0:?}: use always or when-limited")]
pub struct UnknownCaptchaMode(pub String);

impl FromStr for CaptchaMode {
    type Err = UnknownCaptchaMode;

    /// Case and surrounding spaces do not matter.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let name = name.trim();
        [CaptchaMode::Always, CaptchaMode::WhenLimited]
            .into_iter()
            .find(|mode| mode.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownCaptchaMode(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_value() {
        for provider in CaptchaProvider::ALL {
            assert_eq!(provider.name().parse(), Ok(provider));
            assert_eq!(
                provider.name().to_uppercase().parse::<CaptchaProvider>(),
                Ok(provider)
            );
            assert!(url::Url::parse(provider.default_verify_url()).is_ok());
        }
        for mode in [CaptchaMode::Always, CaptchaMode::WhenLimited] {
            assert_eq!(format!(" {mode} ").parse(), Ok(mode));
        }
        assert_eq!(
            "recaptcha-v2".parse::<CaptchaProvider>(),
            Err(UnknownCaptchaProvider("recaptcha-v2".to_owned()))
        );
        assert!("sometimes".parse::<CaptchaMode>().is_err());
    }
}
