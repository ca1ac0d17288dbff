//! Session tokens: JWTs signed and verified with HS256 through `jsonwebtoken`, algorithm pinned.
//!
//! Verification runs on every request, so it does the least work that is still complete: the
//! header segment must be byte-for-byte the one this codec writes (which pins the algorithm and
//! refuses `none`, other HMAC sizes, RSA/EC confusion and extra header fields in one comparison),
//! the HMAC is checked against a key state prepared once per secret (RustCrypto's `hmac`, the
//! primitive `jsonwebtoken` itself uses, with its constant-time `verify_slice`), and the claims
//! are parsed once. Signing goes through `jsonwebtoken`.
//!
//! Several secrets may be configured at once for rotation: the newest signs, every one verifies,
//! and a token verified under an older key is marked for re-issue ([`Decoded::reissue`]).
//!
//! Besides the application's claims, every token carries the registered claims `iss` (the
//! public origin by default), `aud` (the auth API's URL by default) and `nbf`, plus `sv` (the
//! session version) when sign-out everywhere is configured and `gst` (the guest id) on a guest's
//! session. They are written after the
//! application's claims, so the claims part of the payload is exactly what the `Token` type
//! serialises to ([`Decoded::payload`]), and checked on every decode together with `exp` and
//! `iat`, with a small leeway for clock skew.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, Header};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::definition::TokenClaims;
use crate::session_version::SessionVersion;

/// Default tolerance for clock skew between app servers when checking `exp`, `nbf` and `iat`,
/// as NextAuth does.
pub const LEEWAY_SECONDS: u64 = 15;

/// At most this many secrets are accepted at once (the newest signs, all verify).
pub const MAX_SECRETS: usize = 8;

/// What the registered claims must say, besides the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenOptions {
    /// The `iss` claim written and required.
    pub issuer: String,
    /// The `aud` claim written and required.
    pub audience: String,
    /// Tolerance in seconds for `exp`, `nbf` and `iat`.
    pub leeway: u64,
    /// Whether tokens carry the session version (`sv`), for sign-out everywhere.
    pub versioned: bool,
}

impl TokenOptions {
    #[cfg(test)]
    /// Options for an API served at `base`: issuer its origin, audience its URL.
    pub fn for_base(base: &crate::base_url::BaseUrl) -> Self {
        TokenOptions {
            issuer: base.origin().to_owned(),
            audience: base.as_str().to_owned(),
            leeway: LEEWAY_SECONDS,
            versioned: false,
        }
    }
}

struct Key {
    /// HMAC-SHA256 keyed once: signing and verifying clone it instead of re-deriving the pads
    /// per request.
    mac: Hmac<Sha256>,
}

/// Signs and verifies session tokens with keys derived from the secrets.
pub struct TokenCodec {
    /// Newest first: `keys[0]` signs.
    keys: Vec<Key>,
    header: Header,
    /// The base64url header segment `header` encodes to.
    header_segment: String,
    /// `,"iss":<issuer>,"aud":<audience>` as written after the application's claims.
    registered_prefix: String,
    options: TokenOptions,
}

/// Tokens longer than this are refused before any work (16 chunks of 3933 characters).
const MAX_TOKEN_LEN: usize = 16 * 3933;

impl std::fmt::Debug for TokenCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCodec")
            .field("algorithm", &self.header.alg)
            .field("keys", &self.keys.len())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The registered claims this codec adds, read back from a verified payload.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registered<'a> {
    #[serde(borrow)]
    iss: Cow<'a, str>,
    #[serde(borrow)]
    aud: Cow<'a, str>,
    nbf: i64,
    #[serde(default)]
    sv: Option<SessionVersion>,
    #[serde(default, borrow)]
    gst: Option<Cow<'a, str>>,
}

#[derive(Serialize)]
struct Trailer<'a> {
    nbf: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    sv: Option<&'a SessionVersion>,
    #[serde(skip_serializing_if = "Option::is_none")]
    gst: Option<&'a str>,
}

impl TokenCodec {
    /// A codec with one secret and the default registered claims for a local server.
    #[cfg(test)]
    pub fn new(secret: &str) -> Self {
        let base = crate::base_url::BaseUrl::localhost(crate::settings::DEFAULT_BASE_PATH);
        Self::with_secrets(&[secret], TokenOptions::for_base(&base))
    }

