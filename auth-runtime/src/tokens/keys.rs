//! The keys of one token format, derived from the configured secrets (newest first), and the
//! two operations on them: seal under the newest key, open under any.
//!
//! Every key is HKDF-SHA256 of the secret:
//!
//! - `NextAuthV4`: empty salt, info `NextAuth.js Generated Encryption Key`, 32 bytes; tokens are
//!   JWE `dir` + `A256GCM`.
//! - `AuthJsV5`: salt the session cookie's name, info `Auth.js Generated Encryption Key
//!   (<name>)`, 64 bytes; tokens are JWE `dir` + `A256CBC-HS512` with a `kid`. The same
//!   derivation at 32 bytes gives the `A256GCM` key `@auth/core` also reads with.
//! - `Jws`: no salt, info `auth-runtime session token signing key`, 32 bytes; tokens are JWS
//!   `HS256`.
//!
//! Each key is turned into its prepared cipher and MAC states at once and the derived bytes are
//! wiped; the AES key schedules are wiped on drop too (the `zeroize` features of `aes`, `cbc`
//! and `aes-gcm`). The HMAC states cannot be (RustCrypto's `hmac` 0.12 does not zeroize).

use std::fmt;

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use super::jwe::{self, A256CBC_HS512, A256GCM, CbcHsKey, CbcHsSealed, GcmKey, GcmSealed};
use super::jws::{self, HsKey};
use super::{MAX_TOKEN_LEN, SealError, TokenFormat};

const NEXTAUTH_V4_INFO: &str = "NextAuth.js Generated Encryption Key";
const JWS_INFO: &str = "auth-runtime session token signing key";

/// The prepared keys of one token format, one per secret, newest first.
#[derive(Clone)]
pub(crate) struct Keys {
    format: TokenFormat,
    set: KeySet,
}

#[derive(Clone)]
enum KeySet {
    NextAuthV4(Vec<GcmKey>),
    AuthJsV5(Vec<V5Key>),
    Jws(Vec<HsKey>),
}

/// One Auth.js v5 secret: the `A256CBC-HS512` key it writes with, the header it writes (with
/// that key's `kid`), and the `A256GCM` key `@auth/core` also reads with.
#[derive(Clone)]
struct V5Key {
    /// The protected header segment written, base64url.
    header: String,
    /// The `kid` of the 64-byte key (SHA-512 JWK thumbprint).
    kid: String,
    cbc: CbcHsKey,
    /// The `kid` of the 32-byte key (SHA-256 JWK thumbprint).
    gcm_kid: String,
    gcm: GcmKey,
}

impl V5Key {
    fn new(secret: &str, session_cookie: &str) -> Self {
        let info = format!("Auth.js Generated Encryption Key ({session_cookie})");
        let salt = Some(session_cookie.as_bytes());
        let cbc_key = hkdf::<64>(salt, secret, &info);
        let gcm_key = hkdf::<32>(salt, secret, &info);
        let kid = jwe::thumbprint(cbc_key.as_slice());
        // The member order `@auth/core` writes (`setProtectedHeader({ alg, enc, kid })`); a
        // thumbprint is base64url, so it needs no JSON escaping.
        let header_json = format!(r#"{{"alg":"dir","enc":"{A256CBC_HS512}","kid":"{kid}"}}"#);
        V5Key {
            header: base64_url(header_json.as_bytes()),
            kid,
            cbc: CbcHsKey::new(&cbc_key),
            gcm_kid: jwe::thumbprint(gcm_key.as_slice()),
            gcm: GcmKey::new(&gcm_key),
        }
    }
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// HKDF-SHA256 of `secret`, `N` bytes (at most 64), wiped when dropped.
fn hkdf<const N: usize>(salt: Option<&[u8]>, secret: &str, info: &str) -> Zeroizing<[u8; N]> {
    let mut okm = Zeroizing::new([0u8; N]);
    Hkdf::<Sha256>::new(salt, secret.as_bytes())
        .expand(info.as_bytes(), okm.as_mut_slice())
        .expect("at most 64 bytes is a valid HKDF-SHA256 output length");
    okm
}

fn nextauth_v4_key(secret: &str) -> Zeroizing<[u8; 32]> {
    hkdf(Some(b""), secret, NEXTAUTH_V4_INFO)
}

fn jws_key(secret: &str) -> Zeroizing<[u8; 32]> {
    hkdf(None, secret, JWS_INFO)
}

fn invalid(why: &'static str) -> SealError {
    SealError::Invalid(why)
}

impl Keys {
    /// `session_cookie` is the session cookie's full name (e.g. "authjs.session-token" or
    /// "__Secure-authjs.session-token"); only Auth.js v5 uses it (as HKDF salt).
    pub(crate) fn derive<S: AsRef<str>>(
        format: TokenFormat,
        secrets: &[S],
        session_cookie: &str,
    ) -> Keys {
        let secrets = secrets.iter().map(AsRef::as_ref);
        let set = match format {
            TokenFormat::NextAuthV4 => KeySet::NextAuthV4(
                secrets
                    .map(|secret| GcmKey::new(&nextauth_v4_key(secret)))
                    .collect(),
            ),
            TokenFormat::AuthJsV5 => KeySet::AuthJsV5(
                secrets
                    .map(|secret| V5Key::new(secret, session_cookie))
                    .collect(),
            ),
            TokenFormat::Jws => {
                KeySet::Jws(secrets.map(|secret| HsKey::new(&jws_key(secret))).collect())
            }
        };
        Keys { format, set }
    }

    fn len(&self) -> usize {
        match &self.set {
            KeySet::NextAuthV4(keys) => keys.len(),
            KeySet::AuthJsV5(keys) => keys.len(),
            KeySet::Jws(keys) => keys.len(),
        }
    }

    /// Seals a JSON claims object (its UTF-8 bytes, already serialised) under the newest key.
    pub(crate) fn seal(&self, claims: &[u8]) -> Result<String, SealError> {
        let no_key = || SealError::Seal("no key");
        let token = match &self.set {
            KeySet::NextAuthV4(keys) => keys
                .first()
                .ok_or_else(no_key)?
                .seal(jwe::V4_HEADER, claims)?,
            KeySet::AuthJsV5(keys) => {
                let key = keys.first().ok_or_else(no_key)?;
                key.cbc.seal(&key.header, claims)?
            }
            KeySet::Jws(keys) => keys.first().ok_or_else(no_key)?.seal(claims),
        };
        Self::checked_len(token)
    }

    /// A token that [`Keys::open`] would refuse as too long is not handed out.
    fn checked_len(token: String) -> Result<String, SealError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(SealError::Seal("token too long"));
        }
        Ok(token)
    }

