//! Credentials sign-in: `POST /callback/:id` runs `authorize`, then the session layer ends the
//! sign-in. `POST /signin/:id` only sends the browser to the sign-in page, as in v4.

use http::StatusCode;

use crate::base_url::BaseUrl;
use crate::callback::CallbackError;
use crate::cookies::RequestCookies;
use crate::definition::{AuthDefinition, ProviderKind};
use crate::handlers::{Core, provider_info};
use crate::protocol::reply::{Reply, error_url};
use crate::protocol::request::RequestContext;
use crate::sessions::{SignIn, SignInError};
use crate::user::Account;

/// `POST /signin/:id`.
pub(crate) fn signin_post<D: AuthDefinition>(
    core: &Core<D>,
    provider: Option<&str>,
    context: &RequestContext<'_>,
) -> Reply {
    let base = &core.settings.base;
    let json = context.body.wants_json();
    if !context.csrf_verified() || provider_info::<D>(provider).is_none() {
        return csrf_redirect(base, json);
    }
    Reply::redirect(base.endpoint("signin"), json, StatusCode::OK)
}

/// The reply to a POST without the right CSRF token, as NextAuth v4 sends it.
pub(crate) fn csrf_redirect(base: &BaseUrl, json: bool) -> Reply {
    Reply::redirect(
        format!("{}?csrf=true", base.endpoint("signin")),
        json,
        StatusCode::OK,
    )
}

/// `GET /callback/:id`: Credentials providers take only POST.
pub(crate) fn callback_get<D: AuthDefinition>(provider: Option<&str>) -> Reply {
    match provider_info::<D>(provider) {
        Some((_, info))
            if matches!(
                info.kind,
                ProviderKind::Credentials | ProviderKind::Anonymous
            ) =>
        {
            let mut reply = Reply::text(
                StatusCode::METHOD_NOT_ALLOWED,
                "Error: Callback for provider type credentials not supported; POST the credentials instead",
            );
            reply.allow = Some("POST");
            reply
        }
        _ => Reply::text(StatusCode::NOT_FOUND, "Error: Unknown provider"),
    }
}

