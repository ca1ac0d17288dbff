//! Reading the sessions of another app: a Rust API behind a Next.js app trusts the session
//! cookie that app's next-auth (or Auth.js) writes, given only the secret and the format, as
//! next-auth's `getToken` does, without serving the REST API.

use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::codec::{ClaimRules, DecodeError, LEEWAY_SECONDS, MAX_SECRETS, SessionCodec};
use super::{SessionError, bearer_token, cookie_tokens};
use crate::cookies::{CookieNames, RequestCookies};
use crate::error::ConfigError;
use crate::settings::MIN_SECRET_LEN;
use crate::tokens::TokenFormat;

/// Reads session tokens written by a next-auth v4 or Auth.js v5 app (or by this crate) from a
/// request: the session cookie (plain or `__Secure-`, chunked or not), else an
/// `Authorization: Bearer` header. It checks what next-auth's `getToken` checks (the token opens
/// under one of the secrets, `exp` with 15 s of leeway) and deserialises the claims into `T`.
/// There is no session version or guest store behind it: a token is valid until it expires.
///
/// ```
/// use auth_runtime::{TokenFormat, TokenReader};
///
/// #[derive(serde::Deserialize)]
/// struct Claims {
///     sub: Option<String>,
///     name: Option<String>,
/// }
///
/// let reader = TokenReader::<Claims>::new(TokenFormat::NextAuthV4, ["the-next-js-app-secret-0123456789"]).unwrap();
/// let headers = http::HeaderMap::new();
/// assert!(reader.read(&headers).is_err());
/// ```
pub struct TokenReader<T> {
    inner: Arc<Inner>,
    claims: PhantomData<fn() -> T>,
}

struct Inner {
    format: TokenFormat,
    /// The plain cookie name and its codec, then the `__Secure-` one (Auth.js v5 salts the key
    /// with the cookie's name, so each name has its own keys).
    names: [(String, SessionCodec); 2],
}

impl<T> Clone for TokenReader<T> {
    fn clone(&self) -> Self {
        TokenReader {
            inner: Arc::clone(&self.inner),
            claims: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for TokenReader<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenReader")
            .field("format", &self.inner.format)
            .field("cookie", &self.inner.names[0].0)
            .finish_non_exhaustive()
    }
}

/// A session token a [`TokenReader`] accepted.
#[derive(Debug, Clone)]
pub struct ReadToken<T> {
    /// The token's claims.
    pub claims: T,
    /// The guest id, when the token is a guest's session written by this crate (`gst`).
    pub guest_id: Option<String>,
}

impl<T: DeserializeOwned> TokenReader<T> {
    /// A reader for tokens in `format` under `secrets` (newest first, at most 8, each at least
    /// 16 bytes).
    pub fn new<I, S>(format: TokenFormat, secrets: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let secrets: Vec<S> = secrets.into_iter().collect();
        if secrets.is_empty() {
            return Err(ConfigError::MissingSecret);
        }
        if secrets.len() > MAX_SECRETS {
            return Err(ConfigError::InvalidSetting {
                name: "secrets",
                reason: format!(
                    "{} secrets given; at most {MAX_SECRETS} are kept",
                    secrets.len()
                ),
            });
        }
        if let Some(weak) = secrets.iter().find(|s| s.as_ref().len() < MIN_SECRET_LEN) {
            return Err(ConfigError::WeakSecret {
                len: weak.as_ref().len(),
            });
        }
        let codec = |name: &str| {
            let rules = ClaimRules {
                issuer: None,
                audience: None,
                leeway: LEEWAY_SECONDS,
            };
            (
                name.to_owned(),
                SessionCodec::new(format, &secrets, name, rules),
            )
        };
        let plain = CookieNames::for_format(format, false).session_token;
        let secure = CookieNames::for_format(format, true).session_token;
        Ok(TokenReader {
            inner: Arc::new(Inner {
                format,
                names: [codec(&plain), codec(&secure)],
            }),
            claims: PhantomData,
        })
    }

    /// A reader configured as the Next.js app is: `AUTH_SECRET` (or `NEXTAUTH_SECRET`, with
    /// older secrets in `AUTH_SECRET_1`, ...) and `AUTH_TOKEN_FORMAT` (default `nextauth-v4`).
    pub fn from_env() -> Result<Self, ConfigError> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let newest = env("AUTH_SECRET")
            .or_else(|| env("NEXTAUTH_SECRET"))
            .ok_or(ConfigError::MissingSecret)?;
        let older = (1..MAX_SECRETS).map_while(|i| env(&format!("AUTH_SECRET_{i}")));
        let secrets: Vec<String> = std::iter::once(newest).chain(older).collect();
        let format = match env("AUTH_TOKEN_FORMAT") {
            Some(name) => name
                .parse()
                .map_err(
                    |e: crate::tokens::UnknownTokenFormat| ConfigError::InvalidSetting {
                        name: "AUTH_TOKEN_FORMAT",
                        reason: e.to_string(),
                    },
                )?,
            None => TokenFormat::default(),
        };
        Self::new(format, secrets)
    }

    /// The format this reader reads.
    pub fn format(&self) -> TokenFormat {
        self.inner.format
    }

    /// The session token of a request: the session cookie (the `__Secure-` name first), else a
    /// Bearer token.
    pub fn read(&self, headers: &http::HeaderMap) -> Result<ReadToken<T>, SessionError> {
        let cookies = RequestCookies::from_headers(headers).map_err(|_| SessionError::Invalid)?;
        let now = crate::clock::now();
        let mut found = SessionError::Missing;
        for (name, codec) in self.inner.names.iter().rev() {
            match cookie_tokens(&cookies, name) {
                Ok(tokens) => {
                    for token in tokens {
                        match open(codec, &token, now) {
                            Ok(read) => return Ok(read),
                            Err(error) if found == SessionError::Missing => found = error,
                            Err(_) => {}
                        }
                    }
                }
                Err(error) => found = error,
            }
        }
        if found != SessionError::Missing {
            return Err(found);
        }
        let token = match bearer_token(headers) {
            Some(token) => token?,
            None => return Err(found),
        };
        // A Bearer token names no cookie: under Auth.js v5 either salt may be the one.
        let mut error = SessionError::Invalid;
        for (_, codec) in self.inner.names.iter().rev() {
            match open(codec, &token, now) {
                Ok(read) => return Ok(read),
                Err(e) => error = e,
            }
        }
        Err(error)
    }
}

fn open<T: DeserializeOwned>(
    codec: &SessionCodec,
    token: &str,
    now: i64,
) -> Result<ReadToken<T>, SessionError> {
    match codec.decode_any::<T>(token, now) {
        Ok(decoded) => Ok(ReadToken {
            claims: decoded.claims,
            guest_id: decoded.guest,
        }),
        Err(DecodeError::Expired) => Err(SessionError::Expired),
        Err(DecodeError::Invalid(why)) => {
            tracing::debug!(why, "session token refused");
            Err(SessionError::Invalid)
        }
    }
}
