//! Credentials sign-in: `POST /callback/:id` runs `authorize`, then the jwt callback, then sets
//! the session cookie. `POST /signin/:id` only sends the browser to the sign-in page, as in v4.

use http::StatusCode;

use crate::callback::CallbackError;
use crate::clock;
use crate::cookies::{self, RequestCookies};
use crate::definition::{AuthDefinition, ProviderId, ProviderInfo, ProviderKind, TokenClaims};
use crate::engine::{Auth, RequestContext};
use crate::handlers::error_url;
use crate::protocol::reply::Reply;
use crate::session_version;
use crate::user::{Account, JwtEvent};

fn provider_info<D: AuthDefinition>(
    id: Option<&str>,
) -> Option<(D::Provider, &'static ProviderInfo)> {
    let id = id?;
    let provider = D::Provider::from_id(id)?;
    let info = D::PROVIDERS.iter().find(|p| p.id == id)?;
    Some((provider, info))
}

/// `POST /signin/:id`.
pub(crate) fn signin_post<D: AuthDefinition>(
    auth: &Auth<D>,
    provider: Option<&str>,
    context: &RequestContext<'_>,
) -> Reply {
    let base = &auth.settings().base;
    let json = context.body.wants_json();
    if !context.csrf_verified() || provider_info::<D>(provider).is_none() {
        return Reply::redirect(
            format!("{}?csrf=true", base.endpoint("signin")),
            json,
            StatusCode::OK,
        );
    }
    Reply::redirect(base.endpoint("signin"), json, StatusCode::OK)
}

/// `GET /callback/:id`: Credentials providers take only POST.
pub(crate) fn callback_get<D: AuthDefinition>(_auth: &Auth<D>, provider: Option<&str>) -> Reply {
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
pub(crate) fn failure(
    base: &crate::base_url::BaseUrl,
    stage: &str,
    error: &CallbackError,
    json: bool,
) -> Reply {
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

/// `POST /callback/:id` for a Credentials provider.
pub(crate) async fn callback<D: AuthDefinition>(
    auth: &Auth<D>,
    provider_id: Option<&str>,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let inner = auth.inner();
    let settings = &inner.settings;
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
        return Reply::redirect(
            format!("{}?csrf=true", base.endpoint("signin")),
            json,
            StatusCode::OK,
        );
    }
    if info.kind != ProviderKind::Credentials {
        return Reply::redirect(
            error_url(base, "Configuration", None),
            json,
            StatusCode::BAD_REQUEST,
        );
    }

    let user = match D::authorize(provider, context.body, &inner.state).await {
        Ok(Some(user)) => user,
        Ok(None) => {
            let url = error_url(base, "CredentialsSignin", Some(info.id));
            return Reply::redirect(url, json, StatusCode::UNAUTHORIZED);
        }
        Err(error) => return failure(base, "authorize", &error, json),
    };

    let account = Account::new(info.id, info.kind.as_str(), user.id.clone());
    let previous = crate::handlers::session::read_checked_decoded(auth, cookies).await;
    // A guest signing in is upgraded here, before the jwt callback, whatever the provider.
    #[cfg(feature = "guests")]
    let resolved = {
        let identity = crate::guests::Identity::new(info.id, user.id.clone());
        let guest = previous.as_ref().and_then(|d| d.guest.as_deref());
        match crate::handlers::guests::resolve_sign_in(auth, identity, &user.id, guest).await {
            Ok(resolved) => resolved,
            Err(refusal) => return refusal.reply(base, info.id),
        }
    };
    #[cfg(not(feature = "guests"))]
    let resolved = crate::handlers::Resolved::unchanged(&user.id);
    let mut user = user;
    user.id = resolved.user_id;
    let token = D::Token::from_user(&user);
    let user_id = user.id.clone();
    let event = JwtEvent::SignIn {
        provider,
        user,
        account,
        profile: None,
        previous: previous.map(|d| d.claims),
        upgrade: resolved.upgrade,
    };
    let mut token = match D::jwt(token, event, &inner.state).await {
        Ok(token) => token,
        Err(error) => return failure(base, "jwt", &error, json),
    };
    let version = match session_version::at_sign_in(inner.versions.as_deref(), &user_id).await {
        Ok(version) => version,
        Err(error) => {
            return failure(
                base,
                "session version",
                &CallbackError::internal(error),
                json,
            );
        }
    };
    let now = clock::now();
    let jwt =
        match inner
            .codec
            .encode_versioned(&mut token, now, settings.max_age, version.as_ref())
        {
            Ok(jwt) => jwt,
            Err(error) => return failure(base, "encode", &CallbackError::internal(error), json),
        };
    let present = cookies.chunk_names(&settings.cookies.session_token);
    let expires_at = token.expires_at().unwrap_or(now);
    let set = cookies::session_cookies(
        &settings.cookies.session_token,
        &jwt,
        expires_at,
        settings.secure,
        &present,
    );
    tracing::info!(provider = info.id, "signed in");
    Reply::redirect(context.callback_url.clone(), json, StatusCode::OK)
        .with_cookies(set)
        .with_cookies(resolved.cookies)
}
