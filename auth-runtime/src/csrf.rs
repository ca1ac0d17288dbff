//! NextAuth's CSRF double-submit: cookie `token|sha256hex(token + secret)`, form field `csrfToken`.

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A CSRF token as the engine holds it during one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrfToken {
    /// 64 lowercase hex characters.
    pub token: String,
    /// `Some(cookie value)` when the cookie must be (re)set: a new token, or a valid token
    /// re-minted under the newest secret during a rotation.
    pub new_cookie: Option<String>,
    /// Whether the token came from a valid cookie, so that the client can have seen it.
    pub from_cookie: bool,
}

fn hash_hex(token: &str, secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(token.as_bytes());
    hasher.update(secret.as_bytes());
    hex(&hasher.finalize())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}

/// The token in `cookie`, if its hash proves this server minted it.
pub fn verify_cookie(cookie: &str, secret: &str) -> Option<String> {
    let (token, hash) = cookie.split_once('|')?;
    if token.len() != 64 || hash.len() != 64 {
        return None;
    }
    let expected = hash_hex(token, secret);
    bool::from(expected.as_bytes().ct_eq(hash.as_bytes())).then(|| token.to_owned())
}

/// Reuses the token from a cookie valid under any of `secrets` (newest first), or mints a new
/// one with its cookie value. A cookie valid only under an older secret keeps its token and is
/// re-minted under the newest, so a rotation does not break a form the client already holds.
pub fn bootstrap<S: AsRef<str>>(cookie: Option<&str>, secrets: &[S]) -> CsrfToken {
    let newest = secrets.first().map_or("", AsRef::as_ref);
    if let Some(cookie) = cookie {
        for (index, secret) in secrets.iter().enumerate() {
            if let Some(token) = verify_cookie(cookie, secret.as_ref()) {
                let new_cookie = (index > 0).then(|| mint(&token, newest));
                return CsrfToken {
                    token,
                    new_cookie,
                    from_cookie: true,
                };
            }
        }
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = hex(&bytes);
    CsrfToken {
        new_cookie: Some(mint(&token, newest)),
        token,
        from_cookie: false,
    }
}

fn mint(token: &str, secret: &str) -> String {
    format!("{token}|{}", hash_hex(token, secret))
}

/// Whether the submitted `csrfToken` matches a token whose cookie was already valid.
///
/// A token minted during this very request never verifies: the client cannot have seen it.
pub fn submitted_matches(csrf: &CsrfToken, submitted: Option<&str>) -> bool {
    csrf.from_cookie
        && submitted.is_some_and(|s| bool::from(s.as_bytes().ct_eq(csrf.token.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The `csrf` vector minted by next-auth 4.24.15.
    const SECRET: &str = "nextauth-interop-test-secret-0123456789";
    const TOKEN: &str = "8f2bbf4d5a4c6b6ad0cbd4b1a8b8e0c77f4e61a6e51b7e3f3a7b4e0c9d2f1a3b";
    const HASH: &str = "13304febed317630e353682c56ece7d827f32f152aa35258b9a9e091c7d6336a";

    #[test]
    fn matches_the_nextauth_vector() {
        assert_eq!(hash_hex(TOKEN, SECRET), HASH);
        assert_eq!(
            verify_cookie(&format!("{TOKEN}|{HASH}"), SECRET).as_deref(),
            Some(TOKEN)
        );
    }

    #[test]
    fn rejects_forged_or_malformed_cookies() {
        assert_eq!(
            verify_cookie(&format!("{TOKEN}|{HASH}"), "other secret"),
            None
        );
        assert_eq!(verify_cookie(TOKEN, SECRET), None);
        assert_eq!(verify_cookie("|", SECRET), None);
        assert_eq!(
            verify_cookie(&format!("{TOKEN}|{}", &HASH[1..]), SECRET),
            None
        );
    }

    #[test]
    fn reuses_valid_tokens_and_mints_new_ones() {
        let kept = bootstrap(Some(&format!("{TOKEN}|{HASH}")), &[SECRET]);
        assert_eq!(
            (kept.token.as_str(), kept.new_cookie.as_deref()),
            (TOKEN, None)
        );
        let fresh = bootstrap(Some("garbage"), &[SECRET]);
        assert_eq!(fresh.token.len(), 64);
        assert_eq!(
            verify_cookie(fresh.new_cookie.as_deref().unwrap(), SECRET),
            Some(fresh.token.clone())
        );
        assert!(!submitted_matches(&fresh, Some(&fresh.token)));
        assert!(submitted_matches(&kept, Some(TOKEN)));
        assert!(!submitted_matches(&kept, Some("x")));
        assert!(!submitted_matches(&kept, None));
    }

    #[test]
    fn accepts_cookies_of_an_older_secret_and_re_mints_them() {
        let cookie = format!("{TOKEN}|{HASH}");
        let rotated = bootstrap(Some(&cookie), &["the-new-secret-0123456789abcdef", SECRET]);
        assert_eq!(rotated.token, TOKEN);
        assert!(submitted_matches(&rotated, Some(TOKEN)));
        let re_minted = rotated
            .new_cookie
            .expect("re-minted under the newest secret");
        assert_eq!(
            verify_cookie(&re_minted, "the-new-secret-0123456789abcdef").as_deref(),
            Some(TOKEN)
        );
        let dropped = bootstrap(Some(&cookie), &["the-new-secret-0123456789abcdef"]);
        assert_ne!(dropped.token, TOKEN);
        assert!(!submitted_matches(&dropped, Some(TOKEN)));
    }
}
