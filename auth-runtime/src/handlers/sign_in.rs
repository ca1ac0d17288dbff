//! Every sign-in method's endpoints, written once: `POST /signin/:id`, `GET|POST /callback/:id`
//! and `GET /webauthn-options/:id`. The preamble (the provider's lookup, CSRF, the client's
//! address, the previous session) runs here; the method's [`Step`] is written out here; an
//! accepted sign-in ends in the session layer ([`Sessions::sign_in`](crate::sessions::Sessions)),
//! which upgrades the browser's guest whatever the method.

use http::StatusCode;

use crate::base_url::BaseUrl;
use crate::callback::CallbackError;
use crate::cookies::RequestCookies;
use crate::definition::{AuthDefinition, ProviderInfo, TokenClaims};
use crate::handlers::core::Core;
use crate::protocol::reply::{Reply, error_url};
use crate::protocol::request::RequestContext;
use crate::providers::method::{
    Accepted, CsrfRule, Ending, MethodRequest, Previous, SignInMethod, Step,
};
use crate::sessions::{SignIn, SignInError, Verified};

use super::provider_info;

/// Which of a method's endpoints a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `GET|POST /callback/:id`.
    Finish,
    /// `GET /webauthn-options/:id`.
    Options,
}

/// `POST /signin/:id`.
pub(crate) async fn start<D: AuthDefinition>(
    core: &Core<D>,
    provider: Option<&str>,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let base = &core.settings.base;
    let json = context.body.wants_json();
    let found = provider_info::<D>(provider).zip(provider.and_then(|id| core.methods.get(id)));
    let Some(((provider, info), method)) = found.filter(|_| context.csrf_verified()) else {
        return csrf_redirect(base, json);
    };
    let request = method_request(core, provider, info, true, context, cookies, None);
    let step = method.start(request).await;
    answer(core, step, info, Ending::Fetch, context, cookies).await
}

/// `GET|POST /callback/:id`.
pub(crate) async fn finish<D: AuthDefinition>(
    core: &Core<D>,
    provider: Option<&str>,
    post: bool,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let base = &core.settings.base;
    let json = context.body.wants_json();
    let Some((provider, info)) = provider_info::<D>(provider) else {
        return match (post, json) {
            // NextAuth answers its plain-text 400 here; a client that asked for JSON gets JSON.
            (true, true) => Reply::redirect(
                error_url(base, "UnknownProvider", None),
                true,
                StatusCode::BAD_REQUEST,
            ),
            (true, false) => Reply::unsupported(&http::Method::POST),
            (false, _) => Reply::text(StatusCode::NOT_FOUND, "Error: Unknown provider"),
        };
    };
    let Some(method) = core.methods.get(info.id) else {
        return configuration(base, json);
    };
    if !post && !method.callback_by_get() {
        let mut reply = Reply::text(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "Error: Callback for provider type {} not supported; POST the credentials instead",
                info.kind.as_str()
            ),
        );
        reply.allow = Some("POST");
        return reply;
    }
    if post && method.csrf() == CsrfRule::EveryPost && !context.csrf_verified() {
        return csrf_redirect(base, json);
    }
    run_with_previous(
        core,
        method,
        Endpoint::Finish,
        provider,
        info,
        post,
        context,
        cookies,
    )
    .await
}

/// `GET /webauthn-options/:id`.
pub(crate) async fn options<D: AuthDefinition>(
    core: &Core<D>,
    provider: Option<&str>,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let base = &core.settings.base;
    let found = provider_info::<D>(provider).zip(provider.and_then(|id| core.methods.get(id)));
    let Some(((provider, info), method)) = found else {
        // As Auth.js: an unknown provider, or one without a ceremony, is a configuration error.
        return Reply::redirect(
            error_url(base, "Configuration", None),
            false,
            StatusCode::FOUND,
        );
    };
    run_with_previous(
        core,
        method,
        Endpoint::Options,
        provider,
        info,
        false,
        context,
        cookies,
    )
    .await
}

/// Runs a method's endpoint with the browser's current session in reach, and writes its answer.
#[allow(clippy::too_many_arguments)]
async fn run_with_previous<D: AuthDefinition>(
    core: &Core<D>,
    method: &dyn SignInMethod<D>,
    endpoint: Endpoint,
    provider: D::Provider,
    info: &'static ProviderInfo,
    post: bool,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let previous = core
        .sessions
        .verify_request(&core.settings, cookies, None)
        .await
        .ok();
    let view = previous.as_ref().map(|verified| Previous {
        subject: verified.claims.sub(),
        guest: verified.guest.as_deref(),
        email: verified.claims.email(),
        name: verified.claims.name(),
    });
    let request = method_request(core, provider, info, post, context, cookies, view);
    let step = match endpoint {
        Endpoint::Finish => method.finish(request).await,
        Endpoint::Options => method.options(request).await,
    };
    let ending = match endpoint {
        Endpoint::Finish => method.ending(),
        Endpoint::Options => Ending::Fetch,
    };
    match step {
        Step::Accepted(accepted) => {
            end(
                core, provider, info, *accepted, previous, ending, context, cookies,
            )
            .await
        }
        step => answer(core, step, info, ending, context, cookies).await,
    }
}

/// What a method reads from the request.
fn method_request<'a, D: AuthDefinition>(
    core: &'a Core<D>,
    provider: D::Provider,
    info: &'static ProviderInfo,
    post: bool,
    context: &'a RequestContext<'a>,
    cookies: &'a RequestCookies<'a>,
    previous: Option<Previous<'a>>,
) -> MethodRequest<'a, D> {
    MethodRequest {
        provider,
        info,
        state: &core.state,
        settings: &core.settings,
        post,
        body: context.body,
        query: context.query,
        cookies,
        callback_url: &context.callback_url,
        csrf_token: &context.csrf.token,
        client: super::client_key(&core.proxy, context),
        proof: super::proof(core, context),
        attempts: &core.attempts,
        previous,
    }
}

