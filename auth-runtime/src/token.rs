//! Session tokens: JWTs signed with HS256 through `jsonwebtoken`, algorithm pinned.

use hkdf::Hkdf;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use sha2::Sha256;

use crate::definition::TokenClaims;

/// `exp` is checked with this much tolerance for clock skew between app servers, as NextAuth does.
pub const LEEWAY_SECONDS: u64 = 15;

/// Signs and verifies session tokens with a key derived from the secret.
pub struct TokenCodec {
    encoding: EncodingKey,
    decoding: DecodingKey,
    header: Header,
    validation: Validation,
}

impl std::fmt::Debug for TokenCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCodec")
            .field("algorithm", &self.header.alg)
            .finish_non_exhaustive()
    }
}

impl TokenCodec {
    /// A codec whose HS256 key is derived from `secret` with HKDF-SHA256, so the signing key is
    /// never the same bytes as the CSRF secret.
    pub fn new(secret: &str) -> Self {
        // Exactly one crypto backend is compiled in; installing it explicitly turns a feature
        // mix-up into a no-op here instead of a panic at the first signature.
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        let mut key = [0u8; 32];
        Hkdf::<Sha256>::new(None, secret.as_bytes())
            .expand(b"auth-runtime session token signing key", &mut key)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = LEEWAY_SECONDS;
        validation.set_required_spec_claims(&["exp"]);
        validation.validate_aud = false;
        TokenCodec {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            header: Header::new(Algorithm::HS256),
            validation,
        }
    }

    /// Stamps `iat`, `exp` and a fresh `jti` on `claims`, then signs them.
    pub fn encode<T: TokenClaims>(
        &self,
        claims: &mut T,
        now: i64,
        max_age: u64,
    ) -> Result<String, TokenError> {
        claims.stamp(now, now.saturating_add(max_age as i64), new_jti());
        jsonwebtoken::encode(&self.header, claims, &self.encoding)
            .map_err(|e| TokenError::Encode(e.to_string()))
    }

    /// Verifies the signature, the algorithm and `exp` (with leeway), then deserialises.
    pub fn decode<T: TokenClaims>(&self, token: &str) -> Result<Decoded<T>, TokenError> {
        jsonwebtoken::decode::<T>(token, &self.decoding, &self.validation)
            .map(|data| Decoded { claims: data.claims, reissue: false })
            .map_err(|e| TokenError::Invalid(e.to_string()))
    }
}

/// A verified token.
#[derive(Debug)]
pub struct Decoded<T> {
    /// Its claims.
    pub claims: T,
    /// Whether the token must be re-issued on this request even if renewal is not due (for
    /// example because it was signed with a key that is being rotated out).
    pub reissue: bool,
}

/// Why a token could not be made or read.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Serialising or signing failed.
    #[error("could not sign the session token: {0}")]
    Encode(String),
    /// The token is malformed, forged, of another algorithm, or expired.
    #[error("invalid session token: {0}")]
    Invalid(String),
}

/// A random UUID v4, as NextAuth's `jti`.
fn new_jti() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = crate::csrf::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jti_is_a_uuid_v4() {
        let jti = new_jti();
        assert_eq!(jti.len(), 36);
        assert_eq!(&jti[14..15], "4");
        assert!(matches!(&jti[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(jti, new_jti());
    }
}
