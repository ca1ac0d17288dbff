//! The HTTP client every provider request goes through: reqwest with rustls, redirects never
//! followed (a provider redirecting the back channel elsewhere is an error, not an SSRF), and
//! bounded connect and total timeouts so an unreachable provider cannot hang a sign-in.

use std::time::Duration;

/// The default total timeout of one provider request.
#[cfg(feature = "oauth")]
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds the client; `timeout` bounds each request, connecting included.
pub(crate) fn build(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .user_agent(concat!("auth-runtime/", env!("CARGO_PKG_VERSION")))
        .build()
}
