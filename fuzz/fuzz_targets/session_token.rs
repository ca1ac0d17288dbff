//! Session tokens, in every token format (NextAuth v4's JWE, Auth.js v5's JWE, the JWS):
//! arbitrary cookie and Bearer values are refused or read, never a panic, never a 5xx; a genuine
//! token with any one byte changed is refused.
#![no_main]

mod support;

use auth_runtime::TokenClaims;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use support::{Auth, Token, block_on, engines};

fn session(auth: &Auth, cookie: &str) -> http::Response<Bytes> {
    let request = http::Request::get("/api/auth/session")
        .header("cookie", cookie)
        .body(Bytes::new())
        .unwrap();
    block_on(auth.handle(request))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, data)) = data.split_first() else {
        return;
    };
    let engines = engines();
    let auth = &engines[usize::from(selector) % engines.len()];
    let name = auth.settings().cookie_names().session_token.clone();
    if let Ok(value) = http::HeaderValue::from_bytes(data) {
        let mut headers = http::HeaderMap::new();
        headers.insert("cookie", value.clone());
        let _ = block_on(auth.token(&headers));
        if let Ok(text) = value.to_str() {
            let mut bearer = http::HeaderMap::new();
            if let Ok(value) = http::HeaderValue::from_str(&format!("Bearer {text}")) {
                bearer.insert("authorization", value);
                assert!(block_on(auth.token(&bearer)).is_err());
            }
            let reply = session(auth, &format!("{name}={text}"));
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
        let jwt = block_on(auth.encode_session_token(&mut token, now)).unwrap();
        let mut bytes = jwt.clone().into_bytes();
        let at = usize::from(u16::from_le_bytes([data[0], data[1]])) % bytes.len();
        let replacement = data.get(2).copied().unwrap_or(b'A');
        if bytes[at] == replacement || !replacement.is_ascii_graphic() || replacement == b';' {
            return;
        }
        bytes[at] = replacement;
        let forged = String::from_utf8(bytes).unwrap();
        let mut headers = http::HeaderMap::new();
        let Ok(value) = http::HeaderValue::from_str(&format!("{name}={forged}")) else {
            return;
        };
        headers.insert("cookie", value);
        assert!(block_on(auth.token(&headers)).is_err(), "{jwt} -> {forged}");
    }
});
