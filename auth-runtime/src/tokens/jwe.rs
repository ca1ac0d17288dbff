//! Compact JWE with direct encryption (`alg: dir`), as next-auth 4 and `@auth/core` write it.
//!
//! Two content encryptions, per RFC 7518:
//!
//! - `A256GCM` (§5.3): 12-byte IV, 16-byte tag, AAD the ASCII of the protected-header segment.
//!   next-auth 4 writes only this one; `@auth/core` still reads it.
//! - `A256CBC-HS512` (§5.2.2.1, §5.2.5): the 64-byte key is `MAC_KEY || ENC_KEY`, 16-byte IV,
//!   AES-256-CBC with PKCS#7, tag the first 32 bytes of
//!   `HMAC-SHA512(MAC_KEY, AAD || IV || ciphertext || AL)` (`AL` the AAD length in bits, u64
//!   big-endian), checked in constant time before anything is decrypted. `@auth/core` writes it.
//!
//! Every key state (AES key schedule, GHASH key, keyed HMAC) is prepared once per secret and
//! cloned per token. Reading is strict where jose is strict (exactly five segments, an empty
//! encrypted-key segment, exact IV and tag lengths, no `zip`, no `crit`) and stricter where it is
//! lenient (canonical base64url without padding only).

use aes::Aes256;
use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, InnerIvInit};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

use super::{MAX_TOKEN_LEN, SealError};

/// next-auth 4's protected header, `{"alg":"dir","enc":"A256GCM"}`, base64url.
pub(super) const V4_HEADER: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0";

/// The `enc` values read.
pub(super) const A256GCM: &str = "A256GCM";
pub(super) const A256CBC_HS512: &str = "A256CBC-HS512";

const GCM_IV_LEN: usize = 12;
const GCM_TAG_LEN: usize = 16;
const CBC_IV_LEN: usize = 16;
const CBC_TAG_LEN: usize = 32;

fn invalid(why: &'static str) -> SealError {
    SealError::Invalid(why)
}

/// The five segments of a compact JWE, still base64url.
pub(super) struct Parts<'a> {
    /// The protected header segment, which is also the AAD.
    pub(super) header: &'a str,
    iv: &'a str,
    ciphertext: &'a str,
    tag: &'a str,
}

/// Splits a compact JWE with `alg: dir` (empty encrypted key), refusing an over-long token first.
pub(super) fn split(token: &str) -> Result<Parts<'_>, SealError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(invalid("token too long"));
    }
    let mut segments = token.split('.');
    let (Some(header), Some(key), Some(iv), Some(ciphertext), Some(tag), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(invalid("not a compact JWE"));
    };
    if header.is_empty() {
        return Err(invalid("not a compact JWE"));
    }
    if !key.is_empty() {
        return Err(invalid("unexpected encrypted key"));
    }
    Ok(Parts {
        header,
        iv,
        ciphertext,
        tag,
    })
}

/// What a protected header says, once it is known to be `alg: dir` without `zip` or `crit`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Header {
    pub(super) enc: String,
    pub(super) kid: Option<String>,
}

/// Parses a protected header that is not byte-for-byte one we write (the slow path): a JSON
/// object (a repeated member counts once, the last, as in JavaScript) with `alg` `"dir"`, a
/// string `enc`, an optional string `kid`, and neither `zip` nor `crit` (jose supports no
/// compression and no critical extension for JWE). Other members are ignored, as jose does.
pub(super) fn parse_header(segment: &str) -> Result<Header, SealError> {
    let json = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| invalid("bad header encoding"))?;
    let mut header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&json).map_err(|_| invalid("bad header"))?;
    if header.contains_key("zip") {
        return Err(invalid("compressed JWE"));
    }
    if header.contains_key("crit") {
        return Err(invalid("critical header extension"));
    }
    if header.get("alg").and_then(serde_json::Value::as_str) != Some("dir") {
        return Err(invalid("unexpected key management algorithm"));
    }
    let Some(serde_json::Value::String(enc)) = header.remove("enc") else {
        return Err(invalid("unexpected content encryption"));
    };
    let kid = match header.remove("kid") {
        None => None,
        Some(serde_json::Value::String(kid)) => Some(kid),
        Some(_) => return Err(invalid("bad key id")),
    };
    Ok(Header { enc, kid })
}

/// Decodes a base64url segment that must hold exactly `N` bytes (`N` at most 48).
pub(super) fn decode_fixed<const N: usize>(segment: &str) -> Option<[u8; N]> {
    // Canonical unpadded base64url of N bytes has exactly this many characters; checking it
    // first bounds the work and the scratch buffer below.
    if segment.len() != (N * 4).div_ceil(3) {
        return None;
    }
    let mut scratch = [0u8; 64];
    let decoded = URL_SAFE_NO_PAD.decode_slice(segment, &mut scratch).ok()?;
    scratch.get(..decoded)?.try_into().ok()
}

