//! Run-time configuration: secret, public URL, lifetimes; from the environment or set in code.

use crate::base_url::BaseUrl;
use crate::cookies::CookieNames;
use crate::definition::{DefinedSettings, SessionStrategy};
use crate::error::ConfigError;
use crate::tokens::TokenFormat;

/// Default tolerance for clock skew between app servers when checking `exp`, `nbf` and `iat`,
/// as NextAuth does.
pub const LEEWAY_SECONDS: u64 = 15;
/// At most this many secrets are accepted at once (the newest writes, all read).
pub const MAX_SECRETS: usize = 8;
/// Default session lifetime: 30 days.
pub const DEFAULT_MAX_AGE: u64 = 30 * 24 * 60 * 60;
/// Default age after which a session read renews the token: 24 hours.
pub const DEFAULT_UPDATE_AGE: u64 = 24 * 60 * 60;
/// Default path of the auth API.
pub const DEFAULT_BASE_PATH: &str = "/api/auth";
/// Default limit on a request body.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;
/// The shortest secret accepted.
pub const MIN_SECRET_LEN: usize = 16;
/// The largest clock-skew leeway accepted, in seconds.
pub const MAX_LEEWAY: u64 = 300;

/// Settings given in code; anything left `None` comes from the environment or the default.
#[derive(Clone, Default)]
pub struct Overrides {
    pub(crate) secrets: Option<Vec<String>>,
    pub(crate) token_format: Option<TokenFormat>,
    pub(crate) url: Option<String>,
    pub(crate) leeway: Option<u64>,
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Option<String>,
    pub(crate) max_age: Option<u64>,
    pub(crate) update_age: Option<u64>,
    pub(crate) max_body_bytes: Option<usize>,
    pub(crate) redirect_origins: Vec<String>,
    pub(crate) debug: Option<bool>,
    pub(crate) strategy: Option<SessionStrategy>,
}

impl std::fmt::Debug for Overrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overrides")
            .field("secrets", &self.secrets.as_ref().map(|s| Redacted(s.len())))
            .field("token_format", &self.token_format)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Stands for secrets in `Debug` output: how many, never what.
struct Redacted(usize);

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{} secret(s) redacted]", self.0)
    }
}

/// The resolved configuration the engine runs with. Its `Debug` output never shows a secret.
#[derive(Clone)]
pub struct Settings {
    /// The newest secret: it signs tokens and mints CSRF cookies (`secrets[0]`).
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub(crate) secret: String,
    /// Newest first: the first signs tokens and mints CSRF cookies, all verify. Never empty.
    pub(crate) secrets: Vec<String>,
    pub(crate) token_format: TokenFormat,
    pub(crate) leeway: u64,
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) base: BaseUrl,
    pub(crate) secure: bool,
    pub(crate) cookies: CookieNames,
    pub(crate) max_age: u64,
    pub(crate) update_age: u64,
    pub(crate) max_body_bytes: usize,
    /// Origins other than ours that redirects may go to (`AuthBuilder::allow_redirect_origin`).
    pub(crate) redirect_origins: Vec<String>,
    /// `AUTH_DEBUG`: each protocol step of each request is logged, in a span with a request id.
    pub(crate) debug: bool,
    /// Where sessions live (`AUTH_SESSION_STRATEGY`, or the macro's `strategy`).
    pub(crate) strategy: SessionStrategy,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("secrets", &Redacted(self.secrets.len()))
            .field("token_format", &self.token_format)
            .field("base", &self.base.as_str())
            .field("secure", &self.secure)
            .field("cookies", &self.cookies)
            .field("max_age", &self.max_age)
            .field("update_age", &self.update_age)
            .field("leeway", &self.leeway)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("redirect_origins", &self.redirect_origins)
            .field("debug", &self.debug)
            .finish()
    }
}

impl Settings {
    /// Where a redirect may go: `candidate` if it is on our origin (see
    /// [`BaseUrl::resolve_redirect`]) or on an origin the app allowed; our origin otherwise.
    pub(crate) fn resolve_redirect(&self, candidate: &str) -> String {
        self.base
            .resolve_redirect_allowing(candidate, &self.redirect_origins)
    }

