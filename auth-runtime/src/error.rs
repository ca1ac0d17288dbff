//! Error types of the runtime.

/// A request the engine could not parse. Each becomes a clear 4xx answer, never a panic.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// The body is larger than the engine accepts.
    #[error("request body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The body has more fields than the engine accepts.
    #[error("request body has too many fields")]
    TooManyFields,
    /// A JSON body that does not parse.
    #[error("malformed JSON body: {0}")]
    MalformedJson(String),
    /// A JSON body that is not an object.
    #[error("JSON body must be an object")]
    JsonNotObject,
    /// A body whose content type is neither a form nor JSON.
    #[error(
        "unsupported content type {0:?}; send application/x-www-form-urlencoded or application/json"
    )]
    UnsupportedContentType(String),
}

/// A configuration the runtime refuses to start with.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No secret in a release build.
    #[error(
        "no secret configured: set AUTH_SECRET (or NEXTAUTH_SECRET) to a random string of at least 32 characters, \
         for example the output of `openssl rand -base64 32`"
    )]
    MissingSecret,
    /// A secret too short to sign with.
    #[error(
        "the secret is {len} bytes long; use at least 32 random bytes (for example `openssl rand -base64 32`)"
    )]
    WeakSecret {
        /// Its length in bytes.
        len: usize,
    },
    /// An `AUTH_URL` / `NEXTAUTH_URL` that is not a URL.
    #[error("{variable} is not a valid URL ({value:?}): {reason}")]
    InvalidUrl {
        /// Which setting held it.
        variable: &'static str,
        /// The value.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// An OAuth or OpenID Connect provider setting that is missing or unusable.
    #[error("provider `{provider}`: {variable}: {reason}")]
    ProviderSetting {
        /// The provider id.
        provider: String,
        /// The environment variable (or setting) at fault, e.g. `AUTH_USER_SECRET`.
        variable: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A setting out of range.
    #[error("invalid setting {name}: {reason}")]
    InvalidSetting {
        /// The setting.
        name: &'static str,
        /// Why it was refused.
        reason: String,
    },
}
