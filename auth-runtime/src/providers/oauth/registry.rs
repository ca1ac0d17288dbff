//! The configured OAuth providers of one engine: settings resolved at build time, OpenID
//! discovery done lazily (the application starts while the provider is down) and cached.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openidconnect::core::CoreProviderMetadata;
use openidconnect::{IssuerUrl, RedirectUrl};

use super::check_cookies::{Check, CheckCookies, same_secret};
use super::error::{FlowError, RefreshError, RefreshUnavailable};
use super::grant::{self, RefreshedTokens};
use super::{oidc, plain as oauth};
use crate::base_url::BaseUrl;
use crate::cookies::RequestCookies;
use crate::definition::{ProviderInfo, ProviderKind};
use crate::error::ConfigError;
use crate::http_client;
use crate::providers::{OAuthSpec, Overrides, Protocol, env_variable};
use crate::user::{Account, Profile};

/// Discovery documents (and their keys) are refreshed this often.
const DISCOVERY_TTL: Duration = Duration::from_secs(60 * 60);

/// The browser's next stop, and the check cookies to set.
pub(crate) struct Authorization {
    pub url: String,
    pub cookies: Vec<String>,
}

/// A completed sign-in.
pub(crate) struct SignedIn {
    pub profile: Profile,
    pub account: Account,
}

/// What the provider sent back to the callback (query or form_post body).
#[derive(Debug, Default)]
pub(crate) struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

enum Endpoint {
    Oidc {
        issuer: IssuerUrl,
        cached: Mutex<Option<(Instant, Arc<CoreProviderMetadata>)>>,
    },
    OAuth2 {
        client: Box<oauth::OAuth2Client>,
        userinfo_url: String,
    },
}

struct Configured {
    id: &'static str,
    client_id: String,
    client_secret: String,
    scope: &'static str,
    redirect: RedirectUrl,
    endpoint: Endpoint,
}

/// Every OAuth provider of an engine, with the HTTP client and the check-cookie codec.
pub(crate) struct OAuthClients {
    providers: Vec<Configured>,
    http: reqwest::Client,
    checks: CheckCookies,
}

