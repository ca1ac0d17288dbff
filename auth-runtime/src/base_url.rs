//! The public base URL of the auth API and the same-origin rule for redirects.

use url::Url;

use crate::error::ConfigError;

/// Where the auth API is reachable from the browser, e.g. `http://127.0.0.1:3000/api/auth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// `scheme://host[:port]`, no trailing slash.
    origin: String,
    /// The path of the API, e.g. `/api/auth` (never empty, never ends with `/`).
    path: String,
    /// `origin + path`.
    full: String,
}

impl BaseUrl {
    /// Parses a public URL the way NextAuth reads `NEXTAUTH_URL`: `https://` is assumed when no scheme
    /// is given, a path of `/` becomes `default_path`, and a trailing `/` is dropped.
    pub fn parse(
        variable: &'static str,
        value: &str,
        default_path: &str,
    ) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::InvalidUrl {
            variable,
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = value.trim();
        let with_scheme = if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
            trimmed.to_owned()
        } else if trimmed.contains("://") {
            return Err(invalid("only http and https URLs can serve the auth API"));
        } else {
            format!("https://{trimmed}")
        };
        let url = Url::parse(&with_scheme).map_err(|error| invalid(&error.to_string()))?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("the URL has no host"));
        }
        if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
            return Err(invalid(
                "the URL must not carry a query, a fragment or credentials",
            ));
        }
        let path = match url.path().trim_end_matches('/') {
            "" => default_path.to_owned(),
            path => path.to_owned(),
        };
        Ok(Self::from_parts(url.origin().ascii_serialization(), path))
    }

    /// `http://localhost:3000` + `path`, NextAuth's fallback when nothing is configured.
    pub fn localhost(path: &str) -> Self {
        Self::from_parts("http://localhost:3000".to_owned(), path.to_owned())
    }

    fn from_parts(origin: String, path: String) -> Self {
        let full = format!("{origin}{path}");
        BaseUrl { origin, path, full }
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The API's path, e.g. `/api/auth`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Origin and path, e.g. `http://127.0.0.1:3000/api/auth`.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// Whether the public URL is https, which turns on `Secure` cookies and their prefixes.
    pub fn is_secure(&self) -> bool {
        self.origin.starts_with("https://")
    }

    /// An absolute URL under the API, e.g. `endpoint("signin")`.
    pub fn endpoint(&self, action: &str) -> String {
        format!("{}/{action}", self.full)
    }

    /// Resolves a `callbackUrl` candidate to a same-origin absolute URL.
    ///
    /// Relative paths are joined to the origin; absolute URLs are kept only when their origin is
    /// exactly ours. Everything else (`//evil.example`, `javascript:`, backslashes, control
    /// characters, unparseable text) resolves to the origin itself. Unlike NextAuth, which answers
    /// a 500 on `foo`, this never fails.
    pub fn resolve_redirect(&self, candidate: &str) -> String {
        const MAX_LEN: usize = 4096;
        if candidate.is_empty()
            || candidate.len() > MAX_LEN
            || candidate.chars().any(|c| c.is_control() || c == '\\')
        {
            return self.origin.clone();
        }
        if let Some(url) = self.plain_same_origin(candidate) {
            return url;
        }
        let parsed = if candidate.starts_with('/') {
            if candidate.starts_with("//") {
                return self.origin.clone();
            }
            Url::parse(&format!("{}{candidate}", self.origin))
        } else {
            Url::parse(candidate)
        };
        match parsed {
            Ok(url)
                if matches!(url.scheme(), "http" | "https")
                    && url.username().is_empty()
                    && url.password().is_none()
                    && url.origin().ascii_serialization() == self.origin =>
            {
                // `Url` writes the origin alone as `origin/`; keep the two spellings one value so
                // the callback-url cookie does not change back and forth.
                if candidate == self.origin {
                    self.origin.clone()
                } else if url.as_str().len() > MAX_LEN {
                    // Percent-encoding can lengthen a candidate past the limit; refusing the
                    // result here keeps resolution stable (found by the `redirect` fuzz target).
                    self.origin.clone()
                } else {
                    url.into()
                }
            }
            _ => self.origin.clone(),
        }
    }
}

impl BaseUrl {
    /// [`resolve_redirect`](BaseUrl::resolve_redirect), also keeping absolute `http(s)` URLs
    /// whose origin is one of `allowed` (serialised origins, `https://docs.example`).
    pub fn resolve_redirect_allowing(&self, candidate: &str, allowed: &[String]) -> String {
        let ours = self.resolve_redirect(candidate);
        if allowed.is_empty() || ours != self.origin {
            return ours;
        }
        let clean =
            candidate.len() <= 4096 && !candidate.chars().any(|c| c.is_control() || c == '\\');
        match Url::parse(candidate) {
            Ok(url)
                if clean
                    && matches!(url.scheme(), "http" | "https")
                    && url.username().is_empty()
                    && url.password().is_none()
                    && allowed.contains(&url.origin().ascii_serialization()) =>
            {
                url.into()
            }
            _ => ours,
        }
    }

