//! OAuth 2.0 and OpenID Connect providers.
//!
//! `next_auth!` describes each provider with an [`OAuthSpec`] (what the block says); the engine
//! completes it at [`AuthBuilder::build`](crate::AuthBuilder::build) time from the builder and the
//! environment (`AUTH_<ID>_ID`, `AUTH_<ID>_SECRET`, `AUTH_<ID>_ISSUER`), then runs the flow with
//! the `openidconnect` and `oauth2` crates (feature `oauth`, on by default).
//!
//! A `jwt` callback renews an expired access token with [`refresh_access_token`] (NextAuth's
//! "refresh token rotation" guide).

#[cfg(feature = "guests")]
pub(crate) mod anonymous;
pub(crate) mod credentials;
#[cfg(feature = "email")]
pub mod email;
mod enabled;
pub mod presets;

pub(crate) use enabled::EnabledProviders;
pub(crate) mod method;
#[cfg(feature = "oauth")]
pub(crate) mod oauth;
#[cfg(feature = "passkey")]
pub(crate) mod passkey;

#[cfg(feature = "oauth")]
pub(crate) use oauth::OAuthClients;
#[cfg(feature = "oauth")]
pub(crate) use oauth::with_oauth_clients;
#[cfg(feature = "oauth")]
pub use oauth::{
    REFRESH_ACCESS_TOKEN_ERROR, RefreshError, RefreshUnavailable, RefreshedTokens,
    refresh_access_token,
};

use std::collections::HashMap;
use std::time::Duration;

pub use crate::definition::{OAuthSpec, Protocol};

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
    pub endpoints: HashMap<String, Endpoints>,
    pub timeout: Option<Duration>,
}

/// The OAuth 2.0 endpoints of a plain OAuth provider, given with
/// [`AuthBuilder::oauth_endpoints`](crate::AuthBuilder::oauth_endpoints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoints {
    pub authorization_url: String,
    pub token_url: String,
    pub userinfo_url: String,
}

