//! The browser's answers checked by webauthn-rs-core: the JSON that `@simplewebauthn/browser`
//! sends (RegistrationResponseJSON, AuthenticationResponseJSON) read into its types, the
//! ceremony state rebuilt around the challenge this server issued, the stored passkey rebuilt
//! into its credential, and what is stored taken from the authenticator data.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, AttestationFormat, AuthenticatorAssertionResponseRaw,
    AuthenticatorAttestationResponseRaw, COSEAlgorithm, COSEEC2Key, COSEKey, COSEKeyType,
    COSEOKPKey, COSERSAKey, Credential, ECDSACurve, EDDSACurve, ParsedAttestation,
    PublicKeyCredential, RegisterPublicKeyCredential, RegisteredExtensions, RegistrationState,
    UserVerificationPolicy,
};

use super::store::StoredAuthenticator;

/// The algorithms offered, in Auth.js's order: EdDSA, ES256, RS256.
pub(super) const ALGORITHMS: [COSEAlgorithm; 3] = [
    COSEAlgorithm::EDDSA,
    COSEAlgorithm::ES256,
    COSEAlgorithm::RS256,
];
/// At most this many transports are kept, each at most this long.
const MAX_TRANSPORTS: usize = 8;
const MAX_TRANSPORT_LEN: usize = 16;
/// A `data` field longer than this is not read (a registration takes about 1.5 KiB; RSA keys and
/// attestation certificates more).
pub(super) const MAX_DATA: usize = 32 * 1024;
/// SimpleWebAuthn's names of a credential that may (not) be synced.
pub(super) const MULTI_DEVICE: &str = "multiDevice";
pub(super) const SINGLE_DEVICE: &str = "singleDevice";

