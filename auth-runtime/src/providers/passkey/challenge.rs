//! A passkey ceremony's state between its two requests: the challenge cookie, and the server's
//! mark of an answered challenge.
//!
//! The cookie binds the ceremony to the browser that asked for it: it holds the challenge, the
//! action, whom a registration is for and when it ends, sealed with AES-256-GCM under a key
//! derived from the auth secret for this purpose only (HKDF-SHA256), the provider id and the
//! cookie's name as associated data. Every configured secret opens it, so a rotation keeps
//! ceremonies in flight. Auth.js stops there; a cookie alone can be answered again until it
//! expires, so here the first answer, right or wrong, also marks the challenge answered on the
//! server, atomically on every server (a row of the adapter's verification tokens: identifier
//! `passkey-challenge:<provider id>`, token the SHA-256 of the challenge in hex, kept until the
//! ceremony expires). Marking answers rather than recording challenges keeps the options
//! request free of writes.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The HKDF info of the cookie key: no other key of this crate is derived with it.
const KEY_INFO: &[u8] = b"auth-runtime passkey challenge cookie";
/// AES-GCM's nonce and tag sizes.
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// A cookie longer than this is not opened (a sealed state takes about 200 bytes).
const MAX_COOKIE: usize = 2048;
/// The challenge's size in bytes, as Auth.js's.
pub(super) const CHALLENGE_LEN: usize = 32;

/// Which ceremony a challenge was issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Action {
    /// A new passkey (`navigator.credentials.create`).
    Register,
    /// A sign-in with a passkey (`navigator.credentials.get`).
    Authenticate,
}

impl Action {
    /// The action's name on the wire.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Action::Register => "register",
            Action::Authenticate => "authenticate",
        }
    }

    /// The action named `name`, if any.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "register" => Some(Action::Register),
            "authenticate" => Some(Action::Authenticate),
            _ => None,
        }
    }
}

/// Whom a registration is for, decided when the options were given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum RegisterFor {
    /// A new user with this (normalized) e-mail address: signed out, or a guest.
    #[serde(rename = "email")]
    Email(String),
    /// The signed-in user with this id: the passkey is added to their account.
    #[serde(rename = "user")]
    User(String),
}

/// What the challenge cookie carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Ceremony {
    /// The challenge, base64url without padding (as the options and the client data carry it).
    #[serde(rename = "c")]
    pub challenge: String,
    /// The ceremony.
    #[serde(rename = "a")]
    pub action: Action,
    /// When the challenge stops being accepted, Unix seconds.
    #[serde(rename = "x")]
    pub expires: i64,
    /// Whom a registration is for (`None` for an authentication).
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub register: Option<RegisterFor>,
}

impl Ceremony {
    /// The challenge's bytes, if it is well-formed.
    pub(super) fn challenge_bytes(&self) -> Option<[u8; CHALLENGE_LEN]> {
        URL_SAFE_NO_PAD
            .decode(&self.challenge)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
    }
}

/// A fresh random challenge, and its base64url form.
pub(super) fn new_challenge() -> ([u8; CHALLENGE_LEN], String) {
    let mut bytes = [0u8; CHALLENGE_LEN];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    let text = URL_SAFE_NO_PAD.encode(bytes);
    (bytes, text)
}

/// The verification-token identifier the answered challenges of provider `provider` are marked
/// under.
pub(super) fn record_identifier(provider: &str) -> String {
    format!("passkey-challenge:{provider}")
}

/// The marked form of a challenge: SHA-256 in hex, so the table holds nothing an answer needs.
pub(super) fn record_token(challenge: &[u8]) -> String {
    crate::csrf::hex(&Sha256::digest(challenge))
}

/// Seals and opens challenge cookies.
pub(super) struct CookieSeal {
    /// One cipher per configured secret, newest first: the newest seals, every one opens.
    keys: Vec<Aes256Gcm>,
    /// The associated data: the provider id and the cookie's name, so a cookie of one provider
    /// or purpose is nothing to another.
    aad: Vec<u8>,
}

/// Why a challenge cookie was not opened. Deliberately coarse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SealError {
    /// Malformed, altered, sealed under another key or for another provider.
    #[error("the challenge cookie is not one of ours")]
    Invalid,
    /// The state could not be sealed (never happens with a well-formed key).
    #[error("the challenge cookie could not be sealed")]
    Seal,
}

impl CookieSeal {
    /// Seals under `secrets` (newest first; never empty) for `provider`'s cookie `cookie_name`.
    pub(super) fn new<S: AsRef<str>>(secrets: &[S], provider: &str, cookie_name: &str) -> Self {
        let keys = secrets
            .iter()
            .map(|secret| {
                let mut key = zeroize::Zeroizing::new([0u8; 32]);
                // 32 bytes is always a valid HKDF-SHA256 output length.
                let _ = Hkdf::<Sha256>::new(None, secret.as_ref().as_bytes())
                    .expand(KEY_INFO, key.as_mut_slice());
                Aes256Gcm::new(&(*key).into())
            })
            .collect();
        let aad = format!("{provider}\0{cookie_name}").into_bytes();
        CookieSeal { keys, aad }
    }

