//! OAuth and OpenID Connect sign-in: `POST /signin/:id` sends the browser to the provider,
//! `GET` (or form_post `POST`) `/callback/:id` finishes the sign-in.
//!
//! A failed sign-in never touches the session cookie: a guest who cancels at the provider is
//! still the same guest.

use http::StatusCode;

use crate::callback::CallbackError;
use crate::clock;
use crate::cookies::RequestCookies;
use crate::definition::{AuthDefinition, ProviderId};
use crate::handlers::Core;
use crate::handlers::credentials::{csrf_redirect, previous};
use crate::protocol::reply::{Reply, error_url};
use crate::protocol::request::RequestContext;
use crate::providers::{CallbackParams, FlowError};
use crate::sessions::{SignIn, SignInError};

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

/// `POST /signin/:id`: `{url}` of the provider's authorization page (or a 302 to it), with the
/// state, PKCE and nonce cookies.
pub(crate) async fn signin<D: AuthDefinition>(
    core: &Core<D>,
    provider: &str,
    context: &RequestContext<'_>,
) -> Reply {
    let base = &core.settings.base;
    let json = context.body.wants_json();
    if !context.csrf_verified() {
        return csrf_redirect(base, json);
    }
    let extra: Vec<(String, String)> = form_urlencoded::parse(context.query.as_bytes())
        .filter(|(name, value)| {
            !RESERVED.contains(&name.as_ref())
                && name.len() <= MAX_EXTRA_LEN
                && value.len() <= MAX_EXTRA_LEN
        })
        .take(MAX_EXTRA)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let authorization = core.oauth.authorize(provider, &extra, clock::now()).await;
    crate::debug::step!(
        core.settings,
        "oauth_authorize",
        outcome = match &authorization {
            Ok(_) => "redirect to the provider",
            Err(error) => error.code(true),
        }
    );
    match authorization {
        Ok(authorization) => Reply::redirect(authorization.url, json, StatusCode::OK)
            .with_cookies(authorization.cookies),
        Err(error) => {
            tracing::warn!(provider, %error, "could not start the OAuth sign-in");
            Reply::redirect(
                error_url(base, error.code(true), None),
                json,
                StatusCode::OK,
            )
        }
    }
}

/// `GET /callback/:id` (query) or `POST /callback/:id` (`response_mode=form_post`).
pub(crate) async fn callback<D: AuthDefinition>(
    core: &Core<D>,
    provider_id: &str,
    post: bool,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let settings = &core.settings;
    let base = &settings.base;
    // The check cookies are single-use: cleared whatever happens next.
    let cleared = core.oauth.clear_checks();
    let fail = |code: &str| {
        Reply::redirect(error_url(base, code, None), false, StatusCode::FOUND)
            .with_cookies(cleared.clone())
    };
    let Some(provider) = D::Provider::from_id(provider_id) else {
        return fail("OAuthCallback");
    };
    let param = |name: &str| {
        if post {
            context.body.get(name).map(str::to_owned)
        } else {
            context.query(name)
        }
    };
    let params = CallbackParams {
        code: param("code"),
        state: param("state"),
        error: param("error"),
    };
    let exchanged = core
        .oauth
        .callback(provider_id, params, cookies, clock::now())
        .await;
    crate::debug::step!(
        settings,
        "oauth_callback",
        outcome = match &exchanged {
            Ok(_) => "profile",
            Err(error) => error.code(false),
        }
    );
    let signed_in = match exchanged {
        Ok(signed_in) => signed_in,
        Err(error) => {
            log_failure(provider_id, &error);
            let outcome = match error {
                FlowError::Denied => "refused",
                _ => "error",
            };
            crate::telemetry::sign_in_failure(provider_id, error.code(false), outcome);
            return fail(error.code(false));
        }
    };
    let sign_in = SignIn {
        provider,
        user: signed_in.profile.to_user(),
        account: signed_in.account,
        profile: Some(signed_in.profile),
        previous: previous(core, cookies).await,
        as_guest: false,
        created_guest: false,
        made_user: false,
        credentials: None,
        user_agent: context.user_agent(),
    };
    match core
        .sessions
        .sign_in(&core.state, settings, sign_in, cookies)
        .await
    {
        Ok(signed_in) => {
            let to = super::pages::landing::<D>(&context.callback_url, signed_in.is_new_user);
            Reply::redirect(to, false, StatusCode::FOUND)
                .with_cookies(cleared)
                .with_cookies(signed_in.cookies)
        }
        Err(SignInError::Refused(refusal)) => fail(refusal.code),
        Err(SignInError::Denied(code)) => fail(&code),
        Err(SignInError::Redirected(url)) => {
            Reply::redirect(url, false, StatusCode::FOUND).with_cookies(cleared)
        }
        Err(SignInError::Callback { error, .. }) => fail(&callback_failure(provider_id, &error)),
    }
}

fn log_failure(provider: &str, error: &FlowError) {
    match error {
        FlowError::Denied => tracing::info!(provider, "the user denied access at the provider"),
        _ => tracing::warn!(provider, %error, "OAuth sign-in failed"),
    }
}

/// The error code for a failing jwt callback: its public message, or `Callback`.
fn callback_failure(provider: &str, error: &CallbackError) -> String {
    match error.public_message() {
        Some(message) => message.to_owned(),
        None => {
            tracing::error!(provider, %error, "the jwt callback failed during an OAuth sign-in");
            "Callback".to_owned()
        }
    }
}
