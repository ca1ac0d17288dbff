//! Property tests of every parser and codec reachable from the public API: cookie headers and
//! chunk reassembly, form and JSON bodies, callback-URL resolution, CSRF verification and session
//! tokens through the engine. (The token codec's own properties, decode(encode(x)) == x and
//! single-byte tampering, are in `auth-runtime/src/token.rs`.)

#[path = "support/browser.rs"]
mod browser;

use auth_runtime::cookies::{self, RequestCookies};
use auth_runtime::{BaseUrl, RequestBody, User, next_auth};
use bytes::Bytes;
use proptest::prelude::*;

next_auth! {
    providers: [
        Credentials {
            id: "anon",
            name: "Anonymous",
            credentials: {},
            authorize: |_credentials| Ok(Some(User::with_id("guest-1"))),
        },
    ],
}

const ORIGIN: &str = "http://127.0.0.1:3000";

fn auth() -> Auth {
    Auth::builder(())
        .secret("prop-parsers-secret-0123456789abcdef")
        .url("http://127.0.0.1:3000/api/auth")
        .build()
        .unwrap()
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    // Timers on: under AUTH_SESSION_STRATEGY=database a read waits on the session store's pool.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

/// Text with the characters that matter to each parser over-represented.
fn hostile_text(max: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        ".{0,8}",
        Just(";".to_owned()),
        Just("=".to_owned()),
        Just("%".to_owned()),
        Just("\"".to_owned()),
        Just("/".to_owned()),
        Just("\\".to_owned()),
        Just("&".to_owned()),
        Just("+".to_owned()),
        Just("next-auth.session-token".to_owned()),
        Just(".0".to_owned()),
        Just("%2F".to_owned()),
        Just("%E0%A4%A".to_owned()),
        Just("http://127.0.0.1:3000".to_owned()),
        Just("@".to_owned()),
    ];
    prop::collection::vec(piece, 0..max).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Cookie headers never panic the parser; whatever chunks it joins came from the header.
    #[test]
    fn cookie_parsing_never_panics(headers in prop::collection::vec(hostile_text(24), 0..4)) {
        let total: usize = headers.iter().map(String::len).sum();
        match RequestCookies::parse(headers.iter().map(String::as_str)) {
            Ok(parsed) => {
                prop_assert!(total <= cookies::MAX_COOKIE_HEADER);
                if let Some(joined) = parsed.chunked("next-auth.session-token") {
                    prop_assert!(joined.len() <= total);
                    prop_assert!(!parsed.chunk_names("next-auth.session-token").is_empty());
                }
            }
            Err(_) => prop_assert!(total > cookies::MAX_COOKIE_HEADER),
        }
    }

    /// Chunking inverts reassembly: any token written as (possibly chunked) cookies, sent back in
    /// any order, reads back whole; a missing chunk reads as nothing.
    #[test]
    fn chunks_reassemble_in_any_order(
        token in "[A-Za-z0-9_.-]{1,12000}",
        order in any::<prop::sample::Index>(),
        drop in any::<prop::sample::Index>(),
    ) {
        let lines = cookies::session_cookies("s", &token, 0, false, &[]);
        let mut pairs: Vec<String> = lines
            .iter()
            .map(|l| l.split(';').next().unwrap().to_owned())
            .collect();
        let rotate = order.index(pairs.len());
        pairs.rotate_left(rotate);
        let header = pairs.join("; ");
        let parsed = RequestCookies::parse([header.as_str()]).unwrap();
        prop_assert_eq!(parsed.chunked("s").map(|c| c.to_string()), Some(token.clone()));
        if pairs.len() > 1 {
            let gone = drop.index(pairs.len());
            let mut partial = pairs.clone();
            let removed = partial.remove(gone);
            let header = partial.join("; ");
            let parsed = RequestCookies::parse([header.as_str()]).unwrap();
            // Without the last chunk the rest is still a gap-free prefix; otherwise a gap.
            let last = removed.starts_with(&format!("s.{}=", pairs.len() - 1));
            prop_assert_eq!(parsed.chunked("s").is_some(), last);
            prop_assert_ne!(parsed.chunked("s").map(|c| c.to_string()), Some(token.clone()));
        }
    }

    /// More chunks than the limit are refused, not joined.
    #[test]
    fn chunk_count_is_bounded(n in (cookies::MAX_CHUNKS + 1)..64usize) {
        let header: Vec<String> = (0..n).map(|i| format!("s.{i}=x")).collect();
        let header = header.join("; ");
        let parsed = RequestCookies::parse([header.as_str()]).unwrap();
        prop_assert_eq!(parsed.chunked("s"), None);
    }

    /// Form bodies: never panic, at most 256 fields, and a field written once reads back.
    #[test]
    fn form_bodies(raw in hostile_text(32), key in "[a-zA-Z]{1,10}", value in ".{0,40}") {
        let _ = RequestBody::from_form(raw.as_bytes());
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .append_pair(&key, &value)
            .finish();
        let body = RequestBody::from_form(format!("{encoded}&{raw}").as_bytes()).unwrap();
        prop_assert_eq!(body.get(&key), Some(value.as_str()));
    }

    /// JSON bodies: never panic; objects round-trip, anything else is a clear error.
    #[test]
    fn json_bodies(raw in hostile_text(32), fields in prop::collection::btree_map("[a-z]{1,8}", ".{0,20}", 0..20)) {
        let _ = RequestBody::from_json(raw.as_bytes());
        let object: serde_json::Map<String, serde_json::Value> =
            fields.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.as_str()))).collect();
        let bytes = serde_json::to_vec(&object).unwrap();
        let body = RequestBody::from_json(&bytes).unwrap();
        prop_assert_eq!(body.fields(), &object);
        prop_assert!(RequestBody::from_json(b"[1]").is_err());
    }

    /// Redirects never leave the origin, and resolving twice changes nothing.
    #[test]
    fn redirects_never_leave_the_origin(candidate in hostile_text(12)) {
        let base = BaseUrl::parse("AUTH_URL", "http://127.0.0.1:3000/api/auth", "/api/auth").unwrap();
        let resolved = base.resolve_redirect(&candidate);
        prop_assert!(resolved == ORIGIN || resolved.starts_with(&format!("{ORIGIN}/")), "{:?} -> {:?}", candidate, resolved);
        prop_assert_eq!(base.resolve_redirect(&resolved), resolved);
    }

    /// CSRF: with a valid CSRF cookie, a POST signs in exactly when the submitted token is the
    /// cookie's; a forged cookie never verifies.
    #[test]
    fn csrf_verification(submitted in "[0-9a-f]{0,64}|.{0,70}", forge in any::<bool>()) {
        block_on(async {
            let mut client = browser::Browser::engine(auth());
            let token = client.csrf().await;
            if forge {
                let forged = format!("{}|{}", "a".repeat(64), "b".repeat(64));
                client.jar.insert("next-auth.csrf-token".into(), forged);
            }
            let reply = client
                .post_form("/api/auth/callback/anon", &[("csrfToken", &submitted), ("json", "true")])
                .await;
            let signed_in = reply.cookie("next-auth.session-token").is_some();
            prop_assert!(!reply.status.is_server_error());
            prop_assert_eq!(signed_in, !forge && submitted == token);
            Ok(())
        })?;
    }

    /// Session cookies of any content are refused without a 5xx, and cleared.
    #[test]
    fn session_cookies_of_any_content(value in hostile_text(16)) {
        block_on(async {
            let auth = auth();
            let Ok(cookie) = http::HeaderValue::from_str(&format!("next-auth.session-token={value}")) else {
                return Ok(());
            };
            let response = auth
                .handle(http::Request::get("/api/auth/session").header("cookie", cookie).body(Bytes::new()).unwrap())
                .await;
            prop_assert!(!response.status().is_server_error());
            // No session: `{}` on NextAuth v4's wire, `null` on Auth.js v5's.
            let none: &[u8] = if auth.settings().token_format() == auth_runtime::TokenFormat::AuthJsV5 { b"null" } else { b"{}" };
            prop_assert_eq!(&response.body()[..], none);
            Ok(())
        })?;
    }
}
