//! Session tokens: JWTs signed and verified with HS256 through `jsonwebtoken`, algorithm pinned.
//!
//! Verification runs on every request, so it does the least work that is still complete: the
//! header segment must be byte-for-byte the one this codec writes (which pins the algorithm and
//! refuses `none`, other HMAC sizes, RSA/EC confusion and extra header fields in one comparison),
//! `jsonwebtoken::crypto::verify` checks the HMAC, and the claims are parsed once.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
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
    /// The base64url header segment `header` encodes to.
    header_segment: String,
}

/// Tokens longer than this are refused before any work (16 chunks of 3933 characters).
const MAX_TOKEN_LEN: usize = 16 * 3933;

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
        let header = Header::new(Algorithm::HS256);
        let header_json = serde_json::to_vec(&header).expect("a JWT header serialises");
        TokenCodec {
            encoding: EncodingKey::from_secret(&key),
            decoding: DecodingKey::from_secret(&key),
            header_segment: URL_SAFE_NO_PAD.encode(header_json),
            header,
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

    /// Verifies the algorithm, the signature and `exp` (with leeway), then deserialises.
    pub fn decode<T: TokenClaims>(&self, token: &str) -> Result<Decoded<T>, TokenError> {
        let invalid = |why: &str| TokenError::Invalid(why.to_owned());
        if token.len() > MAX_TOKEN_LEN {
            return Err(invalid("token too long"));
        }
        let (message, signature) = token.rsplit_once('.').ok_or_else(|| invalid("not a JWT"))?;
        let (header, payload) = message.split_once('.').ok_or_else(|| invalid("not a JWT"))?;
        if header != self.header_segment {
            return Err(invalid("unexpected header or algorithm"));
        }
        let signed = jsonwebtoken::crypto::verify(signature, message.as_bytes(), &self.decoding, self.header.alg)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;
        if !signed {
            return Err(invalid("bad signature"));
        }
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|e| TokenError::Invalid(e.to_string()))?;
        let claims: T = serde_json::from_slice(&payload).map_err(|e| TokenError::Invalid(e.to_string()))?;
        let exp = claims.expires_at().ok_or_else(|| invalid("no exp claim"))?;
        if exp.saturating_add(LEEWAY_SECONDS as i64) < crate::clock::now() {
            return Err(invalid("expired"));
        }
        Ok(Decoded { claims, reissue: false, payload })
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
    /// The claims as signed (JSON), to tell whether a callback changed them.
    pub payload: Vec<u8>,
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
    fn the_pinned_header_is_what_jsonwebtoken_writes() {
        let codec = TokenCodec::new("0123456789abcdef0123456789abcdef");
        assert_eq!(codec.header_segment, "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9");
    }

    #[test]
    fn jti_is_a_uuid_v4() {
        let jti = new_jti();
        assert_eq!(jti.len(), 36);
        assert_eq!(&jti[14..15], "4");
        assert!(matches!(&jti[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(jti, new_jti());
    }
}
