//! OpenID Connect through the `openidconnect` crate: discovery, the authorization URL with PKCE
//! (S256) and a nonce, the code exchange, ID token validation and userinfo.

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessToken, AdditionalClaims, AuthorizationCode, Client, ClientId, ClientSecret, CsrfToken,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    StandardErrorResponse, StandardTokenResponse, TokenResponse,
};
use serde::{Deserialize, Serialize};

use super::error::FlowError;
use super::plain::Started;
use crate::user::{Account, Profile};

/// Every claim beyond the standard ones, kept so the profile's `raw` is complete.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct RawClaims {
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

impl AdditionalClaims for RawClaims {}

type TokenFields = IdTokenFields<
    RawClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<TokenFields, CoreTokenType>;

/// A client built from discovered metadata: authorization URL set, token and userinfo URLs as
/// the provider advertises them.
pub(crate) type OidcClient = Client<
    RawClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Fetches the issuer's discovery document and its JWKS.
pub(crate) async fn discover(
    issuer: &IssuerUrl,
    http: &reqwest::Client,
) -> Result<CoreProviderMetadata, FlowError> {
    CoreProviderMetadata::discover_async(issuer.clone(), http)
        .await
        .map_err(|e| FlowError::Discovery(e.to_string()))
}

pub(crate) fn client(
    metadata: CoreProviderMetadata,
    client_id: &str,
    client_secret: &str,
    redirect: RedirectUrl,
) -> OidcClient {
    Client::from_provider_metadata(
        metadata,
        ClientId::new(client_id.to_owned()),
        Some(ClientSecret::new(client_secret.to_owned())),
    )
    .set_redirect_uri(redirect)
}

/// The authorization URL: `response_type=code`, the scopes, `state`, `nonce` and an S256 PKCE
/// challenge, plus the caller's extra parameters.
pub(crate) fn start(client: &OidcClient, scope: &str, extra: &[(String, String)]) -> Started {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    // `openid` is always sent by the crate; the others are added once each.
    for name in scope.split_whitespace().filter(|s| *s != "openid") {
        request = request.add_scope(Scope::new(name.to_owned()));
    }
    for (name, value) in extra {
        request = request.add_extra_param(name.clone(), value.clone());
    }
    let (url, state, nonce) = request.url();
    Started {
        url,
        state: state.secret().clone(),
        verifier: verifier.secret().clone(),
        nonce: Some(nonce.secret().clone()),
    }
}

/// Exchanges the code, validates the ID token (signature against the JWKS, issuer, audience,
/// expiry, nonce) and reads userinfo when the provider has it.
pub(crate) async fn finish(
    client: &OidcClient,
    provider: &str,
    code: String,
    verifier: String,
    nonce: String,
    http: &reqwest::Client,
    now: i64,
) -> Result<(Profile, Account), FlowError> {
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| FlowError::Token(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(http)
        .await
        .map_err(|e| FlowError::Token(super::plain::describe_token_error(&e)))?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| FlowError::IdToken("the token response has no id_token".into()))?;
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &Nonce::new(nonce))
        .map_err(|e| FlowError::IdToken(e.to_string()))?;
    let mut raw = serde_json::to_value(claims).map_err(|e| FlowError::IdToken(e.to_string()))?;

    if client.user_info_url().is_some() {
        let info = client
            .user_info(
                AccessToken::new(tokens.access_token().secret().clone()),
                Some(claims.subject().clone()),
            )
            .map_err(|e| FlowError::UserInfo(e.to_string()))?
            .request_async::<RawClaims, _, CoreGenderClaim>(http)
            .await
            .map_err(|e| FlowError::UserInfo(e.to_string()))?;
        let info = serde_json::to_value(info).map_err(|e| FlowError::UserInfo(e.to_string()))?;
        if let (Some(raw), serde_json::Value::Object(info)) = (raw.as_object_mut(), info) {
            for (key, value) in info {
                if key != "sub" {
                    raw.insert(key, value);
                }
            }
        }
    }
    let profile = Profile::from_json(raw).map_err(FlowError::Profile)?;
    let mut account = super::plain::account(provider, &profile, &tokens, now);
    account.id_token = Some(id_token.to_string());
    Ok((profile, account))
}
