//! The one shape of a sign-in method: every provider kind is a folder under `providers/` whose
//! flow implements [`SignInMethod`]. The handlers run the preamble (lookup, CSRF, the previous
//! session) and the ending (the session layer issues the session) once, for every method.
//!
//! Nothing here speaks HTTP replies: a method answers a [`Step`] that the protocol writes out,
//! so the same method serves every protocol the engine speaks.

// What a request offers and a method may answer: the methods of the optional kinds read the rest.
#![cfg_attr(
    not(all(feature = "oauth", feature = "guests", feature = "email")),
    allow(dead_code)
)]

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use http::StatusCode;

use crate::attempts::{Attempts, Proof};
use crate::base_url::BaseUrl;
use crate::body::RequestBody;
use crate::callback::CallbackError;
use crate::cookies::RequestCookies;
use crate::definition::{AuthDefinition, ProviderInfo};
use crate::rate_limit::ClientKey;
use crate::refusal::Refusal;
use crate::settings::Settings;
use crate::user::{Account, Profile, User};

/// The future a method's step returns: boxed, as methods are held behind `dyn`.
pub(crate) type StepFuture<'a> = Pin<Box<dyn Future<Output = Step> + Send + 'a>>;

/// What one request brings to a sign-in method, read once by the handler.
pub(crate) struct MethodRequest<'a, D: AuthDefinition> {
    /// The provider the request names.
    pub provider: D::Provider,
    /// Its description (`id`, `kind`, fields).
    pub info: &'static ProviderInfo,
    /// The application state, for callbacks such as `authorize`.
    pub state: &'a D::State,
    /// The engine's settings (the base URL, the secret, debugging).
    pub settings: &'a Settings,
    /// `POST` (a form or JSON body) rather than `GET`.
    pub post: bool,
    /// The form or JSON body (empty for a `GET`).
    pub body: &'a RequestBody,
    /// The raw query string.
    pub query: &'a str,
    /// The request's cookies.
    pub cookies: &'a RequestCookies<'a>,
    /// Where the visitor goes after signing in (already checked as same-origin).
    pub callback_url: &'a str,
    /// The per-request CSRF token (a guest's creation key: concurrent double-submits share it).
    pub csrf_token: &'a str,
    /// The client's address, for per-client limits (`None` when served without one).
    pub client: Option<ClientKey>,
    /// The request's CAPTCHA token and address.
    pub proof: Proof<'a>,
    /// The attempt limits every method that checks a secret charges.
    pub attempts: &'a Attempts,
    /// The browser's current session, if any.
    pub previous: Option<Previous<'a>>,
}

impl<D: AuthDefinition> MethodRequest<'_, D> {
    /// A query parameter, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// A field of the body (`POST`) or of the query (`GET`).
    pub fn param(&self, name: &str) -> Option<String> {
        match self.post {
            true => self.body.get(name).map(str::to_owned),
            false => self.query(name),
        }
    }
}

/// The browser's current session as a method sees it.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(feature = "passkey"), allow(dead_code))]
pub(crate) struct Previous<'a> {
    /// The session's subject.
    pub subject: Option<&'a str>,
    /// The guest id, when the session is a guest's.
    pub guest: Option<&'a str>,
    /// The session's e-mail address.
    pub email: Option<&'a str>,
    /// The session's display name.
    pub name: Option<&'a str>,
}

/// What a method answers for one request.
pub(crate) enum Step {
    /// The visitor is who they said: the session layer ends the sign-in.
    Accepted(Box<Accepted>),
    /// Send the browser on (a provider's authorization page, the verify-request page, an error
    /// page): `{url}` with `status` to a client that asked for JSON, a 302 otherwise.
    Redirect {
        url: String,
        status: StatusCode,
        cookies: Vec<String>,
    },
    /// Refused by a limit or a store: `{url, error}` whatever the client asked for, the status
    /// carrying the meaning (429, 503).
    Refused {
        refusal: Refusal,
        cookies: Vec<String>,
    },
    /// A callback failed at `stage`: its public message for the client, else `Callback`.
    Failed {
        stage: &'static str,
        error: CallbackError,
    },
    /// A JSON answer of the method's own (a passkey ceremony's options).
    #[cfg_attr(not(feature = "passkey"), allow(dead_code))]
    Json {
        status: StatusCode,
        body: serde_json::Value,
        cookies: Vec<String>,
    },
}

impl Step {
    /// A redirect without cookies.
    pub fn redirect(url: String, status: StatusCode) -> Self {
        Step::Redirect {
            url,
            status,
            cookies: Vec::new(),
        }
    }

    /// A redirect to the error page with `code` (and the provider, when given).
    pub fn error_page(
        base: &BaseUrl,
        code: &str,
        provider: Option<&str>,
        status: StatusCode,
    ) -> Self {
        Step::redirect(crate::base_url::error_url(base, code, provider), status)
    }