impl std::fmt::Debug for OAuthClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClients")
            .field(
                "providers",
                &self.providers.iter().map(|p| p.id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl OAuthClients {
    /// Resolves each OAuth provider's settings: builder, then environment, then macro.
    pub(crate) fn build(
        providers: &[ProviderInfo],
        overrides: &Overrides,
        env: impl Fn(&str) -> Option<String>,
        base: &BaseUrl,
        secret: &str,
        secure: bool,
    ) -> Result<Self, ConfigError> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let mut configured = Vec::new();
        for info in providers.iter().filter(|p| p.kind == ProviderKind::OAuth) {
            let Some(spec) = info.oauth else {
                return Err(setting_error(
                    info.id,
                    "kind",
                    "an OAuth provider without its settings".into(),
                ));
            };
            configured.push(configure(info.id, &spec, overrides, &env, base)?);
        }
        let timeout = overrides.timeout.unwrap_or(http_client::DEFAULT_TIMEOUT);
        let http = http_client::build(timeout).map_err(|e| ConfigError::InvalidSetting {
            name: "oauth http client",
            reason: e.to_string(),
        })?;
        Ok(OAuthClients {
            providers: configured,
            http,
            checks: CheckCookies::new(secret, secure),
        })
    }

    fn get(&self, id: &str) -> Result<&Configured, FlowError> {
        self.providers
            .iter()
            .find(|p| p.id == id)
            .ok_or(FlowError::UnknownProvider)
    }

    /// `Set-Cookie` lines deleting every check cookie.
    pub(crate) fn clear_checks(&self) -> Vec<String> {
        self.checks.clear_all()
    }

    async fn metadata(
        &self,
        provider: &Configured,
    ) -> Result<Arc<CoreProviderMetadata>, FlowError> {
        let Endpoint::Oidc { issuer, cached } = &provider.endpoint else {
            return Err(FlowError::Configuration("not an OpenID provider".into()));
        };
        if let Ok(guard) = cached.lock()
            && let Some((at, metadata)) = guard.as_ref()
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(Arc::clone(metadata));
        }
        let metadata = Arc::new(oidc::discover(issuer, &self.http).await?);
        if let Ok(mut guard) = cached.lock() {
            *guard = Some((Instant::now(), Arc::clone(&metadata)));
        }
        Ok(metadata)
    }

    async fn oidc_client(&self, provider: &Configured) -> Result<oidc::OidcClient, FlowError> {
        let metadata = self.metadata(provider).await?;
        Ok(oidc::client(
            (*metadata).clone(),
            &provider.client_id,
            &provider.client_secret,
            provider.redirect.clone(),
        ))
    }

    /// Builds the authorization URL of provider `id` and the signed check cookies.
    pub(crate) async fn authorize(
        &self,
        id: &str,
        extra: &[(String, String)],
        now: i64,
    ) -> Result<Authorization, FlowError> {
        let provider = self.get(id)?;
        let started = match &provider.endpoint {
            Endpoint::Oidc { .. } => {
                let client = self.oidc_client(provider).await?;
                oidc::start(&client, provider.scope, extra)
            }
            Endpoint::OAuth2 { client, .. } => oauth::start(client, provider.scope, extra),
        };
        let mut cookies = vec![
            self.checks.set(Check::State, id, &started.state, now)?,
            self.checks.set(Check::Pkce, id, &started.verifier, now)?,
        ];
        if let Some(nonce) = &started.nonce {
            cookies.push(self.checks.set(Check::Nonce, id, nonce, now)?);
        }
        Ok(Authorization {
            url: started.url.into(),
            cookies,
        })
    }

    /// Checks what the provider sent back against the check cookies, exchanges the code and
    /// reads the profile.
    pub(crate) async fn callback(
        &self,
        id: &str,
        params: CallbackParams,
        cookies: &RequestCookies<'_>,
        now: i64,
    ) -> Result<SignedIn, FlowError> {
        let provider = self.get(id)?;
        if let Some(error) = params.error {
            return Err(if error == "access_denied" {
                FlowError::Denied
            } else {
                FlowError::Provider(error.chars().take(100).collect())
            });
        }
        let expected = self.checks.get(Check::State, id, cookies)?;
        let returned = params.state.ok_or(FlowError::StateMismatch)?;
        if !same_secret(&expected, &returned) {
            return Err(FlowError::StateMismatch);
        }
        let verifier = self.checks.get(Check::Pkce, id, cookies)?;
        let code = params
            .code
            .filter(|c| !c.is_empty())
            .ok_or(FlowError::MissingCode)?;
        let (profile, account) = match &provider.endpoint {
            Endpoint::Oidc { .. } => {
                let nonce = self.checks.get(Check::Nonce, id, cookies)?;
                let client = self.oidc_client(provider).await?;
                oidc::finish(&client, id, code, verifier, nonce, &self.http, now).await?
            }
            Endpoint::OAuth2 {
                client,
                userinfo_url,
            } => oauth::finish(client, userinfo_url, id, code, verifier, &self.http, now).await?,
        };
        Ok(SignedIn { profile, account })
    }
}

impl OAuthClients {
    /// The clients of one provider `id` configured as `spec` says, with a request `timeout`.
    #[cfg(test)]
    pub(crate) fn one(id: &'static str, spec: &OAuthSpec, timeout: Duration) -> Self {
        let overrides = Overrides {
            timeout: Some(timeout),
            ..Overrides::default()
        };
        let base = BaseUrl::localhost("/api/auth");
        OAuthClients {
            providers: vec![configure(id, spec, &overrides, &|_| None, &base).unwrap()],
            http: http_client::build(timeout).unwrap(),
            checks: CheckCookies::new("0123456789abcdef0123456789abcdef", false),
        }
    }

