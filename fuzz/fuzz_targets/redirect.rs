//! Callback URLs: whatever the input, the result is the origin or a URL on it.
#![no_main]

use auth_runtime::BaseUrl;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(candidate) = std::str::from_utf8(data) else {
        return;
    };
    for base in [
        BaseUrl::parse("AUTH_URL", "http://127.0.0.1:3000/api/auth", "/api/auth").unwrap(),
        BaseUrl::parse("AUTH_URL", "https://shop.example/api/auth", "/api/auth").unwrap(),
    ] {
        let resolved = base.resolve_redirect(candidate);
        let origin = base.origin();
        assert!(
            resolved == origin || resolved.starts_with(&format!("{origin}/")),
            "{candidate:?} -> {resolved:?}"
        );
        // Stable: resolving the answer again gives the same answer.
        assert_eq!(base.resolve_redirect(&resolved), resolved);
    }
});