    /// A refusal without cookies.
    pub fn refused(refusal: impl Into<Refusal>) -> Self {
        Step::Refused {
            refusal: refusal.into(),
            cookies: Vec::new(),
        }
    }

    /// `Set-Cookie` lines that go with the answer, whatever it is.
    pub fn with_cookies(mut self, extra: impl IntoIterator<Item = String>) -> Self {
        match &mut self {
            Step::Accepted(accepted) => accepted.cookies.extend(extra),
            Step::Redirect { cookies, .. }
            | Step::Refused { cookies, .. }
            | Step::Json { cookies, .. } => cookies.extend(extra),
            Step::Failed { .. } => {}
        }
        self
    }
}

/// A sign-in a method accepted, on its way to the session layer.
pub(crate) struct Accepted {
    /// Who signed in.
    pub user: User,
    /// How they signed in.
    pub account: Account,
    /// The profile at an OAuth or OpenID Connect provider.
    pub profile: Option<Profile>,
    /// The user is the browser's guest itself (an Anonymous sign-in): nothing to upgrade.
    pub as_guest: bool,
    /// The method created that guest for this sign-in.
    pub created_guest: bool,
    /// The method made the user's row (sent to `pages.new_user` if the app has one).
    pub made_user: bool,
    /// The submitted form, kept for the `sign_in` callback (Credentials).
    pub credentials: Option<RequestBody>,
    /// `Set-Cookie` lines that go with the session (a device cookie, cleared check cookies).
    pub cookies: Vec<String>,
}

impl Accepted {
    /// A sign-in of `user` through `account`, nothing else said.
    pub fn new(user: User, account: Account) -> Self {
        Accepted {
            user,
            account,
            profile: None,
            as_guest: false,
            created_guest: false,
            made_user: false,
            credentials: None,
            cookies: Vec::new(),
        }
    }
}

/// How a method's answers reach the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The client library posted and reads `{url}` when it asked for JSON (Credentials,
    /// Anonymous, passkeys, the e-mail form).
    Fetch,
    /// The browser itself arrives (back from a provider): every answer is a 302, failures
    /// included.
    Navigation,
}

/// Which `POST`s of a method must carry the CSRF token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CsrfRule {
    /// Every `POST` (sign-in and callback).
    EveryPost,
    /// `POST /signin` only: the callback is checked otherwise (an OAuth `state`).
    SignInOnly,
}

/// One way to sign in. A provider kind's folder implements it; the engine holds one per
/// configured provider id ([`Methods`]).
pub(crate) trait SignInMethod<D: AuthDefinition>: Send + Sync + 'static {
    /// `POST /signin/:id`: starts a sign-in (sends the browser to a provider, mails a link).
    /// The default sends the browser to the sign-in page, as NextAuth does for methods that
    /// start on it.
    fn start<'a>(&'a self, request: MethodRequest<'a, D>) -> StepFuture<'a> {
        let url = request.settings.base.endpoint("signin");
        Box::pin(async move { Step::redirect(url, StatusCode::OK) })
    }

    /// `GET` or `POST /callback/:id`: finishes the sign-in into a [`Step::Accepted`], or says
    /// why not.
    fn finish<'a>(&'a self, request: MethodRequest<'a, D>) -> StepFuture<'a>;

    /// `GET /webauthn-options/:id`: a ceremony's options, for the methods that have one. The
    /// default answers as Auth.js does for a provider without one: a configuration error.
    fn options<'a>(&'a self, request: MethodRequest<'a, D>) -> StepFuture<'a> {
        let step = Step::error_page(
            &request.settings.base,
            "Configuration",
            None,
            StatusCode::FOUND,
        );
        Box::pin(async move { step })
    }

    /// Whether `GET /callback/:id` is part of the flow (a link followed, a provider's
    /// redirect); without it the method takes only `POST`.
    fn callback_by_get(&self) -> bool {
        false
    }

    /// Which `POST`s carry the CSRF token.
    fn csrf(&self) -> CsrfRule {
        CsrfRule::EveryPost
    }

    /// How the callback's answers reach the browser.
    fn ending(&self) -> Ending {
        Ending::Fetch
    }
}

/// The sign-in methods of one engine, by provider id.
pub(crate) struct Methods<D: AuthDefinition> {
    by_id: HashMap<&'static str, Box<dyn SignInMethod<D>>>,
}

impl<D: AuthDefinition> Default for Methods<D> {
    fn default() -> Self {
        Methods {
            by_id: HashMap::new(),
        }
    }
}

impl<D: AuthDefinition> Methods<D> {
    /// Adds the method of the provider `id`.
    pub fn register(&mut self, id: &'static str, method: Box<dyn SignInMethod<D>>) {
        self.by_id.insert(id, method);
    }

    /// The method of the provider `id`, if one is on.
    pub fn get(&self, id: &str) -> Option<&dyn SignInMethod<D>> {
        self.by_id.get(id).map(|method| &**method)
    }
}
