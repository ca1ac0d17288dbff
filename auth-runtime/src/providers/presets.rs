//! Well-known providers as thin configurations of [`Protocol::Oidc`] and [`Protocol::OAuth2`].
//!
//! `next_auth!` expands `GitHub { .. }` and `Google { .. }` to these functions; they need only a
//! client id and secret, from the macro or from `AUTH_GITHUB_ID`/`AUTH_GITHUB_SECRET` (the
//! variables follow the provider id).
//!
//! ```
//! use auth_runtime::definition::Protocol;
//! use auth_runtime::providers::presets;
//!
//! const GITHUB: auth_runtime::definition::OAuthSpec = presets::github(None, None, None);
//! assert!(matches!(GITHUB.protocol, Protocol::OAuth2 { .. }));
//! assert_eq!(presets::google(None, None, None).scope, "openid email profile");
//! ```

use super::{OAuthSpec, Protocol};

const fn or(value: Option<&'static str>, default: &'static str) -> &'static str {
    match value {
        Some(value) => value,
        None => default,
    }
}

/// GitHub (OAuth 2.0; profile from `https://api.github.com/user`, whose numeric `id` becomes
/// `sub`). Default scope `read:user user:email`.
pub const fn github(
    client_id: Option<&'static str>,
    client_secret: Option<&'static str>,
    scope: Option<&'static str>,
) -> OAuthSpec {
    OAuthSpec {
        protocol: Protocol::OAuth2 {
            authorization_url: "https://github.com/login/oauth/authorize",
            token_url: "https://github.com/login/oauth/access_token",
            userinfo_url: "https://api.github.com/user",
        },
        client_id,
        client_secret,
        scope: or(scope, "read:user user:email"),
    }
}

/// Google (OpenID Connect, issuer `https://accounts.google.com`). Default scope
/// `openid email profile`.
pub const fn google(
    client_id: Option<&'static str>,
    client_secret: Option<&'static str>,
    scope: Option<&'static str>,
) -> OAuthSpec {
    OAuthSpec {
        protocol: Protocol::Oidc {
            issuer: Some("https://accounts.google.com"),
        },
        client_id,
        client_secret,
        scope: or(scope, "openid email profile"),
    }
}
