//! The token format of a suite that drives next-auth v4's own client (Node, a browser).
//!
//! Included with `#[path]`.

use auth_runtime::TokenFormat;

/// `AUTH_TOKEN_FORMAT`'s format (the pass of `.ci/run`), except `authjs-v5`: that format speaks
/// Auth.js v5's wire (`null` for no session, v5's error URLs), which the v4 client does not read,
/// so a v4-client suite runs in next-auth v4's format there (`tests/client_js_v5.rs` drives the
/// v5 client).
pub fn for_the_v4_client() -> TokenFormat {
    match std::env::var("AUTH_TOKEN_FORMAT")
        .ok()
        .map(|name| name.parse())
    {
        Some(Ok(TokenFormat::AuthJsV5)) | None => TokenFormat::NextAuthV4,
        Some(Ok(format)) => format,
        Some(Err(error)) => panic!("AUTH_TOKEN_FORMAT: {error}"),
    }
}
