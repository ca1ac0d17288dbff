//! Cookie names, request cookie parsing, `Set-Cookie` lines and session-cookie chunking.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// What `encodeURIComponent` leaves alone, so values are written exactly as NextAuth writes them.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// NextAuth's chunk size: 4096 minus room for the attributes.
pub const CHUNK_SIZE: usize = 3933;
/// A session token longer than this many chunks is refused rather than read.
pub const MAX_CHUNKS: usize = 16;
/// A `Cookie` header longer than this is refused.
pub const MAX_COOKIE_HEADER: usize = 80 * 1024;
/// At most this many cookies are read from one request. Browsers keep about 180 cookies per
/// domain, so cookies planted from a sibling subdomain cannot push the application's own out of
/// reach; the header's size limit bounds the work.
const MAX_COOKIES: usize = 1024;
/// At most this many cookies of one session-token name are tried (a planted duplicate beside the
/// genuine one).
const MAX_SAME_NAME: usize = 4;

/// The names of every cookie the engine writes, with `__Secure-`/`__Host-` prefixes over https.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CookieNames {
    /// The session token (possibly chunked as `.0`, `.1`, ...).
    pub session_token: String,
    /// The CSRF double-submit cookie.
    pub csrf_token: String,
    /// The last resolved callback URL.
    pub callback_url: String,
    /// The device cookie: which identifiers this browser signed in for, so that strangers'
    /// failed attempts on them do not lock it out.
    pub device: String,
}

impl CookieNames {
    /// The names NextAuth v4 uses, prefixed when `secure`.
    pub fn new(secure: bool) -> Self {
        Self::for_format(crate::tokens::TokenFormat::NextAuthV4, secure)
    }

    /// The names a server writing `format` uses (`next-auth.*`, or Auth.js v5's `authjs.*`),
    /// prefixed when `secure`.
    pub fn for_format(format: crate::tokens::TokenFormat, secure: bool) -> Self {
        let (secure_prefix, host_prefix) = if secure {
            ("__Secure-", "__Host-")
        } else {
            ("", "")
        };
        let app = format.cookie_prefix();
        CookieNames {
            session_token: format!("{secure_prefix}{app}.session-token"),
            csrf_token: format!("{host_prefix}{app}.csrf-token"),
            callback_url: format!("{secure_prefix}{app}.callback-url"),
            device: format!("{host_prefix}{app}.device"),
        }
    }
}

/// The cookies of one request. Values are percent-decoded when read, so a request pays only
/// for the cookies it uses.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RequestCookies<'a> {
    pairs: Vec<(&'a str, &'a str)>,
}

/// Why a request's cookies were refused.
#[derive(Debug, thiserror::Error, Clone, Copy, PartialEq, Eq)]
pub enum CookieError {
    /// The `Cookie` header is too large.
    #[error("the Cookie header is larger than {MAX_COOKIE_HEADER} bytes")]
    HeaderTooLarge,
}

