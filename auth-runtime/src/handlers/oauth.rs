//! OAuth and OpenID Connect sign-in: `POST /signin/:id` sends the browser to the provider,
//! `GET` (or form_post `POST`) `/callback/:id` finishes the sign-in.
//!
//! A failed sign-in never touches the session cookie: a guest who cancels at the provider is
//! still the same guest.

use http::StatusCode;

use crate::callback::CallbackError;
use crate::clock;
use crate::cookies::{self, RequestCookies};
use crate::definition::{AuthDefinition, ProviderId, ProviderKind, TokenClaims};
use crate::engine::{Auth, RequestContext};
use crate::handlers::error_url;
use crate::protocol::reply::Reply;
use crate::providers::{CallbackParams, FlowError};
use crate::session_version;
use crate::user::JwtEvent;

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

/// Whether `provider` names a configured OAuth or OpenID Connect provider.
pub(crate) fn is_oauth<D: AuthDefinition>(provider: Option<&str>) -> bool {
    provider.is_some_and(|id| {
        D::PROVIDERS
            .iter()
            .any(|p| p.id == id && p.kind == ProviderKind::OAuth)
    })
}

/// `POST /signin/:id`: `{url}` of the provider's authorization page (or a 302 to it), with the
/// state, PKCE and nonce cookies.
pub(crate) async fn signin<D: AuthDefinition>(
    auth: &Auth<D>,
    provider: &str,
    context: &RequestContext<'_>,
) -> Reply {
    let inner = auth.inner();
    let base = &inner.settings.base;
    let json = context.body.wants_json();
    if !context.csrf_verified() {
        return Reply::redirect(
            format!("{}?csrf=true", base.endpoint("signin")),
            json,
            StatusCode::OK,
        );
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
    match inner.oauth.authorize(provider, &extra, clock::now()).await {
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
    auth: &Auth<D>,
    provider_id: &str,
    post: bool,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let inner = auth.inner();
    let settings = &inner.settings;
    let base = &settings.base;
    // The check cookies are single-use: cleared whatever happens next.
    let cleared = inner.oauth.clear_checks();
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
    let signed_in = match inner
        .oauth
        .callback(provider_id, params, cookies, clock::now())
        .await
    {
        Ok(signed_in) => signed_in,
        Err(error) => {
            log_failure(provider_id, &error);
            return fail(error.code(false));
        }
    };

    let mut user = signed_in.profile.to_user();
    // The session the browser already had (a guest), unless it was revoked.
    let previous = crate::handlers::session::read_checked_decoded(auth, cookies).await;
    // A guest signing in is upgraded here, before the jwt callback.
    #[cfg(feature = "guests")]
    let resolved = {
        let identity = crate::guests::Identity::new(provider_id, user.id.clone());
        let guest = previous.as_ref().and_then(|d| d.guest.as_deref());
        match crate::handlers::guests::resolve_sign_in(auth, identity, &user.id, guest).await {
            Ok(resolved) => resolved,
            Err(refusal) => return fail(refusal.code),
        }
    };
    #[cfg(not(feature = "guests"))]
    let resolved = crate::handlers::Resolved::unchanged(&user.id);
    user.id = resolved.user_id;
    let user_id = user.id.clone();
    let token = D::Token::from_user(&user);
    let event = JwtEvent::SignIn {
        provider,
        user,
        account: signed_in.account,
        profile: Some(signed_in.profile),
        previous: previous.map(|d| d.claims),
        upgrade: resolved.upgrade,
    };
    let mut token = match D::jwt(token, event, &inner.state).await {
        Ok(token) => token,
        Err(error) => return fail(&callback_failure(provider_id, &error)),
    };
    let version = match session_version::at_sign_in(inner.versions.as_deref(), &user_id).await {
        Ok(version) => version,
        Err(error) => {
            return fail(&callback_failure(
                provider_id,
                &CallbackError::internal(error),
            ));
        }
    };
    let now = clock::now();
    let jwt =
        match inner
            .codec
            .encode_versioned(&mut token, now, settings.max_age, version.as_ref())
        {
            Ok(jwt) => jwt,
            Err(error) => {
                return fail(&callback_failure(
                    provider_id,
                    &CallbackError::internal(error),
                ));
            }
        };
    let present = cookies.chunk_names(&settings.cookies.session_token);
    let expires_at = token.expires_at().unwrap_or(now);
    let session = cookies::session_cookies(
        &settings.cookies.session_token,
        &jwt,
        expires_at,
        settings.secure,
        &present,
    );
    tracing::info!(provider = provider_id, "signed in");
    Reply::redirect(context.callback_url.clone(), false, StatusCode::FOUND)
        .with_cookies(cleared)
        .with_cookies(session)
        .with_cookies(resolved.cookies)
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
