//! Authentication answers checked here; webauthn-rs-core checks registrations.
//!
//! Why not the library for both: webauthn-rs-core 0.5 rebuilds the stored key on every check and
//! validates it twice (two full scalar multiplications before the signature's own), which was
//! 42% of a passkey sign-in's CPU (BENCHMARKS.md, "Passkeys"). The key was validated once, when
//! the passkey was registered. The steps below are WebAuthn Level 3 §7.2's in webauthn-rs-core
//! 0.5.5's order, each refusal with the library's own error, and the tests hold the two to the
//! same verdict on the same answers (`tests.rs`, `the_library_and_this_module_agree`).
//! Stricter in one place: an assertion that claims attested credential data is malformed.

use std::sync::OnceLock;

use openssl::bn::BigNumContext;
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey};
use openssl::rsa::{Padding, Rsa};
use openssl::sha::sha256;
use openssl::sign::Verifier;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    COSEAlgorithm, COSEKeyType, CollectedClientData, Credential, ECDSACurve, EDDSACurve,
    PublicKeyCredential, UserVerificationPolicy,
};

use super::verify::Refused;

/// Authenticator data flags (WebAuthn §6.1).
const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const BACKUP_ELIGIBLE: u8 = 0x08;
const BACKED_UP: u8 = 0x10;
const ATTESTED_DATA: u8 = 0x40;
const EXTENSIONS: u8 = 0x80;
/// rpIdHash (32), flags (1), signCount (4).
const FIXED_LEN: usize = 37;

/// What an answer must name: the relying party's id (as its hash) and origin.
#[derive(Debug, Clone)]
pub(super) struct Expected {
    rp_id_hash: [u8; 32],
    origin: url::Origin,
}

impl Expected {
    pub(super) fn new(rp_id: &str, origin: &url::Url) -> Self {
        Expected {
            rp_id_hash: sha256(rp_id.as_bytes()),
            origin: origin.origin(),
        }
    }
}

/// The parts of the authenticator data the checks read.
struct AuthenticatorData<'a> {
    rp_id_hash: &'a [u8],
    flags: u8,
    counter: u32,
}

fn authenticator_data(bytes: &[u8]) -> Result<AuthenticatorData<'_>, WebauthnError> {
    let fixed = bytes
        .get(..FIXED_LEN)
        .ok_or(WebauthnError::ParseNOMFailure)?;
    let flags = fixed[32];
    if flags & ATTESTED_DATA != 0 {
        return Err(WebauthnError::ParseNOMFailure);
    }
    if flags & EXTENSIONS != 0 {
        // Read, not used: as in the library, extensions that are not one CBOR map are malformed.
        let extensions: serde_cbor_2::Value =
            serde_cbor_2::Deserializer::from_slice(&bytes[FIXED_LEN..])
                .into_iter()
                .next()
                .and_then(Result::ok)
                .ok_or(WebauthnError::ParseNOMFailure)?;
        if !matches!(extensions, serde_cbor_2::Value::Map(_)) {
            return Err(WebauthnError::ParseNOMFailure);
        }
    }
    Ok(AuthenticatorData {
        rp_id_hash: &fixed[..32],
        flags,
        counter: u32::from_be_bytes([fixed[33], fixed[34], fixed[35], fixed[36]]),
    })
}

/// Checks `answer` for the stored `credential` against `challenge`; the new signature counter
/// when it passes. A counter that did not move forward is refused (unless both are zero: an
/// authenticator that does not count).
pub(super) fn verify(
    expected: &Expected,
    challenge: &[u8],
    answer: &PublicKeyCredential,
    credential: &Credential,
) -> Result<u32, Refused> {
    check(expected, challenge, answer, credential).map_err(Refused::Check)
}

