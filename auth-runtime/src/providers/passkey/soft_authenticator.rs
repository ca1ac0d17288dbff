//! A software passkey authenticator for tests: it answers `PublicKeyCredentialCreationOptionsJSON`
//! and `PublicKeyCredentialRequestOptionsJSON` with the RegistrationResponseJSON and
//! AuthenticationResponseJSON that a browser (through `@simplewebauthn/browser`) posts, signing
//! with ES256 as a platform authenticator does, attestation `none`. [`Tweaks`] break one thing
//! at a time: the origin, the client data type, the challenge, the RP id hash, the user present
//! and verified flags, the backup flags, the signature counter, the signature.
//!
//! It depends on public crates only (p256, sha2, serde_json, base64, rand), so integration tests
//! include this same file with `#[path]`. The CBOR it writes (the attestation object, the COSE
//! key) is written by hand: a few fixed maps.

#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// Authenticator data flags.
pub const FLAG_UP: u8 = 0x01;
/// User verified.
pub const FLAG_UV: u8 = 0x04;
/// Backup eligible.
pub const FLAG_BE: u8 = 0x08;
/// Backed up.
pub const FLAG_BS: u8 = 0x10;
/// Attested credential data included.
pub const FLAG_AT: u8 = 0x40;

/// What to break in one answer; [`Tweaks::default`] is an honest answer.
#[derive(Debug, Clone)]
pub struct Tweaks {
    /// The client data's origin instead of the authenticator's.
    pub origin: Option<String>,
    /// The client data's type instead of `webauthn.create` / `webauthn.get`.
    pub client_data_type: Option<String>,
    /// The client data's challenge instead of the options'.
    pub challenge: Option<String>,
    /// The RP id whose hash the authenticator data carries instead of the options'.
    pub rp_id: Option<String>,
    /// The UP flag.
    pub user_present: bool,
    /// The UV flag.
    pub user_verified: bool,
    /// The BE flag.
    pub backup_eligible: bool,
    /// The BS flag.
    pub backed_up: bool,
    /// The signature counter instead of the authenticator's own.
    pub sign_count: Option<u32>,
    /// Sign other bytes than the ones sent (a valid signature, of the wrong data).
    pub bad_signature: bool,
    /// The client data's `crossOrigin`.
    pub cross_origin: bool,
}

impl Default for Tweaks {
    fn default() -> Self {
        Tweaks {
            origin: None,
            client_data_type: None,
            challenge: None,
            rp_id: None,
            user_present: true,
            user_verified: true,
            backup_eligible: true,
            backed_up: true,
            sign_count: None,
            bad_signature: false,
            cross_origin: false,
        }
    }
}

/// One passkey on one software authenticator.
#[derive(Debug, Clone)]
pub struct SoftAuthenticator {
    key: SigningKey,
    /// The credential id (random 16 bytes unless set).
    pub credential_id: Vec<u8>,
    /// The signature counter: the last one used.
    pub counter: u32,
    /// Whether each sign-in increments the counter (synced passkeys keep it at 0).
    pub counting: bool,
    /// The origin the "browser" runs on, e.g. `http://localhost:3000`.
    pub origin: String,
    /// The user handle the registration options gave (`user.id`).
    pub user_handle: Option<String>,
    /// The transports reported at registration.
    pub transports: Vec<String>,
}

impl SoftAuthenticator {
    /// A new passkey for pages on `origin`, with a random key and credential id.
    pub fn new(origin: &str) -> Self {
        SoftAuthenticator {
            key: SigningKey::random(&mut rand::rngs::OsRng),
            credential_id: rand::random::<[u8; 16]>().to_vec(),
            counter: 0,
            counting: true,
            origin: origin.to_owned(),
            user_handle: None,
            transports: vec!["internal".to_owned(), "hybrid".to_owned()],
        }
    }

    /// The same authenticator with another credential id (a clash with another's).
    pub fn with_credential_id(mut self, id: &[u8]) -> Self {
        self.credential_id = id.to_vec();
        self
    }

