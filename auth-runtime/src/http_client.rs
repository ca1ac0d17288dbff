//! The HTTP client every request to a provider (OAuth, OpenID, CAPTCHA) goes through: reqwest
//! with rustls, redirects never followed (a provider redirecting the back channel elsewhere is an
//! error, not an SSRF), and bounded connect and total timeouts so an unreachable provider cannot
//! hang a sign-in.

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

/// A transport failure and its causes in one line, without the request's URL (which may hold a
/// secret or a code), for logs and error messages.
pub(crate) fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