    /// A codec whose HS256 keys are derived from `secrets` (newest first; at least one, at most
    /// [`MAX_SECRETS`] are used) with HKDF-SHA256, so a signing key is never the same bytes as
    /// the CSRF secret.
    pub fn with_secrets<S: AsRef<str>>(secrets: &[S], options: TokenOptions) -> Self {
        // Exactly one crypto backend is compiled in; installing it explicitly turns a feature
        // mix-up into a no-op here instead of a panic at the first signature.
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        let keys = secrets
            .iter()
            .take(MAX_SECRETS)
            .map(|secret| {
                let mut key = [0u8; 32];
                Hkdf::<Sha256>::new(None, secret.as_ref().as_bytes())
                    .expand(b"auth-runtime session token signing key", &mut key)
                    .expect("32 bytes is a valid HKDF-SHA256 output length");
                Key {
                    mac: <Hmac<Sha256> as Mac>::new_from_slice(&key)
                        .expect("HMAC takes a key of any length"),
                }
            })
            .collect();
        let header = Header::new(Algorithm::HS256);
        let header_json = serde_json::to_vec(&header).expect("a JWT header serialises");
        let registered_prefix = format!(
            ",\"iss\":{},\"aud\":{}",
            serde_json::Value::from(options.issuer.as_str()),
            serde_json::Value::from(options.audience.as_str())
        );
        TokenCodec {
            keys,
            header_segment: URL_SAFE_NO_PAD.encode(header_json),
            header,
            registered_prefix,
            options,
        }
    }

    /// Stamps `iat`, `exp` and a fresh `jti` on `claims`, then signs them with the newest key.
    pub fn encode<T: TokenClaims>(
        &self,
        claims: &mut T,
        now: i64,
        max_age: u64,
    ) -> Result<String, TokenError> {
        self.encode_versioned(claims, now, max_age, None)
    }

    /// As [`TokenCodec::encode`], carrying the session version `version` in the `sv` claim.
    pub fn encode_versioned<T: TokenClaims>(
        &self,
        claims: &mut T,
        now: i64,
        max_age: u64,
        version: Option<&SessionVersion>,
    ) -> Result<String, TokenError> {
        self.encode_session(claims, now, max_age, version, None)
    }

