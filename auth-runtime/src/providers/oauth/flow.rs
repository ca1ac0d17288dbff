//! The OAuth and OpenID Connect sign-in method: `POST /signin/:id` sends the browser to the
//! provider, `GET` (or form_post `POST`) `/callback/:id` finishes the sign-in.
//!
//! A failed sign-in never touches the session cookie: a guest who cancels at the provider is
//! still the same guest.

use std::sync::Arc;

use http::StatusCode;

use crate::clock;
use crate::definition::AuthDefinition;
use crate::providers::method::{
    Accepted, CsrfRule, Ending, MethodRequest, SignInMethod, Step, StepFuture,
};

use super::{CallbackParams, FlowError, OAuthClients};

/// Authorization parameters the flow sets itself; a caller's query cannot override them.
const RESERVED: &[&str] = &[
    "callbackUrl",
    "client_id",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
];
/// At most this many extra authorization parameters are passed on, each at most this long.
const MAX_EXTRA: usize = 16;
const MAX_EXTRA_LEN: usize = 512;

/// The method of every OAuth and OpenID Connect provider: the clients are shared with the
/// session layer, which puts them in reach of the `jwt` callback (token refresh).
pub(crate) struct OAuth {
    clients: Arc<OAuthClients>,
}

impl OAuth {
    pub fn new(clients: Arc<OAuthClients>) -> Self {
        OAuth { clients }
    }
}

impl<D: AuthDefinition> SignInMethod<D> for OAuth {
    /// `{url}` of the provider's authorization page (or a 302 to it), with the state, PKCE and
    /// nonce cookies.
    fn start<'a>(&'a self, request: MethodRequest<'a, D>) -> StepFuture<'a> {
        Box::pin(async move {
            let provider = request.info.id;
            let extra: Vec<(String, String)> = form_urlencoded::parse(request.query.as_bytes())
                .filter(|(name, value)| {
                    !RESERVED.contains(&name.as_ref())
                        && name.len() <= MAX_EXTRA_LEN
                        && value.len() <= MAX_EXTRA_LEN
                })
                .take(MAX_EXTRA)
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect();
            let authorization = self.clients.authorize(provider, &extra, clock::now()).await;
            crate::debug::step!(
                request.settings,
                "oauth_authorize",
                outcome = match &authorization {
                    Ok(_) => "redirect to the provider",
                    Err(error) => error.code(true),
                }
            );
            match authorization {
                Ok(authorization) => Step::Redirect {
                    url: authorization.url,
                    status: StatusCode::OK,
                    cookies: authorization.cookies,
                },
                Err(error) => {
                    tracing::warn!(provider, %error, "could not start the OAuth sign-in");
                    Step::error_page(
                        &request.settings.base,
                        error.code(true),
                        None,
                        StatusCode::OK,
                    )
                }
            }
        })
    }

    fn finish<'a>(&'a self, request: MethodRequest<'a, D>) -> StepFuture<'a> {
        Box::pin(async move {
            let provider = request.info.id;
            // The check cookies are single-use: cleared whatever happens next.
            let cleared = self.clients.clear_checks();
            let params = CallbackParams {
                code: request.param("code"),
                state: request.param("state"),
                error: request.param("error"),
            };
            let exchanged = self
                .clients
                .callback(provider, params, request.cookies, clock::now())
                .await;
            crate::debug::step!(
                request.settings,
                "oauth_callback",
                outcome = match &exchanged {
                    Ok(_) => "profile",
                    Err(error) => error.code(false),
                }
            );
            let step = match exchanged {
                Ok(signed_in) => {
                    let mut accepted =
                        Accepted::new(signed_in.profile.to_user(), signed_in.account);
                    accepted.profile = Some(signed_in.profile);
                    Step::Accepted(Box::new(accepted))
                }
                Err(error) => {
                    log_failure(provider, &error);
                    let outcome = match error {
                        FlowError::Denied => "refused",
                        _ => "error",
                    };
                    crate::telemetry::sign_in_failure(provider, error.code(false), outcome);
                    Step::error_page(
                        &request.settings.base,
                        error.code(false),
                        None,
                        StatusCode::FOUND,
                    )
                }
            };
            step.with_cookies(cleared)
        })
    }

    fn callback_by_get(&self) -> bool {
        true
    }

    /// The callback is checked by its `state` (a form_post `POST` comes from the provider's
    /// page, without the CSRF token).
    fn csrf(&self) -> CsrfRule {
        CsrfRule::SignInOnly
    }

    fn ending(&self) -> Ending {
        Ending::Navigation
    }
}

fn log_failure(provider: &str, error: &FlowError) {
    match error {
        FlowError::Denied => tracing::info!(provider, "the user denied access at the provider"),
        _ => tracing::warn!(provider, %error, "OAuth sign-in failed"),
    }
}
