//! Session tokens as claims: what every token carries besides the application's claims, and how
//! it is checked when read, the same for every [`TokenFormat`](crate::TokenFormat).
//!
//! A token is one JSON object: the application's `Token` (with `iat`, `exp` and `jti`), then the
//! claims this layer adds: `iss` and `aud` (this deployment), `nbf`, `sv` (the session version)
//! and `gst` (the guest id of a guest's session). Reading does not depend on their order or on
//! them being present: a token minted by next-auth or Auth.js has none of them and is read as
//! the session of its `sub` at session version 0. Where `iss` or `aud` are present they must be
//! this deployment's, so a token minted for another deployment sharing the secret is refused.
//! `exp` is required (a token that never expires is refused); `iat` and `nbf`, when present,
//! must not be in the future beyond the leeway.

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::definition::TokenClaims;
use crate::session_version::SessionVersion;
use crate::settings::Settings;
use crate::tokens::{Keys, TokenFormat};

pub(crate) use crate::settings::{LEEWAY_SECONDS, MAX_SECRETS};

/// What the registered claims must say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClaimRules {
    /// The `iss` claim written, and required when present; `None` writes and checks none.
    pub issuer: Option<String>,
    /// The `aud` claim written, and required when present; `None` writes and checks none.
    pub audience: Option<String>,
    /// Tolerance in seconds for `exp`, `nbf` and `iat`.
    pub leeway: u64,
}

/// What a session token carries besides the application's claims.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stamp<'a> {
    /// The session version the token is minted under (sign-out everywhere).
    pub version: Option<&'a SessionVersion>,
    /// The guest whose session this is.
    pub guest: Option<&'a str>,
}

impl ClaimRules {
    /// The rules a deployment's settings describe: its issuer and audience, its leeway.
    pub fn of(settings: &Settings) -> Self {
        ClaimRules {
            issuer: Some(settings.issuer().to_owned()),
            audience: Some(settings.audience().to_owned()),
            leeway: settings.leeway(),
        }
    }
}

/// Writes and reads session tokens: claims in, sealed token out, and back.
pub(crate) struct SessionCodec {
    keys: Keys,
    rules: ClaimRules,
    /// `"iss":<issuer>,"aud":<audience>,"nbf":` (the first two when set) as written after the
    /// application's claims.
    registered: String,
}

impl std::fmt::Debug for SessionCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCodec")
            .field("keys", &self.keys)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

/// The claims this layer reads back, in any order, each optional; everything else is ignored.
#[derive(Deserialize)]
struct Registered {
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    aud: Option<Audience>,
    #[serde(default)]
    nbf: Option<Number>,
    #[serde(default)]
    sv: Option<SessionVersion>,
    #[serde(default)]
    gst: Option<String>,
    #[serde(default)]
    exp: Option<Number>,
    #[serde(default)]
    iat: Option<Number>,
}

/// `aud` is a string or an array of strings (RFC 7519 §4.1.3).
#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
    Other(IgnoredAny),
}

/// A NumericDate: integral or not (jose writes integers; other libraries may not).
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Int(i64),
    Float(f64),
    Other(IgnoredAny),
}

impl Number {
    fn seconds(&self) -> Option<i64> {
        match *self {
            Number::Int(n) => Some(n),
            Number::Float(f) if f.is_finite() => Some(f as i64),
            _ => None,
        }
    }
}

/// A token that opened under one of the keys and whose claims hold.
#[derive(Debug)]
pub(crate) struct Decoded<T> {
    /// The application's claims.
    pub claims: T,
    /// Whether the token must be re-issued now: written under an older key.
    pub reissue: bool,
    /// The session version it was minted under, if it carries one.
    pub version: Option<SessionVersion>,
    /// The guest whose session this is (`gst`); `None` for a signed-in user.
    pub guest: Option<String>,
    /// The application's claims as they were written, when this layer wrote the token.
    pub written: Option<Vec<u8>>,
    /// The database row the session lives in (database strategy); `None` for a token.
    pub stored: Option<super::Stored>,
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, _) = needle.split_first()?;
    // The registered claims close the payload, so the match is near the end: walk back from
    // there, comparing only where the first byte matches.
    (0..=haystack.len().checked_sub(needle.len())?)
        .rev()
        .find(|&at| haystack[at] == first && haystack[at..].starts_with(needle))
}

