//! Session tokens: arbitrary cookie values are refused or read, never a panic, never a 5xx; a
//! genuine token with any one byte changed is refused.
#![no_main]

mod support;

use auth_runtime::TokenClaims;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use support::{Token, auth, block_on};

fn session(cookie: &str) -> http::Response<Bytes> {
    let request = http::Request::get("/api/auth/session")
        .header("cookie", cookie)
        .body(Bytes::new())
        .unwrap();
    block_on(auth().handle(request))
}

fuzz_target!(|data: &[u8]| {
    let auth = auth();
    if let Ok(value) = http::HeaderValue::from_bytes(data) {
        let mut headers = http::HeaderMap::new();
        headers.insert("cookie", value.clone());
        let _ = auth.token(&headers);
        if let Ok(text) = value.to_str() {
            let reply = session(&format!("next-auth.session-token={text}"));
            assert!(!reply.status().is_server_error());
        }
    }
    // Flip one byte of a genuine token, where the input says.
    if data.len() >= 2 {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let mut token = Token::from_user(&auth_runtime::User::with_id("u"));
        let jwt = auth.encode_session_token(&mut token, now).unwrap();
        let mut bytes = jwt.clone().into_bytes();
        let at = usize::from(u16::from_le_bytes([data[0], data[1]])) % bytes.len();
        let replacement = data.get(2).copied().unwrap_or(b'A');
        if bytes[at] == replacement || !replacement.is_ascii_graphic() || replacement == b';' {
            return;
        }
        bytes[at] = replacement;
        let forged = String::from_utf8(bytes).unwrap();
        let mut headers = http::HeaderMap::new();
        let Ok(value) = http::HeaderValue::from_str(&format!("next-auth.session-token={forged}"))
        else {
            return;
        };
        headers.insert("cookie", value);
        assert!(auth.token(&headers).is_none(), "{jwt} -> {forged}");
    }
});