fn check(
    expected: &Expected,
    challenge: &[u8],
    answer: &PublicKeyCredential,
    credential: &Credential,
) -> Result<u32, WebauthnError> {
    if answer.raw_id.as_slice() != credential.cred_id.as_slice() {
        return Err(WebauthnError::CredentialNotFound);
    }
    let response = &answer.response;
    let data = authenticator_data(response.authenticator_data.as_ref())?;
    let client: CollectedClientData = serde_json::from_slice(response.client_data_json.as_ref())
        .map_err(WebauthnError::ParseJSONFailure)?;
    if client.type_ != "webauthn.get" {
        return Err(WebauthnError::InvalidClientDataType);
    }
    if client.challenge.as_slice() != challenge {
        return Err(WebauthnError::MismatchedChallenge);
    }
    let origin = client.origin.origin();
    if !origin.is_tuple() || origin != expected.origin {
        return Err(WebauthnError::InvalidRPOrigin);
    }
    if data.rp_id_hash != expected.rp_id_hash {
        return Err(WebauthnError::InvalidRPIDHash);
    }
    if data.flags & USER_PRESENT == 0 {
        return Err(WebauthnError::UserNotPresent);
    }
    // Every passkey here is registered and asked for with verification required.
    debug_assert_eq!(
        credential.registration_policy,
        UserVerificationPolicy::Required
    );
    if data.flags & USER_VERIFIED == 0 {
        return Err(WebauthnError::UserNotVerified);
    }
    let backup_eligible = data.flags & BACKUP_ELIGIBLE != 0;
    if backup_eligible != credential.backup_eligible {
        return Err(WebauthnError::CredentialBackupEligibilityInconsistent);
    }
    if data.flags & BACKED_UP != 0 && !credential.backup_eligible {
        return Err(WebauthnError::CredentialMayNotBeHardwareBound);
    }
    let mut signed = Vec::with_capacity(response.authenticator_data.len() + 32);
    signed.extend_from_slice(response.authenticator_data.as_ref());
    signed.extend_from_slice(&sha256(response.client_data_json.as_ref()));
    if !signature_holds(credential, response.signature.as_ref(), &signed)? {
        return Err(WebauthnError::AuthenticationFailure);
    }
    if (data.counter > 0 || credential.counter > 0) && data.counter <= credential.counter {
        return Err(WebauthnError::CredentialPossibleCompromise);
    }
    Ok(data.counter)
}

/// P-256, built once: the group's fast arithmetic is chosen when it is made.
fn p256() -> &'static EcGroup {
    static GROUP: OnceLock<EcGroup> = OnceLock::new();
    GROUP.get_or_init(|| {
        EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("OpenSSL knows P-256")
    })
}

/// Whether `signature` signs `signed` under the credential's key, for the three algorithms a
/// registration accepts (ES256, EdDSA, RS256). A malformed signature does not hold.
fn signature_holds(
    credential: &Credential,
    signature: &[u8],
    signed: &[u8],
) -> Result<bool, WebauthnError> {
    let key = &credential.cred;
    match (&key.type_, &key.key) {
        (COSEAlgorithm::ES256, COSEKeyType::EC_EC2(ec2)) if ec2.curve == ECDSACurve::SECP256R1 => {
            let (x, y) = (ec2.x.as_slice(), ec2.y.as_slice());
            if x.len() != 32 || y.len() != 32 {
                return Err(WebauthnError::COSEKeyInvalidType);
            }
            let mut point = [0u8; 65];
            point[0] = 0x04;
            point[1..33].copy_from_slice(x);
            point[33..].copy_from_slice(y);
            let group = p256();
            let mut context = BigNumContext::new().map_err(WebauthnError::OpenSSLError)?;
            // Decoding checks that the point is on the curve; P-256 has no small subgroup.
            let point = EcPoint::from_bytes(group, &point, &mut context)
                .map_err(|_| WebauthnError::COSEKeyInvalidType)?;
            let key = EcKey::from_public_key(group, &point).map_err(WebauthnError::OpenSSLError)?;
            let Ok(parsed) = EcdsaSig::from_der(signature) else {
                return Ok(false);
            };
            // As OpenSSL's own ECDSA_verify: only the DER encoding, not another one of the same
            // integers.
            if parsed.to_der().ok().as_deref() != Some(signature) {
                return Ok(false);
            }
            Ok(parsed.verify(&sha256(signed), &key).unwrap_or(false))
        }
        (COSEAlgorithm::EDDSA, COSEKeyType::EC_OKP(okp)) if okp.curve == EDDSACurve::ED25519 => {
            let key = PKey::public_key_from_raw_bytes(okp.x.as_slice(), Id::ED25519)
                .map_err(|_| WebauthnError::COSEKeyInvalidType)?;
            let mut verifier =
                Verifier::new_without_digest(&key).map_err(WebauthnError::OpenSSLError)?;
            Ok(verifier.verify_oneshot(signature, signed).unwrap_or(false))
        }
        (COSEAlgorithm::RS256, COSEKeyType::RSA(rsa)) => {
            let n = openssl::bn::BigNum::from_slice(rsa.n.as_slice())
                .map_err(WebauthnError::OpenSSLError)?;
            let e = openssl::bn::BigNum::from_slice(&rsa.e).map_err(WebauthnError::OpenSSLError)?;
            let key = Rsa::from_public_components(n, e)
                .and_then(PKey::from_rsa)
                .map_err(|_| WebauthnError::COSEKeyInvalidType)?;
            let mut verifier = Verifier::new(MessageDigest::sha256(), &key)
                .map_err(WebauthnError::OpenSSLError)?;
            verifier
                .set_rsa_padding(Padding::PKCS1)
                .map_err(WebauthnError::OpenSSLError)?;
            Ok(verifier.verify_oneshot(signature, signed).unwrap_or(false))
        }
        _ => Err(WebauthnError::COSEKeyInvalidType),
    }
}