    /// The refresh grant at provider `id`'s token endpoint (see
    /// [`refresh_access_token`](super::refresh_access_token)).
    pub(crate) async fn refresh(
        &self,
        id: &str,
        refresh_token: &str,
        now: i64,
    ) -> Result<RefreshedTokens, RefreshError> {
        let provider = self
            .get(id)
            .map_err(|_| RefreshUnavailable::UnknownProvider)?;
        let token = grant::refresh_token(refresh_token)?;
        match &provider.endpoint {
            Endpoint::Oidc { .. } => {
                let client = self
                    .oidc_client(provider)
                    .await
                    .map_err(|error| match error {
                        FlowError::Discovery(reason) => {
                            RefreshError::Transport(format!("OpenID discovery failed: {reason}"))
                        }
                        other => RefreshError::Transport(other.to_string()),
                    })?;
                let request = client
                    .exchange_refresh_token(&token)
                    .map_err(|_| RefreshUnavailable::NoTokenEndpoint)?;
                let tokens = request
                    .request_async(&self.http)
                    .await
                    .map_err(grant::refresh_error)?;
                Ok(grant::refreshed(&tokens, refresh_token.trim(), now))
            }
            Endpoint::OAuth2 { client, .. } => {
                let tokens = client
                    .exchange_refresh_token(&token)
                    .request_async(&self.http)
                    .await
                    .map_err(grant::refresh_error)?;
                Ok(grant::refreshed(&tokens, refresh_token.trim(), now))
            }
        }
    }
}

fn setting_error(provider: &str, variable: &str, reason: String) -> ConfigError {
    ConfigError::ProviderSetting {
        provider: provider.to_owned(),
        variable: variable.to_owned(),
        reason,
    }
}

fn configure(
    id: &'static str,
    spec: &OAuthSpec,
    overrides: &Overrides,
    env: &impl Fn(&str) -> Option<String>,
    base: &BaseUrl,
) -> Result<Configured, ConfigError> {
    let required = |setting: &str, written: Option<&'static str>| {
        let variable = env_variable(id, setting);
        env(&variable)
            .or_else(|| written.map(str::to_owned))
            .ok_or_else(|| {
                setting_error(
                    id,
                    &variable,
                    format!("set {variable} or write it in the provider's configuration"),
                )
            })
    };
    let (client_id, client_secret) = match overrides.clients.get(id) {
        Some((client_id, secret)) => (client_id.clone(), secret.clone()),
        None => (
            required("ID", spec.client_id)?,
            required("SECRET", spec.client_secret)?,
        ),
    };
    let callback = base.endpoint(&format!("callback/{id}"));
    let redirect = RedirectUrl::new(callback.clone())
        .map_err(|e| setting_error(id, "AUTH_URL", format!("callback URL {callback:?}: {e}")))?;
    let endpoint = match spec.protocol {
        Protocol::Oidc { issuer } => {
            let issuer = match overrides.issuers.get(id) {
                Some(issuer) => issuer.clone(),
                None => required("ISSUER", issuer)?,
            };
            let variable = env_variable(id, "ISSUER");
            let issuer = IssuerUrl::new(issuer)
                .ok()
                .filter(|u| matches!(u.url().scheme(), "http" | "https"))
                .ok_or_else(|| {
                    setting_error(id, &variable, "the issuer is not an http(s) URL".into())
                })?;
            Endpoint::Oidc {
                issuer,
                cached: Mutex::new(None),
            }
        }
        Protocol::OAuth2 {
            authorization_url,
            token_url,
            userinfo_url,
        } => {
            // `AuthBuilder::oauth_endpoints` wins over the URLs written in `next_auth!` (or the
            // preset's); it was checked against the declared providers at build.
            let (authorization_url, token_url, userinfo_url) = match overrides.endpoints.get(id) {
                Some(given) => (
                    given.authorization_url.as_str(),
                    given.token_url.as_str(),
                    given.userinfo_url.as_str(),
                ),
                None => (authorization_url, token_url, userinfo_url),
            };
            let client = oauth::client(
                authorization_url,
                token_url,
                &client_id,
                &client_secret,
                redirect.clone(),
            )
            .map_err(|reason| setting_error(id, "endpoints", reason))?;
            reqwest::Url::parse(userinfo_url).map_err(|e| {
                setting_error(
                    id,
                    "endpoints",
                    format!("userinfo_url {userinfo_url:?}: {e}"),
                )
            })?;
            Endpoint::OAuth2 {
                client: Box::new(client),
                userinfo_url: userinfo_url.to_owned(),
            }
        }
    };
    Ok(Configured {
        id,
        client_id,
        client_secret,
        scope: spec.scope,
        redirect,
        endpoint,
    })
}
