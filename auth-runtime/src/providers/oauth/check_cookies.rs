//! The OAuth check cookies: `state`, the PKCE `code_verifier` and the OpenID Connect `nonce`.
//!
//! Each holds `{value, provider, exp}` signed with HS256 under a key derived from the secret and
//! the cookie's purpose (never the session key), lives 15 minutes, is HttpOnly and SameSite=Lax
//! (`__Secure-` prefixed over https), and is cleared as soon as a callback reads it.

use hkdf::Hkdf;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::cookies::{self, Lifetime, RequestCookies};

/// How long a sign-in may take at the provider: 15 minutes, as NextAuth.
pub(crate) const MAX_AGE: i64 = 15 * 60;

/// Which check a cookie carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    State,
    Pkce,
    Nonce,
}

impl Check {
    pub(crate) const ALL: [Check; 3] = [Check::State, Check::Pkce, Check::Nonce];

    fn base_name(self) -> &'static str {
        match self {
            Check::State => "next-auth.state",
            Check::Pkce => "next-auth.pkce.code_verifier",
            Check::Nonce => "next-auth.nonce",
        }
    }

    /// The cookie name, `__Secure-` prefixed over https.
    pub(crate) fn cookie_name(self, secure: bool) -> String {
        if secure {
            format!("__Secure-{}", self.base_name())
        } else {
            self.base_name().to_owned()
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    value: String,
    provider: String,
    exp: i64,
}

struct Key {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// Signs and verifies check cookies.
pub(crate) struct CheckCookies {
    keys: [Key; 3],
    secure: bool,
    validation: Validation,
}

impl std::fmt::Debug for CheckCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckCookies")
            .field("secure", &self.secure)
            .finish_non_exhaustive()
    }
}

/// Why a check cookie was refused. None of these carries the cookie's value.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CheckError {
    #[error("the {0:?} check cookie is missing")]
    Missing(Check),
    #[error("the {0:?} check cookie is forged, expired or malformed")]
    Invalid(Check),
    #[error("the {0:?} check cookie belongs to another provider")]
    WrongProvider(Check),
    #[error("could not sign the {0:?} check cookie")]
    Sign(Check),
}

impl CheckCookies {
    pub(crate) fn new(secret: &str, secure: bool) -> Self {
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        let key = |check: Check| {
            let mut bytes = [0u8; 32];
            let info = format!("auth-runtime oauth check cookie {}", check.base_name());
            // 32 bytes is always a valid HKDF-SHA256 output length, so this never fails.
            let _ =
                Hkdf::<Sha256>::new(None, secret.as_bytes()).expand(info.as_bytes(), &mut bytes);
            Key {
                encoding: EncodingKey::from_secret(&bytes),
                decoding: DecodingKey::from_secret(&bytes),
            }
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp"]);
        validation.validate_aud = false;
        CheckCookies {
            keys: [key(Check::State), key(Check::Pkce), key(Check::Nonce)],
            secure,
            validation,
        }
    }

    fn key(&self, check: Check) -> &Key {
        &self.keys[check as usize]
    }

    /// The `Set-Cookie` line storing `value` for `provider` until `now + 15 min`.
    pub(crate) fn set(
        &self,
        check: Check,
        provider: &str,
        value: &str,
        now: i64,
    ) -> Result<String, CheckError> {
        let exp = now + MAX_AGE;
        let payload = Payload {
            value: value.to_owned(),
            provider: provider.to_owned(),
            exp,
        };
        let jwt = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &payload,
            &self.key(check).encoding,
        )
        .map_err(|_| CheckError::Sign(check))?;
        let mut line = cookies::set_cookie(
            &check.cookie_name(self.secure),
            &jwt,
            Lifetime::Until(exp),
            self.secure,
        );
        line.push_str(&format!("; Max-Age={MAX_AGE}"));
        Ok(line)
    }

    /// The verified value of a check cookie, which must belong to `provider`.
    pub(crate) fn get(
        &self,
        check: Check,
        provider: &str,
        cookies: &RequestCookies<'_>,
    ) -> Result<String, CheckError> {
        let raw = cookies
            .get(&check.cookie_name(self.secure))
            .filter(|v| !v.is_empty())
            .ok_or(CheckError::Missing(check))?;
        let payload = jsonwebtoken::decode::<Payload>(
            raw.as_bytes(),
            &self.key(check).decoding,
            &self.validation,
        )
        .map_err(|_| CheckError::Invalid(check))?
        .claims;
        if payload.provider != provider {
            return Err(CheckError::WrongProvider(check));
        }
        Ok(payload.value)
    }

    /// `Set-Cookie` lines deleting every check cookie (`Max-Age=0`).
    pub(crate) fn clear_all(&self) -> Vec<String> {
        Check::ALL
            .iter()
            .map(|check| {
                cookies::set_cookie(
                    &check.cookie_name(self.secure),
                    "",
                    Lifetime::Delete,
                    self.secure,
                )
            })
            .collect()
    }
}

/// Constant-time equality of two secrets (the `state` returned by the provider and the cookie's).
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "check-cookie-test-secret-0123456789";

    fn jar(line: &str) -> String {
        line.split(';').next().unwrap().to_owned()
    }

    #[test]
    fn round_trips_and_binds_provider_and_purpose() {
        let checks = CheckCookies::new(SECRET, false);
        let now = crate::clock::now();
        let line = checks.set(Check::State, "user", "abc", now).unwrap();
        assert!(line.starts_with("next-auth.state="));
        assert!(line.contains("HttpOnly") && line.contains("SameSite=Lax"));
        assert!(line.contains("Max-Age=900") && !line.contains("Secure"));
        let header = jar(&line);
        let cookies = RequestCookies::parse([header.as_str()]).unwrap();
        assert_eq!(checks.get(Check::State, "user", &cookies).unwrap(), "abc");
        assert_eq!(
            checks.get(Check::State, "other", &cookies),
            Err(CheckError::WrongProvider(Check::State))
        );
        // The same signed value under another purpose's name does not verify.
        let swapped = header.replace("next-auth.state", "next-auth.nonce");
        let cookies = RequestCookies::parse([swapped.as_str()]).unwrap();
        assert_eq!(
            checks.get(Check::Nonce, "user", &cookies),
            Err(CheckError::Invalid(Check::Nonce))
        );
        assert_eq!(
            checks.get(Check::Pkce, "user", &cookies),
            Err(CheckError::Missing(Check::Pkce))
        );
    }

    #[test]
    fn refuses_expired_forged_and_other_secrets() {
        let checks = CheckCookies::new(SECRET, true);
        let old = checks
            .set(Check::Pkce, "user", "v", crate::clock::now() - MAX_AGE - 5)
            .unwrap();
        assert!(old.starts_with("__Secure-next-auth.pkce.code_verifier="));
        let header = jar(&old);
        let cookies = RequestCookies::parse([header.as_str()]).unwrap();
        assert_eq!(
            checks.get(Check::Pkce, "user", &cookies),
            Err(CheckError::Invalid(Check::Pkce))
        );
        let other = CheckCookies::new("another-secret-another-secret-0000", true);
        let line = other
            .set(Check::Pkce, "user", "v", crate::clock::now())
            .unwrap();
        let header = jar(&line);
        let cookies = RequestCookies::parse([header.as_str()]).unwrap();
        assert!(checks.get(Check::Pkce, "user", &cookies).is_err());
        assert!(
            checks
                .clear_all()
                .iter()
                .all(|l| l.contains("Max-Age=0") && l.starts_with("__Secure-"))
        );
    }

    #[test]
    fn compares_in_constant_time() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
