//! What the `sign_in` callback of `next_auth!` receives and answers: NextAuth's `signIn`
//! callback, run before any session is issued, for every provider, guests included.

use crate::user::{Account, Profile, User};

/// A sign-in the provider accepted, before any session exists: the `sign_in` callback decides
/// whether it goes on. `P` is the `Provider` enum, `C` the `SubmittedCredentials` enum that
/// `next_auth!` generates (`SignInAttempt<'a>` in the application's module names both).
#[derive(Debug)]
#[non_exhaustive]
pub struct SignInAttempt<'a, P, C> {
    /// The provider used.
    pub provider: P,
    /// The user the provider returned (for a guest, the guest).
    pub user: &'a User,
    /// How the user signed in.
    pub account: &'a Account,
    /// The user's profile at an OAuth or OpenID Connect provider.
    pub profile: Option<&'a Profile>,
    /// The typed form of a Credentials sign-in, as `authorize` read it (`None` for other
    /// providers): `Some(SubmittedCredentials::Password(form))`, then `form.username`.
    pub credentials: Option<&'a C>,
    /// Whether this signs a new or returning guest in (an Anonymous provider).
    pub as_guest: bool,
}

/// The `sign_in` callback's answer, as NextAuth's `signIn` returns `true`, `false` or a URL.
///
/// ```
/// use auth_runtime::SignInDecision;
///
/// assert_eq!(SignInDecision::from(true), SignInDecision::Allow);
/// assert_eq!(SignInDecision::from(false), SignInDecision::Deny);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInDecision {
    /// Go on: the session is issued.
    Allow,
    /// Refuse with `AccessDenied` (403).
    Deny,
    /// Refuse with the application's own error code, shown by its error page and returned by
    /// `signIn()` as `error` (letters, digits, `-` and `_`; anything else reads
    /// `AccessDenied`).
    DenyWith(String),
    /// Send the visitor to this URL instead of signing in (a "finish your profile" page, a
    /// waiting list). It must be on the app's own origin, like every redirect; any other URL
    /// sends the visitor to the origin.
    Redirect(String),
}

impl From<bool> for SignInDecision {
    fn from(allowed: bool) -> Self {
        if allowed {
            SignInDecision::Allow
        } else {
            SignInDecision::Deny
        }
    }
}

impl SignInDecision {
    /// The error code of a refusal: `AccessDenied`, or the application's code when it is safe
    /// to put in a URL and to show.
    pub(crate) fn denial_code(&self) -> &str {
        match self {
            SignInDecision::DenyWith(code)
                if !code.is_empty()
                    && code.len() <= 64
                    && code
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                code
            }
            _ => "AccessDenied",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SignInDecision;

    #[test]
    fn an_application_code_is_passed_on_only_when_it_is_plain() {
        let code = |c: &str| {
            SignInDecision::DenyWith(c.to_owned())
                .denial_code()
                .to_owned()
        };
        assert_eq!(code("Banned"), "Banned");
        assert_eq!(code("waiting_list-2"), "waiting_list-2");
        for hostile in ["", "a b", "x&error=Other", "<script>", "é", &"x".repeat(65)] {
            assert_eq!(code(hostile), "AccessDenied", "{hostile:?}");
        }
        assert_eq!(SignInDecision::Deny.denial_code(), "AccessDenied");
    }
}
