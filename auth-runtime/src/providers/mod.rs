//! OAuth 2.0 and OpenID Connect providers.
//!
//! `next_auth!` describes each provider with an [`OAuthSpec`] (what the block says); the engine
//! completes it at [`AuthBuilder::build`](crate::AuthBuilder::build) time from the builder and the
//! environment (`AUTH_<ID>_ID`, `AUTH_<ID>_SECRET`, `AUTH_<ID>_ISSUER`), then runs the flow with
//! the `openidconnect` and `oauth2` crates (feature `oauth`, on by default).
//!
//! A `jwt` callback renews an expired access token with [`refresh_access_token`] (NextAuth's
//! "refresh token rotation" guide).

pub mod presets;

#[cfg(feature = "oauth")]
pub(crate) mod check_cookies;
#[cfg(feature = "oauth")]
pub(crate) mod http_client;
#[cfg(feature = "oauth")]
pub(crate) mod oauth;
#[cfg(feature = "oauth")]
pub(crate) mod oidc;
#[cfg(feature = "oauth")]
mod refresh;
#[cfg(feature = "oauth")]
mod registry;

#[cfg(feature = "oauth")]
pub(crate) use refresh::with_oauth_clients;
#[cfg(feature = "oauth")]
pub use refresh::{
    REFRESH_ACCESS_TOKEN_ERROR, RefreshError, RefreshUnavailable, RefreshedTokens,
    refresh_access_token,
};
#[cfg(feature = "oauth")]
pub(crate) use registry::{CallbackParams, FlowError, OAuthClients};

use std::collections::HashMap;
use std::time::Duration;

/// How one OAuth or OpenID Connect provider is configured in `next_auth!`.
///
/// Fields left `None` are read at run time: `client_id` from `AUTH_<ID>_ID`, `client_secret` from
/// `AUTH_<ID>_SECRET` and an OpenID Connect `issuer` from `AUTH_<ID>_ISSUER`, where `<ID>` is the
/// provider id upper-cased with `-` turned into `_` (`AUTH_USER_ID` for `"user"`).
///
/// ```
/// use auth_runtime::definition::{OAuthSpec, Protocol};
///
/// const USER: OAuthSpec = OAuthSpec {
///     protocol: Protocol::Oidc { issuer: None },
///     client_id: None,
///     client_secret: None,
///     scope: "openid profile email",
/// };
/// assert_eq!(auth_runtime::providers::env_variable("user", "ID"), "AUTH_USER_ID");
/// # let _ = USER;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OAuthSpec {
    /// Which protocol, and where the provider's endpoints are.
    pub protocol: Protocol,
    /// The client id registered at the provider, if written in the macro.
    pub client_id: Option<&'static str>,
    /// The client secret, if written in the macro (prefer the environment).
    pub client_secret: Option<&'static str>,
    /// The scopes asked for, space-separated.
    pub scope: &'static str,
}

/// The protocol of an [`OAuthSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// OpenID Connect: endpoints and keys come from the issuer's discovery document; the ID
    /// token is validated (signature, issuer, audience, expiry, nonce).
    Oidc {
        /// The issuer URL, if written in the macro.
        issuer: Option<&'static str>,
    },
    /// Plain OAuth 2.0 with explicit endpoints; the profile comes from the userinfo endpoint.
    OAuth2 {
        /// Where the browser is sent to sign in.
        authorization_url: &'static str,
        /// Where the code is exchanged for tokens.
        token_url: &'static str,
        /// Where the profile is read with the access token.
        userinfo_url: &'static str,
    },
}

/// The environment variable holding a provider setting: `env_variable("my-idp", "SECRET")` is
/// `AUTH_MY_IDP_SECRET`.
pub fn env_variable(provider_id: &str, setting: &str) -> String {
    let id: String = provider_id
        .chars()
        .map(|c| match c {
            '-' | '.' => '_',
            c => c.to_ascii_uppercase(),
        })
        .collect();
    format!("AUTH_{id}_{setting}")
}

/// Provider settings given in code through the builder; they win over the environment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    pub clients: HashMap<String, (String, String)>,
    pub issuers: HashMap<String, String>,
    pub timeout: Option<Duration>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_environment_variables_after_the_id() {
        assert_eq!(env_variable("user", "ISSUER"), "AUTH_USER_ISSUER");
        assert_eq!(env_variable("my-idp", "ID"), "AUTH_MY_IDP_ID");
        assert_eq!(env_variable("corp_sso", "SECRET"), "AUTH_CORP_SSO_SECRET");
    }
}