impl Endpoints {
    fn named(&self) -> [(&'static str, &str); 3] {
        [
            ("authorization_url", &self.authorization_url),
            ("token_url", &self.token_url),
            ("userinfo_url", &self.userinfo_url),
        ]
    }
}

impl Overrides {
    /// Checks what the builder set against every provider `next_auth!` declares (enabled or
    /// not), so that nothing given is silently ignored: a client names an OAuth or OpenID
    /// provider, an issuer an OpenID one; endpoint overrides name a plain OAuth 2.0 provider
    /// (`OAuth { .. }`, `GitHub { .. }`), each URL absolute http(s).
    pub(crate) fn check_against(
        &self,
        declared: &[crate::definition::ProviderInfo],
    ) -> Result<(), crate::error::ConfigError> {
        let error = |provider: &str, variable: &str, reason: String| {
            crate::error::ConfigError::ProviderSetting {
                provider: provider.to_owned(),
                variable: variable.to_owned(),
                reason,
            }
        };
        // A client or an issuer for a provider that does not take one would be ignored.
        let mut given: Vec<(&String, &str)> = self
            .clients
            .keys()
            .map(|id| (id, "oauth_client"))
            .chain(self.issuers.keys().map(|id| (id, "oauth_issuer")))
            .collect();
        given.sort();
        for (id, setting) in given {
            let protocol = declared
                .iter()
                .find(|p| p.id == id.as_str())
                .and_then(|p| p.oauth.map(|spec| spec.protocol));
            let problem = match (protocol, setting) {
                (None, _) => "no OAuth or OpenID Connect provider with this id in `next_auth!`",
                (Some(Protocol::OAuth2 { .. }), "oauth_issuer") => {
                    "not an OpenID Connect provider: a plain OAuth provider has no issuer \
                     (its endpoints are set with `AuthBuilder::oauth_endpoints`)"
                }
                _ => continue,
            };
            return Err(error(id, setting, problem.to_owned()));
        }
        // In a fixed order, so the same mistakes always report the same error.
        let mut ids: Vec<&String> = self.endpoints.keys().collect();
        ids.sort();
        for id in ids {
            let endpoints = &self.endpoints[id];
            let Some(info) = declared.iter().find(|p| p.id == id.as_str()) else {
                return Err(error(
                    id,
                    "oauth_endpoints",
                    "no provider with this id in `next_auth!`".to_owned(),
                ));
            };
            match info.oauth.map(|spec| spec.protocol) {
                Some(Protocol::OAuth2 { .. }) => {}
                Some(Protocol::Oidc { .. }) => {
                    return Err(error(
                        id,
                        "oauth_endpoints",
                        format!(
                            "an OpenID Connect provider's endpoints come from its issuer's \
                             discovery document: set the issuer with \
                             `AuthBuilder::oauth_issuer` or {}",
                            env_variable(id, "ISSUER")
                        ),
                    ));
                }
                None => {
                    return Err(error(
                        id,
                        "oauth_endpoints",
                        "not an OAuth provider".to_owned(),
                    ));
                }
            }
            for (name, url) in endpoints.named() {
                http_url(url).map_err(|reason| {
                    error(
                        id,
                        &format!("oauth_endpoints.{name}"),
                        format!("{url:?} {reason}"),
                    )
                })?;
            }
        }
        Ok(())
    }
}

/// `Ok` for an absolute http(s) URL with a host, no credentials, no fragment and no white
/// space; otherwise why not (`"is not ..."`). The `oauth` feature parses it fully at build.
fn http_url(url: &str) -> Result<(), &'static str> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return Err("is not an absolute http(s) URL, like \"https://idp.example.com/token\"");
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains white space");
    }
    if url.contains('#') {
        return Err("has a fragment, which an OAuth endpoint must not have (RFC 6749, 3.1)");
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("has credentials in it; give the client's with `AuthBuilder::oauth_client`");
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return Err("has no host");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_urls_are_absolute_http_urls() {
        for good in [
            "https://idp.example.com/token",
            "http://127.0.0.1:8080/authorize?tenant=a",
            "HTTPS://IdP.example.com",
            "http://[::1]:9000/user",
        ] {
            assert_eq!(http_url(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "idp.example.com/token",
            "/token",
            "ftp://idp.example.com/token",
            "javascript:alert(1)",
            "https://",
            "https:///token",
            "https://:443/token",
            "https://idp.example.com/to ken",
            "https://idp.example.com/token#frag",
            "https://user:pass@idp.example.com/token",
            "http://[]/token",
        ] {
            assert!(http_url(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_client_or_issuer_for_a_provider_that_takes_none_is_an_error() {
        use crate::definition::{ProviderInfo, ProviderKind};
        const fn oauth(id: &'static str, protocol: Protocol) -> ProviderInfo {
            ProviderInfo {
                id,
                name: id,
                kind: ProviderKind::OAuth,
                credentials: &[],
                oauth: Some(OAuthSpec {
                    protocol,
                    client_id: None,
                    client_secret: None,
                    scope: "openid",
                }),
                optional: false,
            }
        }
        const DECLARED: &[ProviderInfo] = &[
            oauth("sso", Protocol::Oidc { issuer: None }),
            oauth(
                "corp",
                Protocol::OAuth2 {
                    authorization_url: "https://corp.example/authorize",
                    token_url: "https://corp.example/token",
                    userinfo_url: "https://corp.example/user",
                },
            ),
        ];
        let mut fine = Overrides::default();
        fine.clients
            .insert("sso".into(), ("id".into(), "secret".into()));
        fine.clients
            .insert("corp".into(), ("id".into(), "secret".into()));
        fine.issuers
            .insert("sso".into(), "https://sso.example".into());
        assert!(fine.check_against(DECLARED).is_ok());

        let mut typo = Overrides::default();
        typo.clients
            .insert("ssso".into(), ("id".into(), "secret".into()));
        let error = typo.check_against(DECLARED).unwrap_err().to_string();
        assert!(
            error.contains("ssso") && error.contains("oauth_client"),
            "{error}"
        );

        let mut issuer = Overrides::default();
        issuer
            .issuers
            .insert("corp".into(), "https://corp.example".into());
        let error = issuer.check_against(DECLARED).unwrap_err().to_string();
        assert!(error.contains("not an OpenID Connect provider"), "{error}");
    }

    #[test]
    fn names_environment_variables_after_the_id() {
        assert_eq!(env_variable("user", "ISSUER"), "AUTH_USER_ISSUER");
        assert_eq!(env_variable("my-idp", "ID"), "AUTH_MY_IDP_ID");
        assert_eq!(env_variable("corp_sso", "SECRET"), "AUTH_CORP_SSO_SECRET");
    }
}