/// Writes out a step that issues no session.
async fn answer<D: AuthDefinition>(
    core: &Core<D>,
    step: Step,
    info: &'static ProviderInfo,
    ending: Ending,
    context: &RequestContext<'_>,
    _cookies: &RequestCookies<'_>,
) -> Reply {
    let base = &core.settings.base;
    let json = ending == Ending::Fetch && context.body.wants_json();
    match step {
        Step::Accepted(_) => configuration(base, json),
        Step::Redirect {
            url,
            status,
            cookies,
        } => Reply::redirect(url, json, status).with_cookies(cookies),
        Step::Refused { refusal, cookies } => match ending {
            Ending::Fetch => refusal.reply(base, info.id).with_cookies(cookies),
            Ending::Navigation => Reply::redirect(
                error_url(base, refusal.code, None),
                false,
                StatusCode::FOUND,
            )
            .with_cookies(cookies),
        },
        Step::Failed { stage, error } => failure(base, stage, &error, json),
        Step::Json {
            status,
            body,
            cookies,
        } => Reply::json_value(status, &body)
            .no_cache()
            .with_cookies(cookies),
    }
}

/// Ends an accepted sign-in: the session layer issues the session, and the reply sends the
/// browser to the callback URL (or the new-user page), or says why not.
#[allow(clippy::too_many_arguments)]
async fn end<D: AuthDefinition>(
    core: &Core<D>,
    provider: D::Provider,
    info: &'static ProviderInfo,
    accepted: Accepted,
    previous: Option<Verified<D::Token>>,
    ending: Ending,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let settings = &core.settings;
    let base = &settings.base;
    let Accepted {
        user,
        account,
        profile,
        as_guest,
        created_guest,
        made_user,
        credentials,
        cookies: extra,
    } = accepted;
    let sign_in = SignIn {
        provider,
        user,
        account,
        profile,
        previous,
        as_guest,
        created_guest,
        made_user,
        credentials,
        user_agent: context.user_agent(),
    };
    let json = ending == Ending::Fetch && context.body.wants_json();
    let reply = match core
        .sessions
        .sign_in(&core.state, settings, sign_in, cookies)
        .await
    {
        Ok(signed_in) => {
            // As in NextAuth, a sign-in that posts (Credentials) and promoted a guest is not
            // sent to the welcome page; a method that made the user's row is, and so is every
            // new user back from a provider.
            let is_new = match ending {
                Ending::Fetch => made_user,
                Ending::Navigation => signed_in.is_new_user,
            };
            let to = super::pages::landing::<D>(&context.callback_url, is_new);
            Reply::redirect(to, json, StatusCode::OK).with_cookies(signed_in.cookies)
        }
        Err(error) => match ending {
            Ending::Fetch => refused(base, info.id, &error, json),
            Ending::Navigation => navigation_refusal(base, info.id, &error),
        },
    };
    reply.with_cookies(extra)
}

/// The reply to a POST without the right CSRF token, as NextAuth v4 sends it.
pub(crate) fn csrf_redirect(base: &BaseUrl, json: bool) -> Reply {
    Reply::redirect(
        format!("{}?csrf=true", base.endpoint("signin")),
        json,
        StatusCode::OK,
    )
}

/// A provider configured without its method: a server error the client understands.
fn configuration(base: &BaseUrl, json: bool) -> Reply {
    Reply::redirect(
        error_url(base, "Configuration", None),
        json,
        StatusCode::INTERNAL_SERVER_ERROR,
    )
}

/// How a failing callback is reported: a message meant for the client is passed on (401, as
/// NextAuth does for a thrown `Error(message)`); anything else is logged and reported as
/// `Callback` (500 with a JSON body the client understands, where NextAuth answers an HTML 500).
fn failure(base: &BaseUrl, stage: &str, error: &CallbackError, json: bool) -> Reply {
    match error.public_message() {
        Some(message) => Reply::redirect(
            error_url(base, message, None),
            json,
            StatusCode::UNAUTHORIZED,
        ),
        None => {
            tracing::error!(%error, stage, "sign-in callback failed");
            Reply::redirect(
                error_url(base, "Callback", None),
                json,
                StatusCode::INTERNAL_SERVER_ERROR,
            )
        }
    }
}

/// The reply to a sign-in the session layer refused, for the methods the client posts to.
fn refused(base: &BaseUrl, provider: &str, error: &SignInError, json: bool) -> Reply {
    match error {
        SignInError::Refused(refusal) => refusal.reply(base, provider),
        SignInError::Denied(code) => {
            Reply::redirect(error_url(base, code, None), json, StatusCode::FORBIDDEN)
        }
        SignInError::Redirected(url) => Reply::redirect(url.clone(), json, StatusCode::OK),
        SignInError::Callback { stage, error } => failure(base, stage, error, json),
    }
}

/// The same for a browser arriving from a provider: always a 302.
fn navigation_refusal(base: &BaseUrl, provider: &str, error: &SignInError) -> Reply {
    let to_error =
        |code: &str| Reply::redirect(error_url(base, code, None), false, StatusCode::FOUND);
    match error {
        SignInError::Refused(refusal) => to_error(refusal.code),
        SignInError::Denied(code) => to_error(code),
        SignInError::Redirected(url) => Reply::redirect(url.clone(), false, StatusCode::FOUND),
        SignInError::Callback { error, .. } => match error.public_message() {
            Some(message) => to_error(message),
            None => {
                tracing::error!(provider, %error, "the jwt callback failed during a sign-in");
                to_error("Callback")
            }
        },
    }
}
