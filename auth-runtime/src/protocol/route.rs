//! Which endpoint a request is for: `{base}/{action}[/{provider}]`.

use http::Method;

/// The endpoints of NextAuth v4's REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Providers,
    Csrf,
    Session,
    SignIn,
    SignOut,
    Callback,
    VerifyRequest,
    Error,
    Log,
    /// `GET /webauthn-options/:id`: a passkey ceremony's options (Auth.js v5).
    WebAuthnOptions,
}

impl Action {
    fn parse(segment: &str) -> Option<Self> {
        Some(match segment {
            "providers" => Action::Providers,
            "csrf" => Action::Csrf,
            "session" => Action::Session,
            "signin" => Action::SignIn,
            "signout" => Action::SignOut,
            "callback" => Action::Callback,
            "verify-request" => Action::VerifyRequest,
            "error" => Action::Error,
            "_log" => Action::Log,
            "webauthn-options" => Action::WebAuthnOptions,
            _ => return None,
        })
    }

    /// Whether NextAuth serves this action for this method.
    pub(crate) fn allows(self, method: &Method) -> bool {
        let get = method == Method::GET;
        let post = method == Method::POST;
        match self {
            Action::Providers
            | Action::Csrf
            | Action::VerifyRequest
            | Action::Error
            | Action::WebAuthnOptions => get,
            Action::Session | Action::SignIn | Action::SignOut | Action::Callback => get || post,
            Action::Log => post,
        }
    }
}

/// A routed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Route<'a> {
    pub action: Action,
    /// The segment after the action: a provider id, or an error code for `error/X`.
    pub provider: Option<&'a str>,
}

/// Routes `path`, which is either under `base_path` or already relative to it (when the router
/// is nested and the framework stripped the prefix).
pub(crate) fn route<'a>(path: &'a str, base_path: &str) -> Option<Route<'a>> {
    let relative = path
        .strip_prefix(base_path)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        .unwrap_or(path);
    let mut segments = relative.trim_start_matches('/').split('/');
    let action = Action::parse(segments.next()?)?;
    let provider = segments.next().filter(|s| !s.is_empty());
    if segments.any(|s| !s.is_empty()) {
        return None;
    }
    Some(Route { action, provider })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_with_or_without_the_base_path() {
        let r = route("/api/auth/callback/anon", "/api/auth").unwrap();
        assert_eq!((r.action, r.provider), (Action::Callback, Some("anon")));
        let r = route("/session", "/api/auth").unwrap();
        assert_eq!((r.action, r.provider), (Action::Session, None));
        assert_eq!(
            route("/api/auth/csrf/", "/api/auth").unwrap().action,
            Action::Csrf
        );
        assert!(route("/api/auth/nope", "/api/auth").is_none());
        assert!(route("/api/auth/callback/anon/extra", "/api/auth").is_none());
        assert!(route("/api/auth", "/api/auth").is_none());
        assert!(route("/api/authx/csrf", "/api/auth").is_none());
    }

    #[test]
    fn knows_which_methods_each_action_takes() {
        assert!(Action::Log.allows(&Method::POST) && !Action::Log.allows(&Method::GET));
        assert!(!Action::Providers.allows(&Method::POST));
        assert!(!Action::Session.allows(&Method::PUT));
    }
}