    /// As [`TokenCodec::encode_versioned`], marking the token as the session of the guest
    /// `guest` (the `gst` claim, read back as [`Decoded::guest`]).
    pub fn encode_session<T: TokenClaims>(
        &self,
        claims: &mut T,
        now: i64,
        max_age: u64,
        version: Option<&SessionVersion>,
        guest: Option<&str>,
    ) -> Result<String, TokenError> {
        let encode_error = |e: &dyn std::fmt::Display| TokenError::Encode(e.to_string());
        let key = self
            .keys
            .first()
            .ok_or_else(|| TokenError::Encode("no signing key".to_owned()))?;
        claims.stamp(now, now.saturating_add(max_age as i64), new_jti());
        let mut payload = serde_json::to_vec(claims).map_err(|e| encode_error(&e))?;
        if payload.first() != Some(&b'{') || payload.last() != Some(&b'}') {
            return Err(TokenError::Encode(
                "the token claims must serialise to a JSON object".to_owned(),
            ));
        }
        payload.pop();
        let empty = payload.len() == 1;
        payload.extend_from_slice(&self.registered_prefix.as_bytes()[usize::from(empty)..]);
        let trailer = serde_json::to_vec(&Trailer {
            nbf: now,
            sv: version,
            gst: guest,
        })
        .map_err(|e| encode_error(&e))?;
        payload.push(b',');
        payload.extend_from_slice(&trailer[1..]);
        let mut jwt = String::with_capacity(self.header_segment.len() + payload.len() * 4 / 3 + 48);
        jwt.push_str(&self.header_segment);
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut jwt);
        // HS256: the HMAC-SHA256 of `header.payload`, base64url without padding.
        let mut mac = key.mac.clone();
        mac.update(jwt.as_bytes());
        let signature = mac.finalize().into_bytes();
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut jwt);
        Ok(jwt)
    }

    /// Verifies the algorithm, the signature (under any configured key), `iss`, `aud`, `exp`,
    /// `nbf` and `iat` (with leeway), then deserialises.
    pub fn decode<T: TokenClaims>(&self, token: &str) -> Result<Decoded<T>, TokenError> {
        self.decode_at(token, crate::clock::now())
    }

    /// As [`TokenCodec::decode`], at the Unix time `now`.
    pub fn decode_at<T: TokenClaims>(
        &self,
        token: &str,
        now: i64,
    ) -> Result<Decoded<T>, TokenError> {
        let invalid = |why: &str| TokenError::Invalid(why.to_owned());
        if token.len() > MAX_TOKEN_LEN {
            return Err(invalid("token too long"));
        }
        let (message, signature) = token.rsplit_once('.').ok_or_else(|| invalid("not a JWT"))?;
        let (header, payload) = message
            .split_once('.')
            .ok_or_else(|| invalid("not a JWT"))?;
        if header != self.header_segment {
            return Err(invalid("unexpected header or algorithm"));
        }
        let mut tag = [0u8; 48];
        if signature.len() != 43 || URL_SAFE_NO_PAD.decode_slice(signature, &mut tag) != Ok(32) {
            return Err(invalid("bad signature"));
        }
        let tag = &tag[..32];
        let mut key_index = None;
        for (index, key) in self.keys.iter().enumerate() {
            let mut mac = key.mac.clone();
            mac.update(message.as_bytes());
            if mac.verify_slice(tag).is_ok() {
                key_index = Some(index);
                break;
            }
        }
        let key_index = key_index.ok_or_else(|| invalid("bad signature"))?;
        let mut payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|e| TokenError::Invalid(e.to_string()))?;

        // Split the payload at our registered claims: what precedes them is the application's.
        let at = rfind(&payload, b"\"iss\":").ok_or_else(|| invalid("no iss claim"))?;
        let open = match at.checked_sub(1).map(|i| payload[i]) {
            Some(b',') => at - 1,
            Some(b'{') => at,
            _ => return Err(invalid("malformed registered claims")),
        };
        let mut registered = Vec::with_capacity(payload.len() - at + 1);
        registered.push(b'{');
        registered.extend_from_slice(&payload[at..]);
        let registered: Registered<'_> =
            serde_json::from_slice(&registered).map_err(|e| TokenError::Invalid(e.to_string()))?;
        if registered.iss != self.options.issuer {
            return Err(invalid("wrong issuer"));
        }
        if registered.aud != self.options.audience {
            return Err(invalid("wrong audience"));
        }
        let leeway = i64::try_from(self.options.leeway).unwrap_or(i64::MAX);
        if registered.nbf > now.saturating_add(leeway) {
            return Err(invalid("not valid yet (nbf)"));
        }
        let version = registered.sv.filter(|_| self.options.versioned);
        let guest = registered.gst.map(Cow::into_owned);
        payload.truncate(open);
        if open == at {
            payload.push(b'{');
        }
        payload.push(b'}');

        let claims: T =
            serde_json::from_slice(&payload).map_err(|e| TokenError::Invalid(e.to_string()))?;
        let exp = claims.expires_at().ok_or_else(|| invalid("no exp claim"))?;
        if exp.saturating_add(leeway) < now {
            return Err(invalid("expired"));
        }
        let iat = claims.issued_at().ok_or_else(|| invalid("no iat claim"))?;
        if iat > now.saturating_add(leeway) {
            return Err(invalid("issued in the future (iat)"));
        }
        Ok(Decoded {
            claims,
            reissue: key_index > 0,
            payload,
            version,
            guest,
        })
    }
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, _) = needle.split_first()?;
    // The registered claims close the payload, so the match is near the end: walk back from
    // there, comparing only where the first byte matches.
    (0..=haystack.len().checked_sub(needle.len())?)
        .rev()
        .find(|&at| haystack[at] == first && haystack[at..].starts_with(needle))
}

/// A verified token.
#[derive(Debug)]
pub struct Decoded<T> {
    /// Its claims.
    pub claims: T,
    /// Whether the token must be re-issued on this request even if renewal is not due (for
    /// example because it was signed with a key that is being rotated out).
    pub reissue: bool,
    /// The application's claims as signed (JSON, without the registered claims the codec adds),
    /// to tell whether a callback changed them.
    pub payload: Vec<u8>,
    /// The session version the token was minted under, when the codec is versioned.
    pub version: Option<SessionVersion>,
    /// The guest whose session this is (the `gst` claim); `None` for a signed-in user.
    pub guest: Option<String>,
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
    rand::thread_rng().fill_bytes(&mut b);
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
    use crate::user::User;
    use proptest::prelude::*;

    /// A token type as `next_auth!` generates it, with a free-form claim.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default)]
    struct Claims {
        #[serde(skip_serializing_if = "Option::is_none")]
        sub: Option<String>,
        name: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        iat: Option<i64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        exp: Option<i64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        jti: Option<String>,
        extra: serde_json::Value,
    }

    impl TokenClaims for Claims {
        fn from_user(user: &User) -> Self {
            Claims {
                sub: Some(user.id.clone()),
                ..Claims::default()
            }
        }
        fn sub(&self) -> Option<&str> {
            self.sub.as_deref()
        }
        fn name(&self) -> Option<&str> {
            self.name.as_deref()
        }
        fn email(&self) -> Option<&str> {
            None
        }
        fn picture(&self) -> Option<&str> {
            None
        }
        fn issued_at(&self) -> Option<i64> {
            self.iat
        }
        fn expires_at(&self) -> Option<i64> {
            self.exp
        }
        fn stamp(&mut self, issued_at: i64, expires_at: i64, jti: String) {
            (self.iat, self.exp, self.jti) = (Some(issued_at), Some(expires_at), Some(jti));
        }
    }