    /// Resolves settings: code overrides, then the environment, then the macro's values, then
    /// defaults. `env` looks a variable up (the process environment in production); `development`
    /// allows a generated secret (debug builds).
    pub(crate) fn resolve(
        defined: DefinedSettings,
        overrides: Overrides,
        env: impl Fn(&str) -> Option<String>,
        development: bool,
    ) -> Result<Self, ConfigError> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        // Newest first: AUTH_SECRET (or NEXTAUTH_SECRET), then AUTH_SECRET_1, AUTH_SECRET_2, ...
        // as Auth.js v5 reads them; the numbered ones are the older secrets still accepted.
        let secrets = match overrides.secrets {
            Some(secrets) => Some(secrets),
            None => env("AUTH_SECRET")
                .or_else(|| env("NEXTAUTH_SECRET"))
                .map(|newest| {
                    let older = (1..MAX_SECRETS).map_while(|i| env(&format!("AUTH_SECRET_{i}")));
                    std::iter::once(newest).chain(older).collect()
                }),
        };
        let secrets = match secrets {
            Some(secrets) if secrets.is_empty() => return Err(ConfigError::MissingSecret),
            Some(secrets) if secrets.len() > MAX_SECRETS => {
                return Err(ConfigError::InvalidSetting {
                    name: "secrets",
                    reason: format!(
                        "{} secrets given; at most {MAX_SECRETS} are kept",
                        secrets.len()
                    ),
                });
            }
            Some(secrets) => {
                if let Some(weak) = secrets.iter().find(|s| s.len() < MIN_SECRET_LEN) {
                    return Err(ConfigError::WeakSecret { len: weak.len() });
                }
                secrets
            }
            None if development => {
                let secret = crate::csrf::hex(&rand::random::<[u8; 32]>());
                tracing::warn!(
                    "AUTH_SECRET is not set: using a random secret for this process only. Sessions will not \
                     survive a restart and several servers cannot share them. Set AUTH_SECRET (for example \
                     `openssl rand -base64 32`); a release build refuses to start without it."
                );
                eprintln!(
                    "WARNING: AUTH_SECRET is not set; using a random development secret (see the log)."
                );
                vec![secret]
            }
            None => return Err(ConfigError::MissingSecret),
        };

        let defined_path = defined.base_path.unwrap_or(DEFAULT_BASE_PATH);
        let (variable, url) = match overrides.url {
            Some(url) => ("url", Some(url)),
            None => match env("AUTH_URL") {
                Some(url) => ("AUTH_URL", Some(url)),
                None => ("NEXTAUTH_URL", env("NEXTAUTH_URL")),
            },
        };
        let base = match url {
            Some(url) => BaseUrl::parse(variable, &url, defined_path)?,
            None => BaseUrl::localhost(defined_path),
        };
        if let Some(path) = defined.base_path
            && path != base.path()
        {
            return Err(ConfigError::InvalidSetting {
                name: "base_path",
                reason: format!(
                    "the macro sets {path:?} but {variable} has the path {:?}",
                    base.path()
                ),
            });
        }

