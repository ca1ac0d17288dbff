//! `POST /signout`: clears every session chunk and sends the browser to the callback URL.

use http::StatusCode;

use crate::cookies::{self, RequestCookies};
use crate::definition::AuthDefinition;
use crate::engine::{Auth, RequestContext};
use crate::protocol::reply::Reply;

pub(crate) fn post<D: AuthDefinition>(
    auth: &Auth<D>,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let settings = auth.settings();
    let json = context.body.wants_json();
    if !context.csrf_verified() {
        return Reply::redirect(
            format!("{}?csrf=true", settings.base.endpoint("signout")),
            json,
            StatusCode::OK,
        );
    }
    let name = &settings.cookies.session_token;
    let present = cookies.chunk_names(name);
    Reply::redirect(context.callback_url.clone(), json, StatusCode::OK)
        .with_cookies(cookies::clear_session(name, settings.secure, &present))
}