/// Why a token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DecodeError {
    /// Not ours: malformed, forged, another key or algorithm, another deployment's, or claims
    /// that do not fit the application's `Token`.
    #[error("invalid session token: {0}")]
    Invalid(&'static str),
    /// Genuine, but past its `exp` (beyond the leeway).
    #[error("the session token has expired")]
    Expired,
}

/// Why a token could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not write the session token: {0}")]
pub(crate) struct EncodeError(pub String);

impl SessionCodec {
    /// A codec writing `format` under `secrets` (newest first; at most [`MAX_SECRETS`] are used).
    pub fn new<S: AsRef<str>>(
        format: TokenFormat,
        secrets: &[S],
        session_cookie: &str,
        rules: ClaimRules,
    ) -> Self {
        let secrets = &secrets[..secrets.len().min(MAX_SECRETS)];
        let mut registered = String::new();
        for (name, value) in [("iss", &rules.issuer), ("aud", &rules.audience)] {
            if let Some(value) = value {
                registered.push_str(&format!(
                    "\"{name}\":{},",
                    serde_json::Value::from(value.as_str())
                ));
            }
        }
        registered.push_str("\"nbf\":");
        SessionCodec {
            keys: Keys::derive(format, secrets, session_cookie),
            rules,
            registered,
        }
    }

    /// Stamps `iat = now`, `exp = now + max_age` and a fresh `jti` on `claims`, adds the
    /// registered claims and `stamp`, and seals the result under the newest key.
    pub fn encode<T: TokenClaims>(
        &self,
        claims: &mut T,
        now: i64,
        max_age: u64,
        stamp: Stamp<'_>,
    ) -> Result<String, EncodeError> {
        claims.stamp(
            now,
            now.saturating_add(i64::try_from(max_age).unwrap_or(i64::MAX)),
            new_jti(),
        );
        let mut payload = serde_json::to_vec(claims).map_err(|e| EncodeError(e.to_string()))?;
        if payload.first() != Some(&b'{') || payload.last() != Some(&b'}') {
            return Err(EncodeError(
                "the token claims must serialise to a JSON object".to_owned(),
            ));
        }
        payload.pop();
        if payload.len() > 1 {
            payload.push(b',');
        }
        payload.extend_from_slice(self.registered.as_bytes());
        payload.extend_from_slice(now.to_string().as_bytes());
        if let Some(version) = stamp.version {
            payload.extend_from_slice(b",\"sv\":");
            serde_json::to_writer(&mut payload, version).map_err(|e| EncodeError(e.to_string()))?;
        }
        if let Some(guest) = stamp.guest {
            payload.extend_from_slice(b",\"gst\":");
            serde_json::to_writer(&mut payload, guest).map_err(|e| EncodeError(e.to_string()))?;
        }
        payload.push(b'}');
        self.keys
            .seal(&payload)
            .map_err(|e| EncodeError(e.to_string()))
    }

    /// Opens `token` under any key and checks its claims at the Unix time `now`, for the
    /// application's `Token`: its `exp` and `iat` are read from the `Token` itself, and a token
    /// this layer wrote has its registered claims read from their own tail, so the payload is
    /// parsed once.
    pub fn decode<T: TokenClaims>(&self, token: &str, now: i64) -> Result<Decoded<T>, DecodeError> {
        let (mut payload, key_index) = self.open(token)?;
        let claims: T = serde_json::from_slice(&payload)
            .map_err(|_| DecodeError::Invalid("the claims do not fit the Token type"))?;
        let registered = match self.tail(&mut payload) {
            Some(tail) => tail?,
            None => parse_registered(&payload)?,
        };
        self.check(&registered, claims.expires_at(), claims.issued_at(), now)?;
        Ok(Decoded {
            claims,
            reissue: key_index > 0,
            version: registered.sv,
            guest: registered.gst,
            written: self.application_claims(payload),
            stored: None,
        })
    }

