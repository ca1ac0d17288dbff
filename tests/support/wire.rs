//! What a suite written against NextAuth v4's wire expects when `AUTH_TOKEN_FORMAT=authjs-v5`
//! makes the engine speak Auth.js v5's (a pass of `.ci/run`): no session is `null`, and a wrong
//! password is answered 200 (`{base}/signin?error=CredentialsSignin&code=credentials`).
//! Suites that pin their format use `support::Client`'s methods instead.
//!
//! Included with `#[path]`.

#![allow(dead_code)]

/// Whether this run's engines speak Auth.js v5's wire.
pub fn speaks_v5() -> bool {
    std::env::var("AUTH_TOKEN_FORMAT").is_ok_and(|name| name.trim() == "authjs-v5")
}

/// The body of `/session` without a session: `{}` (v4) or `null` (v5).
pub fn no_session() -> serde_json::Value {
    if speaks_v5() {
        serde_json::Value::Null
    } else {
        serde_json::json!({})
    }
}

/// The status of a wrong password: 401 (v4) or 200 (v5).
pub fn wrong_password_status() -> ::http::StatusCode {
    if speaks_v5() {
        ::http::StatusCode::OK
    } else {
        ::http::StatusCode::UNAUTHORIZED
    }
}