impl<'a> RequestCookies<'a> {
    /// Parses every `Cookie` header. Pairs without `=` and cookies beyond the first 200 are
    /// ignored; invalid percent-escapes are kept as written, as `cookie.parse` does.
    pub fn parse<I>(headers: I) -> Result<Self, CookieError>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let mut pairs = Vec::new();
        let mut total = 0usize;
        for header in headers {
            total += header.len();
            if total > MAX_COOKIE_HEADER {
                return Err(CookieError::HeaderTooLarge);
            }
            for pair in header.split(';') {
                if pairs.len() >= MAX_COOKIES {
                    break;
                }
                let Some((name, value)) = pair.split_once('=') else {
                    continue;
                };
                let name = name.trim();
                if name.is_empty() {
                    continue;
                }
                let value = value.trim();
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                pairs.push((name, value));
            }
        }
        Ok(RequestCookies { pairs })
    }

    /// Parses the `Cookie` headers of a header map (see [`RequestCookies::parse`]).
    pub fn from_headers(headers: &'a http::HeaderMap) -> Result<Self, CookieError> {
        Self::parse(
            headers
                .get_all(http::header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok()),
        )
    }

    /// The first cookie named `name`, percent-decoded (an invalid escape is kept as written,
    /// as `cookie.parse` does).
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.raw(name).map(decode)
    }

    /// Whether a cookie named `name` was sent.
    pub fn contains(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    fn raw(&self, name: &str) -> Option<&'a str> {
        self.pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The session token, joined from `name` or from its chunks `name.0`, `name.1`, ...
    ///
    /// Chunks must be numbered without gaps; a token spread over more than [`MAX_CHUNKS`]
    /// chunks, or a gap, gives `None`.
    pub fn chunked(&self, name: &str) -> Option<Cow<'a, str>> {
        let mut chunks: Vec<(usize, Cow<'a, str>)> = Vec::new();
        let mut whole = None;
        for &(cookie, value) in &self.pairs {
            if cookie == name {
                whole = Some(value);
            } else if let Some(index) = chunk_index(cookie, name) {
                if chunks.len() >= MAX_CHUNKS || index >= MAX_CHUNKS {
                    return None;
                }
                chunks.push((index, decode(value)));
            }
        }
        if chunks.is_empty() {
            // One cookie, the common case: borrowed, not copied.
            return whole.filter(|v| !v.is_empty()).map(decode);
        }
        chunks.sort_unstable_by_key(|(index, _)| *index);
        if chunks
            .iter()
            .enumerate()
            .any(|(expected, (index, _))| expected != *index)
        {
            return None;
        }
        Some(Cow::Owned(chunks.into_iter().map(|(_, v)| v).collect()))
    }

    /// The session tokens a request may carry under `name`, in the order to try them: every
    /// cookie named exactly `name` (at most 4; a cookie planted from a sibling subdomain can
    /// share the name), then the value joined from the chunks `name.0`, `name.1`, ... when
    /// they join. A genuine unchunked cookie is thus never shadowed by planted chunks, and one
    /// junk chunk does not hide it.
    pub fn session_candidates(&self, name: &str) -> Vec<Cow<'a, str>> {
        let mut candidates: Vec<Cow<'a, str>> = self
            .pairs
            .iter()
            .filter(|(cookie, value)| *cookie == name && !value.is_empty())
            .take(MAX_SAME_NAME)
            .map(|(_, value)| decode(value))
            .collect();
        let has_chunks = self
            .pairs
            .iter()
            .any(|(cookie, _)| chunk_index(cookie, name).is_some());
        if has_chunks && let Some(joined) = self.joined_chunks(name) {
            candidates.push(joined);
        }
        candidates
    }

    /// The chunks `name.0`, `name.1`, ... joined, when they are numbered without gaps and there
    /// are at most [`MAX_CHUNKS`].
    fn joined_chunks(&self, name: &str) -> Option<Cow<'a, str>> {
        let mut chunks: Vec<(usize, Cow<'a, str>)> = Vec::new();
        for &(cookie, value) in &self.pairs {
            if let Some(index) = chunk_index(cookie, name) {
                if chunks.len() >= MAX_CHUNKS || index >= MAX_CHUNKS {
                    return None;
                }
                chunks.push((index, decode(value)));
            }
        }
        chunks.sort_unstable_by_key(|(index, _)| *index);
        if chunks.is_empty()
            || chunks
                .iter()
                .enumerate()
                .any(|(expected, (index, _))| expected != *index)
        {
            return None;
        }
        Some(Cow::Owned(chunks.into_iter().map(|(_, v)| v).collect()))
    }

    /// Names of the cookies that hold (part of) the session token `name`.
    pub fn chunk_names(&self, name: &str) -> Vec<&'a str> {
        self.pairs
            .iter()
            .filter(|(cookie, _)| *cookie == name || chunk_index(cookie, name).is_some())
            .map(|(cookie, _)| *cookie)
            .collect()
    }
}

/// Percent-decodes a cookie value; most values (tokens, hex) have nothing to decode and are
/// borrowed as they are.
fn decode(value: &str) -> Cow<'_, str> {
    if !value.contains('%') {
        return Cow::Borrowed(value);
    }
    percent_decode_str(value)
        .decode_utf8()
        .unwrap_or(Cow::Borrowed(value))
}

fn chunk_index(cookie: &str, name: &str) -> Option<usize> {
    let suffix = cookie.strip_prefix(name)?.strip_prefix('.')?;
    if suffix.is_empty() || suffix.len() > 3 || !suffix.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    suffix.parse().ok()
}

/// How long a cookie lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Until the browser closes.
    Session,
    /// Until this Unix time (seconds): written as `Expires`.
    Until(i64),
    /// Deleted now: `Max-Age=0`.
    Delete,
}

/// Builds one `Set-Cookie` value with NextAuth's attributes: `Path=/; HttpOnly; SameSite=Lax`,
/// plus `Secure` over https. `value` is percent-encoded as `encodeURIComponent` would.
pub fn set_cookie(name: &str, value: &str, lifetime: Lifetime, secure: bool) -> String {
    let mut line = String::with_capacity(name.len() + value.len() + 96);
    line.push_str(name);
    line.push('=');
    if lifetime != Lifetime::Delete {
        // Tokens and hex need no escaping: borrowed and copied in one piece.
        line.push_str(&Cow::from(utf8_percent_encode(value, COMPONENT)));
    }
    match lifetime {
        Lifetime::Session => line.push_str("; Path=/"),
        Lifetime::Until(at) => {
            line.push_str("; Path=/; Expires=");
            line.push_str(&crate::clock::http_date(at));
        }
        Lifetime::Delete => line.push_str("; Max-Age=0; Path=/"),
    }
    line.push_str("; HttpOnly");
    if secure {
        line.push_str("; Secure");
    }
    line.push_str("; SameSite=Lax");
    line
}