/// This module against webauthn-rs-core on the same answers: the same verdict, for the same
/// reason, on honest answers and on each way of breaking one.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use openssl::pkey::Private;
    use serde_json::{Value, json};
    use webauthn_rs_core::WebauthnCore;
    use webauthn_rs_core::proto::{COSEKey, COSEOKPKey, COSERSAKey};

    use super::super::soft_authenticator::{SoftAuthenticator, Tweaks};
    use super::super::store::StoredAuthenticator;
    use super::super::verify::{
        MULTI_DEVICE, SINGLE_DEVICE, parse_authentication, stored_credential, stored_key,
        verify_authentication,
    };
    use super::*;

    const ORIGIN: &str = "http://localhost:3000";
    const RP_ID: &str = "localhost";

    fn relying_party() -> (WebauthnCore, Expected) {
        let origin = url::Url::parse(ORIGIN).unwrap();
        let expected = Expected::new(RP_ID, &origin);
        let core = WebauthnCore::new_unsafe_experts_only(
            "localhost:3000",
            RP_ID,
            vec![origin],
            Duration::from_secs(300),
            Some(false),
            Some(false),
        );
        (core, expected)
    }

    /// The verdict, with refusals named by the library's error variant; the ways a signature
    /// fails to hold (unreadable, or not of this data) are one.
    fn verdict(result: Result<u32, Refused>) -> Result<u32, String> {
        result.map_err(|refused| match refused {
            Refused::Check(
                WebauthnError::OpenSSLError(_) | WebauthnError::AuthenticationFailure,
            ) => "signature does not hold".to_owned(),
            Refused::Check(error) => {
                let name = format!("{error:?}");
                name.split('(').next().unwrap_or_default().to_owned()
            }
            Refused::Shape(shape) => shape.to_owned(),
        })
    }

    /// Both checks of `answer`; panics when they disagree, else the verdict.
    fn both(answer: &Value, challenge: &[u8], credential: &Credential) -> Result<u32, String> {
        let (core, expected) = relying_party();
        let (parsed, _) = parse_authentication(&answer.to_string()).unwrap().unwrap();
        let library = verdict(verify_authentication(
            &core,
            challenge,
            &parsed,
            credential.clone(),
        ));
        let here = verdict(verify(&expected, challenge, &parsed, credential));
        assert_eq!(here, library, "{answer}");
        here
    }

    fn options(challenge: &[u8]) -> Value {
        json!({ "challenge": URL_SAFE_NO_PAD.encode(challenge), "rpId": RP_ID })
    }

    fn credential_of(
        cose_key: &[u8],
        id: &[u8],
        counter: u32,
        backup_eligible: bool,
    ) -> Credential {
        let stored = StoredAuthenticator {
            credential_id: STANDARD.encode(id),
            user_id: "1".to_owned(),
            provider_account_id: STANDARD.encode(id),
            credential_public_key: STANDARD.encode(cose_key),
            counter: i64::from(counter),
            credential_device_type: if backup_eligible {
                MULTI_DEVICE
            } else {
                SINGLE_DEVICE
            }
            .to_owned(),
            credential_backed_up: backup_eligible,
            transports: None,
        };
        stored_credential(&stored).unwrap()
    }

    /// `answer` with the bytes of `response.field` changed by `change`.
    fn changed(answer: &Value, field: &str, change: impl Fn(&mut Vec<u8>)) -> Value {
        let mut answer = answer.clone();
        let slot = &mut answer["response"][field];
        let mut bytes = URL_SAFE_NO_PAD.decode(slot.as_str().unwrap()).unwrap();
        change(&mut bytes);
        *slot = Value::String(URL_SAFE_NO_PAD.encode(bytes));
        answer
    }

    #[test]
    fn the_library_and_this_module_agree_on_es256_answers() {
        let mut authenticator = SoftAuthenticator::new(ORIGIN);
        authenticator.counting = false;
        let key = authenticator.cose_key();
        let id = authenticator.credential_id.clone();
        let count = |n| Tweaks {
            sign_count: Some(n),
            ..Tweaks::default()
        };
        let not_eligible = Tweaks {
            backup_eligible: false,
            backed_up: false,
            ..count(9)
        };
        // (tweaks, stored counter, stored backup eligibility, the verdict)
        let cases: Vec<(Tweaks, u32, bool, Result<u32, &str>)> = vec![
            (count(5), 4, true, Ok(5)),
            (count(0), 0, true, Ok(0)),
            (count(1), 0, true, Ok(1)),
            (count(5), 5, true, Err("CredentialPossibleCompromise")),
            (count(3), 5, true, Err("CredentialPossibleCompromise")),
            (count(0), 5, true, Err("CredentialPossibleCompromise")),
            (
                Tweaks {
                    origin: Some("http://localhost:3001".into()),
                    ..count(9)
                },
                0,
                true,
                Err("InvalidRPOrigin"),
            ),
            (
                Tweaks {
                    origin: Some("https://localhost:3000".into()),
                    ..count(9)
                },
                0,
                true,
                Err("InvalidRPOrigin"),
            ),
            (
                Tweaks {
                    origin: Some("http://localhost:3000/a/page".into()),
                    ..count(9)
                },
                0,
                true,
                Ok(9),
            ),
            (
                Tweaks {
                    origin: Some("http://evil.localhost:3000".into()),
                    ..count(9)
                },
                0,
                true,
                Err("InvalidRPOrigin"),
            ),
            (
                Tweaks {
                    client_data_type: Some("webauthn.create".into()),
                    ..count(9)
                },
                0,
                true,
                Err("InvalidClientDataType"),
            ),
            (
                Tweaks {
                    challenge: Some(URL_SAFE_NO_PAD.encode([7u8; 32])),
                    ..count(9)
                },
                0,
                true,
                Err("MismatchedChallenge"),
            ),
            (
                Tweaks {
                    rp_id: Some("evil.example".into()),
                    ..count(9)
                },
                0,
                true,
                Err("InvalidRPIDHash"),
            ),
            (
                Tweaks {
                    user_present: false,
                    ..count(9)
                },
                0,
                true,
                Err("UserNotPresent"),
            ),
            (
                Tweaks {
                    user_verified: false,
                    ..count(9)
                },
                0,
                true,
                Err("UserNotVerified"),
            ),
            (
                Tweaks {
                    bad_signature: true,
                    ..count(9)
                },
                0,
                true,
                Err("signature does not hold"),
            ),
            (
                not_eligible.clone(),
                0,
                true,
                Err("CredentialBackupEligibilityInconsistent"),
            ),
            (not_eligible.clone(), 0, false, Ok(9)),
            (
                Tweaks {
                    backed_up: true,
                    ..not_eligible.clone()
                },
                0,
                false,
                Err("CredentialMayNotBeHardwareBound"),
            ),
            (
                count(9),
                0,
                false,
                Err("CredentialBackupEligibilityInconsistent"),
            ),
        ];
        for (tweaks, stored, eligible, expected) in cases {
            let challenge: [u8; 32] = rand::random();
            let answer = authenticator.authenticate(&options(&challenge), &tweaks);
            let credential = credential_of(&key, &id, stored, eligible);
            let got = both(&answer, &challenge, &credential);
            assert_eq!(got, expected.map_err(str::to_owned), "{tweaks:?}");
        }
    }

    #[test]
    fn the_library_and_this_module_agree_on_malformed_answers() {
        let mut authenticator = SoftAuthenticator::new(ORIGIN);
        let credential = credential_of(
            &authenticator.cose_key(),
            &authenticator.credential_id,
            0,
            true,
        );
        let challenge: [u8; 32] = rand::random();
        let honest = authenticator.authenticate(&options(&challenge), &Tweaks::default());
        assert_eq!(both(&honest, &challenge, &credential), Ok(1));

        let cases: Vec<(Value, &str)> = vec![
            (
                changed(&honest, "authenticatorData", |d| d.truncate(36)),
                "ParseNOMFailure",
            ),
            (
                changed(&honest, "authenticatorData", Vec::clear),
                "ParseNOMFailure",
            ),
            // Extensions claimed: unreadable ones are malformed, readable ones unsigned.
            (
                changed(&honest, "authenticatorData", |d| {
                    d[32] |= EXTENSIONS;
                    d.extend_from_slice(&[0xff, 0x00]);
                }),
                "ParseNOMFailure",
            ),
            (
                changed(&honest, "authenticatorData", |d| {
                    d[32] |= EXTENSIONS;
                    d.push(0xa0);
                }),
                "signature does not hold",
            ),
            // Attested credential data in an assertion, with nothing behind the flag.
            (
                changed(&honest, "authenticatorData", |d| d[32] |= ATTESTED_DATA),
                "ParseNOMFailure",
            ),
            // Bytes after the fixed part, unsigned.
            (
                changed(&honest, "authenticatorData", |d| d.push(0)),
                "signature does not hold",
            ),
            (
                changed(&honest, "clientDataJSON", |c| c.truncate(10)),
                "ParseJSONFailure",
            ),
            (
                changed(&honest, "clientDataJSON", |c| {
                    *c = String::from_utf8(c.clone())
                        .unwrap()
                        .replace(ORIGIN, "not a url")
                        .into_bytes()
                }),
                "ParseJSONFailure",
            ),
            (
                changed(&honest, "signature", Vec::clear),
                "signature does not hold",
            ),
            (
                changed(&honest, "signature", |s| s.truncate(20)),
                "signature does not hold",
            ),
            (
                changed(&honest, "signature", |s| s.push(0)),
                "signature does not hold",
            ),
            // The same integers in a longer (not DER) encoding.
            (
                changed(&honest, "signature", |s| {
                    let r_len = usize::from(s[3]);
                    s.insert(4, 0);
                    s[3] = (r_len + 1) as u8;
                    s[1] += 1;
                }),
                "signature does not hold",
            ),
        ];
        for (answer, expected) in cases {
            assert_eq!(
                both(&answer, &challenge, &credential),
                Err(expected.to_owned()),
                "{answer}"
            );
        }
        // Neither checks the user handle against the credential: the store names the user.
        let mut other_handle = honest.clone();
        other_handle["response"]["userHandle"] = json!(URL_SAFE_NO_PAD.encode(b"someone"));
        assert_eq!(both(&other_handle, &challenge, &credential), Ok(1));
        // Another credential's answer.
        let mut other = SoftAuthenticator::new(ORIGIN);
        let answer = other.authenticate(&options(&challenge), &Tweaks::default());
        assert_eq!(
            both(&answer, &challenge, &credential),
            Err("CredentialNotFound".to_owned())
        );
    }

    /// An answer of a key other than the soft authenticator's ES256 one.
    fn signed_answer(id: &[u8], challenge: &[u8], sign: &dyn Fn(&[u8]) -> Vec<u8>) -> Value {
        let client_data = json!({
            "type": "webauthn.get",
            "challenge": URL_SAFE_NO_PAD.encode(challenge),
            "origin": ORIGIN,
            "crossOrigin": false,
        })
        .to_string();
        let mut auth_data = sha256(RP_ID.as_bytes()).to_vec();
        auth_data.push(USER_PRESENT | USER_VERIFIED | BACKUP_ELIGIBLE | BACKED_UP);
        auth_data.extend_from_slice(&7u32.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&sha256(client_data.as_bytes()));
        json!({
            "id": URL_SAFE_NO_PAD.encode(id),
            "rawId": URL_SAFE_NO_PAD.encode(id),
            "type": "public-key",
            "response": {
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data),
                "authenticatorData": URL_SAFE_NO_PAD.encode(auth_data),
                "signature": URL_SAFE_NO_PAD.encode(sign(&signed)),
            },
        })
    }

    fn credential_with(key: COSEKey, id: &[u8]) -> Credential {
        let mut credential = credential_of(&SoftAuthenticator::new(ORIGIN).cose_key(), id, 0, true);
        credential.cred = key;
        credential
    }

    fn agree_on(key: COSEKey, private: &PKey<Private>, digest: Option<MessageDigest>) {
        let id = b"another-algorithm";
        let credential = credential_with(key, id);
        let sign = |data: &[u8]| {
            let mut signer = match digest {
                Some(digest) => openssl::sign::Signer::new(digest, private).unwrap(),
                None => openssl::sign::Signer::new_without_digest(private).unwrap(),
            };
            signer.sign_oneshot_to_vec(data).unwrap()
        };
        let challenge: [u8; 32] = rand::random();
        let honest = signed_answer(id, &challenge, &sign);
        assert_eq!(both(&honest, &challenge, &credential), Ok(7));
        let tampered = changed(&honest, "signature", |s| s[10] ^= 1);
        assert_eq!(
            both(&tampered, &challenge, &credential),
            Err("signature does not hold".to_owned())
        );
        let other_data = changed(&honest, "authenticatorData", |d| d[36] = 8);
        assert_eq!(
            both(&other_data, &challenge, &credential),
            Err("signature does not hold".to_owned())
        );
    }

    #[test]
    fn the_library_and_this_module_agree_on_eddsa_and_rs256_answers() {
        let ed25519 = PKey::generate_ed25519().unwrap();
        let x = ed25519.raw_public_key().unwrap();
        let key = COSEKey {
            type_: COSEAlgorithm::EDDSA,
            key: COSEKeyType::EC_OKP(COSEOKPKey {
                curve: EDDSACurve::ED25519,
                x: x.into(),
            }),
        };
        agree_on(key, &ed25519, None);

        let rsa = Rsa::generate(2048).unwrap();
        let e: [u8; 3] = rsa.e().to_vec().try_into().unwrap();
        let key = COSEKey {
            type_: COSEAlgorithm::RS256,
            key: COSEKeyType::RSA(COSERSAKey {
                n: rsa.n().to_vec().into(),
                e,
            }),
        };
        agree_on(
            key,
            &PKey::from_rsa(rsa).unwrap(),
            Some(MessageDigest::sha256()),
        );
    }

    /// A COSE key map of `entries` (label, value), as an authenticator writes it.
    fn cose(entries: &[(i128, serde_cbor_2::Value)]) -> Vec<u8> {
        let map = entries
            .iter()
            .map(|(label, value)| (serde_cbor_2::Value::Integer(*label), value.clone()))
            .collect();
        serde_cbor_2::to_vec(&serde_cbor_2::Value::Map(map)).unwrap()
    }

    #[test]
    fn stored_keys_read_as_the_library_reads_them() {
        use serde_cbor_2::Value::{Bytes, Integer};
        let library = |bytes: &[u8]| {
            let value: serde_cbor_2::Value = serde_cbor_2::from_slice(bytes).unwrap();
            COSEKey::try_from(&value).ok()
        };
        let ed25519 = PKey::generate_ed25519().unwrap();
        let rsa = Rsa::generate(2048).unwrap();
        let keys = [
            SoftAuthenticator::new(ORIGIN).cose_key(),
            cose(&[
                (1, Integer(1)),
                (3, Integer(-8)),
                (-1, Integer(6)),
                (-2, Bytes(ed25519.raw_public_key().unwrap())),
            ]),
            cose(&[
                (1, Integer(3)),
                (3, Integer(-257)),
                (-1, Bytes(rsa.n().to_vec())),
                (-2, Bytes(rsa.e().to_vec())),
            ]),
        ];
        for key in &keys {
            let read = stored_key(key);
            assert!(read.is_some());
            assert_eq!(read, library(key));
        }
        // What no registration here stores: other algorithms and curves, missing coordinates.
        for unread in [
            cose(&[(1, Integer(2)), (3, Integer(-35)), (-1, Integer(2))]),
            cose(&[(1, Integer(2)), (3, Integer(-7)), (-1, Integer(2))]),
            cose(&[
                (1, Integer(2)),
                (3, Integer(-7)),
                (-1, Integer(1)),
                (-2, Bytes(vec![1; 32])),
            ]),
            cose(&[
                (1, Integer(3)),
                (3, Integer(-257)),
                (-1, Bytes(vec![1; 256])),
            ]),
            cose(&[
                (1, Integer(3)),
                (3, Integer(-257)),
                (-1, Bytes(vec![1; 256])),
                (-2, Bytes(vec![1, 0, 0, 1])),
            ]),
            vec![0xa0],
            vec![0x80],
            Vec::new(),
        ] {
            assert_eq!(stored_key(&unread), None, "{unread:?}");
        }
    }
}
