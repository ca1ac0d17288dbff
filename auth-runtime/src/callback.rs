//! The error type callbacks return.

use std::borrow::Cow;
use std::fmt;

/// An error returned by an `authorize`, `jwt` or `session` callback.
///
/// Any `std::error::Error` converts into it, so `?` works inside callbacks. Use
/// [`CallbackError::message`] for a message the client may see: a failing `authorize` reports it
/// as the `error` of `signIn()`, as NextAuth does with a thrown `Error(message)`.
///
/// ```
/// use auth_runtime::CallbackError;
///
/// fn check(code: &str) -> Result<(), CallbackError> {
///     if code.len() != 6 {
///         return Err(CallbackError::message("The code has six digits"));
///     }
///     let _n: u32 = code.parse()?; // a ParseIntError converts too
///     Ok(())
/// }
/// assert_eq!(check("12").unwrap_err().public_message(), Some("The code has six digits"));
/// assert!(check("12345x").is_err());
/// ```
pub struct CallbackError {
    public: Option<Cow<'static, str>>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl CallbackError {
    /// An error whose message is shown to the client (as `signIn()`'s `error`).
    pub fn message(message: impl Into<Cow<'static, str>>) -> Self {
        CallbackError {
            public: Some(message.into()),
            source: None,
        }
    }

    /// An internal error: logged on the server, reported to the client only as a generic code.
    pub fn internal(source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        CallbackError {
            public: None,
            source: Some(source.into()),
        }
    }

    /// The message meant for the client, if this error carries one.
    pub fn public_message(&self) -> Option<&str> {
        self.public.as_deref()
    }

    /// The error this one was made from, if any (the runtime looks for its own error types in
    /// it, e.g. a guest store that is unavailable).
    #[cfg(feature = "guests")]
    pub(crate) fn cause(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

impl<E> From<E> for CallbackError
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        CallbackError::internal(error)
    }
}

impl fmt::Debug for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackError")
            .field("public", &self.public)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.public, &self.source) {
            (Some(message), _) => f.write_str(message),
            (None, Some(source)) => write!(f, "{source}"),
            (None, None) => f.write_str("callback failed"),
        }
    }
}