    /// Opens a compact token under any key: the claims bytes and the index of the key that
    /// opened it (0 = newest).
    pub(crate) fn open(&self, token: &str) -> Result<(Vec<u8>, usize), SealError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(invalid("token too long"));
        }
        match &self.set {
            KeySet::NextAuthV4(keys) => open_v4(keys, token),
            KeySet::AuthJsV5(keys) => open_v5(keys, token),
            KeySet::Jws(keys) => jws::open(keys, token),
        }
    }

    /// [`Keys::seal`] with a chosen IV (12 bytes for next-auth 4, 16 for Auth.js v5), for
    /// reproducible test vectors.
    #[cfg(test)]
    fn seal_with_iv(&self, claims: &[u8], iv: &[u8]) -> Result<String, SealError> {
        let bad_iv = || SealError::Seal("bad IV length");
        let token = match &self.set {
            KeySet::NextAuthV4(keys) => keys[0].seal_with_iv(
                jwe::V4_HEADER,
                claims,
                &iv.try_into().map_err(|_| bad_iv())?,
            )?,
            KeySet::AuthJsV5(keys) => keys[0].cbc.seal_with_iv(
                &keys[0].header,
                claims,
                &iv.try_into().map_err(|_| bad_iv())?,
            )?,
            KeySet::Jws(keys) => keys[0].seal(claims),
        };
        Self::checked_len(token)
    }
}

/// next-auth 4: `alg: dir`, `enc: A256GCM` only (extra header members such as `typ` are fine).
fn open_v4(keys: &[GcmKey], token: &str) -> Result<(Vec<u8>, usize), SealError> {
    let parts = jwe::split(token)?;
    if parts.header != jwe::V4_HEADER && jwe::parse_header(parts.header)?.enc != A256GCM {
        return Err(invalid("unexpected content encryption"));
    }
    let mut sealed = GcmSealed::decode(&parts)?;
    let index = keys
        .iter()
        .position(|key| sealed.try_open(key, parts.header))
        .ok_or_else(|| invalid("decryption failed"))?;
    Ok((sealed.into_plaintext(), index))
}

/// Auth.js v5, as `@auth/core`'s `decode`: `alg: dir` with `enc` `A256CBC-HS512` (64-byte key)
/// or `A256GCM` (32-byte key); with a `kid`, only the key whose thumbprint it is, without one,
/// each key in turn.
fn open_v5(keys: &[V5Key], token: &str) -> Result<(Vec<u8>, usize), SealError> {
    let failed = || invalid("decryption failed");
    let parts = jwe::split(token)?;
    // Our own header (and `@auth/core`'s) names its key: no JSON to parse.
    if let Some((index, key)) = keys
        .iter()
        .enumerate()
        .find(|(_, key)| key.header == parts.header)
    {
        let sealed = CbcHsSealed::decode(&parts)?;
        if !sealed.verify(&key.cbc, parts.header) {
            return Err(failed());
        }
        return Ok((sealed.decrypt(&key.cbc)?, index));
    }
    let header = jwe::parse_header(parts.header)?;
    let kid = header.kid.as_deref();
    match header.enc.as_str() {
        A256CBC_HS512 => {
            let sealed = CbcHsSealed::decode(&parts)?;
            let (index, key) = keys
                .iter()
                .enumerate()
                .filter(|(_, key)| kid.is_none_or(|kid| kid == key.kid))
                .find(|(_, key)| sealed.verify(&key.cbc, parts.header))
                .ok_or_else(failed)?;
            Ok((sealed.decrypt(&key.cbc)?, index))
        }
        A256GCM => {
            let mut sealed = GcmSealed::decode(&parts)?;
            let index = keys
                .iter()
                .enumerate()
                .filter(|(_, key)| kid.is_none_or(|kid| kid == key.gcm_kid))
                .find(|(_, key)| sealed.try_open(&key.gcm, parts.header))
                .map(|(index, _)| index)
                .ok_or_else(failed)?;
            Ok((sealed.into_plaintext(), index))
        }
        _ => Err(invalid("unexpected content encryption")),
    }
}

