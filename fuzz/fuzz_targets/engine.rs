//! The whole engine: arbitrary method, path, query, cookies, content type and body. Never a
//! panic; never a 5xx; a state-changing POST without the right CSRF token never signs anyone in.
#![no_main]

mod support;

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use support::{auth, block_on};

fuzz_target!(|data: &[u8]| {
    // Fields separated by 0xff: method, path+query, cookie, content-type, body.
    let mut parts = data.splitn(5, |b| *b == 0xff);
    let method = match parts.next().and_then(|m| m.first()) {
        Some(b) if b % 2 == 0 => http::Method::POST,
        _ => http::Method::GET,
    };
    let path = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let cookie = parts.next().unwrap_or_default();
    let content_type = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let uri = format!("/api/auth/{path}");
    let Ok(uri) = uri.parse::<http::Uri>() else {
        return;
    };
    let mut request = http::Request::new(Bytes::copy_from_slice(body));
    *request.method_mut() = method.clone();
    *request.uri_mut() = uri;
    if let Ok(value) = http::HeaderValue::from_bytes(cookie) {
        request.headers_mut().insert("cookie", value);
    }
    if let Ok(value) = http::HeaderValue::from_bytes(content_type) {
        request.headers_mut().insert("content-type", value);
    }
    let response = block_on(auth().handle(request));
    assert!(!response.status().is_server_error(), "{}", response.status());
    // Without a CSRF cookie minted by the server, no POST may set a session.
    if method == http::Method::POST && !String::from_utf8_lossy(cookie).contains("csrf-token") {
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap_or_default();
            assert!(
                !set.starts_with("next-auth.session-token=") || set.contains("Max-Age=0"),
                "{set}"
            );
        }
    }
});