/// The `Set-Cookie` lines that store `token` under `name`, splitting it into chunks of
/// [`CHUNK_SIZE`] characters when needed and deleting every stale chunk listed in `present`.
pub fn session_cookies(
    name: &str,
    token: &str,
    expires_at: i64,
    secure: bool,
    present: &[&str],
) -> Vec<String> {
    let mut written: Vec<String> = Vec::new();
    let mut lines = Vec::new();
    if token.len() <= CHUNK_SIZE {
        lines.push(set_cookie(name, token, Lifetime::Until(expires_at), secure));
        written.push(name.to_owned());
    } else {
        // A JWT is ASCII, so byte chunks are character chunks.
        for (index, chunk) in token.as_bytes().chunks(CHUNK_SIZE).enumerate() {
            let chunk_name = format!("{name}.{index}");
            let chunk = std::str::from_utf8(chunk).unwrap_or_default();
            lines.push(set_cookie(
                &chunk_name,
                chunk,
                Lifetime::Until(expires_at),
                secure,
            ));
            written.push(chunk_name);
        }
    }
    let stale = present
        .iter()
        .filter(|old| !written.iter().any(|new| new == *old));
    let mut deletions: Vec<String> = stale
        .map(|old| set_cookie(old, "", Lifetime::Delete, secure))
        .collect();
    deletions.append(&mut lines);
    deletions
}

/// `Set-Cookie` lines deleting every present session chunk (at least the unsuffixed name).
pub fn clear_session(name: &str, secure: bool, present: &[&str]) -> Vec<String> {
    if present.is_empty() {
        return vec![set_cookie(name, "", Lifetime::Delete, secure)];
    }
    present
        .iter()
        .map(|old| set_cookie(old, "", Lifetime::Delete, secure))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_secure_prefix_rules() {
        let plain = CookieNames::new(false);
        assert_eq!(plain.csrf_token, "next-auth.csrf-token");
        let secure = CookieNames::new(true);
        assert_eq!(secure.session_token, "__Secure-next-auth.session-token");
        assert_eq!(secure.csrf_token, "__Host-next-auth.csrf-token");
        assert_eq!(secure.callback_url, "__Secure-next-auth.callback-url");
    }

    #[test]
    fn parses_and_decodes_values() {
        let c = RequestCookies::parse(["a=1; b=x%7Cy;c; =z; d=\"q\"", "e=%E0%A4%A"]).unwrap();
        assert_eq!(c.get("a").as_deref(), Some("1"));
        assert_eq!(c.get("b").as_deref(), Some("x|y"));
        assert_eq!(c.get("c"), None);
        assert!(!c.contains("c"));
        assert_eq!(c.get("d").as_deref(), Some("q"));
        assert_eq!(c.get("e").as_deref(), Some("%E0%A4%A"));
    }

    #[test]
    fn refuses_oversized_headers() {
        let big = "a=".to_owned() + &"x".repeat(MAX_COOKIE_HEADER);
        assert_eq!(
            RequestCookies::parse([big.as_str()]),
            Err(CookieError::HeaderTooLarge)
        );
    }

    #[test]
    fn joins_chunks_in_order_and_rejects_gaps() {
        let c = RequestCookies::parse(["s.1=bb; s.0=aa; s.2=c; other=1"]).unwrap();
        assert_eq!(c.chunked("s").as_deref(), Some("aabbc"));
        assert_eq!(c.chunk_names("s"), ["s.1", "s.0", "s.2"]);
        let gap = RequestCookies::parse(["s.0=aa; s.2=c"]).unwrap();
        assert_eq!(gap.chunked("s"), None);
        let whole = RequestCookies::parse(["s=abc; sx=1; s.x=2"]).unwrap();
        assert_eq!(whole.chunked("s").as_deref(), Some("abc"));
        assert_eq!(whole.chunk_names("s"), ["s"]);
    }

    #[test]
    fn writes_nextauth_attributes() {
        assert_eq!(
            set_cookie(
                "__Host-next-auth.csrf-token",
                "t|h",
                Lifetime::Session,
                true
            ),
            "__Host-next-auth.csrf-token=t%7Ch; Path=/; HttpOnly; Secure; SameSite=Lax"
        );
        assert_eq!(
            set_cookie("n", "ignored", Lifetime::Delete, false),
            "n=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
        );
        assert_eq!(
            set_cookie("n", "v", Lifetime::Until(0), false),
            "n=v; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn chunks_long_tokens_and_deletes_stale_chunks() {
        let token = "x".repeat(CHUNK_SIZE * 2 + 10);
        let lines = session_cookies("s", &token, 0, false, &["s"]);
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("s=; Max-Age=0"));
        assert!(lines[1].starts_with(&format!("s.0={}", "x".repeat(CHUNK_SIZE))));
        assert!(lines[3].starts_with("s.2=xxxxxxxxxx;"));
        let lines = session_cookies("s", "short", 0, false, &["s.0", "s.1"]);
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("s.0=; Max-Age=0") && lines[1].starts_with("s.1=; Max-Age=0"));
        assert!(lines[2].starts_with("s=short;"));
        let exactly_one = "y".repeat(CHUNK_SIZE);
        assert_eq!(session_cookies("s", &exactly_one, 0, false, &[]).len(), 1);
    }
}
