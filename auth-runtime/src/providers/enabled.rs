//! Which providers this server offers: every provider, except the optional ones that are not
//! configured here. The `Provider` enum stays complete; a disabled provider is absent from
//! `GET /providers`, the sign-in page and the routes.

use super::env_variable;
use crate::definition::{ProviderInfo, ProviderKind};
use crate::error::ConfigError;

/// The providers of one engine that are on, in declaration order.
#[derive(Debug, Clone)]
pub(crate) struct EnabledProviders {
    on: Vec<ProviderInfo>,
    off: Vec<&'static str>,
}

impl EnabledProviders {
    /// Decides each optional provider: on when the builder enabled it, else as
    /// `AUTH_<ID>_ENABLED` says (`true`/`false`, `1`/`0`), else, for an OAuth provider, when its
    /// client id is given (builder or `AUTH_<ID>_ID`); off otherwise.
    pub fn resolve(
        providers: &'static [ProviderInfo],
        enabled_by_builder: &[String],
        has_client: impl Fn(&str) -> bool,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        if let Some(unknown) = enabled_by_builder
            .iter()
            .find(|id| !providers.iter().any(|p| p.id == id.as_str()))
        {
            return Err(ConfigError::ProviderSetting {
                provider: unknown.clone(),
                variable: "enable_provider".to_owned(),
                reason: "no provider has this id".to_owned(),
            });
        }
        let mut enabled = EnabledProviders {
            on: Vec::new(),
            off: Vec::new(),
        };
        for provider in providers {
            let variable = env_variable(provider.id, "ENABLED");
            let on = if !provider.optional || enabled_by_builder.iter().any(|id| id == provider.id)
            {
                true
            } else if let Some(value) = env(&variable).filter(|v| !v.trim().is_empty()) {
                match value.trim().to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" | "on" => true,
                    "0" | "false" | "no" | "off" => false,
                    _ => {
                        return Err(ConfigError::ProviderSetting {
                            provider: provider.id.to_owned(),
                            variable,
                            reason: format!("{value:?} is not true or false"),
                        });
                    }
                }
            } else {
                provider.kind == ProviderKind::OAuth && has_client(provider.id)
            };
            if on {
                enabled.on.push(*provider);
            } else {
                enabled.off.push(provider.id);
            }
        }
        if !enabled.off.is_empty() {
            tracing::info!(disabled = ?enabled.off, "optional providers not configured here are off");
        }
        Ok(enabled)
    }

    /// The providers that are on.
    pub fn providers(&self) -> &[ProviderInfo] {
        &self.on
    }

    /// Whether `id` names a provider that is configured but off on this server.
    pub fn is_off(&self, id: &str) -> bool {
        self.off.contains(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn provider(id: &'static str, kind: ProviderKind, optional: bool) -> ProviderInfo {
        ProviderInfo {
            id,
            name: id,
            kind,
            credentials: &[],
            oauth: None,
            optional,
        }
    }

    const PROVIDERS: &[ProviderInfo] = &[
        provider("anon", ProviderKind::Anonymous, false),
        provider("github", ProviderKind::OAuth, true),
        provider("staff", ProviderKind::Credentials, true),
    ];

    fn ids(enabled: &EnabledProviders) -> Vec<&str> {
        enabled.providers().iter().map(|p| p.id).collect()
    }

    #[test]
    fn optional_providers_are_on_only_where_configured() {
        let none = EnabledProviders::resolve(PROVIDERS, &[], |_| false, |_| None).unwrap();
        assert_eq!(ids(&none), ["anon"]);
        assert!(none.is_off("github") && none.is_off("staff") && !none.is_off("anon"));

        let client = EnabledProviders::resolve(PROVIDERS, &[], |id| id == "github", |_| None);
        assert_eq!(ids(&client.unwrap()), ["anon", "github"]);

        let env = |name: &str| match name {
            "AUTH_STAFF_ENABLED" => Some("true".to_owned()),
            "AUTH_GITHUB_ENABLED" => Some("off".to_owned()),
            _ => None,
        };
        let switched = EnabledProviders::resolve(PROVIDERS, &[], |_| true, env).unwrap();
        assert_eq!(ids(&switched), ["anon", "staff"]);

        let builder = EnabledProviders::resolve(PROVIDERS, &["github".into()], |_| false, env);
        assert_eq!(ids(&builder.unwrap()), ["anon", "github", "staff"]);

        let unknown = EnabledProviders::resolve(PROVIDERS, &["gitlab".into()], |_| false, env);
        assert!(unknown.unwrap_err().to_string().contains("gitlab"));
        let bad =
            EnabledProviders::resolve(PROVIDERS, &[], |_| false, |_| Some("maybe".to_owned()));
        assert!(bad.unwrap_err().to_string().contains("AUTH_GITHUB_ENABLED"));
    }
}