    /// As [`SessionCodec::decode`], for claims of any shape (a [`TokenReader`](crate::TokenReader)'s):
    /// the times are read with the registered claims.
    pub fn decode_any<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        now: i64,
    ) -> Result<Decoded<T>, DecodeError> {
        let (payload, key_index) = self.open(token)?;
        let registered = parse_registered(&payload)?;
        let time = |claim: &Option<Number>, name: &'static str| match claim {
            None => Ok(None),
            Some(n) => n.seconds().map(Some).ok_or(DecodeError::Invalid(name)),
        };
        let exp = time(&registered.exp, "exp is not a number")?;
        let iat = time(&registered.iat, "iat is not a number")?;
        self.check(&registered, exp, iat, now)?;
        let claims: T = serde_json::from_slice(&payload)
            .map_err(|_| DecodeError::Invalid("the claims do not fit the claims type"))?;
        Ok(Decoded {
            claims,
            reissue: key_index > 0,
            version: registered.sv,
            guest: registered.gst,
            written: None,
            stored: None,
        })
    }

    fn open(&self, token: &str) -> Result<(Vec<u8>, usize), DecodeError> {
        self.keys
            .open(token)
            .map_err(|_| DecodeError::Invalid("does not open under any configured secret"))
    }

    /// The registered claims of a token this layer wrote, parsed from the tail `encode`
    /// appended (`None` when the payload is not laid out that way).
    fn tail(&self, payload: &mut [u8]) -> Option<Result<Registered, DecodeError>> {
        let at = rfind(payload, self.registered.as_bytes())?;
        let open = at.checked_sub(1)?;
        let before = payload[open];
        if before != b',' && before != b'{' {
            return None;
        }
        // `,"iss":...}` read as the object `{"iss":...}`, then put back.
        payload[open] = b'{';
        let parsed = parse_registered(&payload[open..]);
        payload[open] = before;
        Some(parsed)
    }

    /// What every token must say, whoever wrote it.
    fn check(
        &self,
        registered: &Registered,
        exp: Option<i64>,
        iat: Option<i64>,
        now: i64,
    ) -> Result<(), DecodeError> {
        let leeway = i64::try_from(self.rules.leeway).unwrap_or(i64::MAX);
        if let (Some(expected), Some(iss)) = (&self.rules.issuer, &registered.iss)
            && iss != expected
        {
            return Err(DecodeError::Invalid("another issuer"));
        }
        let audience_ok = match (&self.rules.audience, &registered.aud) {
            (None, _) | (_, None) => true,
            (Some(expected), Some(Audience::One(aud))) => aud == expected,
            (Some(expected), Some(Audience::Many(auds))) => auds.iter().any(|aud| aud == expected),
            (Some(_), Some(Audience::Other(_))) => false,
        };
        if !audience_ok {
            return Err(DecodeError::Invalid("another audience"));
        }
        let exp = exp.ok_or(DecodeError::Invalid("no exp claim"))?;
        if exp.saturating_add(leeway) < now {
            return Err(DecodeError::Expired);
        }
        let nbf = match &registered.nbf {
            None => None,
            Some(n) => Some(
                n.seconds()
                    .ok_or(DecodeError::Invalid("nbf is not a number"))?,
            ),
        };
        if [nbf, iat]
            .into_iter()
            .flatten()
            .any(|at| at > now.saturating_add(leeway))
        {
            return Err(DecodeError::Invalid(
                "not valid yet (nbf or iat in the future)",
            ));
        }
        Ok(())
    }

    /// The application's claims as `encode` serialised them, when `payload` is laid out as
    /// `encode` writes it (the registered claims last): what a read compares the claims with after
    /// the `jwt` callback, without serialising them again. `None` for tokens minted elsewhere.
    fn application_claims(&self, mut payload: Vec<u8>) -> Option<Vec<u8>> {
        // JSON escapes every quote inside a string, so `"iss":...` (or `"nbf":`) unescaped is a
        // key, and the last occurrence is the one `encode` appended after every other claim.
        let at = rfind(&payload, self.registered.as_bytes())?;
        match at.checked_sub(1).map(|i| payload[i]) {
            Some(b',') => payload.truncate(at - 1),
            Some(b'{') => payload.truncate(at),
            _ => return None,
        }
        payload.push(b'}');
        Some(payload)
    }
}

fn parse_registered(json: &[u8]) -> Result<Registered, DecodeError> {
    serde_json::from_slice(json)
        .map_err(|_| DecodeError::Invalid("the claims are not a JSON object"))
}

