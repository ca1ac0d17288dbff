//! OAuth 2.0 and OpenID Connect sign-in (feature `oauth`): the flows through the `openidconnect`
//! and `oauth2` crates, the providers' registry, the check cookies (state, PKCE, nonce), token
//! refresh, and the sign-in method the handlers call.

pub(crate) mod check_cookies;
mod error;
mod flow;
mod grant;
mod oidc;
mod plain;
mod refresh;
mod registry;

pub(crate) use error::FlowError;
pub use error::{RefreshError, RefreshUnavailable};
pub(crate) use flow::OAuth;
pub use grant::RefreshedTokens;
pub(crate) use refresh::with_oauth_clients;
pub use refresh::{REFRESH_ACCESS_TOKEN_ERROR, refresh_access_token};
pub(crate) use registry::{CallbackParams, OAuthClients};
