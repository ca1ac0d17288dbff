//! The refresh grant's request and answer: the refresh token sent, and what the token endpoint's
//! response becomes ([`RefreshedTokens`] or a [`RefreshError`]).

use oauth2::{ErrorResponse, HttpClientError, RefreshToken, RequestTokenError, TokenResponse};

use super::error::{RefreshError, RefreshUnavailable};

/// The longest OAuth error code kept from a provider's refusal.
const MAX_ERROR_CODE: usize = 64;
/// The longest `error_description` kept from a provider's refusal.
const MAX_ERROR_DESCRIPTION: usize = 200;

/// What the provider's token endpoint answered to a refresh grant.
///
/// Its `Debug` shows no token.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshedTokens {
    /// The new access token.
    pub access_token: String,
    /// When the new access token expires, in seconds since the Unix epoch (`now + expires_in`);
    /// `None` when the provider did not say.
    pub expires_at: Option<i64>,
    /// The refresh token to use next time: the rotated one when the provider sent one, else the
    /// one that was used (a provider that does not rotate sends none).
    pub refresh_token: String,
    /// The scopes granted, space-separated, when the provider said.
    pub scope: Option<String>,
}

impl std::fmt::Debug for RefreshedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshedTokens")
            .field("access_token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &"[redacted]")
            .field("scope", &self.scope)
            .finish()
    }
}

/// The refreshed tokens of a token response; `used` is kept when no refresh token came back.
pub(crate) fn refreshed<R: TokenResponse>(tokens: &R, used: &str, now: i64) -> RefreshedTokens {
    RefreshedTokens {
        access_token: tokens.access_token().secret().clone(),
        expires_at: super::plain::expires_at(tokens, now),
        refresh_token: tokens
            .refresh_token()
            .map(|t| t.secret())
            .filter(|t| !t.is_empty())
            .map_or_else(|| used.to_owned(), Clone::clone),
        scope: super::plain::granted_scope(tokens),
    }
}

/// The refresh token to send; an empty one is refused before anything is sent.
pub(crate) fn refresh_token(value: &str) -> Result<RefreshToken, RefreshError> {
    match value.trim() {
        "" => Err(RefreshUnavailable::NoRefreshToken.into()),
        value => Ok(RefreshToken::new(value.to_owned())),
    }
}

/// A failed refresh grant as a [`RefreshError`]; nothing of the response body is kept but the
/// error code and description of a refusal.
pub(crate) fn refresh_error<T>(
    error: RequestTokenError<HttpClientError<reqwest::Error>, T>,
) -> RefreshError
where
    T: ErrorResponse + 'static,
{
    match error {
        RequestTokenError::ServerResponse(response) => {
            refusal(&serde_json::to_value(&response).unwrap_or_default())
                .unwrap_or_else(|| refused("unknown", None))
        }
        RequestTokenError::Request(error) => RefreshError::Transport(describe_http(error)),
        // Some providers (GitHub) answer a refusal with 200 and `{"error": ...}`.
        RequestTokenError::Parse(_, body) => serde_json::from_slice(&body)
            .ok()
            .and_then(|json| refusal(&json))
            .unwrap_or_else(|| {
                RefreshError::Transport("the token response does not parse".to_owned())
            }),
        RequestTokenError::Other(message) => RefreshError::Transport(printable(&message, 200)),
    }
}

/// The refusal an OAuth error response (`{"error", "error_description"}`) says, if it says one.
fn refusal(json: &serde_json::Value) -> Option<RefreshError> {
    let field = |name: &str| {
        json.get(name)
            .and_then(serde_json::Value::as_str)
            .filter(|value| !value.trim().is_empty())
    };
    Some(refused(field("error")?, field("error_description")))
}

fn refused(error: &str, description: Option<&str>) -> RefreshError {
    RefreshError::Refused {
        error: printable(error, MAX_ERROR_CODE),
        description: description.map(|d| printable(d, MAX_ERROR_DESCRIPTION)),
    }
}

fn describe_http(error: HttpClientError<reqwest::Error>) -> String {
    match error {
        HttpClientError::Reqwest(error) if error.is_timeout() => {
            "the token endpoint did not answer in time".to_owned()
        }
        HttpClientError::Reqwest(error) if error.is_connect() => {
            "could not connect to the token endpoint".to_owned()
        }
        HttpClientError::Reqwest(error) => printable(&crate::http_client::describe(*error), 300),
        HttpClientError::Http(error) => format!("the token request could not be built: {error}"),
        HttpClientError::Io(error) => format!("the token request failed: {error}"),
        HttpClientError::Other(message) => printable(&message, 200),
        _ => "the token request failed".to_owned(),
    }
}

/// At most `max` characters of `text`, control characters dropped.
fn printable(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}