impl fmt::Debug for Keys {
    /// The format and the number of keys; never key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keys")
            .field("format", &self.format)
            .field("keys", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;
    use serde_json::Value;

    // ---- next-auth 4.24.15 vectors (shared/reference/nextauth-v4-vectors.json) ----

    const V4_SECRET: &str = "nextauth-interop-test-secret-0123456789";
    const V4_COOKIE: &str = "next-auth.session-token";
    const V4_KEY_HEX: &str = "927891eb23f02cc56b8f046b4677f23692aa844dc818dd7eeca09fc4670ab7c2";

    const V4_DETERMINISTIC_IV_HEX: &str = "000102030405060708090a0b";
    const V4_DETERMINISTIC_PAYLOAD: &str = r#"{"name":"Alice","email":"alice@example.com","picture":null,"sub":"42","iat":1700000000,"exp":4102444800,"jti":"00000000-0000-4000-8000-000000000000"}"#;
    const V4_DETERMINISTIC_JWE: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAECAwQFBgcICQoL.XpedGy56DTnZS5J0k4L1cRuihUAQN0t2vO2wfTnEfPN_Q-mckTD2DWg15Vu2QylUntUtXn_SAZiuQGLgvXn97a74onawNJfOohzQGixZ4mzffIGIMuAw2bTGhA_pn355uDQPlqkhyIG-Cb7T3PodwVT_WRzISRy500Z5G9a0J7D9OKyf0Td0ZzGdOdidMzksjLAbYnQ.w9mgB2VZj0Zc2tcgPjnHLQ";

    /// `(secret, jwe, decoded payload)`: `session_tokens[0..3]`, then `server_minted_exchange`.
    const V4_TOKENS: [(&str, &str, &str); 4] = [
        (
            V4_SECRET,
            "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..TeGpDHjdr6Bp2Dx8.204JbBRSwAXZy3TmjrpDqBWix6EpwlP1OWlMAhnGCKxuFCPI8ZYaFYd9WV67Iu-quO3y2JsldSuvFz2ZX0hFwyuetTGutMA46ZuzzfLpWQJwB1lB2Ub6EL1y1FOy2DiAUQ9N7OyYgDPgz1mdLbAY2nHE4KVYpWyh4Eq-FYMreQssgjM5535N6ZsOvlAPSdiRwFER7iNa_8g3yOwF-kzdFmWS8-13Oo2iJhR-Rg.9sLYN46u3zdXfYqCwcIKKQ",
            r#"{"name":"Alice","email":"alice@example.com","picture":"https://img.example/a.png","sub":"42","iat":1795771545,"exp":1798363545,"jti":"19dd83d7-c6cd-4caf-aaaf-ac5894490b36"}"#,
        ),
        (
            V4_SECRET,
            "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..iN0chzNCScQq6t17.Eu8b9eB3438PMV361lSd3lCgZkhwgYXhiW0mnpBys19bk9RIPoofIiXfboGIrFc-ELpJhrI0Il7hAJjrJiE-6WbH-uUVHG5AftPEzwPpk3nwFd3IZ-WwqoYmH7v0JQIaIGSS00j3TMGHBrs2XhxlpppUVXLTi-fxrwZ8E060mZYxFP3GzXtaQLz0XXT-1o8U-XE1V7vql_lcnTFOf3R2N-ZltTPmlDJvYnQbBVJFfK8lMLj5tCRiMfLGUpmZBTiCk_BEXH89pgh4eLU.tuNbbBIg9DholMeKmve2Xw",
            r#"{"name":"Alice","email":"alice@example.com","picture":"https://img.example/a.png","sub":"42","extra":{"role":"admin","n":7},"iat":1795771545,"exp":4949371545,"jti":"45a34d41-f759-455d-9eb4-9ac6e9bd1b86"}"#,
        ),
        (
            V4_SECRET,
            "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..IJ5nAo2XUjW1v3C1.EwKDuAR330xHi4L0RmzQH7duaB0DaQBurqaKhVgZrXDLL9Rlc-yhTdGrtHR8TVxqCxqag29D7k5BQw3xYyXwH58_p51S4sDpPaKVp3fhw2KSzQpZd0rdsneD.5mZfuEM-w9NlXDmyUHvaMQ",
            r#"{"sub":"x","iat":1795771545,"exp":4949371545,"jti":"382c0f5a-d35d-4353-8d40-538c502c400f"}"#,
        ),
        (
            "test-secret-please-change",
            "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..VVOUdFukZdVYTjLP.vcKejIhDAfG7xsLKzZiugvydzDiZHamLJnVV-pdo_RoGGdypza9jRHFb0ColossWJnGafnHn60cTF6NrtLfGejMrG9ChQ_QLIAir1UsFy3bTTDGgE3_WsfbYU0jgpJEmjatSHCP1i3REp91wv5K0CWXPYjk4gcBmBJIxO-khf6llXQprRBqNR72JwArt9uANuP6wew.2Vsv3PUZOT9Jkm9nNy9yxQ",
            r#"{"name":"bob","email":null,"picture":null,"sub":"anon-bob","extra":1,"iat":1795771476,"exp":1798363476,"jti":"96235b14-6770-41b7-8726-42252fa5d275"}"#,
        ),
    ];

    // ---- @auth/core 0.41.3 (jose 6.2.18) vectors, made with its real `encode` on Node 20 ----

    const V5_SECRET: &str = "authjs-interop-test-secret-0123456789";
    const V5_COOKIE: &str = "authjs.session-token";
    const V5_SECURE_COOKIE: &str = "__Secure-authjs.session-token";
    /// HKDF(secret, salt "authjs.session-token", info "Auth.js Generated Encryption Key
    /// (authjs.session-token)", 64); its first 32 bytes are the 32-byte (`A256GCM`) key.
    const V5_KEY_HEX: &str = "4775b8bff8721e69528f3b3f093886f920ea63e1430c73efc995ace7dfd29f7530c5faa533b99f0d5f1f256c42fda43c40e56af77dcbd3f69737bfce60a2e6b0";
    /// `calculateJwkThumbprint({kty: "oct", k}, "sha512")` of the 64-byte key.
    const V5_KID: &str =
        "jAMTpVsv2X_XPBkR_Fbk2cnSVLAchT0vWOYYlUJC9QWNZVrZxxqeivbCxBdCOCbVrf_aVR257wzqwwJX9f2D0A";
    /// `calculateJwkThumbprint({kty: "oct", k}, "sha256")` of the 32-byte key.
    const V5_GCM_KID: &str = "BL8JVFS86nMygbzUWmmxXq8EPJU7uGN5HQV6AVddf5o";
    /// The kid for the same secret under `__Secure-authjs.session-token`.
    const V5_SECURE_KID: &str =
        "WDpHwF3Px2WkX6bsYeH2PsIcaM_ijidADa3yoprcukgkQL3wPgZOsM7JfixxiWBNYrngzI3k3r6Q1k22wvBV_g";

    /// `encode({ token, secret: V5_SECRET, salt: V5_COOKIE, maxAge: 100 years })`.
    const V5_AUTHCORE_TOKEN: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoiakFNVHBWc3YyWF9YUEJrUl9GYmsyY25TVkxBY2hUMHZXT1lZbFVKQzlRV05aVnJaeHhxZWl2YkN4QmRDT0NiVnJmX2FWUjI1N3d6cXd3Slg5ZjJEMEEifQ..Pa544TGYfUgiTS0LsCEwMg.8laKmQ8y6feezhQxDNXcVCmwYEiJ8js7H_5j5ddjci0J3-C96CANejDCB6zazdb7zZA-dPzC5znsFj-mVOnpIq71-e6SLWGp09N2e7dwMBAZzzO8HnYHckbanRWoOrZlg4qGpfdpMCrXlyIwosYTwolTMCFbYjzKkB9ca3sbo6K2vTC1AA_fXMlZuNydOfde1nLaLIEVFrJ706XG0JpSJI5_l7D0ySn4S0VoBX7hqFI.8_h0TblOtd_XBvqSspMK8tg7uVhJ2IgW2t68c4b5AXA";
    const V5_AUTHCORE_PAYLOAD: &str = r#"{"name":"Alice","email":"alice@example.com","sub":"42","extra":{"role":"admin","n":7},"iat":1796065141,"exp":4949665141,"jti":"09bb0781-91ed-4d4c-afe4-105b22fd50d5"}"#;
    /// The same with `salt: V5_SECURE_COOKIE`.
    const V5_AUTHCORE_SECURE_TOKEN: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoiV0RwSHdGM1B4MldrWDZic1llSDJQc0ljYU1faWppZEFEYTN5b3ByY3VrZ2tRTDN3UGdaT3NNN0pmaXh4aVdCTllybmd6STNrM3I2UTFrMjJ3dkJWX2cifQ..kIc1HkEEVOaYOfrqeA_1Bg.9tC0mDBw4k9xGkXxAI2zvPenlguQB7qrbX7VuqLeSn-4Scj918JpgRAbtpxSQyT_S4EtcJFfsc_PQ7QFkihgAaBnhq4F4BMoBnD3Zv-jEeqBFqq-kFmVg3axGZ8sp8pc.OvpuMApkgOqaKqYvQ8bD_jZb55HmhnLd1j5ya3TsTSE";
    const V5_AUTHCORE_SECURE_PAYLOAD: &str = r#"{"sub":"secure","iat":1796065141,"exp":4949665141,"jti":"b65723a9-42fe-45a7-945c-5d9e1e8f9b2a"}"#;
    /// jose `EncryptJWT` with the 32-byte key, `{alg: "dir", enc: "A256GCM", kid: V5_GCM_KID}`
    /// (what `@auth/core`'s `decode` also reads), then without `kid`, then `A256CBC-HS512`
    /// without `kid`; each decoded by `@auth/core`'s `decode`.
    const V5_JOSE_TOKENS: [(&str, &str); 3] = [
        (
            "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiQkw4SlZGUzg2bk15Z2J6VVdtbXhYcThFUEpVN3VHTjVIUVY2QVZkZGY1byJ9..mzfT1eDK1YJRogZG.aC_OR6VsDJKjN8a8d1G2cdT0WSmR0nRtvlBrGyBgpWC7U2wlOkETpTYEN7-49gPIXpBI.QLabqISAyNBXzWLk47bY-g",
            r#"{"sub":"gcm-kid","iat":1796065146,"exp":4949665146}"#,
        ),
        (
            "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aC_N-qtF7u-znl-j.Z9D6dSIzantdov-lx6vHGp2ujC5kdu2z7uAcN13rNaJAy5oYq1uzlNRMVaeLTRDOXA5fDOU.Um1gf3IJlXci14lROgrRCg",
            r#"{"sub":"gcm-nokid","iat":1796065146,"exp":4949665146}"#,
        ),
        (
            "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIn0..WJXkrR4fmJD7pJXVVLAFAg.HMfNMcMEozRjTbgNoMCM79DITgNMB-_VTTUTYM9L8Eyv0RVsGYWBA9u-yLJCPwx_DmwCP0LmGrxqg_HDUbQLWA.OF9xYmnE69zXjks4PUi_qE1OOF9JumnKMYPlFId0MU0",
            r#"{"sub":"cbc-nokid","iat":1796065146,"exp":4949665146}"#,
        ),
    ];

    /// Sealed by us with [`Keys::seal_with_iv`] (IV 00..0f) under `V5_SECRET`/`V5_COOKIE`, and
    /// decoded by `@auth/core` 0.41.3's `decode` to `V5_DETERMINISTIC_PAYLOAD`.
    const V5_DETERMINISTIC_PAYLOAD: &str = r#"{"name":"Alice","email":"alice@example.com","picture":null,"sub":"42","iat":1700000000,"exp":4102444800,"jti":"00000000-0000-4000-8000-000000000000"}"#;
    const V5_DETERMINISTIC_JWE: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2Q0JDLUhTNTEyIiwia2lkIjoiakFNVHBWc3YyWF9YUEJrUl9GYmsyY25TVkxBY2hUMHZXT1lZbFVKQzlRV05aVnJaeHhxZWl2YkN4QmRDT0NiVnJmX2FWUjI1N3d6cXd3Slg5ZjJEMEEifQ..AAECAwQFBgcICQoLDA0ODw.OGYefKXe6ZVzvw48zkye1Cc3nhqkqNlj6kQc1G-LiHDZ-wG6fp9c4paHNt1e0hSZ5c0zOZY-8rbRR26eX9vbPoXl98shcmb7wV9V0dOoWcsXposLthFSmQwrQfe0wvjhlt-4GGx_ky74vknSEnzvBUWbdZdGgBJ9mEkGQzBSZ2y8DrYQuXluqqETItkALBn-2psIRi7H9cil1YI9Q7-xrg.9jMl6q8hadicwSVg-NopH5rnRFewIfWBNou-rH_m_C0";

    const OLD: &str = "an-older-secret-that-was-rotated-out";
    const NEW: &str = "the-newest-secret-that-signs-everything";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn json(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    fn cookie_for(format: TokenFormat) -> &'static str {
        match format {
            TokenFormat::AuthJsV5 => V5_COOKIE,
            _ => V4_COOKIE,
        }
    }

    fn keys(format: TokenFormat, secrets: &[&str]) -> Keys {
        Keys::derive(format, secrets, cookie_for(format))
    }

    fn claims() -> Vec<u8> {
        br#"{"name":"Ann","sub":"7","iat":1700000000,"exp":4102444800,"jti":"j"}"#.to_vec()
    }

    // ---- next-auth 4 ----

    #[test]
    fn v4_key_derivation_matches_next_auth() {
        assert_eq!(hex(nextauth_v4_key(V4_SECRET).as_slice()), V4_KEY_HEX);
        // The empty salt is HMAC-equivalent to no salt (32 zero bytes).
        assert_eq!(
            hkdf::<32>(None, V4_SECRET, NEXTAUTH_V4_INFO).as_slice(),
            nextauth_v4_key(V4_SECRET).as_slice()
        );
    }

    #[test]
    fn v4_deterministic_vector_is_reproduced_byte_for_byte() {
        let keys = keys(TokenFormat::NextAuthV4, &[V4_SECRET]);
        let token = keys
            .seal_with_iv(
                V4_DETERMINISTIC_PAYLOAD.as_bytes(),
                &unhex(V4_DETERMINISTIC_IV_HEX),
            )
            .unwrap();
        assert_eq!(token, V4_DETERMINISTIC_JWE);
        assert_eq!(
            keys.open(&token).unwrap(),
            (V4_DETERMINISTIC_PAYLOAD.as_bytes().to_vec(), 0)
        );
    }

    #[test]
    fn v4_tokens_minted_by_next_auth_open() {
        for (secret, jwe, payload) in V4_TOKENS {
            // The session cookie's name plays no part in next-auth 4's key.
            for cookie in [V4_COOKIE, "__Secure-next-auth.session-token"] {
                let keys = Keys::derive(TokenFormat::NextAuthV4, &[secret], cookie);
                let (claims, index) = keys.open(jwe).unwrap();
                assert_eq!(index, 0);
                assert_eq!(json(&claims), json(payload.as_bytes()));
            }
        }
    }

    #[test]
    fn v4_wrong_secret_fails() {
        for (secret, jwe, _) in V4_TOKENS {
            let wrong = format!("{secret}x");
            assert_eq!(
                keys(TokenFormat::NextAuthV4, &[&wrong]).open(jwe),
                Err(SealError::Invalid("decryption failed"))
            );
            // Not a v5 or JWS token either.
            assert!(keys(TokenFormat::AuthJsV5, &[secret]).open(jwe).is_err());
            assert!(keys(TokenFormat::Jws, &[secret]).open(jwe).is_err());
        }
    }

    #[test]
    fn v4_reads_extra_header_members_and_nothing_but_dir_a256gcm() {
        let keys = keys(TokenFormat::NextAuthV4, &[V4_SECRET]);
        let key = GcmKey::new(&nextauth_v4_key(V4_SECRET));
        let seal = |header: &str| {
            key.seal(&URL_SAFE_NO_PAD.encode(header), &claims())
                .unwrap()
        };
        for header in [
            r#"{"alg":"dir","enc":"A256GCM","typ":"JWT"}"#,
            r#"{"enc":"A256GCM","alg":"dir"}"#,
            r#"{"alg":"dir","enc":"A256GCM","kid":"anything","cty":"JWT"}"#,
        ] {
            assert_eq!(keys.open(&seal(header)).unwrap(), (claims(), 0), "{header}");
        }
        for header in [
            r#"{"alg":"none","enc":"A256GCM"}"#,
            r#"{"alg":"dir","enc":"A128GCM"}"#,
            r#"{"alg":"dir","enc":"A256CBC-HS512"}"#,
            r#"{"alg":"dir","enc":"A128CBC-HS256"}"#,
            r#"{"alg":"A256KW","enc":"A256GCM"}"#,
            r#"{"alg":"dir","enc":"A256GCM","zip":"DEF"}"#,
            r#"{"alg":"dir","enc":"A256GCM","crit":["exp"]}"#,
            r#"{"alg":"dir"}"#,
        ] {
            // Correctly sealed under the right key: only the header check can refuse it.
            assert!(keys.open(&seal(header)).is_err(), "{header}");
        }
    }

    // ---- Auth.js v5 ----

    #[test]
    fn v5_key_and_kid_match_auth_core() {
        let key = hkdf::<64>(
            Some(V5_COOKIE.as_bytes()),
            V5_SECRET,
            &format!("Auth.js Generated Encryption Key ({V5_COOKIE})"),
        );
        assert_eq!(hex(key.as_slice()), V5_KEY_HEX);
        let v5 = V5Key::new(V5_SECRET, V5_COOKIE);
        assert_eq!(v5.kid, V5_KID);
        assert_eq!(v5.gcm_kid, V5_GCM_KID);
        assert_eq!(V5Key::new(V5_SECRET, V5_SECURE_COOKIE).kid, V5_SECURE_KID);
        // Byte for byte the header `@auth/core` writes: alg, enc, kid in that order.
        let header = URL_SAFE_NO_PAD.decode(&v5.header).unwrap();
        assert_eq!(
            std::str::from_utf8(&header).unwrap(),
            format!(r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{V5_KID}"}}"#)
        );
        assert_eq!(
            Some(v5.header.as_str()),
            V5_AUTHCORE_TOKEN.split('.').next()
        );
    }

    #[test]
    fn v5_tokens_minted_by_auth_core_open() {
        let keys = keys(TokenFormat::AuthJsV5, &[V5_SECRET]);
        let (claims, index) = keys.open(V5_AUTHCORE_TOKEN).unwrap();
        assert_eq!(index, 0);
        assert_eq!(json(&claims), json(V5_AUTHCORE_PAYLOAD.as_bytes()));
        for (token, payload) in V5_JOSE_TOKENS {
            let (claims, index) = keys.open(token).unwrap();
            assert_eq!(index, 0);
            assert_eq!(json(&claims), json(payload.as_bytes()));
        }
        let secure = Keys::derive(TokenFormat::AuthJsV5, &[V5_SECRET], V5_SECURE_COOKIE);
        let (claims, _) = secure.open(V5_AUTHCORE_SECURE_TOKEN).unwrap();
        assert_eq!(json(&claims), json(V5_AUTHCORE_SECURE_PAYLOAD.as_bytes()));
        // The cookie name is the salt: each token opens only under its own.
        assert!(secure.open(V5_AUTHCORE_TOKEN).is_err());
        assert!(keys.open(V5_AUTHCORE_SECURE_TOKEN).is_err());
    }

    #[test]
    fn v5_wrong_secret_fails() {
        let wrong = keys(TokenFormat::AuthJsV5, &["not-the-secret"]);
        assert!(wrong.open(V5_AUTHCORE_TOKEN).is_err());
        for (token, _) in V5_JOSE_TOKENS {
            assert!(wrong.open(token).is_err());
        }
        assert!(
            keys(TokenFormat::NextAuthV4, &[V5_SECRET])
                .open(V5_AUTHCORE_TOKEN)
                .is_err()
        );
    }

    #[test]
    fn v5_deterministic_vector_read_by_auth_core() {
        let keys = keys(TokenFormat::AuthJsV5, &[V5_SECRET]);
        let iv: Vec<u8> = (0..16).collect();
        let token = keys
            .seal_with_iv(V5_DETERMINISTIC_PAYLOAD.as_bytes(), &iv)
            .unwrap();
        assert_eq!(token, V5_DETERMINISTIC_JWE);
        assert_eq!(
            keys.open(&token).unwrap(),
            (V5_DETERMINISTIC_PAYLOAD.as_bytes().to_vec(), 0)
        );
    }

    #[test]
    fn v5_kid_picks_the_key() {
        let rotated = keys(TokenFormat::AuthJsV5, &[NEW, V5_SECRET]);
        assert_eq!(rotated.open(V5_AUTHCORE_TOKEN).unwrap().1, 1);
        for (token, _) in V5_JOSE_TOKENS {
            assert_eq!(rotated.open(token).unwrap().1, 1, "{token}");
        }
        // A kid naming no configured key is refused, even though the key would open it.
        let key = V5Key::new(V5_SECRET, V5_COOKIE);
        let only = keys(TokenFormat::AuthJsV5, &[V5_SECRET]);
        for header in [
            r#"{"alg":"dir","enc":"A256CBC-HS512","kid":"someone-else"}"#.to_owned(),
            // The GCM key's kid on a CBC token.
            format!(r#"{{"alg":"dir","enc":"A256CBC-HS512","kid":"{V5_GCM_KID}"}}"#),
        ] {
            let token = key
                .cbc
                .seal(&URL_SAFE_NO_PAD.encode(&header), &claims())
                .unwrap();
            assert!(only.open(&token).is_err(), "{header}");
        }
        let token = key
            .gcm
            .seal(
                &URL_SAFE_NO_PAD.encode(format!(
                    r#"{{"alg":"dir","enc":"A256GCM","kid":"{V5_KID}"}}"#
                )),
                &claims(),
            )
            .unwrap();
        assert!(only.open(&token).is_err());
        // Other member orders and extra members are fine when the kid matches.
        let token = key
            .cbc
            .seal(
                &URL_SAFE_NO_PAD.encode(format!(
                    r#"{{"kid":"{V5_KID}","typ":"JWT","enc":"A256CBC-HS512","alg":"dir"}}"#
                )),
                &claims(),
            )
            .unwrap();
        assert_eq!(only.open(&token).unwrap(), (claims(), 0));
    }

    #[test]
    fn v5_refuses_other_algorithms() {
        let keys = keys(TokenFormat::AuthJsV5, &[V5_SECRET]);
        let key = V5Key::new(V5_SECRET, V5_COOKIE);
        for header in [
            r#"{"alg":"none","enc":"A256CBC-HS512"}"#,
            r#"{"alg":"dir","enc":"A128CBC-HS256"}"#,
            r#"{"alg":"dir","enc":"A192CBC-HS384"}"#,
            r#"{"alg":"dir","enc":"A256CBC-HS512","zip":"DEF"}"#,
            r#"{"alg":"dir","enc":"A256CBC-HS512","crit":["x"],"x":1}"#,
            r#"{"alg":"dir","enc":"A256CBC-HS512","kid":null}"#,
        ] {
            let token = key
                .cbc
                .seal(&URL_SAFE_NO_PAD.encode(header), &claims())
                .unwrap();
            assert!(keys.open(&token).is_err(), "{header}");
        }
        for header in [
            r#"{"alg":"none","enc":"A256GCM"}"#,
            r#"{"alg":"dir","enc":"A128GCM"}"#,
            r#"{"alg":"dir","enc":"A256GCM","zip":"DEF"}"#,
        ] {
            let token = key
                .gcm
                .seal(&URL_SAFE_NO_PAD.encode(header), &claims())
                .unwrap();
            assert!(keys.open(&token).is_err(), "{header}");
        }
        // A v4 header on a CBC body, a CBC header on a GCM body.
        let (_, rest) = V5_AUTHCORE_TOKEN.split_once('.').unwrap();
        assert!(keys.open(&format!("{}.{rest}", jwe::V4_HEADER)).is_err());
        let (_, rest) = V5_JOSE_TOKENS[1].0.split_once('.').unwrap();
        assert!(keys.open(&format!("{}.{rest}", key.header)).is_err());
    }

    // ---- JWS ----

    #[test]
    fn jws_key_derivation_is_the_one_this_crate_always_used() {
        // HKDF-SHA256, no salt, info "auth-runtime session token signing key".
        let key = jws_key(NEW);
        let expected = {
            let mut okm = [0u8; 32];
            Hkdf::<Sha256>::new(None, NEW.as_bytes())
                .expand(b"auth-runtime session token signing key", &mut okm)
                .unwrap();
            okm
        };
        assert_eq!(*key, expected);
        let token = keys(TokenFormat::Jws, &[NEW]).seal(&claims()).unwrap();
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        let decoded = jsonwebtoken::decode::<Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(&expected),
            &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256),
        )
        .unwrap();
        assert_eq!(decoded.claims, json(&claims()));
    }

    // ---- every format ----

    #[test]
    fn round_trips_with_rotation() {
        for format in TokenFormat::ALL {
            let old = keys(format, &[OLD]);
            let rotated = keys(format, &[NEW, OLD]);
            let new = keys(format, &[NEW]);
            assert_eq!(rotated.format, format);
            for claims in [claims(), b"{}".to_vec(), vec![b'x'; 5000], Vec::new()] {
                let by_old = old.seal(&claims).unwrap();
                assert_eq!(old.open(&by_old).unwrap(), (claims.clone(), 0), "{format}");
                assert_eq!(
                    rotated.open(&by_old).unwrap(),
                    (claims.clone(), 1),
                    "{format}"
                );
                assert!(new.open(&by_old).is_err(), "{format}");
                let by_rotated = rotated.seal(&claims).unwrap();
                assert_eq!(rotated.open(&by_rotated).unwrap(), (claims.clone(), 0));
                assert_eq!(new.open(&by_rotated).unwrap(), (claims.clone(), 0));
                assert!(old.open(&by_rotated).is_err(), "{format}");
            }
        }
    }

    #[test]
    fn fresh_iv_every_time() {
        for format in TokenFormat::ALL {
            let keys = keys(format, &[NEW]);
            let (a, b) = (keys.seal(&claims()).unwrap(), keys.seal(&claims()).unwrap());
            assert_eq!(a == b, format == TokenFormat::Jws, "{format}");
        }
    }

    #[test]
    fn formats_do_not_read_each_other() {
        for sealer in TokenFormat::ALL {
            let token = keys(sealer, &[NEW]).seal(&claims()).unwrap();
            for opener in TokenFormat::ALL {
                if opener != sealer {
                    assert!(
                        keys(opener, &[NEW]).open(&token).is_err(),
                        "{sealer}->{opener}"
                    );
                }
            }
        }
    }

    /// Every token each format has to read: ours, and the ones next-auth/@auth/core minted.
    fn samples(format: TokenFormat) -> (Keys, Vec<String>) {
        match format {
            TokenFormat::NextAuthV4 => {
                let keys = keys(format, &[V4_SECRET]);
                let mut tokens = vec![keys.seal(&claims()).unwrap()];
                tokens.extend(V4_TOKENS[..3].iter().map(|(_, jwe, _)| jwe.to_string()));
                (keys, tokens)
            }
            TokenFormat::AuthJsV5 => {
                let keys = keys(format, &[V5_SECRET]);
                let mut tokens = vec![keys.seal(&claims()).unwrap(), V5_AUTHCORE_TOKEN.into()];
                tokens.extend(V5_JOSE_TOKENS.iter().map(|(jwe, _)| jwe.to_string()));
                (keys, tokens)
            }
            TokenFormat::Jws => {
                let keys = keys(format, &[NEW]);
                let tokens = vec![keys.seal(&claims()).unwrap()];
                (keys, tokens)
            }
        }
    }

    #[test]
    fn any_single_character_change_is_refused() {
        for format in TokenFormat::ALL {
            let (keys, tokens) = samples(format);
            for token in tokens {
                assert!(keys.open(&token).is_ok());
                let bytes = token.as_bytes();
                for at in 0..bytes.len() {
                    for replacement in [b'A', b'B', b'-', b'_', b'.', b'='] {
                        if bytes[at] == replacement {
                            continue;
                        }
                        let mut forged = bytes.to_vec();
                        forged[at] = replacement;
                        let forged = String::from_utf8(forged).unwrap();
                        assert!(keys.open(&forged).is_err(), "{format} {forged}");
                    }
                }
            }
        }
    }

    #[test]
    fn any_single_decoded_bit_flip_is_refused() {
        for format in TokenFormat::ALL {
            let (keys, tokens) = samples(format);
            for token in tokens {
                let segments: Vec<&str> = token.split('.').collect();
                for (index, segment) in segments.iter().enumerate() {
                    let decoded = URL_SAFE_NO_PAD.decode(segment).unwrap();
                    for at in 0..decoded.len() {
                        let mut flipped = decoded.clone();
                        flipped[at] ^= 1;
                        let mut forged = segments.clone();
                        let encoded = URL_SAFE_NO_PAD.encode(&flipped);
                        forged[index] = &encoded;
                        let forged = forged.join(".");
                        assert!(keys.open(&forged).is_err(), "{format} {forged}");
                    }
                }
            }
        }
    }

    #[test]
    fn truncated_extended_and_restructured_tokens_are_refused() {
        for format in TokenFormat::ALL {
            let (keys, tokens) = samples(format);
            for token in tokens {
                for end in 0..token.len() {
                    assert!(keys.open(&token[..end]).is_err(), "{format} {end}");
                    assert!(keys.open(&token[end + 1..]).is_err(), "{format} {end}");
                }
                for forged in [
                    format!("{token}."),
                    format!(".{token}"),
                    format!("{token}A"),
                    format!("{token}=="),
                    format!(" {token}"),
                    format!("{token}\n"),
                    format!("{token}.{token}"),
                    token.replacen('.', "..", 1),
                ] {
                    assert!(keys.open(&forged).is_err(), "{format} {forged}");
                }
                // JWE: a non-empty encrypted key, another IV or tag length.
                let segments: Vec<&str> = token.split('.').collect();
                if segments.len() == 5 {
                    let with = |index: usize, value: &str| {
                        let mut forged = segments.clone();
                        forged[index] = value;
                        forged.join(".")
                    };
                    let long_iv = format!("{}AAAA", segments[2]);
                    let long_tag = format!("{}AAAA", segments[4]);
                    for forged in [
                        with(1, "AAAA"),
                        with(2, &segments[2][..segments[2].len() - 4]),
                        with(2, &long_iv),
                        with(4, &segments[4][..segments[4].len() - 4]),
                        with(4, &long_tag),
                        with(3, ""),
                    ] {
                        assert!(keys.open(&forged).is_err(), "{format} {forged}");
                    }
                }
            }
        }
    }

    #[test]
    fn empty_oversized_and_junk_are_refused() {
        for format in TokenFormat::ALL {
            let (keys, tokens) = samples(format);
            let padding = "A".repeat(MAX_TOKEN_LEN);
            for junk in [
                String::new(),
                ".".into(),
                "....".into(),
                "..".into(),
                "a.b.c".into(),
                "a.b.c.d.e".into(),
                "null".into(),
                "é.é.é.é.é".into(),
                "\0".into(),
                padding.clone(),
                format!("{}.{padding}", tokens[0]),
                // A real token grown past the limit inside its ciphertext or payload.
                tokens[0].replacen('.', &format!(".{padding}"), 1),
            ] {
                assert!(
                    keys.open(&junk).is_err(),
                    "{format} {}",
                    &junk[..junk.len().min(40)]
                );
            }
            assert_eq!(
                keys.open(&"A".repeat(MAX_TOKEN_LEN + 1)),
                Err(SealError::Invalid("token too long"))
            );
        }
    }

    #[test]
    fn seal_refuses_what_open_would_refuse_and_needs_a_key() {
        for format in TokenFormat::ALL {
            let keys = keys(format, &[NEW]);
            assert_eq!(
                keys.seal(&vec![b'x'; MAX_TOKEN_LEN]),
                Err(SealError::Seal("token too long"))
            );
            let none = Keys::derive::<&str>(format, &[], cookie_for(format));
            assert_eq!(none.seal(&claims()), Err(SealError::Seal("no key")));
            let token = keys.seal(&claims()).unwrap();
            assert!(none.open(&token).is_err());
        }
    }

    #[test]
    fn debug_shows_no_key_material() {
        let keys = keys(TokenFormat::AuthJsV5, &[NEW, OLD]);
        let debug = format!("{keys:?}");
        assert_eq!(debug, "Keys { format: AuthJsV5, keys: 2 }");
        assert_eq!(
            format!("{:?}", self::keys(TokenFormat::NextAuthV4, &[NEW])),
            "Keys { format: NextAuthV4, keys: 1 }"
        );
        assert!(!format!("{keys:#?}").contains(NEW));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_strings_are_refused_without_panicking(input in any::<String>()) {
            for format in TokenFormat::ALL {
                prop_assert!(keys(format, &[NEW]).open(&input).is_err());
            }
        }

        #[test]
        fn token_shaped_strings_are_refused_without_panicking(
            input in "[A-Za-z0-9_=-]{0,60}(\\.[A-Za-z0-9_=-]{0,60}){0,6}"
        ) {
            for format in TokenFormat::ALL {
                prop_assert!(keys(format, &[NEW]).open(&input).is_err());
            }
        }

        #[test]
        fn our_headers_with_junk_are_refused_without_panicking(
            format in prop::sample::select(TokenFormat::ALL.to_vec()),
            rest in "(\\.[A-Za-z0-9_-]{0,90}){0,6}",
        ) {
            let keys = keys(format, &[NEW]);
            let token = keys.seal(&claims()).unwrap();
            let (header, _) = token.split_once('.').unwrap();
            let forged = format!("{header}{rest}");
            prop_assert!(keys.open(&forged).is_err());
        }
    }
}
