//! Plain OAuth 2.0 through the `oauth2` crate: explicit endpoints, the authorization URL with
//! PKCE (S256), the code exchange, then the profile from the userinfo endpoint.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ErrorResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    TokenResponse, TokenUrl,
};

use super::error::FlowError;
use crate::user::{Account, Profile};

/// A client with its authorization and token endpoints set.
pub(crate) type OAuth2Client =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The largest userinfo body read.
const MAX_USERINFO_BYTES: usize = 256 * 1024;

/// What the browser is sent to, and the checks to keep until it comes back (the OpenID flow's
/// too; only it has a nonce).
pub(crate) struct Started {
    pub url: url::Url,
    pub state: String,
    pub verifier: String,
    pub nonce: Option<String>,
}

pub(crate) fn client(
    authorization_url: &str,
    token_url: &str,
    client_id: &str,
    client_secret: &str,
    redirect: RedirectUrl,
) -> Result<OAuth2Client, String> {
    let auth = AuthUrl::new(authorization_url.to_owned())
        .map_err(|e| format!("authorization_url {authorization_url:?}: {e}"))?;
    let token =
        TokenUrl::new(token_url.to_owned()).map_err(|e| format!("token_url {token_url:?}: {e}"))?;
    Ok(BasicClient::new(ClientId::new(client_id.to_owned()))
        .set_client_secret(ClientSecret::new(client_secret.to_owned()))
        .set_auth_uri(auth)
        .set_token_uri(token)
        .set_redirect_uri(redirect))
}

/// The authorization URL: `response_type=code`, the scopes, `state` and an S256 challenge.
pub(crate) fn start(client: &OAuth2Client, scope: &str, extra: &[(String, String)]) -> Started {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .set_pkce_challenge(challenge);
    for name in scope.split_whitespace() {
        request = request.add_scope(Scope::new(name.to_owned()));
    }
    for (name, value) in extra {
        request = request.add_extra_param(name.clone(), value.clone());
    }
    let (url, state) = request.url();
    Started {
        url,
        state: state.secret().clone(),
        verifier: verifier.secret().clone(),
        nonce: None,
    }
}

/// Exchanges the code, then reads the profile from `userinfo_url` with the access token.
pub(crate) async fn finish(
    client: &OAuth2Client,
    userinfo_url: &str,
    provider: &str,
    code: String,
    verifier: String,
    http: &reqwest::Client,
    now: i64,
) -> Result<(Profile, Account), FlowError> {
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(http)
        .await
        .map_err(|e| FlowError::Token(describe_token_error(&e)))?;
    let response = http
        .get(userinfo_url)
        .bearer_auth(tokens.access_token().secret())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| FlowError::UserInfo(e.without_url().to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(FlowError::UserInfo(format!(
            "the userinfo endpoint answered {status}"
        )));
    }
    if response
        .content_length()
        .is_some_and(|len| len > MAX_USERINFO_BYTES as u64)
    {
        return Err(FlowError::UserInfo(
            "the userinfo response is too large".into(),
        ));
    }
    let body = response
        .bytes()
        .await
        .map_err(|e| FlowError::UserInfo(e.without_url().to_string()))?;
    if body.len() > MAX_USERINFO_BYTES {
        return Err(FlowError::UserInfo(
            "the userinfo response is too large".into(),
        ));
    }
    let raw: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|_| FlowError::UserInfo("the userinfo response is not JSON".into()))?;
    let profile = Profile::from_json(raw).map_err(FlowError::Profile)?;
    let account = account(provider, &profile, &tokens, now);
    Ok((profile, account))
}

/// The account of an OAuth sign-in, from the token response.
pub(crate) fn account<R>(provider: &str, profile: &Profile, tokens: &R, now: i64) -> Account
where
    R: TokenResponse,
{
    Account {
        provider: provider.to_owned(),
        kind: "oauth".to_owned(),
        provider_account_id: profile.sub.clone(),
        access_token: Some(tokens.access_token().secret().clone()),
        token_type: serde_json::to_value(tokens.token_type())
            .ok()
            .and_then(|v| v.as_str().map(str::to_ascii_lowercase)),
        expires_at: expires_at(tokens, now),
        refresh_token: tokens.refresh_token().map(|t| t.secret().clone()),
        scope: granted_scope(tokens),
        id_token: None,
    }
}

/// When the access token of a token response expires, in Unix seconds.
pub(crate) fn expires_at<R: TokenResponse>(tokens: &R, now: i64) -> Option<i64> {
    tokens
        .expires_in()
        .map(|d| now.saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX)))
}

/// The scopes a token response granted, space-separated.
pub(crate) fn granted_scope<R: TokenResponse>(tokens: &R) -> Option<String> {
    tokens.scopes().map(|scopes| {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// A token-endpoint failure, described without the response body (which may hold tokens).
/// The OAuth `error` code of a token response body, when it is one: only the code, plain, and
/// never the rest of the body (which may hold tokens).
fn refusal_code(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = value.get("error")?.as_str()?;
    let plain = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    plain.then(|| code.to_owned())
}

pub(crate) fn describe_token_error<RE, T>(error: &RequestTokenError<RE, T>) -> String
where
    RE: std::error::Error + 'static,
    T: ErrorResponse + 'static,
{
    match error {
        RequestTokenError::ServerResponse(response) => {
            format!("the token endpoint refused the code: {response}")
        }
        RequestTokenError::Request(error) => format!("the token request failed: {error}"),
        // GitHub refuses with `200 {"error": ..}`, which does not parse as tokens.
        RequestTokenError::Parse(_, body) => match refusal_code(body) {
            Some(code) => format!("the token endpoint refused the code: {code}"),
            None => "the token response does not parse".to_owned(),
        },
        RequestTokenError::Other(message) => format!("the token request failed: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::refusal_code;

    #[test]
    fn a_refusal_in_a_200_answer_is_named_by_its_code_only() {
        let github = br#"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}"#;
        assert_eq!(
            refusal_code(github).as_deref(),
            Some("bad_verification_code")
        );
        for not_a_refusal in [
            &br#"{"access_token":"gho_secret"}"#[..],
            b"<html>502</html>",
            br#"{"error":"<script>"}"#,
            br#"{"error":42}"#,
        ] {
            assert_eq!(refusal_code(not_a_refusal), None);
        }
    }
}