/// How a failing callback is reported: a message meant for the client is passed on (401, as
/// NextAuth does for a thrown `Error(message)`); anything else is logged and reported as
/// `Callback` (500 with a JSON body the client understands, where NextAuth answers an HTML 500).
pub(crate) fn failure(base: &BaseUrl, stage: &str, error: &CallbackError, json: bool) -> Reply {
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

/// The reply to a sign-in the session layer refused, for the JSON-speaking endpoints.
pub(crate) fn refused(base: &BaseUrl, provider: &str, error: &SignInError, json: bool) -> Reply {
    match error {
        SignInError::Refused(refusal) => refusal.reply(base, provider),
        SignInError::Denied(code) => {
            Reply::redirect(error_url(base, code, None), json, StatusCode::FORBIDDEN)
        }
        SignInError::Redirected(url) => Reply::redirect(url.clone(), json, StatusCode::OK),
        SignInError::Callback { stage, error } => failure(base, stage, error, json),
    }
}

/// A refused sign-in, counted and logged within the budget (a password guesser must not flood
/// the log).
fn log_refusal<D: AuthDefinition>(core: &Core<D>, provider: &str, code: &str) {
    crate::telemetry::sign_in_failure(provider, code, "refused");
    if let crate::log_budget::Verdict::Write { dropped } = core.refusal_log.take() {
        let code = crate::log_budget::sanitized(code, 100);
        tracing::info!(provider, %code, dropped_since_last = dropped, "sign-in refused");
    }
}

/// The browser's current session, if valid: what a sign-in carries over (a guest).
pub(crate) async fn previous<D: AuthDefinition>(
    core: &Core<D>,
    cookies: &RequestCookies<'_>,
) -> Option<crate::sessions::Verified<D::Token>> {
    core.sessions
        .verify_request(&core.settings, cookies, None)
        .await
        .ok()
}

/// `POST /callback/:id` for a Credentials provider.
pub(crate) async fn callback<D: AuthDefinition>(
    core: &Core<D>,
    provider_id: Option<&str>,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let settings = &core.settings;
    let base = &settings.base;
    let json = context.body.wants_json();
    let Some((provider, info)) = provider_info::<D>(provider_id) else {
        // NextAuth answers its plain-text 400 here; a client that asked for JSON gets JSON.
        if json {
            return Reply::redirect(
                error_url(base, "UnknownProvider", None),
                true,
                StatusCode::BAD_REQUEST,
            );
        }
        return Reply::unsupported(&http::Method::POST);
    };
    if !context.csrf_verified() {
        return csrf_redirect(base, json);
    }
    if info.kind != ProviderKind::Credentials {
        return Reply::redirect(
            error_url(base, "Configuration", None),
            json,
            StatusCode::BAD_REQUEST,
        );
    }

    let client = super::client_key(&core.proxy, context);
    let proof = super::proof(core, context);
    let attempt = match core
        .attempts
        .charge(info, client.as_ref(), context.body, cookies, &proof)
        .await
    {
        Ok(attempt) => {
            crate::debug::step!(settings, "attempt_limits", verdict = "allowed");
            attempt
        }
        Err(refused) => {
            let refusal = super::attempt_refusal(refused);
            crate::debug::step!(settings, "attempt_limits", verdict = refusal.code);
            log_refusal(core, info.id, refusal.code);
            return refusal.reply(base, info.id);
        }
    };
    let authorize = D::authorize(provider, context.body, &core.state);
    // A hand-written anonymous provider creates its guests for the requesting client
    // (`CreateGuest::for_requesting_client`), under the per-client limit.
    #[cfg(feature = "guests")]
    let authorize = crate::guests::with_requesting_client(client, authorize);
    let authorized = authorize.await;
    crate::debug::step!(
        settings,
        "authorize",
        outcome = match &authorized {
            Ok(Some(_)) => "user",
            Ok(None) => "refused",
            Err(_) => "error",
        }
    );
    let (user, device_cookie) = match authorized {
        Ok(Some(user)) => (user, attempt.succeeded(cookies).await),
        Ok(None) => {
            log_refusal(core, info.id, "CredentialsSignin");
            let url = error_url(base, "CredentialsSignin", Some(info.id));
            return Reply::redirect(url, json, StatusCode::UNAUTHORIZED);
        }
        Err(error) => {
            #[cfg(feature = "guests")]
            if let Some(refusal) = crate::protocol::reply::Refusal::of_callback(&error) {
                crate::telemetry::sign_in_failure(info.id, refusal.code, "refused");
                if let crate::log_budget::Verdict::Write { dropped } = core.refusal_log.take() {
                    tracing::warn!(
                        provider = info.id, code = refusal.code, %error,
                        dropped_since_last = dropped, "sign-in refused by the guest store"
                    );
                }
                return refusal.reply(base, info.id);
            }
            match error.public_message() {
                Some(message) => log_refusal(core, info.id, message),
                None => crate::telemetry::sign_in_failure(info.id, "Callback", "error"),
            }
            return failure(base, "authorize", &error, json);
        }
    };
    let sign_in = SignIn {
        provider,
        account: Account::new(info.id, info.kind.as_str(), user.id.clone()),
        user,
        profile: None,
        previous: previous(core, cookies).await,
        as_guest: false,
        created_guest: false,
        made_user: false,
        credentials: D::HANDLES_SIGN_IN.then(|| context.body.clone()),
        user_agent: context.user_agent(),
    };
    end_sign_in(core, sign_in, info.id, context, cookies)
        .await
        .with_cookies(device_cookie)
}

/// Ends a sign-in of the JSON-speaking endpoints (Credentials, Anonymous): the session layer
/// issues the session, and the reply sends the browser to the callback URL, or says why not.
pub(crate) async fn end_sign_in<D: AuthDefinition>(
    core: &Core<D>,
    sign_in: SignIn<D>,
    provider: &str,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let settings = &core.settings;
    let json = context.body.wants_json();
    // As in NextAuth, a Credentials sign-in that promoted a guest is not sent to the welcome
    // page; a method that made the user's row (an e-mail link) is.
    let made_user = sign_in.made_user;
    match core
        .sessions
        .sign_in(&core.state, settings, sign_in, cookies)
        .await
    {
        Ok(signed_in) => {
            let to = super::pages::landing::<D>(&context.callback_url, made_user);
            Reply::redirect(to, json, StatusCode::OK).with_cookies(signed_in.cookies)
        }
        Err(error) => refused(&settings.base, provider, &error, json),
    }
}