/// Why the browser's `data` could not be read: Auth.js answers these `Configuration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the passkey answer is malformed: {0}")]
pub(crate) struct DataError(pub &'static str);

/// Why an answer that could be read was refused: what Auth.js answers
/// `WebAuthnVerificationError`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    /// webauthn-rs-core's checks: client data type, challenge, origin, RP id hash, user
    /// present and verified flags, algorithm, signature, signature counter, backup flags.
    #[error("the passkey answer failed verification: {0:?}")]
    Check(WebauthnError),
    /// `id` and `rawId` differ, or `type` is not `public-key`.
    #[error("the passkey answer failed verification: {0}")]
    Shape(&'static str),
}

/// A registration answer, read.
pub(super) struct Registration {
    pub credential: RegisterPublicKeyCredential,
    /// The transports the browser reported, as it spelled them.
    pub transports: Vec<String>,
}

/// What a verified registration stores.
pub(super) struct NewPasskey {
    /// The credential id from the authenticator data.
    pub credential_id: Vec<u8>,
    /// The COSE public key, as the authenticator data holds it.
    pub public_key: Vec<u8>,
    pub counter: u32,
    pub backup_eligible: bool,
    pub backed_up: bool,
}

#[derive(Deserialize)]
struct RegistrationJson {
    id: String,
    #[serde(rename = "rawId")]
    raw_id: String,
    #[serde(rename = "type")]
    kind: String,
    response: AttestationJson,
}

#[derive(Deserialize)]
struct AttestationJson {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    #[serde(rename = "attestationObject")]
    attestation_object: String,
    #[serde(default)]
    transports: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct AuthenticationJson {
    id: String,
    #[serde(rename = "rawId")]
    raw_id: String,
    #[serde(rename = "type")]
    kind: String,
    response: AssertionJson,
}

#[derive(Deserialize)]
struct AssertionJson {
    #[serde(rename = "clientDataJSON")]
    client_data_json: String,
    #[serde(rename = "authenticatorData")]
    authenticator_data: String,
    signature: String,
    #[serde(default, rename = "userHandle")]
    user_handle: Option<String>,
}

/// Base64url, with or without padding (browsers and libraries differ).
pub(super) fn decode_url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// The credential id of `id`/`rawId` (they must be the same, non-empty).
fn credential_id(
    id: &str,
    raw_id: &str,
    kind: &str,
) -> Result<Result<Vec<u8>, Refused>, DataError> {
    let (Some(id), Some(raw)) = (decode_url(id), decode_url(raw_id)) else {
        return Err(DataError("id or rawId is not base64url"));
    };
    if id.is_empty() || id != raw {
        return Ok(Err(Refused::Shape("id and rawId differ")));
    }
    if kind != "public-key" {
        return Ok(Err(Refused::Shape("the credential type is not public-key")));
    }
    Ok(Ok(raw))
}

fn parse<T: DeserializeOwned>(data: &str) -> Result<T, DataError> {
    if data.len() > MAX_DATA {
        return Err(DataError("data is too long"));
    }
    serde_json::from_str(data).map_err(|_| DataError("data is not the JSON of a credential"))
}

fn field(text: &str, what: &'static str) -> Result<Vec<u8>, DataError> {
    decode_url(text).ok_or(DataError(what))
}

/// Refuses client data collected in a frame of another site (`crossOrigin: true`): the pages
/// of the origin ask for passkeys themselves. webauthn-rs-core checks it for registrations
/// only; Auth.js not at all.
fn same_origin_frame(client_data: &[u8]) -> Result<(), Refused> {
    #[derive(Deserialize)]
    struct ClientData {
        #[serde(default, rename = "crossOrigin")]
        cross_origin: Option<bool>,
    }
    // Unreadable client data is the library's to refuse.
    let cross = serde_json::from_slice::<ClientData>(client_data)
        .ok()
        .and_then(|data| data.cross_origin);
    match cross {
        Some(true) => Err(Refused::Shape("the client data is cross-origin")),
        _ => Ok(()),
    }
}

/// Reads a RegistrationResponseJSON.
pub(super) fn parse_registration(data: &str) -> Result<Result<Registration, Refused>, DataError> {
    let json: RegistrationJson = parse(data)?;
    let raw_id = match credential_id(&json.id, &json.raw_id, &json.kind)? {
        Ok(raw_id) => raw_id,
        Err(refused) => return Ok(Err(refused)),
    };
    let transports: Vec<String> = json
        .response
        .transports
        .iter()
        .filter_map(|t| t.as_str())
        .filter(|t| {
            !t.is_empty()
                && t.len() <= MAX_TRANSPORT_LEN
                && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        })
        .take(MAX_TRANSPORTS)
        .map(str::to_owned)
        .collect();
    let known = transports
        .iter()
        .filter_map(|t| serde_json::from_value(serde_json::Value::String(t.clone())).ok())
        .collect();
    let client_data = field(&json.response.client_data_json, "clientDataJSON")?;
    if let Err(refused) = same_origin_frame(&client_data) {
        return Ok(Err(refused));
    }
    let credential = RegisterPublicKeyCredential {
        id: json.id,
        raw_id: raw_id.into(),
        response: AuthenticatorAttestationResponseRaw {
            attestation_object: field(&json.response.attestation_object, "attestationObject")?
                .into(),
            client_data_json: client_data.into(),
            transports: Some(known),
        },
        type_: json.kind,
        extensions: Default::default(),
    };
    Ok(Ok(Registration {
        credential,
        transports,
    }))
}

/// Reads an AuthenticationResponseJSON; the credential id is its `rawId`.
pub(super) fn parse_authentication(
    data: &str,
) -> Result<Result<(PublicKeyCredential, Vec<u8>), Refused>, DataError> {
    let json: AuthenticationJson = parse(data)?;
    let raw_id = match credential_id(&json.id, &json.raw_id, &json.kind)? {
        Ok(raw_id) => raw_id,
        Err(refused) => return Ok(Err(refused)),
    };
    let user_handle = match json.response.user_handle.as_deref() {
        None | Some("") => None,
        Some(handle) => Some(field(handle, "userHandle")?.into()),
    };
    let client_data = field(&json.response.client_data_json, "clientDataJSON")?;
    if let Err(refused) = same_origin_frame(&client_data) {
        return Ok(Err(refused));
    }
    let credential = PublicKeyCredential {
        id: json.id,
        raw_id: raw_id.clone().into(),
        response: AuthenticatorAssertionResponseRaw {
            authenticator_data: field(&json.response.authenticator_data, "authenticatorData")?
                .into(),
            client_data_json: client_data.into(),
            signature: field(&json.response.signature, "signature")?.into(),
            user_handle,
        },
        extensions: Default::default(),
        type_: json.kind,
    };
    Ok(Ok((credential, raw_id)))
}

/// A ceremony state of webauthn-rs-core with `challenge` in place of the one it drew. Its
/// states are serializable for keeping between requests; the challenge is a base64url field.
fn with_challenge<T>(state: T, challenge: &[u8]) -> Result<T, WebauthnError>
where
    T: serde::Serialize + DeserializeOwned,
{
    let mut json = serde_json::to_value(state).map_err(|_| WebauthnError::Configuration)?;
    let Some(slot) = json.get_mut("challenge") else {
        return Err(WebauthnError::Configuration);
    };
    *slot = serde_json::Value::String(URL_SAFE_NO_PAD.encode(challenge));
    serde_json::from_value(json).map_err(|_| WebauthnError::Configuration)
}

/// The state a registration is checked against: user verification required, a resident key,
/// Auth.js's algorithms, attestation `none` (any attestation is read, none is required).
fn registration_state(
    core: &WebauthnCore,
    challenge: &[u8],
) -> Result<RegistrationState, WebauthnError> {
    // The user fields only shape options this server does not send; the library wants them.
    let builder = core
        .new_challenge_register_builder(b"user", "user", "user")?
        .attestation(AttestationConveyancePreference::None)
        .user_verification_policy(UserVerificationPolicy::Required)
        .credential_algorithms(ALGORITHMS.to_vec())
        .require_resident_key(true);
    let (_, state) = core.generate_challenge_register(builder)?;
    with_challenge(state, challenge)
}

/// Checks a registration answer against `challenge`; what to store when it passes.
pub(super) fn verify_registration(
    core: &WebauthnCore,
    challenge: &[u8],
    registration: &Registration,
) -> Result<NewPasskey, Refused> {
    let state = registration_state(core, challenge).map_err(Refused::Check)?;
    let credential = core
        .register_credential(&registration.credential, &state, None)
        .map_err(Refused::Check)?;
    let attestation = registration.credential.response.attestation_object.as_ref();
    let (credential_id, public_key) =
        attested_key(attestation).ok_or(Refused::Check(WebauthnError::ParseNOMFailure))?;
    if credential_id.as_slice() != credential.cred_id.as_ref() {
        return Err(Refused::Check(WebauthnError::ParseNOMFailure));
    }
    Ok(NewPasskey {
        credential_id,
        public_key,
        counter: credential.counter,
        backup_eligible: credential.backup_eligible,
        backed_up: credential.backup_state,
    })
}

/// The credential id and the COSE key bytes of an attestation object's attested credential
/// data, as the authenticator wrote them (Auth.js stores the key's bytes).
fn attested_key(attestation_object: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    use serde_cbor_2::Value;
    const AT: u8 = 0x40;
    let object: Value = serde_cbor_2::from_slice(attestation_object).ok()?;
    let Value::Map(map) = object else {
        return None;
    };
    let Some(Value::Bytes(auth_data)) = map.get(&Value::Text("authData".to_owned())) else {
        return None;
    };
    // rpIdHash (32), flags (1), signCount (4), then aaguid (16), length (2), id, key.
    if auth_data.get(32)? & AT == 0 {
        return None;
    }
    let rest = auth_data.get(37 + 16..)?;
    let length = usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]));
    let id = rest.get(2..2 + length)?.to_vec();
    let key = rest.get(2 + length..)?;
    let mut reader = serde_cbor_2::Deserializer::from_slice(key);
    Value::deserialize(&mut reader).ok()?;
    let used = reader.byte_offset();
    Some((id, key.get(..used)?.to_vec()))
}

