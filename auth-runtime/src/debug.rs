//! `AUTH_DEBUG`: every request in a `tracing` span with a request id, and each protocol step
//! in it as an INFO line (target `auth_runtime::debug`). Steps say what was decided, never what
//! was submitted: no secret, token, code, password or cookie value is ever a field.

use http::Method;

/// Logs one protocol step when debugging is on: `step!(settings, "authorize", outcome = "ok")`
/// (fields as `tracing` writes them, without a trailing comma).
macro_rules! step {
    ($settings:expr, $step:literal $(, $($field:tt)+)?) => {
        if $settings.debug {
            tracing::info!(target: "auth_runtime::debug", step = $step $(, $($field)+)?, "auth step");
        }
    };
}
pub(crate) use step;

/// The span of one request: a short random id, the method and the path (never the query, which
/// may carry an authorization code or a callback URL's secrets).
pub(crate) fn request_span(method: &Method, path: &str) -> tracing::Span {
    let id = crate::csrf::hex(&rand::random::<[u8; 6]>());
    tracing::info_span!(target: "auth_runtime::debug", "auth_request", request_id = %id, %method, path = %crate::log_budget::sanitized(path, 200))
}