    /// The credential id in base64url, as `id` and `rawId` carry it.
    pub fn id(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.credential_id)
    }

    /// The COSE_Key of the public key: EC2, ES256, P-256.
    pub fn cose_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_encoded_point(false);
        let (x, y) = (
            point.x().map(|x| x.to_vec()).unwrap_or_default(),
            point.y().map(|y| y.to_vec()).unwrap_or_default(),
        );
        let mut out = vec![0xa5];
        out.extend_from_slice(&[0x01, 0x02]); // kty: EC2
        out.extend_from_slice(&[0x03, 0x26]); // alg: -7 (ES256)
        out.extend_from_slice(&[0x20, 0x01]); // crv (-1): P-256
        out.push(0x21); // x (-2)
        cbor_bytes(&x, &mut out);
        out.push(0x22); // y (-3)
        cbor_bytes(&y, &mut out);
        out
    }

    /// The answer to registration `options` (the `options` member of the options reply).
    pub fn register(&mut self, options: &Value, tweaks: &Tweaks) -> Value {
        let challenge = text(options, &["challenge"]);
        let rp_id = text(options, &["rp", "id"]);
        self.user_handle = Some(text(options, &["user", "id"]));
        if let Some(count) = tweaks.sign_count {
            self.counter = count;
        }
        let client_data = self.client_data("webauthn.create", &challenge, tweaks);
        let mut attested = vec![0u8; 16]; // aaguid: none
        let length = u16::try_from(self.credential_id.len()).unwrap_or(u16::MAX);
        attested.extend_from_slice(&length.to_be_bytes());
        attested.extend_from_slice(&self.credential_id);
        attested.extend_from_slice(&self.cose_key());
        let auth_data = authenticator_data(
            tweaks.rp_id.as_deref().unwrap_or(&rp_id),
            flags(tweaks) | FLAG_AT,
            self.counter,
            &attested,
        );
        let mut object = vec![0xa3];
        cbor_text("fmt", &mut object);
        cbor_text("none", &mut object);
        cbor_text("attStmt", &mut object);
        object.push(0xa0);
        cbor_text("authData", &mut object);
        cbor_bytes(&auth_data, &mut object);
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data.as_bytes()),
                "attestationObject": URL_SAFE_NO_PAD.encode(&object),
                "transports": self.transports,
                "publicKeyAlgorithm": -7,
                "authenticatorData": URL_SAFE_NO_PAD.encode(&auth_data),
            },
            "type": "public-key",
            "clientExtensionResults": { "credProps": { "rk": true } },
            "authenticatorAttachment": "platform",
        })
    }

    /// The answer to authentication `options` (the `options` member of the options reply).
    pub fn authenticate(&mut self, options: &Value, tweaks: &Tweaks) -> Value {
        let challenge = text(options, &["challenge"]);
        let rp_id = text(options, &["rpId"]);
        self.counter = match tweaks.sign_count {
            Some(count) => count,
            None if self.counting => self.counter.saturating_add(1),
            None => self.counter,
        };
        let client_data = self.client_data("webauthn.get", &challenge, tweaks);
        let auth_data = authenticator_data(
            tweaks.rp_id.as_deref().unwrap_or(&rp_id),
            flags(tweaks),
            self.counter,
            &[],
        );
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(client_data.as_bytes()));
        if tweaks.bad_signature {
            signed[0] ^= 0xff;
        }
        let signature: Signature = self.key.sign(&signed);
        let user_handle = self
            .user_handle
            .as_deref()
            .map(|handle| URL_SAFE_NO_PAD.encode(handle.as_bytes()));
        json!({
            "id": self.id(),
            "rawId": self.id(),
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data.as_bytes()),
                "authenticatorData": URL_SAFE_NO_PAD.encode(&auth_data),
                "signature": URL_SAFE_NO_PAD.encode(der_signature(&signature)),
                "userHandle": user_handle,
            },
            "type": "public-key",
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        })
    }

    /// clientDataJSON with its members in the order browsers write them.
    fn client_data(&self, kind: &str, challenge: &str, tweaks: &Tweaks) -> String {
        let string = |s: &str| Value::String(s.to_owned()).to_string();
        format!(
            "{{\"type\":{},\"challenge\":{},\"origin\":{},\"crossOrigin\":{}}}",
            string(tweaks.client_data_type.as_deref().unwrap_or(kind)),
            string(tweaks.challenge.as_deref().unwrap_or(challenge)),
            string(tweaks.origin.as_deref().unwrap_or(&self.origin)),
            tweaks.cross_origin,
        )
    }
}

fn flags(tweaks: &Tweaks) -> u8 {
    let mut flags = 0;
    for (on, flag) in [
        (tweaks.user_present, FLAG_UP),
        (tweaks.user_verified, FLAG_UV),
        (tweaks.backup_eligible, FLAG_BE),
        (tweaks.backed_up, FLAG_BS),
    ] {
        if on {
            flags |= flag;
        }
    }
    flags
}

/// rpIdHash, flags, signCount, then the attested credential data (if any).
fn authenticator_data(rp_id: &str, flags: u8, count: u32, attested: &[u8]) -> Vec<u8> {
    let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
    data.push(flags);
    data.extend_from_slice(&count.to_be_bytes());
    data.extend_from_slice(attested);
    data
}

/// The string at `path` in `value`, or empty.
fn text(value: &Value, path: &[&str]) -> String {
    path.iter()
        .try_fold(value, |value, key| value.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// A CBOR head: major type and length.
fn cbor_head(major: u8, length: usize, out: &mut Vec<u8>) {
    let major = major << 5;
    match length {
        0..=23 => out.push(major | length as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, length as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend_from_slice(&(length as u16).to_be_bytes());
        }
        _ => {
            out.push(major | 26);
            out.extend_from_slice(&(length as u32).to_be_bytes());
        }
    }
}

fn cbor_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    cbor_head(2, bytes.len(), out);
    out.extend_from_slice(bytes);
}

fn cbor_text(text: &str, out: &mut Vec<u8>) {
    cbor_head(3, text.len(), out);
    out.extend_from_slice(text.as_bytes());
}

/// An ECDSA signature in ASN.1 DER (`SEQUENCE { INTEGER r, INTEGER s }`), as WebAuthn sends it.
fn der_signature(signature: &Signature) -> Vec<u8> {
    let bytes = signature.to_bytes();
    let (r, s) = bytes.split_at(32);
    let integer = |scalar: &[u8]| {
        let start = scalar
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(scalar.len() - 1);
        let mut value = scalar[start..].to_vec();
        if value[0] & 0x80 != 0 {
            value.insert(0, 0);
        }
        let mut out = vec![0x02, value.len() as u8];
        out.extend_from_slice(&value);
        out
    };
    let body = [integer(r), integer(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend_from_slice(&body);
    out
}