    /// The cookie value carrying `ceremony`: base64url of nonce, ciphertext and tag.
    pub(super) fn seal(&self, ceremony: &Ceremony) -> Result<String, SealError> {
        let key = self.keys.first().ok_or(SealError::Seal)?;
        let mut buffer = serde_json::to_vec(ceremony).map_err(|_| SealError::Seal)?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut nonce);
        let tag = key
            .encrypt_in_place_detached((&nonce).into(), &self.aad, &mut buffer)
            .map_err(|_| SealError::Seal)?;
        let mut sealed = Vec::with_capacity(NONCE_LEN + buffer.len() + TAG_LEN);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&buffer);
        sealed.extend_from_slice(&tag);
        Ok(URL_SAFE_NO_PAD.encode(sealed))
    }

    /// The ceremony a cookie value carries, if one of the secrets sealed it for this provider.
    pub(super) fn open(&self, value: &str) -> Result<Ceremony, SealError> {
        if value.len() > MAX_COOKIE {
            return Err(SealError::Invalid);
        }
        let sealed = URL_SAFE_NO_PAD
            .decode(value.trim())
            .map_err(|_| SealError::Invalid)?;
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(SealError::Invalid);
        }
        let (nonce, rest) = sealed.split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Invalid)?;
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| SealError::Invalid)?;
        for key in &self.keys {
            let mut buffer = ciphertext.to_vec();
            // The tag is compared in constant time by the AEAD.
            if key
                .decrypt_in_place_detached((&nonce).into(), &self.aad, &mut buffer, (&tag).into())
                .is_ok()
            {
                return serde_json::from_slice(&buffer).map_err(|_| SealError::Invalid);
            }
        }
        Err(SealError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ceremony() -> Ceremony {
        Ceremony {
            challenge: new_challenge().1,
            action: Action::Register,
            expires: 1_800_000_000,
            register: Some(RegisterFor::Email("ada@example.com".into())),
        }
    }

    #[test]
    fn a_sealed_ceremony_opens_under_every_configured_secret_only() {
        let old = CookieSeal::new(&["old-secret-0123456789abcdef"], "passkey", "c");
        let value = old.seal(&ceremony()).unwrap();
        assert_eq!(old.open(&value).unwrap(), ceremony_with(&old, &value));
        let rotated = CookieSeal::new(
            &["new-secret-0123456789abcdef", "old-secret-0123456789abcdef"],
            "passkey",
            "c",
        );
        assert!(rotated.open(&value).is_ok());
        let other = CookieSeal::new(&["new-secret-0123456789abcdef"], "passkey", "c");
        assert_eq!(other.open(&value), Err(SealError::Invalid));
        // Another provider's or another cookie's seal: nothing.
        let provider = CookieSeal::new(&["old-secret-0123456789abcdef"], "other", "c");
        assert_eq!(provider.open(&value), Err(SealError::Invalid));
        let name = CookieSeal::new(&["old-secret-0123456789abcdef"], "passkey", "d");
        assert_eq!(name.open(&value), Err(SealError::Invalid));
    }

    fn ceremony_with(seal: &CookieSeal, value: &str) -> Ceremony {
        seal.open(value).unwrap()
    }

    #[test]
    fn altered_or_malformed_cookies_are_nothing() {
        let seal = CookieSeal::new(&["secret-0123456789abcdef"], "passkey", "c");
        let value = seal.seal(&ceremony()).unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(&value).unwrap();
        for at in [0, NONCE_LEN, bytes.len() - 1] {
            bytes[at] ^= 1;
            let altered = URL_SAFE_NO_PAD.encode(&bytes);
            assert_eq!(seal.open(&altered), Err(SealError::Invalid), "byte {at}");
            bytes[at] ^= 1;
        }
        for junk in [
            "",
            "a",
            "!!!",
            &"A".repeat(MAX_COOKIE + 1),
            &value[..value.len() - 2],
        ] {
            assert_eq!(seal.open(junk), Err(SealError::Invalid), "{junk:?}");
        }
    }

    #[test]
    fn records_hold_a_hash_of_the_challenge() {
        let (bytes, text) = new_challenge();
        assert_eq!(text.len(), 43);
        let token = record_token(&bytes);
        assert_eq!(token.len(), 64);
        assert!(!token.contains(&text));
        assert_eq!(record_identifier("passkey"), "passkey-challenge:passkey");
    }
}