/// A random UUID v4, as NextAuth's `jti`.
pub(crate) fn new_jti() -> String {
    use rand::RngCore;
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
    use serde::Serialize;

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
    const COOKIE: &str = "next-auth.session-token";

    fn rules() -> ClaimRules {
        ClaimRules {
            issuer: Some("https://shop.example".to_owned()),
            audience: Some("https://shop.example/api/auth".to_owned()),
            leeway: LEEWAY_SECONDS,
        }
    }

    fn codec_in(format: TokenFormat, secrets: &[&str]) -> SessionCodec {
        SessionCodec::new(format, secrets, COOKIE, rules())
    }

    fn claims(name: &str) -> Claims {
        Claims {
            sub: Some("u1".into()),
            name: Some(name.into()),
            extra: serde_json::json!({ "nested": { "a": 1, "iss": "not ours" } }),
            ..Claims::default()
        }
    }

    /// The claims a token carries, as any reader of the format sees them.
    fn payload_of(format: TokenFormat, token: &str) -> serde_json::Value {
        let keys = Keys::derive(format, &[NEW], COOKIE);
        serde_json::from_slice(&keys.open(token).unwrap().0).unwrap()
    }

    /// A token sealed from raw claims, as another library would mint it.
    fn foreign(format: TokenFormat, claims: serde_json::Value) -> String {
        let keys = Keys::derive(format, &[NEW], COOKIE);
        keys.seal(&serde_json::to_vec(&claims).unwrap()).unwrap()
    }

    #[test]
    fn writes_and_reads_every_stamp_in_every_format() {
        for format in TokenFormat::ALL {
            let codec = codec_in(format, &[NEW]);
            let mut token = claims("Ann");
            let version = SessionVersion {
                uid: "u\"1".into(),
                v: 3,
            };
            let stamp = Stamp {
                version: Some(&version),
                guest: Some("g\"1"),
            };
            let jwt = codec.encode(&mut token, NOW, 3600, stamp).unwrap();
            let payload = payload_of(format, &jwt);
            assert_eq!(payload["iss"], "https://shop.example");
            assert_eq!(payload["aud"], "https://shop.example/api/auth");
            assert_eq!(payload["nbf"], NOW);
            assert_eq!(payload["exp"], NOW + 3600);
            assert_eq!(payload["sv"]["v"], 3);
            assert_eq!(payload["gst"], "g\"1");
            let decoded = codec.decode::<Claims>(&jwt, NOW).unwrap();
            assert_eq!(decoded.claims, token, "{format}");
            assert_eq!(decoded.version, Some(version));
            assert_eq!(decoded.guest.as_deref(), Some("g\"1"));
            assert!(!decoded.reissue);
            assert_eq!(decoded.written, Some(serde_json::to_vec(&token).unwrap()));
        }
    }

    #[test]
    fn reads_claims_in_any_order_and_ignores_unknown_ones() {
        for format in TokenFormat::ALL {
            let token = foreign(
                format,
                serde_json::json!({
                    "jti": "x", "exp": NOW + 60, "unknown": [1, 2], "sub": "7", "iat": NOW,
                    "name": "Bo", "email": null, "picture": null
                }),
            );
            let decoded = codec_in(format, &[NEW])
                .decode::<Claims>(&token, NOW)
                .unwrap();
            assert_eq!(decoded.claims.sub.as_deref(), Some("7"));
            assert_eq!(decoded.claims.name.as_deref(), Some("Bo"));
            assert_eq!((decoded.version, decoded.guest), (None, None));
            assert_eq!(decoded.written, None, "minted elsewhere");
        }
    }

    #[test]
    fn checks_issuer_and_audience_only_where_present() {
        let format = TokenFormat::NextAuthV4;
        let codec = codec_in(format, &[NEW]);
        let base = serde_json::json!({ "sub": "1", "exp": NOW + 60 });
        let with = |extra: serde_json::Value| {
            let mut claims = base.clone();
            claims
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            codec.decode::<Claims>(&foreign(format, claims), NOW)
        };
        assert!(with(serde_json::json!({})).is_ok());
        assert!(with(serde_json::json!({ "iss": "https://shop.example" })).is_ok());
        assert!(with(serde_json::json!({ "aud": ["x", "https://shop.example/api/auth"] })).is_ok());
        for other in [
            serde_json::json!({ "iss": "https://evil.example" }),
            serde_json::json!({ "aud": "https://shop.example/other" }),
            serde_json::json!({ "aud": 7 }),
            serde_json::json!({ "sv": "not a version" }),
            serde_json::json!({ "exp": "soon" }),
        ] {
            assert!(
                matches!(with(other.clone()), Err(DecodeError::Invalid(_))),
                "{other}"
            );
        }
    }

    #[test]
    fn checks_times_with_leeway() {
        let codec = codec_in(TokenFormat::NextAuthV4, &[NEW]);
        let jwt = codec
            .encode(&mut claims("Ann"), NOW, 3600, Stamp::default())
            .unwrap();
        // nbf and iat: a token from the future is refused beyond the leeway.
        assert!(codec.decode::<Claims>(&jwt, NOW - 15).is_ok());
        assert!(codec.decode::<Claims>(&jwt, NOW - 16).is_err());
        // exp: accepted up to the leeway after expiry, then Expired.
        assert!(codec.decode::<Claims>(&jwt, NOW + 3600 + 15).is_ok());
        assert_eq!(
            codec.decode::<Claims>(&jwt, NOW + 3600 + 16).unwrap_err(),
            DecodeError::Expired
        );
        // No exp at all: refused (a token that never expires is not accepted).
        let forever = foreign(TokenFormat::NextAuthV4, serde_json::json!({ "sub": "1" }));
        assert!(codec.decode::<Claims>(&forever, NOW).is_err());
    }

    #[test]
    fn rotation_reads_old_secrets_and_asks_for_reissue() {
        for format in TokenFormat::ALL {
            let old = codec_in(format, &[OLD]);
            let jwt = old
                .encode(&mut claims("Ann"), NOW, 3600, Stamp::default())
                .unwrap();
            let rotated = codec_in(format, &[NEW, OLD]);
            let decoded = rotated.decode::<Claims>(&jwt, NOW).unwrap();
            assert!(decoded.reissue);
            let mut token = decoded.claims;
            let renewed = rotated
                .encode(&mut token, NOW, 3600, Stamp::default())
                .unwrap();
            assert!(!rotated.decode::<Claims>(&renewed, NOW).unwrap().reissue);
            assert!(
                codec_in(format, &[NEW])
                    .decode::<Claims>(&renewed, NOW)
                    .is_ok()
            );
            assert!(
                codec_in(format, &[NEW])
                    .decode::<Claims>(&jwt, NOW)
                    .is_err()
            );
        }
    }

    #[test]
    fn formats_do_not_read_each_other() {
        for writer in TokenFormat::ALL {
            let jwt = codec_in(writer, &[NEW])
                .encode(&mut claims("Ann"), NOW, 3600, Stamp::default())
                .unwrap();
            for reader in TokenFormat::ALL.into_iter().filter(|f| *f != writer) {
                assert!(
                    codec_in(reader, &[NEW])
                        .decode::<Claims>(&jwt, NOW)
                        .is_err()
                );
            }
        }
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
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// decode(encode(x)) == x, for any claims, in any format, under any configured key.
        #[test]
        fn decode_inverts_encode(
            sub in proptest::option::of(".{0,40}"),
            name in proptest::option::of(".{0,40}"),
            extra in json_value(),
            uid in ".{0,20}",
            v in any::<u64>(),
            max_age in 1u64..100_000_000,
            signer in 0usize..2,
            format in prop::sample::select(TokenFormat::ALL.to_vec()),
        ) {
            let mut token = Claims { sub, name, extra, ..Claims::default() };
            let version = SessionVersion { uid, v };
            let keys = [NEW, OLD];
            let stamp = Stamp { version: Some(&version), guest: None };
            let jwt = codec_in(format, &keys[signer..])
                .encode(&mut token, NOW, max_age, stamp)
                .unwrap();
            let decoded = codec_in(format, &keys).decode::<Claims>(&jwt, NOW).unwrap();
            prop_assert_eq!(&decoded.claims, &token);
            prop_assert_eq!(decoded.version, Some(version));
            prop_assert_eq!(decoded.reissue, signer == 1);
            prop_assert_eq!(decoded.written, Some(serde_json::to_vec(&token).unwrap()));
        }

        /// Arbitrary text never panics the decoder and is never accepted.
        #[test]
        fn arbitrary_text_is_refused(
            text in ".{0,400}",
            format in prop::sample::select(TokenFormat::ALL.to_vec()),
        ) {
            prop_assert!(codec_in(format, &[NEW]).decode::<Claims>(&text, NOW).is_err());
        }
    }
}
