//! Where a request carries its CAPTCHA token, and which tokens are not worth sending on.

use http::HeaderMap;

use super::CaptchaRefusal;
use crate::body::RequestBody;

/// The header a client sends its token in (Better Auth's convention).
pub const TOKEN_HEADER: &str = "x-captcha-response";

/// The form (or JSON) field a client sends its token in: what next-auth's
/// `signIn(provider, { captchaToken })` posts.
pub const TOKEN_FIELD: &str = "captchaToken";

/// The longest token sent on to the provider, in bytes (Turnstile's documented maximum;
/// hCaptcha's and reCAPTCHA's are shorter in practice).
pub const MAX_TOKEN_LEN: usize = 2048;

/// The token a request carries: the `x-captcha-response` header, else the `captchaToken` field
/// of its body. An empty value counts as none; a header that is not visible ASCII is passed
/// over (no token is made of anything else).
///
/// ```
/// use auth_runtime::RequestBody;
/// use auth_runtime::captcha::token_from;
///
/// let mut headers = http::HeaderMap::new();
/// let body = RequestBody::from_form(b"csrfToken=abc&captchaToken=0.form-token").unwrap();
/// assert_eq!(token_from(&headers, Some(&body)), Some("0.form-token"));
///
/// headers.insert("x-captcha-response", "0.header-token".parse().unwrap());
/// assert_eq!(token_from(&headers, Some(&body)), Some("0.header-token"));
/// assert_eq!(token_from(&http::HeaderMap::new(), None), None);
/// ```
pub fn token_from<'a>(headers: &'a HeaderMap, body: Option<&'a RequestBody>) -> Option<&'a str> {
    let header = headers
        .get(TOKEN_HEADER)
        .and_then(|value| value.to_str().ok());
    let field = body.and_then(|body| body.get(TOKEN_FIELD));
    [header, field]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|token| !token.is_empty())
}

/// The token to send, or why none is: missing or empty, or of a shape no provider issues (too
/// long, control characters), refused without asking as the provider would refuse it.
pub(super) fn checked(token: Option<&str>) -> Result<&str, CaptchaRefusal> {
    let token = token.map(str::trim).filter(|token| !token.is_empty());
    let token = token.ok_or(CaptchaRefusal::Missing)?;
    if token.len() > MAX_TOKEN_LEN || token.chars().any(char::is_control) {
        return Err(CaptchaRefusal::Invalid {
            // The providers' own code for "the response parameter is invalid or malformed".
            codes: vec!["invalid-input-response".to_owned()],
        });
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_wins_and_empty_values_are_passed_over() {
        let body = RequestBody::from_json(br#"{"captchaToken":"from-json"}"#).unwrap();
        let mut headers = HeaderMap::new();
        assert_eq!(token_from(&headers, Some(&body)), Some("from-json"));
        headers.insert(TOKEN_HEADER, "  ".parse().unwrap());
        assert_eq!(token_from(&headers, Some(&body)), Some("from-json"));
        headers.insert(
            TOKEN_HEADER,
            http::HeaderValue::from_bytes(b"\xff").unwrap(),
        );
        assert_eq!(token_from(&headers, Some(&body)), Some("from-json"));
        headers.insert(TOKEN_HEADER, "from-header".parse().unwrap());
        assert_eq!(token_from(&headers, Some(&body)), Some("from-header"));
        assert_eq!(token_from(&headers, None), Some("from-header"));
        let not_a_string = RequestBody::from_json(br#"{"captchaToken":42}"#).unwrap();
        assert_eq!(token_from(&HeaderMap::new(), Some(&not_a_string)), None);
    }

    #[test]
    fn hostile_tokens_are_refused_unsent() {
        assert_eq!(checked(None), Err(CaptchaRefusal::Missing));
        assert_eq!(checked(Some(" \t")), Err(CaptchaRefusal::Missing));
        assert_eq!(checked(Some(" 0.token ")), Ok("0.token"));
        let longest = "a".repeat(MAX_TOKEN_LEN);
        assert_eq!(checked(Some(&longest)), Ok(longest.as_str()));
        for hostile in [
            "a".repeat(MAX_TOKEN_LEN + 1),
            "token\r\nX-Injected: 1".to_owned(),
            "tok\0en".to_owned(),
            "tok\u{85}en".to_owned(),
        ] {
            assert!(
                matches!(checked(Some(&hostile)), Err(CaptchaRefusal::Invalid { .. })),
                "{hostile:?}"
            );
        }
    }
}