    const NOW: i64 = 1_800_000_000;
    const OLD: &str = "the-old-secret-0123456789abcdef";
    const NEW: &str = "the-new-secret-0123456789abcdef";

    fn options() -> TokenOptions {
        TokenOptions {
            issuer: "https://shop.example".to_owned(),
            audience: "https://shop.example/api/auth".to_owned(),
            leeway: LEEWAY_SECONDS,
            versioned: true,
        }
    }

    fn codec(secrets: &[&str]) -> TokenCodec {
        TokenCodec::with_secrets(secrets, options())
    }

    fn claims(name: &str) -> Claims {
        Claims {
            sub: Some("u1".into()),
            name: Some(name.into()),
            extra: serde_json::json!({ "nested": { "a": 1, "iss": "not ours" } }),
            ..Claims::default()
        }
    }

    fn payload_of(jwt: &str) -> serde_json::Value {
        let payload = jwt.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }

    #[test]
    fn the_pinned_header_is_what_jsonwebtoken_writes() {
        let codec = TokenCodec::new("0123456789abcdef0123456789abcdef");
        assert_eq!(codec.header_segment, "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9");
    }

    #[test]
    fn a_guest_session_carries_its_guest() {
        let codec = codec(&[NEW]);
        let mut token = claims("Guest");
        let jwt = codec
            .encode_session(&mut token, NOW, 3600, None, Some("g\"1"))
            .unwrap();
        assert_eq!(payload_of(&jwt)["gst"], "g\"1");
        let decoded = codec.decode_at::<Claims>(&jwt, NOW).unwrap();
        assert_eq!(decoded.guest.as_deref(), Some("g\"1"));
        assert_eq!(decoded.claims, token);
        assert_eq!(decoded.payload, serde_json::to_vec(&token).unwrap());
        let plain = codec.encode(&mut token, NOW, 3600).unwrap();
        assert_eq!(codec.decode_at::<Claims>(&plain, NOW).unwrap().guest, None);
    }

    #[test]
    fn writes_and_checks_the_registered_claims() {
        let codec = codec(&[NEW]);
        let mut token = claims("Ann");
        let version = SessionVersion {
            uid: "u\"1".into(),
            v: 3,
        };
        let jwt = codec
            .encode_versioned(&mut token, NOW, 3600, Some(&version))
            .unwrap();
        let payload = payload_of(&jwt);
        assert_eq!(payload["iss"], "https://shop.example");
        assert_eq!(payload["aud"], "https://shop.example/api/auth");
        assert_eq!(payload["nbf"], NOW);
        assert_eq!(payload["sv"]["v"], 3);
        let decoded = codec.decode_at::<Claims>(&jwt, NOW).unwrap();
        assert_eq!(decoded.claims, token);
        assert_eq!(decoded.version, Some(version));
        assert!(!decoded.reissue);
        assert_eq!(decoded.payload, serde_json::to_vec(&token).unwrap());
        // Unversioned codecs ignore the claim.
        let plain = TokenCodec::with_secrets(
            &[NEW],
            TokenOptions {
                versioned: false,
                ..options()
            },
        );
        assert_eq!(plain.decode_at::<Claims>(&jwt, NOW).unwrap().version, None);
    }

    #[test]
    fn refuses_other_issuers_audiences_and_times() {
        let codec = codec(&[NEW]);
        let jwt = codec.encode(&mut claims("Ann"), NOW, 3600).unwrap();
        for other in [
            TokenOptions {
                issuer: "https://evil.example".into(),
                ..options()
            },
            TokenOptions {
                audience: "https://shop.example/other".into(),
                ..options()
            },
        ] {
            let err = TokenCodec::with_secrets(&[NEW], other).decode_at::<Claims>(&jwt, NOW);
            assert!(err.is_err());
        }
        // nbf and iat: a token from the future is refused beyond the leeway.
        assert!(codec.decode_at::<Claims>(&jwt, NOW - 15).is_ok());
        assert!(codec.decode_at::<Claims>(&jwt, NOW - 16).is_err());
        // exp: accepted up to the leeway after expiry.
        assert!(codec.decode_at::<Claims>(&jwt, NOW + 3600 + 15).is_ok());
        assert!(codec.decode_at::<Claims>(&jwt, NOW + 3600 + 16).is_err());
        let strict = TokenCodec::with_secrets(
            &[NEW],
            TokenOptions {
                leeway: 0,
                ..options()
            },
        );
        assert!(strict.decode_at::<Claims>(&jwt, NOW + 3601).is_err());
    }