fn decode_ciphertext(segment: &str) -> Result<Vec<u8>, SealError> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| invalid("bad ciphertext encoding"))
}

/// `header..iv.ciphertext.tag`, base64url.
fn assemble(header: &str, iv: &[u8], ciphertext: &[u8], tag: &[u8]) -> String {
    let mut token = String::with_capacity(
        header.len() + 4 + (iv.len() + ciphertext.len() + tag.len()).div_ceil(3) * 4 + 3,
    );
    token.push_str(header);
    token.push_str("..");
    URL_SAFE_NO_PAD.encode_string(iv, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(ciphertext, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(tag, &mut token);
    token
}

/// base64url(SHA-256 or SHA-512 of the RFC 7638 thumbprint input `{"k":"..","kty":"oct"}`), as
/// `@auth/core` computes its `kid` (`sha${key bits}`: SHA-512 for the 64-byte key, SHA-256 for
/// the 32-byte one).
pub(super) fn thumbprint(key: &[u8]) -> String {
    // Built in one buffer of the final size, so the only copy of the encoded key is wiped.
    let (open, close) = ("{\"k\":\"", "\",\"kty\":\"oct\"}");
    let mut input = zeroize::Zeroizing::new(String::with_capacity(
        open.len() + (key.len() * 4).div_ceil(3) + close.len(),
    ));
    input.push_str(open);
    URL_SAFE_NO_PAD.encode_string(key, &mut input);
    input.push_str(close);
    match key.len() {
        64 => URL_SAFE_NO_PAD.encode(Sha512::digest(input.as_bytes())),
        _ => URL_SAFE_NO_PAD.encode(Sha256::digest(input.as_bytes())),
    }
}

/// An `A256GCM` key, its AES key schedule and GHASH key prepared.
#[derive(Clone)]
pub(super) struct GcmKey {
    cipher: Aes256Gcm,
}

impl GcmKey {
    pub(super) fn new(key: &[u8; 32]) -> Self {
        GcmKey {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// Seals `claims` under the protected header segment `header` with the IV `iv`.
    pub(super) fn seal_with_iv(
        &self,
        header: &str,
        claims: &[u8],
        iv: &[u8; GCM_IV_LEN],
    ) -> Result<String, SealError> {
        let mut buffer = claims.to_vec();
        // Fails only past GCM's 64 GiB plaintext limit, far beyond what reaches here.
        let tag = self
            .cipher
            .encrypt_in_place_detached(iv.into(), header.as_bytes(), &mut buffer)
            .map_err(|_| SealError::Seal("AES-GCM encryption failed"))?;
        Ok(assemble(header, iv, &buffer, &tag))
    }

    /// Seals `claims` with a fresh random IV.
    pub(super) fn seal(&self, header: &str, claims: &[u8]) -> Result<String, SealError> {
        self.seal_with_iv(header, claims, &random_iv())
    }
}

/// The IV, tag and ciphertext of an `A256GCM` token, decoded once and tried under each key.
pub(super) struct GcmSealed {
    iv: [u8; GCM_IV_LEN],
    tag: [u8; GCM_TAG_LEN],
    buffer: Vec<u8>,
}

impl GcmSealed {
    pub(super) fn decode(parts: &Parts<'_>) -> Result<Self, SealError> {
        let iv = decode_fixed(parts.iv).ok_or_else(|| invalid("bad IV"))?;
        let tag = decode_fixed(parts.tag).ok_or_else(|| invalid("bad tag"))?;
        let buffer = decode_ciphertext(parts.ciphertext)?;
        Ok(GcmSealed { iv, tag, buffer })
    }

    /// Decrypts in place under `key`; on failure the ciphertext is left as it was (aes-gcm
    /// checks the tag before decrypting, which `failed_gcm_leaves_the_ciphertext` pins), so
    /// the next key can be tried.
    pub(super) fn try_open(&mut self, key: &GcmKey, aad: &str) -> bool {
        key.cipher
            .decrypt_in_place_detached(
                (&self.iv).into(),
                aad.as_bytes(),
                &mut self.buffer,
                (&self.tag).into(),
            )
            .is_ok()
    }

    pub(super) fn into_plaintext(self) -> Vec<u8> {
        self.buffer
    }
}

/// An `A256CBC-HS512` key: HMAC-SHA512 keyed with `MAC_KEY` and the AES-256 key schedule of
/// `ENC_KEY`.
#[derive(Clone)]
pub(super) struct CbcHsKey {
    mac: Hmac<Sha512>,
    aes: Aes256,
}

impl CbcHsKey {
    pub(super) fn new(key: &[u8; 64]) -> Self {
        let (mac_key, enc_key) = key.split_at(32);
        CbcHsKey {
            mac: <Hmac<Sha512> as Mac>::new_from_slice(mac_key)
                .expect("HMAC takes a key of any length"),
            aes: <Aes256 as aes::cipher::KeyInit>::new_from_slice(enc_key)
                .expect("AES-256 takes the last 32 of the 64 bytes"),
        }
    }

    fn mac(&self, aad: &[u8], iv: &[u8], ciphertext: &[u8]) -> Hmac<Sha512> {
        let mut mac = self.mac.clone();
        mac.update(aad);
        mac.update(iv);
        mac.update(ciphertext);
        mac.update(&(aad.len() as u64).wrapping_mul(8).to_be_bytes());
        mac
    }

    /// Seals `claims` under the protected header segment `header` with the IV `iv`.
    pub(super) fn seal_with_iv(
        &self,
        header: &str,
        claims: &[u8],
        iv: &[u8; CBC_IV_LEN],
    ) -> Result<String, SealError> {
        // PKCS#7 always pads, by 1 to 16 bytes.
        let padded_len = (claims.len() / 16 + 1) * 16;
        let mut buffer = Vec::with_capacity(padded_len);
        buffer.extend_from_slice(claims);
        buffer.resize(padded_len, 0);
        let encryptor = cbc::Encryptor::<Aes256>::inner_iv_init(self.aes.clone(), iv.into());
        // Cannot fail: the buffer has room for the padding.
        let ciphertext_len = encryptor
            .encrypt_padded_mut::<Pkcs7>(&mut buffer, claims.len())
            .map_err(|_| SealError::Seal("AES-CBC padding failed"))?
            .len();
        buffer.truncate(ciphertext_len);
        let tag = self
            .mac(header.as_bytes(), iv, &buffer)
            .finalize()
            .into_bytes();
        Ok(assemble(header, iv, &buffer, &tag[..CBC_TAG_LEN]))
    }

    /// Seals `claims` with a fresh random IV.
    pub(super) fn seal(&self, header: &str, claims: &[u8]) -> Result<String, SealError> {
        self.seal_with_iv(header, claims, &random_iv())
    }
}

/// The IV, tag and ciphertext of an `A256CBC-HS512` token, decoded once and tried under each key.
pub(super) struct CbcHsSealed {
    iv: [u8; CBC_IV_LEN],
    tag: [u8; CBC_TAG_LEN],
    buffer: Vec<u8>,
}

impl CbcHsSealed {
    pub(super) fn decode(parts: &Parts<'_>) -> Result<Self, SealError> {
        let iv = decode_fixed(parts.iv).ok_or_else(|| invalid("bad IV"))?;
        let tag = decode_fixed(parts.tag).ok_or_else(|| invalid("bad tag"))?;
        let buffer = decode_ciphertext(parts.ciphertext)?;
        if buffer.is_empty() || buffer.len() % 16 != 0 {
            return Err(invalid("bad ciphertext length"));
        }
        Ok(CbcHsSealed { iv, tag, buffer })
    }

    /// Whether the tag is right under `key` (constant-time comparison).
    pub(super) fn verify(&self, key: &CbcHsKey, aad: &str) -> bool {
        key.mac(aad.as_bytes(), &self.iv, &self.buffer)
            .verify_truncated_left(&self.tag)
            .is_ok()
    }

    /// Decrypts under `key`, whose tag [`CbcHsSealed::verify`] has accepted.
    pub(super) fn decrypt(mut self, key: &CbcHsKey) -> Result<Vec<u8>, SealError> {
        let decryptor = cbc::Decryptor::<Aes256>::inner_iv_init(key.aes.clone(), (&self.iv).into());
        let plaintext_len = decryptor
            .decrypt_padded_mut::<Pkcs7>(&mut self.buffer)
            .map_err(|_| invalid("bad padding"))?
            .len();
        self.buffer.truncate(plaintext_len);
        Ok(self.buffer)
    }
}

fn random_iv<const N: usize>() -> [u8; N] {
    use rand::RngCore as _;
    let mut iv = [0u8; N];
    rand::thread_rng().fill_bytes(&mut iv);
    iv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_header_is_the_json_next_auth_writes() {
        assert_eq!(
            URL_SAFE_NO_PAD.decode(V4_HEADER).unwrap(),
            br#"{"alg":"dir","enc":"A256GCM"}"#
        );
    }

    #[test]
    fn rfc7518_a256cbc_hs512_test_vector() {
        // RFC 7518 Appendix B.3 (AES_256_CBC_HMAC_SHA_512).
        let key: [u8; 64] = core::array::from_fn(|i| i as u8);
        let plaintext = b"A cipher system must not be required to be secret, and it must be able \
to fall into the hands of the enemy without inconvenience";
        let iv: [u8; 16] = hex("1af38c2dc2b96ffdd86694092341bc04").try_into().unwrap();
        let aad = b"The second principle of Auguste Kerckhoffs";
        let key = CbcHsKey::new(&key);
        let mut buffer = vec![0u8; (plaintext.len() / 16 + 1) * 16];
        buffer[..plaintext.len()].copy_from_slice(plaintext);
        let ciphertext = cbc::Encryptor::<Aes256>::inner_iv_init(key.aes.clone(), (&iv).into())
            .encrypt_padded_mut::<Pkcs7>(&mut buffer, plaintext.len())
            .unwrap()
            .to_vec();
        assert_eq!(
            ciphertext,
            hex(
                "4affaaadb78c31c5da4b1b590d10ffbd3dd8d5d302423526912da037ecbcc7bd\
                 822c301dd67c373bccb584ad3e9279c2e6d12a1374b77f077553df829410446b\
                 36ebd97066296ae6427ea75c2e0846a11a09ccf5370dc80bfecbad28c73f09b3\
                 a3b75e662a2594410ae496b2e2e6609e31e6e02cc837f053d21f37ff4f51950b\
                 be2638d09dd7a4930930806d0703b1f6"
            )
        );
        let tag = key.mac(aad, &iv, &ciphertext).finalize().into_bytes();
        assert_eq!(
            tag[..32],
            hex("4dd3b4c088a7f45c216839645b2012bf2e6269a8c56a816dbc1b267761955bc5")[..]
        );
    }

    #[test]
    fn failed_gcm_leaves_the_ciphertext() {
        let right = GcmKey::new(&[1; 32]);
        let wrong = GcmKey::new(&[2; 32]);
        let token = right.seal(V4_HEADER, b"{\"a\":1}").unwrap();
        let parts = split(&token).unwrap();
        let mut sealed = GcmSealed::decode(&parts).unwrap();
        let before = sealed.buffer.clone();
        assert!(!sealed.try_open(&wrong, parts.header));
        assert_eq!(sealed.buffer, before);
        assert!(sealed.try_open(&right, parts.header));
        assert_eq!(sealed.into_plaintext(), b"{\"a\":1}");
    }

    #[test]
    fn header_parsing() {
        let parse = |json: &str| parse_header(&URL_SAFE_NO_PAD.encode(json));
        assert_eq!(
            parse(r#"{"enc":"A256GCM","typ":"JWT","alg":"dir"}"#),
            Ok(Header {
                enc: A256GCM.to_owned(),
                kid: None
            })
        );
        assert_eq!(
            parse(r#"{"alg":"dir","enc":"A256CBC-HS512","kid":"k"}"#),
            Ok(Header {
                enc: A256CBC_HS512.to_owned(),
                kid: Some("k".to_owned())
            })
        );
        for bad in [
            r#"{"alg":"none","enc":"A256GCM"}"#,
            r#"{"alg":"DIR","enc":"A256GCM"}"#,
            r#"{"enc":"A256GCM"}"#,
            r#"{"alg":"dir"}"#,
            r#"{"alg":"dir","enc":7}"#,
            r#"{"alg":"dir","enc":"A256GCM","kid":7}"#,
            r#"{"alg":"dir","enc":"A256GCM","zip":"DEF"}"#,
            r#"{"alg":"dir","enc":"A256GCM","zip":null}"#,
            r#"{"alg":"dir","enc":"A256GCM","crit":["exp"]}"#,
            r#"{"alg":"dir","enc":"A256GCM","alg":"none"}"#,
            r#"["alg","dir"]"#,
            "null",
            "",
            "{",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse_header("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0=").is_err());
        assert!(parse_header("e").is_err());
    }

    #[test]
    fn fixed_segments_must_be_exact() {
        assert_eq!(
            decode_fixed::<12>("AAECAwQFBgcICQoL"),
            Some(core::array::from_fn(|i| i as u8))
        );
        assert_eq!(decode_fixed::<12>("AAECAwQFBgcICQo"), None);
        assert_eq!(decode_fixed::<12>("AAECAwQFBgcICQoLDA"), None);
        assert_eq!(decode_fixed::<12>("AAECAwQFBgcICQo+"), None);
        assert_eq!(
            decode_fixed::<16>("AAECAwQFBgcICQoLDA0ODw"),
            Some(core::array::from_fn(|i| i as u8))
        );
        // Non-canonical trailing bits.
        assert_eq!(decode_fixed::<16>("AAECAwQFBgcICQoLDA0ODx"), None);
        assert_eq!(decode_fixed::<16>("AAECAwQFBgcICQoLDA0ODw=="), None);
        assert_eq!(decode_fixed::<16>("AAECAwQFBgcICQoLDA0ODwé"), None);
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
}
