//! Why an OAuth flow or a token refresh failed: the error types the flows (`oidc`, `plain`), the
//! registry and the refresh share, so that none of them imports another for its errors.

use super::check_cookies::CheckError;
use crate::user::ProfileError;

/// Why an OAuth sign-in failed. Messages never carry a token, a code or a secret.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FlowError {
    #[error("no OAuth provider with this id")]
    UnknownProvider,
    #[error("OpenID discovery failed: {0}")]
    Discovery(String),
    #[error("the provider's configuration is unusable: {0}")]
    Configuration(String),
    #[error("the user denied access at the provider")]
    Denied,
    #[error("the provider returned the error {0:?}")]
    Provider(String),
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error("the state returned by the provider does not match the state cookie")]
    StateMismatch,
    #[error("the callback has no authorization code")]
    MissingCode,
    #[error("{0}")]
    Token(String),
    #[error("ID token rejected: {0}")]
    IdToken(String),
    #[error("userinfo failed: {0}")]
    UserInfo(String),
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

impl FlowError {
    /// The NextAuth error code the browser is redirected with.
    pub(crate) fn code(&self, signing_in: bool) -> &'static str {
        match self {
            FlowError::Denied => "AccessDenied",
            FlowError::Provider(_) => "Callback",
            FlowError::Discovery(_) | FlowError::Configuration(_) if signing_in => "OAuthSignin",
            _ => "OAuthCallback",
        }
    }
}

/// Why a refresh was not even attempted (see [`RefreshError::Unavailable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshUnavailable {
    /// [`refresh_access_token`](super::refresh_access_token) was called outside a `jwt` callback run by the engine (only
    /// there are the provider's settings in reach).
    #[error("called outside a jwt callback run by the engine")]
    OutsideJwtCallback,
    /// No OAuth or OpenID Connect provider has this id.
    #[error("no OAuth provider with this id")]
    UnknownProvider,
    /// The provider's discovery document advertises no token endpoint.
    #[error("the provider has no token endpoint")]
    NoTokenEndpoint,
    /// The refresh token given was empty (the sign-in returned none: ask for `offline_access`,
    /// or the provider's equivalent).
    #[error("there is no refresh token")]
    NoRefreshToken,
}

/// Why an access token could not be refreshed. The messages carry no token and no secret.
///
/// Whatever the variant, NextAuth's convention is to keep the token and set
/// `error: "RefreshAccessTokenError"` ([`REFRESH_ACCESS_TOKEN_ERROR`](super::REFRESH_ACCESS_TOKEN_ERROR)) in it, so that the
/// session tells the client to sign in again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshError {
    /// Nothing was sent: see [`RefreshUnavailable`].
    #[error("cannot refresh the access token: {0}")]
    Unavailable(#[from] RefreshUnavailable),
    /// The provider refused the refresh grant: `error` is its OAuth error code
    /// (`invalid_grant` for a refresh token that expired, was revoked or was already used).
    #[error("the provider refused to refresh the access token: {error}")]
    Refused {
        /// The OAuth error code (RFC 6749 section 5.2), at most 64 printable characters.
        error: String,
        /// The provider's `error_description`, at most 200 printable characters.
        description: Option<String>,
    },
    /// The provider could not be reached, did not answer in time (the engine's
    /// [`oauth_timeout`](crate::AuthBuilder::oauth_timeout)), or answered something that is not
    /// a token response.
    #[error("the refresh request failed: {0}")]
    Transport(String),
}

impl RefreshError {
    /// The OAuth error code of a [`RefreshError::Refused`] (`invalid_grant`, ...).
    pub fn oauth_error(&self) -> Option<&str> {
        match self {
            RefreshError::Refused { error, .. } => Some(error),
            _ => None,
        }
    }
}