    #[test]
    fn refuses_none_and_other_algorithms_and_headers() {
        let codec = codec(&[NEW]);
        let jwt = codec.encode(&mut claims("Ann"), NOW, 3600).unwrap();
        let (_, rest) = jwt.split_once('.').unwrap();
        let (payload, signature) = rest.split_once('.').unwrap();
        for header in [
            r#"{"alg":"none","typ":"JWT"}"#,
            r#"{"typ":"JWT","alg":"none"}"#,
            r#"{"typ":"JWT","alg":"HS512"}"#,
            r#"{"typ":"JWT","alg":"RS256"}"#,
            r#"{"typ":"JWT","alg":"HS256","kid":"x"}"#,
            r#"{"alg":"HS256","typ":"JWT"}"#,
        ] {
            let header = URL_SAFE_NO_PAD.encode(header);
            for sig in [signature, ""] {
                let forged = format!("{header}.{payload}.{sig}");
                assert!(codec.decode_at::<Claims>(&forged, NOW).is_err(), "{forged}");
            }
        }
    }

    #[test]
    fn rotation_verifies_old_keys_and_asks_for_reissue() {
        let old = codec(&[OLD]);
        let jwt = old.encode(&mut claims("Ann"), NOW, 3600).unwrap();
        let rotated = codec(&[NEW, OLD]);
        let decoded = rotated.decode_at::<Claims>(&jwt, NOW).unwrap();
        assert!(decoded.reissue);
        let mut token = decoded.claims;
        let renewed = rotated.encode(&mut token, NOW, 3600).unwrap();
        assert!(!rotated.decode_at::<Claims>(&renewed, NOW).unwrap().reissue);
        assert!(codec(&[NEW]).decode_at::<Claims>(&renewed, NOW).is_ok());
        assert!(codec(&[NEW]).decode_at::<Claims>(&jwt, NOW).is_err());
    }

    #[test]
    fn jti_is_a_uuid_v4() {
        let jti = new_jti();
        assert_eq!(jti.len(), 36);
        assert_eq!(&jti[14..15], "4");
        assert!(matches!(&jti[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(jti, new_jti());
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            ".{0,12}".prop_map(serde_json::Value::from),
            Just(serde_json::Value::from(",\"iss\":\"x\"")),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                prop::collection::btree_map("(iss|aud|nbf|sv|[a-z]{1,6})", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// decode(encode(x)) == x, for any claims, under any of the configured keys.
        #[test]
        fn decode_inverts_encode(
            sub in proptest::option::of(".{0,40}"),
            name in proptest::option::of(".{0,40}"),
            extra in json_value(),
            uid in ".{0,20}",
            v in any::<u64>(),
            max_age in 1u64..100_000_000,
            signer in 0usize..2,
        ) {
            let mut token = Claims { sub, name, extra, ..Claims::default() };
            let version = SessionVersion { uid, v };
            let keys = [NEW, OLD];
            let jwt = codec(&keys[signer..])
                .encode_versioned(&mut token, NOW, max_age, Some(&version))
                .unwrap();
            let decoded = codec(&keys).decode_at::<Claims>(&jwt, NOW).unwrap();
            prop_assert_eq!(&decoded.claims, &token);
            prop_assert_eq!(decoded.version, Some(version));
            prop_assert_eq!(decoded.reissue, signer == 1);
            prop_assert_eq!(decoded.payload, serde_json::to_vec(&token).unwrap());
        }

        /// Any single-byte change to a genuine token is refused.
        #[test]
        fn any_single_byte_change_is_refused(at in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let codec = codec(&[NEW, OLD]);
            let jwt = codec.encode(&mut claims("Ann"), NOW, 3600).unwrap();
            let mut bytes = jwt.clone().into_bytes();
            let at = at.index(bytes.len());
            prop_assume!(bytes[at] != byte);
            bytes[at] = byte;
            if let Ok(forged) = String::from_utf8(bytes) {
                prop_assert!(codec.decode_at::<Claims>(&forged, NOW).is_err(), "{} -> {}", jwt, forged);
            }
        }

        /// Arbitrary text never panics the decoder and is never accepted.
        #[test]
        fn arbitrary_text_is_refused(text in ".{0,400}") {
            prop_assert!(codec(&[NEW]).decode_at::<Claims>(&text, NOW).is_err());
        }
    }
}
