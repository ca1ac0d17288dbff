//! `GET /session` (read, with sliding renewal) and `POST /session` (`update()`).

use http::StatusCode;

use crate::cookies::{self, RequestCookies};
use crate::definition::AuthDefinition;
use crate::handlers::core::Core;
use crate::protocol::reply::Reply;
use crate::protocol::request::RequestContext;
use crate::sessions::SessionError;
use crate::user::JwtEvent;

const EMPTY: &[u8] = b"{}";

/// `GET /session`: the session JSON, or `{}` when there is none.
pub(crate) async fn get<D: AuthDefinition>(core: &Core<D>, cookies: &RequestCookies<'_>) -> Reply {
    respond(core, cookies, JwtEvent::Refresh, false).await
}

/// `POST /session`: runs the jwt callback with the client's data and always renews the token.
pub(crate) async fn update<D: AuthDefinition>(
    core: &Core<D>,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    if !context.csrf_verified() {
        return Reply::json(StatusCode::BAD_REQUEST, EMPTY).no_cache();
    }
    let data = context.body.value("data").cloned().unwrap_or_default();
    respond(core, cookies, JwtEvent::Update { data }, true).await
}

async fn respond<D: AuthDefinition>(
    core: &Core<D>,
    cookies: &RequestCookies<'_>,
    event: JwtEvent<D::Provider, D::Token>,
    always_renew: bool,
) -> Reply {
    let settings = &core.settings;
    let refreshed = core
        .sessions
        .read_for_client(&core.state, settings, cookies, event, always_renew)
        .await;
    crate::debug::step!(
        settings,
        "session",
        outcome = match &refreshed {
            Ok(_) => "ok".to_owned(),
            Err(error) => format!("{error:?}"),
        }
    );
    let reply = match refreshed {
        Ok(refreshed) => match serde_json::to_vec(&refreshed.session) {
            Ok(body) => Reply::json(StatusCode::OK, body).with_cookies(refreshed.cookies),
            Err(error) => {
                tracing::error!(%error, "the session callback returned a session that does not serialise");
                signed_out(core, cookies)
            }
        },
        Err(SessionError::Unavailable) => Reply::json(StatusCode::SERVICE_UNAVAILABLE, EMPTY),
        Err(error) if error.ends_session() => signed_out(core, cookies),
        Err(_) => Reply::json(StatusCode::OK, EMPTY),
    };
    reply.no_cache()
}

/// `{}` and every session chunk the request carried cleared.
fn signed_out<D: AuthDefinition>(core: &Core<D>, cookies: &RequestCookies<'_>) -> Reply {
    let settings = &core.settings;
    let name = &settings.cookies.session_token;
    let present = cookies.chunk_names(name);
    Reply::json(StatusCode::OK, EMPTY).with_cookies(cookies::clear_session(
        name,
        settings.secure,
        &present,
    ))
}
