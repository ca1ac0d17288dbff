//! Session token formats: NextAuth v4's and Auth.js v5's encrypted JWTs, and a signed JWS.
//!
//! This module only turns a JSON claims object into a compact token and back under a set of
//! keys (newest first). What the claims must say (expiry, issuer, session version) is checked
//! one layer up, the same way for every format.

mod jwe;
mod jws;
mod keys;

use std::fmt;
use std::str::FromStr;

pub(crate) use keys::Keys;

/// How session tokens are written and read.
///
/// The default, [`TokenFormat::NextAuthV4`], is next-auth 4's own format, so a Next.js app running
/// next-auth and this server read each other's session cookies when they share a secret.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenFormat {
    /// next-auth v4: JWE, `alg: dir`, `enc: A256GCM`; the key is HKDF-SHA256 of the secret with
    /// an empty salt and the info `NextAuth.js Generated Encryption Key`. Cookies `next-auth.*`.
    #[default]
    NextAuthV4,
    /// Auth.js v5 (`@auth/core`): JWE, `alg: dir`, `enc: A256CBC-HS512` with a `kid`; the key is
    /// HKDF-SHA256 of the secret salted with the session cookie's name, info
    /// `Auth.js Generated Encryption Key (<cookie name>)`. Cookies `authjs.*`.
    AuthJsV5,
    /// A JWS signed with HS256 (the key is HKDF-SHA256 of the secret, info
    /// `auth-runtime session token signing key`), readable by any JWT library.
    Jws,
}

impl TokenFormat {
    /// Every format, in the order the documentation lists them.
    pub const ALL: [TokenFormat; 3] = [
        TokenFormat::NextAuthV4,
        TokenFormat::AuthJsV5,
        TokenFormat::Jws,
    ];

    /// The name used in `next_auth!` (`token_format: "..."`) and in `AUTH_TOKEN_FORMAT`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenFormat::NextAuthV4 => "nextauth-v4",
            TokenFormat::AuthJsV5 => "authjs-v5",
            TokenFormat::Jws => "jws",
        }
    }

    /// The prefix of every cookie name this format's server writes (`next-auth` or `authjs`).
    pub const fn cookie_prefix(self) -> &'static str {
        match self {
            TokenFormat::AuthJsV5 => "authjs",
            TokenFormat::NextAuthV4 | TokenFormat::Jws => "next-auth",
        }
    }
}

impl fmt::Display for TokenFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token format name that is not one of [`TokenFormat::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown token format {0:?}; expected one of \"nextauth-v4\", \"authjs-v5\", \"jws\"")]
pub struct UnknownTokenFormat(pub String);

impl FromStr for TokenFormat {
    type Err = UnknownTokenFormat;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        TokenFormat::ALL
            .into_iter()
            .find(|format| format.as_str() == name.trim())
            .ok_or_else(|| UnknownTokenFormat(name.to_owned()))
    }
}

/// Tokens longer than this are refused before any work (16 cookie chunks of 3933 characters).
pub(crate) const MAX_TOKEN_LEN: usize = 16 * 3933;

/// Why a token could not be opened. Deliberately coarse: a caller learns that the token is not
/// one of ours, never which check failed first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SealError {
    /// Malformed, forged, under another key, of another algorithm, or too long.
    #[error("not a valid token: {0}")]
    Invalid(&'static str),
    /// The claims could not be sealed (never happens with well-formed keys).
    #[error("could not seal the token: {0}")]
    Seal(&'static str),
}