    /// The normalised origin of `url` (`https://docs.example`), for
    /// [`resolve_redirect_allowing`](BaseUrl::resolve_redirect_allowing); `None` when it is not
    /// an `http(s)` origin.
    pub fn origin_of(url: &str) -> Option<String> {
        let parsed = Url::parse(url).ok()?;
        let origin = parsed.origin();
        (matches!(parsed.scheme(), "http" | "https") && origin.is_tuple())
            .then(|| origin.ascii_serialization())
    }

    /// The common case without a URL parser: a path (`/cart?x=1`) or an absolute URL under our
    /// origin, made only of characters that cannot change where the URL points. Anything else
    /// goes through the full parser.
    fn plain_same_origin(&self, candidate: &str) -> Option<String> {
        let (path, absolute) = match candidate.strip_prefix(self.origin.as_str()) {
            Some("") => return Some(self.origin.clone()),
            Some(rest) => (rest, true),
            None => (candidate, false),
        };
        let plain = path.starts_with('/')
            && !path.starts_with("//")
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~/?=&%+,:;@!$*()'".contains(&b));
        match (plain, absolute) {
            (false, _) => None,
            (true, true) => Some(candidate.to_owned()),
            (true, false) => Some(format!("{}{path}", self.origin)),
        }
    }
}

/// An absolute URL under the API with an `error` query, as the client parses it.
pub(crate) fn error_url(base: &BaseUrl, code: &str, provider: Option<&str>) -> String {
    let mut url = format!(
        "{}?error={}",
        base.endpoint("error"),
        encode_component(code)
    );
    if let Some(provider) = provider {
        url.push_str("&provider=");
        url.push_str(&encode_component(provider));
    }
    url
}

/// `encodeURIComponent`.
pub(crate) fn encode_component(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> BaseUrl {
        BaseUrl::parse("AUTH_URL", "http://127.0.0.1:3000/api/auth", "/api/auth").unwrap()
    }

    #[test]
    fn parses_like_nextauth() {
        let b = BaseUrl::parse("AUTH_URL", "example.com", "/api/auth").unwrap();
        assert_eq!(b.as_str(), "https://example.com/api/auth");
        assert!(b.is_secure());
        let b = BaseUrl::parse("AUTH_URL", "http://h:8080/custom/auth/", "/api/auth").unwrap();
        assert_eq!((b.origin(), b.path()), ("http://h:8080", "/custom/auth"));
        assert!(BaseUrl::parse("AUTH_URL", "ftp://h", "/api/auth").is_err());
        assert!(BaseUrl::parse("AUTH_URL", "http://", "/api/auth").is_err());
        assert!(BaseUrl::parse("AUTH_URL", "http://h/a?x=1", "/api/auth").is_err());
    }

    #[test]
    fn keeps_same_origin_redirects() {
        let b = base();
        assert_eq!(
            b.resolve_redirect("http://127.0.0.1:3000"),
            "http://127.0.0.1:3000"
        );
        assert_eq!(
            b.resolve_redirect("/a/b?c=d&e=%2F"),
            "http://127.0.0.1:3000/a/b?c=d&e=%2F"
        );
        assert_eq!(
            b.resolve_redirect("http://127.0.0.1:3000/x#frag"),
            "http://127.0.0.1:3000/x#frag"
        );
        assert_eq!(
            b.resolve_redirect("/dash?x=1"),
            "http://127.0.0.1:3000/dash?x=1"
        );
        assert_eq!(
            b.resolve_redirect("http://127.0.0.1:3000/a"),
            "http://127.0.0.1:3000/a"
        );
    }

    #[test]
    fn resolution_is_stable_when_encoding_lengthens_the_url() {
        // Regression (fuzz target `redirect`): 1400 three-byte characters are 4200 bytes once
        // percent-encoded; the first resolution must not return what the second refuses.
        let b = base();
        let candidate = format!("/{}", "\u{450f}".repeat(1300));
        assert!(candidate.len() <= 4096);
        let once = b.resolve_redirect(&candidate);
        assert_eq!(b.resolve_redirect(&once), once);
        let fuzzed = "/7:http://httpttpxttshp:%\u{450f}xn-mtshp000";
        let once = b.resolve_redirect(fuzzed);
        assert_eq!(b.resolve_redirect(&once), once);
    }

    #[test]
    fn replaces_hostile_redirects_with_the_origin() {
        let b = base();
        for hostile in [
            "foo",
            "javascript:alert(1)",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://127.0.0.1:3000/",
            "http://127.0.0.1:3001/",
            "http://evil.example/",
            "http://127.0.0.1:3000@evil.example/",
            "http://user@127.0.0.1:3000/",
            "data:text/html,hi",
            "/\tevil",
            "",
        ] {
            assert_eq!(
                b.resolve_redirect(hostile),
                "http://127.0.0.1:3000",
                "{hostile:?}"
            );
        }
    }
}
