//! Compact JWS signed with HS256 (RFC 7515, RFC 7518 §3.2).
//!
//! Written with the header `jsonwebtoken` writes for `Header::new(Algorithm::HS256)`,
//! `{"typ":"JWT","alg":"HS256"}`, so any JWT library reads it. Read with the algorithm pinned:
//! a header that is not byte-for-byte ours is parsed by `jsonwebtoken::decode_header` and must
//! say `alg: HS256` (any member order, `typ` or `kid` are fine); `none`, other HMAC sizes,
//! RSA/EC/EdDSA, `crit`, `zip`, `enc` and `b64` are refused. The HMAC key state is prepared once
//! per secret and cloned per token; the signature is checked in constant time (`verify_slice`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jsonwebtoken::Algorithm;
use sha2::Sha256;

use super::jwe::decode_fixed;
use super::{MAX_TOKEN_LEN, SealError};

/// `{"typ":"JWT","alg":"HS256"}`, base64url: what `jsonwebtoken` writes for HS256 (its
/// `Header` serialises `typ` before `alg`), and what this crate's session tokens always carried.
pub(super) const HEADER: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9";

const SIGNATURE_LEN: usize = 32;

fn invalid(why: &'static str) -> SealError {
    SealError::Invalid(why)
}

/// An HS256 key: HMAC-SHA256 keyed once.
#[derive(Clone)]
pub(super) struct HsKey {
    mac: Hmac<Sha256>,
}

impl HsKey {
    pub(super) fn new(key: &[u8; 32]) -> Self {
        HsKey {
            mac: <Hmac<Sha256> as Mac>::new_from_slice(key)
                .expect("HMAC takes a key of any length"),
        }
    }

    /// `header.payload.signature`, base64url.
    pub(super) fn seal(&self, claims: &[u8]) -> String {
        let mut token = String::with_capacity(HEADER.len() + 2 + claims.len().div_ceil(3) * 4 + 43);
        token.push_str(HEADER);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut token);
        let mut mac = self.mac.clone();
        mac.update(token.as_bytes());
        let signature = mac.finalize().into_bytes();
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        token
    }
}

/// A header that is not byte-for-byte [`HEADER`]: parsed by `jsonwebtoken`, which knows no
/// `none` algorithm; anything but a plain HS256 header is refused.
fn check_header(token: &str) -> Result<(), SealError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("bad header"))?;
    if header.alg != Algorithm::HS256 {
        return Err(invalid("unexpected algorithm"));
    }
    // `crit` names extensions we would have to understand (RFC 7515 §4.1.11), `b64: false`
    // (RFC 7797) changes what is signed, and `zip`/`enc` belong to JWE.
    if header.crit.is_some()
        || header.zip.is_some()
        || header.enc.is_some()
        || header.extras.inner().contains_key("b64")
    {
        return Err(invalid("unsupported header parameter"));
    }
    Ok(())
}

/// Verifies `token` under each key in turn: the payload bytes and the index of the key.
pub(super) fn open(keys: &[HsKey], token: &str) -> Result<(Vec<u8>, usize), SealError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(invalid("token too long"));
    }
    let mut segments = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(invalid("not a compact JWS"));
    };
    if header != HEADER {
        check_header(token)?;
    }
    let signature: [u8; SIGNATURE_LEN] =
        decode_fixed(signature).ok_or_else(|| invalid("bad signature"))?;
    // `header.payload`, the signing input.
    let message = token
        .get(..header.len() + 1 + payload.len())
        .ok_or_else(|| invalid("not a compact JWS"))?;
    let index = keys
        .iter()
        .position(|key| {
            let mut mac = key.mac.clone();
            mac.update(message.as_bytes());
            mac.verify_slice(&signature).is_ok()
        })
        .ok_or_else(|| invalid("bad signature"))?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| invalid("bad payload encoding"))?;
    Ok((payload, index))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};

    const KEY: [u8; 32] = [7; 32];

    fn install_provider() {
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
    }

    #[test]
    fn header_is_what_jsonwebtoken_writes() {
        let json = serde_json::to_vec(&Header::new(Algorithm::HS256)).unwrap();
        assert_eq!(json, br#"{"typ":"JWT","alg":"HS256"}"#);
        assert_eq!(URL_SAFE_NO_PAD.encode(json), HEADER);
    }

    #[test]
    fn same_bytes_as_jsonwebtoken_both_ways() {
        install_provider();
        let claims = serde_json::json!({"sub": "42", "exp": 4_102_444_800_u64, "n": [1, 2]});
        let bytes = serde_json::to_vec(&claims).unwrap();
        let ours = HsKey::new(&KEY).seal(&bytes);
        let theirs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&KEY),
        )
        .unwrap();
        assert_eq!(ours, theirs);
        let decoded = jsonwebtoken::decode::<serde_json::Value>(
            &ours,
            &DecodingKey::from_secret(&KEY),
            &Validation::new(Algorithm::HS256),
        )
        .unwrap();
        assert_eq!(decoded.claims, claims);
        assert_eq!(open(&[HsKey::new(&KEY)], &theirs).unwrap(), (bytes, 0));
    }

    #[test]
    fn other_member_orders_and_standard_members_are_read() {
        install_provider();
        let claims = br#"{"sub":"42"}"#;
        for header in [
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"alg":"HS256"}"#,
            r#"{"typ":"JWT","alg":"HS256","kid":"x"}"#,
            r#"{"alg":"HS256","cty":"JWT","custom":1}"#,
        ] {
            let token = resign(header, claims, &KEY);
            assert_eq!(
                open(&[HsKey::new(&KEY)], &token).unwrap(),
                (claims.to_vec(), 0),
                "{header}"
            );
        }
    }

    #[test]
    fn only_hs256_is_accepted() {
        let claims = br#"{"sub":"42"}"#;
        for header in [
            r#"{"alg":"none","typ":"JWT"}"#,
            r#"{"alg":"none"}"#,
            r#"{"typ":"JWT","alg":"HS384"}"#,
            r#"{"typ":"JWT","alg":"HS512"}"#,
            r#"{"typ":"JWT","alg":"RS256"}"#,
            r#"{"typ":"JWT","alg":"ES256"}"#,
            r#"{"typ":"JWT","alg":"EdDSA"}"#,
            r#"{"typ":"JWT","alg":"hs256"}"#,
            r#"{"typ":"JWT"}"#,
            r#"{"alg":"HS256","crit":["exp"]}"#,
            r#"{"alg":"HS256","b64":false,"crit":["b64"]}"#,
            r#"{"alg":"HS256","b64":false}"#,
            r#"{"alg":"HS256","zip":"DEF"}"#,
            r#"{"alg":"HS256","enc":"A256GCM"}"#,
            r#"{"alg":"HS256","alg":"none"}"#,
            r#"["HS256"]"#,
            "",
        ] {
            // Correctly signed under our key, so only the header check can refuse it.
            let token = resign(header, claims, &KEY);
            assert!(open(&[HsKey::new(&KEY)], &token).is_err(), "{header}");
            let (message, _) = token.rsplit_once('.').unwrap();
            let unsigned = format!("{message}.");
            assert!(open(&[HsKey::new(&KEY)], &unsigned).is_err(), "{header}");
        }
    }

    /// `header.payload` signed under `key` with HS256, whatever the header says.
    fn resign(header: &str, claims: &[u8], key: &[u8; 32]) -> String {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
        mac.update(message.as_bytes());
        format!(
            "{message}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }
}
