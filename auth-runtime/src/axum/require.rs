//! Route protection for a whole router, as next-auth's middleware does for a Next.js app:
//! [`RequireSession`] (guests allowed) and [`RequireMember`] (signed-in members only).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::{OriginalUri, Request};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use tower::{Layer, Service};

use super::SessionKindRejection;
use crate::base_url::encode_component;
use crate::definition::AuthDefinition;
use crate::engine::Auth;

/// A layer that lets a request through only with a session (a guest's or a member's). An API
/// router answers 401 JSON without one (503 when the session cannot be checked), as the
/// extractors do; a page router ([`RequireSession::pages`]) sends the browser to the sign-in
/// page with a `callbackUrl` back to the page it asked for.
///
/// ```
/// use auth_runtime::axum::{RequireMember, RequireSession};
/// # use auth_runtime::{User, next_auth};
/// # next_auth! { providers: [Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(Some(User::with_id("g"))) }] }
/// # let auth = Auth::builder(()).secret("0123456789abcdef0123456789abcdef").build().unwrap();
/// let api: axum::Router = axum::Router::new()
///     .route("/api/cart", axum::routing::get(|| async { "your cart" }))
///     .layer(RequireSession::new(auth.clone()));
/// let pages: axum::Router = axum::Router::new()
///     .route("/account", axum::routing::get(|| async { "your account" }))
///     .layer(RequireMember::new(auth.clone()).pages());
/// ```
pub struct RequireSession<D: AuthDefinition> {
    rule: Rule<D>,
}

/// As [`RequireSession`], for signed-in members only: a guest gets 403 JSON
/// `{ "error": "MemberRequired" }` on an API router, and the sign-in page on a page router.
pub struct RequireMember<D: AuthDefinition> {
    rule: Rule<D>,
}

struct Rule<D: AuthDefinition> {
    auth: Auth<D>,
    members_only: bool,
    pages: bool,
}

impl<D: AuthDefinition> Clone for Rule<D> {
    fn clone(&self) -> Self {
        Rule {
            auth: self.auth.clone(),
            members_only: self.members_only,
            pages: self.pages,
        }
    }
}

impl<D: AuthDefinition> RequireSession<D> {
    /// Protects API routes: 401 JSON without a session.
    pub fn new(auth: Auth<D>) -> Self {
        RequireSession {
            rule: Rule {
                auth,
                members_only: false,
                pages: false,
            },
        }
    }

    /// Protects page routes instead: without a session, a redirect (303) to the sign-in page
    /// with `callbackUrl` set to the page asked for.
    pub fn pages(mut self) -> Self {
        self.rule.pages = true;
        self
    }
}

impl<D: AuthDefinition> RequireMember<D> {
    /// Protects API routes: 401 JSON without a session, 403 JSON for a guest.
    pub fn new(auth: Auth<D>) -> Self {
        RequireMember {
            rule: Rule {
                auth,
                members_only: true,
                pages: false,
            },
        }
    }

    /// Protects page routes instead: without a member's session, a redirect (303) to the
    /// sign-in page with `callbackUrl` set to the page asked for.
    pub fn pages(mut self) -> Self {
        self.rule.pages = true;
        self
    }
}

impl<D: AuthDefinition> Clone for RequireSession<D> {
    fn clone(&self) -> Self {
        RequireSession {
            rule: self.rule.clone(),
        }
    }
}

impl<D: AuthDefinition> Clone for RequireMember<D> {
    fn clone(&self) -> Self {
        RequireMember {
            rule: self.rule.clone(),
        }
    }
}

impl<D: AuthDefinition, S> Layer<S> for RequireSession<D> {
    type Service = Required<D, S>;

    fn layer(&self, inner: S) -> Self::Service {
        Required {
            rule: self.rule.clone(),
            inner,
        }
    }
}

impl<D: AuthDefinition, S> Layer<S> for RequireMember<D> {
    type Service = Required<D, S>;

    fn layer(&self, inner: S) -> Self::Service {
        Required {
            rule: self.rule.clone(),
            inner,
        }
    }
}

/// The service [`RequireSession`] and [`RequireMember`] wrap a router's routes in.
pub struct Required<D: AuthDefinition, S> {
    rule: Rule<D>,
    inner: S,
}

impl<D: AuthDefinition, S: Clone> Clone for Required<D, S> {
    fn clone(&self) -> Self {
        Required {
            rule: self.rule.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<D, S> Service<Request> for Required<D, S>
where
    D: AuthDefinition,
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let rule = self.rule.clone();
        // The clone that was polled ready serves this request; a fresh one waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let refusal = match rule.auth.session(request.headers()).await {
                Ok(current) if rule.members_only && current.guest_id.is_some() => {
                    Some(SessionKindRejection::MemberRequired)
                }
                Ok(_) => None,
                Err(error) => Some(SessionKindRejection::Session(error)),
            };
            match refusal {
                None => inner.call(request).await,
                Some(SessionKindRejection::Session(crate::sessions::SessionError::Unavailable)) => {
                    Ok(
                        SessionKindRejection::Session(crate::sessions::SessionError::Unavailable)
                            .into_response(),
                    )
                }
                Some(_) if rule.pages => Ok(to_sign_in(&rule.auth, &request)),
                Some(refusal) => Ok(refusal.into_response()),
            }
        })
    }
}

/// `303` to the sign-in page, with the page asked for as `callbackUrl` (the same-origin rule
/// applies to it there as to any callback URL).
fn to_sign_in<D: AuthDefinition>(auth: &Auth<D>, request: &Request) -> Response {
    let base = auth.settings().base_url();
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().clone(), |original| original.0.clone());
    let asked = format!(
        "{}{}",
        base.origin(),
        uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let location = format!(
        "{}?callbackUrl={}",
        base.endpoint("signin"),
        encode_component(&asked)
    );
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::try_from(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}