        let max_age = overrides
            .max_age
            .or(defined.max_age)
            .unwrap_or(DEFAULT_MAX_AGE);
        let update_age = overrides
            .update_age
            .or(defined.update_age)
            .unwrap_or(DEFAULT_UPDATE_AGE.min(max_age));
        if max_age == 0 || max_age > i64::MAX as u64 / 2 {
            return Err(ConfigError::InvalidSetting {
                name: "max_age",
                reason: format!("{max_age} is out of range"),
            });
        }
        if update_age > max_age {
            return Err(ConfigError::InvalidSetting {
                name: "update_age",
                reason: format!("{update_age} is above max_age ({max_age})"),
            });
        }
        let redirect_origins = overrides
            .redirect_origins
            .iter()
            .map(|origin| {
                BaseUrl::origin_of(origin).ok_or_else(|| ConfigError::InvalidSetting {
                    name: "allow_redirect_origin",
                    reason: format!(
                        "{origin:?} is not an http(s) origin such as https://docs.example"
                    ),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let leeway = overrides.leeway.unwrap_or(LEEWAY_SECONDS);
        if leeway > MAX_LEEWAY {
            return Err(ConfigError::InvalidSetting {
                name: "leeway",
                reason: format!("{leeway} s is above {MAX_LEEWAY} s"),
            });
        }
        let issuer = overrides.issuer.unwrap_or_else(|| base.origin().to_owned());
        let audience = overrides
            .audience
            .unwrap_or_else(|| base.as_str().to_owned());
        if issuer.is_empty() || audience.is_empty() {
            return Err(ConfigError::InvalidSetting {
                name: "issuer",
                reason: "the token issuer and audience must not be empty".to_owned(),
            });
        }
        let debug = match overrides.debug {
            Some(debug) => debug,
            None => match env("AUTH_DEBUG") {
                Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" | "on" => true,
                    "0" | "false" | "no" | "off" => false,
                    _ => {
                        return Err(ConfigError::InvalidSetting {
                            name: "AUTH_DEBUG",
                            reason: format!("{value:?} is not true or false"),
                        });
                    }
                },
                None => defined.debug.unwrap_or(false),
            },
        };
        if debug {
            tracing::warn!(
                "AUTH_DEBUG is on: every protocol step is logged (never a secret or a token); \
                 turn it off in production"
            );
        }
        let token_format = match overrides.token_format {
            Some(format) => format,
            None => match env("AUTH_TOKEN_FORMAT") {
                Some(name) => name
                    .parse()
                    .map_err(|e: crate::tokens::UnknownTokenFormat| {
                        ConfigError::InvalidSetting {
                            name: "AUTH_TOKEN_FORMAT",
                            reason: e.to_string(),
                        }
                    })?,
                None => defined.token_format.unwrap_or_default(),
            },
        };
        let strategy = match overrides.strategy {
            Some(strategy) => strategy,
            None => match env("AUTH_SESSION_STRATEGY") {
                Some(value) => value
                    .parse()
                    .map_err(|reason| ConfigError::InvalidSetting {
                        name: "AUTH_SESSION_STRATEGY",
                        reason,
                    })?,
                None => defined.strategy.unwrap_or_default(),
            },
        };
        let secure = base.is_secure();
        Ok(Settings {
            secret: secrets[0].clone(),
            secrets,
            token_format,
            leeway,
            issuer,
            audience,
            cookies: CookieNames::for_format(token_format, secure),
            secure,
            base,
            max_age,
            update_age,
            max_body_bytes: overrides.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY),
            redirect_origins,
            debug,
            strategy,
        })
    }

    /// Where sessions live: in the token or in the database.
    pub fn strategy(&self) -> SessionStrategy {
        self.strategy
    }

    /// The public URL of the auth API.
    pub fn base_url(&self) -> &BaseUrl {
        &self.base
    }

    /// Session lifetime in seconds.
    pub fn max_age(&self) -> u64 {
        self.max_age
    }

    /// Age in seconds after which a read renews the session token.
    pub fn update_age(&self) -> u64 {
        self.update_age
    }

    /// The cookie names in use.
    pub fn cookie_names(&self) -> &CookieNames {
        &self.cookies
    }

    /// How many secrets verify tokens and CSRF cookies (the first of them signs).
    pub fn secret_count(&self) -> usize {
        self.secrets.len()
    }

    /// Tolerance in seconds for `exp`, `nbf` and `iat`.
    pub fn leeway(&self) -> u64 {
        self.leeway
    }

    /// The `iss` claim of session tokens (default: the public origin).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `aud` claim of session tokens (default: the auth API's URL).
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// How session tokens are written and read.
    pub fn token_format(&self) -> TokenFormat {
        self.token_format
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn reads_auth_then_nextauth_variables() {
        let s = Settings::resolve(
            DefinedSettings::default(),
            Overrides::default(),
            env(&[
                ("NEXTAUTH_SECRET", SECRET),
                ("NEXTAUTH_URL", "https://shop.example"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(s.base.as_str(), "https://shop.example/api/auth");
        assert!(s.secure);
        assert_eq!(s.cookies.csrf_token, "__Host-next-auth.csrf-token");
        let s = Settings::resolve(
            DefinedSettings::default(),
            Overrides::default(),
            env(&[
                ("AUTH_SECRET", SECRET),
                ("NEXTAUTH_SECRET", "ignored-ignored-ignored"),
                ("AUTH_URL", "http://h:1"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(
            (s.secrets[0].as_str(), s.base.as_str()),
            (SECRET, "http://h:1/api/auth")
        );
        assert_eq!(
            (s.max_age, s.update_age),
            (DEFAULT_MAX_AGE, DEFAULT_UPDATE_AGE)
        );
    }

    #[test]
    fn reads_older_secrets_for_rotation() {
        let s = Settings::resolve(
            DefinedSettings::default(),
            Overrides::default(),
            env(&[
                ("AUTH_SECRET", "newest-secret-0123456789"),
                ("AUTH_SECRET_1", "older-secret-0123456789"),
                ("AUTH_SECRET_2", "oldest-secret-0123456789"),
                ("AUTH_SECRET_4", "ignored-after-a-gap-0123"),
            ]),
            false,
        )
        .unwrap();
        assert_eq!(
            s.secrets,
            [
                "newest-secret-0123456789",
                "older-secret-0123456789",
                "oldest-secret-0123456789"
            ]
        );
        assert_eq!(s.secret, s.secrets[0]);
        assert_eq!(
            (s.issuer(), s.audience(), s.leeway()),
            (
                "http://localhost:3000",
                "http://localhost:3000/api/auth",
                15
            )
        );
        let weak_old = Settings::resolve(
            DefinedSettings::default(),
            Overrides::default(),
            env(&[("AUTH_SECRET", SECRET), ("AUTH_SECRET_1", "short")]),
            false,
        );
        assert!(matches!(weak_old, Err(ConfigError::WeakSecret { len: 5 })));
        let leeway = Overrides {
            leeway: Some(301),
            ..Overrides::default()
        };
        assert!(
            Settings::resolve(
                DefinedSettings::default(),
                leeway,
                env(&[("AUTH_SECRET", SECRET)]),
                false
            )
            .is_err()
        );
    }

    #[test]
    fn generates_a_secret_only_in_development() {
        let s = Settings::resolve(
            DefinedSettings::default(),
            Overrides::default(),
            env(&[]),
            true,
        )
        .unwrap();
        assert_eq!(s.secrets[0].len(), 64);
        assert_eq!(s.base.as_str(), "http://localhost:3000/api/auth");
        let refused = Settings::resolve(
            DefinedSettings::default(),
            Overrides::default(),
            env(&[]),
            false,
        );
        assert_eq!(refused.unwrap_err(), ConfigError::MissingSecret);
    }

    #[test]
    fn refuses_bad_settings() {
        let with = |defined, vars: &[(&str, &str)]| {
            Settings::resolve(defined, Overrides::default(), env(vars), false)
        };
        assert!(matches!(
            with(DefinedSettings::default(), &[("AUTH_SECRET", "short")]),
            Err(ConfigError::WeakSecret { len: 5 })
        ));
        let zero = DefinedSettings {
            max_age: Some(0),
            ..Default::default()
        };
        assert!(with(zero, &[("AUTH_SECRET", SECRET)]).is_err());
        let above = DefinedSettings {
            max_age: Some(10),
            update_age: Some(11),
            ..Default::default()
        };
        assert!(with(above, &[("AUTH_SECRET", SECRET)]).is_err());
        let path = DefinedSettings {
            base_path: Some("/auth"),
            ..Default::default()
        };
        assert!(
            with(
                path,
                &[("AUTH_SECRET", SECRET), ("AUTH_URL", "http://h/api/auth")]
            )
            .is_err()
        );
        assert!(with(path, &[("AUTH_SECRET", SECRET), ("AUTH_URL", "http://h")]).is_ok());
        assert!(
            with(
                DefinedSettings::default(),
                &[("AUTH_SECRET", SECRET), ("AUTH_URL", "mailto:x")]
            )
            .is_err()
        );
    }

    #[test]
    fn debug_comes_from_the_environment_over_the_macro_and_must_be_a_yes_or_a_no() {
        let with = |defined, vars: &[(&str, &str)]| {
            Settings::resolve(defined, Overrides::default(), env(vars), false)
        };
        let written = DefinedSettings {
            debug: Some(true),
            ..Default::default()
        };
        assert!(with(written, &[("AUTH_SECRET", SECRET)]).unwrap().debug);
        let off = with(written, &[("AUTH_SECRET", SECRET), ("AUTH_DEBUG", "0")]);
        assert!(!off.unwrap().debug);
        let on = with(
            DefinedSettings::default(),
            &[("AUTH_SECRET", SECRET), ("AUTH_DEBUG", " TRUE ")],
        );
        assert!(on.unwrap().debug);
        for hostile in ["maybe", "1; rm -rf /", "\u{0}"] {
            let error = with(
                DefinedSettings::default(),
                &[("AUTH_SECRET", SECRET), ("AUTH_DEBUG", hostile)],
            )
            .unwrap_err();
            assert!(error.to_string().contains("AUTH_DEBUG"), "{error}");
        }
        let redirect = Overrides {
            redirect_origins: vec!["javascript:alert(1)".into()],
            ..Overrides::default()
        };
        let error = Settings::resolve(
            DefinedSettings::default(),
            redirect,
            env(&[("AUTH_SECRET", SECRET)]),
            false,
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("allow_redirect_origin"),
            "{error}"
        );
    }
}