/// A stored passkey as webauthn-rs-core's credential; `None` when the row cannot be read.
pub(super) fn stored_credential(stored: &StoredAuthenticator) -> Option<Credential> {
    let id = STANDARD.decode(&stored.credential_id).ok()?;
    let key = STANDARD.decode(&stored.credential_public_key).ok()?;
    let cred = stored_key(&key)?;
    Some(Credential {
        cred_id: id.into(),
        cred,
        counter: u32::try_from(stored.counter).ok()?,
        transports: None,
        user_verified: true,
        backup_eligible: stored.credential_device_type == MULTI_DEVICE,
        backup_state: stored.credential_backed_up,
        registration_policy: UserVerificationPolicy::Required,
        extensions: RegisteredExtensions::none(),
        attestation: ParsedAttestation::default(),
        attestation_format: AttestationFormat::None,
    })
}

/// A stored COSE key of one of the three algorithms a registration accepts, read as it was
/// written. Not validated again: webauthn-rs-core's own reading (`COSEKey::try_from`) rebuilds
/// and checks the key, which registration did, and which would cost each sign-in two scalar
/// multiplications. A key that is no longer a point on its curve fails the signature check.
pub(super) fn stored_key(bytes: &[u8]) -> Option<COSEKey> {
    use serde_cbor_2::Value;
    let Value::Map(map) = serde_cbor_2::from_slice::<Value>(bytes).ok()? else {
        return None;
    };
    let at = |label: i128| map.get(&Value::Integer(label));
    let integer = |label| match at(label) {
        Some(Value::Integer(value)) => Some(*value),
        _ => None,
    };
    let bytes = |label| match at(label) {
        Some(Value::Bytes(value)) => Some(value.clone()),
        _ => None,
    };
    // COSE labels: kty 1, alg 3; EC2 and OKP crv -1, x -2, y -3; RSA n -1, e -2 (RFC 9053).
    let (type_, key) = match (integer(1)?, integer(3)?) {
        (2, -7) if integer(-1)? == 1 => (
            COSEAlgorithm::ES256,
            COSEKeyType::EC_EC2(COSEEC2Key {
                curve: ECDSACurve::SECP256R1,
                x: bytes(-2)?.into(),
                y: bytes(-3)?.into(),
            }),
        ),
        (1, -8) if integer(-1)? == 6 => (
            COSEAlgorithm::EDDSA,
            COSEKeyType::EC_OKP(COSEOKPKey {
                curve: EDDSACurve::ED25519,
                x: bytes(-2)?.into(),
            }),
        ),
        (3, -257) => (
            COSEAlgorithm::RS256,
            COSEKeyType::RSA(COSERSAKey {
                n: bytes(-1)?.into(),
                e: bytes(-2)?.try_into().ok()?,
            }),
        ),
        _ => return None,
    };
    Some(COSEKey { type_, key })
}

/// Checks an authentication answer with `credential` against `challenge` as webauthn-rs-core
/// does; the new signature counter when it passes. Sign-ins are checked by `assertion`; the
/// tests hold that module to this one's verdicts.
#[cfg(test)]
pub(super) fn verify_authentication(
    core: &WebauthnCore,
    challenge: &[u8],
    answer: &PublicKeyCredential,
    credential: Credential,
) -> Result<u32, Refused> {
    let builder = core
        .new_challenge_authenticate_builder(Vec::new(), Some(UserVerificationPolicy::Required))
        .map_err(Refused::Check)?;
    let (_, state) = core
        .generate_challenge_authenticate(builder)
        .map_err(Refused::Check)?;
    let mut state: webauthn_rs_core::proto::AuthenticationState =
        with_challenge(state, challenge).map_err(Refused::Check)?;
    state.set_allowed_credentials(vec![credential]);
    let result = core
        .authenticate_credential(answer, &state)
        .map_err(Refused::Check)?;
    Ok(result.counter())
}
