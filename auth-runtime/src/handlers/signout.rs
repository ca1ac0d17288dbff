//! `POST /signout`: clears every session chunk, rotates the CSRF token (it keyed the browser's
//! guest, so the next anonymous sign-in is a new guest) and sends the browser to the callback URL.

use http::StatusCode;

use crate::cookies::RequestCookies;
use crate::definition::AuthDefinition;
use crate::handlers::core::Core;
use crate::protocol::reply::Reply;
use crate::protocol::request::{RequestContext, fresh_csrf_cookie};

pub(crate) async fn post<D: AuthDefinition>(
    core: &Core<D>,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let settings = &core.settings;
    let json = context.body.wants_json();
    if !context.csrf_verified() {
        return Reply::redirect(
            format!("{}?csrf=true", settings.base.endpoint("signout")),
            json,
            StatusCode::OK,
        );
    }
    crate::debug::step!(settings, "sign_out");
    let cleared = core.sessions.sign_out(&core.state, settings, cookies).await;
    Reply::redirect(context.callback_url.clone(), json, StatusCode::OK)
        .with_cookies(cleared)
        .with_cookies(fresh_csrf_cookie(settings))
        .no_cache()
}
