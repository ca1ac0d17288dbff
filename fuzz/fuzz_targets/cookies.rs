//! Cookie headers: parsing, chunk reassembly, and `Set-Cookie` chunking read back.
#![no_main]

use auth_runtime::cookies::{self, RequestCookies};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Several `Cookie` headers, separated by newlines in the input.
    if let Ok(parsed) = RequestCookies::parse(text.split('\n')) {
        let name = "next-auth.session-token";
        let joined = parsed.chunked(name);
        let names = parsed.chunk_names(name);
        if let Some(joined) = &joined {
            assert!(!names.is_empty());
            assert!(joined.len() <= text.len());
        }
        let _ = parsed.get("next-auth.csrf-token");
    }
    // Whatever token the browser is given comes back whole.
    let token: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    if !token.is_empty() {
        let lines = cookies::session_cookies("s", &token, 0, false, &[]);
        let header: Vec<String> = lines
            .iter()
            .map(|l| l.split(';').next().unwrap_or_default().to_owned())
            .collect();
        let header = header.join("; ");
        let back = RequestCookies::parse([header.as_str()]).expect("small header");
        assert_eq!(back.chunked("s").as_deref(), Some(token.as_str()));
    }
});
