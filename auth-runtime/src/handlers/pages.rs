//! The HTML endpoints: `GET /signin`, `GET /signout`, `GET /error`, `GET /verify-request`.

use http::StatusCode;

use crate::definition::AuthDefinition;
use crate::handlers::core::Core;
use crate::protocol::pages;
use crate::protocol::reply::Reply;
use crate::protocol::request::RequestContext;

/// Codes the sign-in page explains itself; `GET /error` sends them there.
const SIGNIN_ERRORS: &[&str] = &[
    "Signin",
    "OAuthSignin",
    "OAuthCallback",
    "OAuthCreateAccount",
    "EmailCreateAccount",
    "Callback",
    "OAuthAccountNotLinked",
    "EmailSignin",
    "CredentialsSignin",
    "SessionRequired",
];

/// `page` with one more query parameter.
pub(crate) fn with_param(page: &str, name: &str, value: &str) -> String {
    let separator = if page.contains('?') { '&' } else { '?' };
    let value: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
    format!("{page}{separator}{name}={value}")
}

/// Where a finished sign-in sends the browser: a first sign-in that made the user goes to the
/// app's welcome page (`pages.new_user`), if it has one, carrying the callback URL.
pub(crate) fn landing<D: AuthDefinition>(callback_url: &str, is_new_user: bool) -> String {
    match D::SETTINGS.pages.new_user {
        Some(page) if is_new_user => with_param(page, "callbackUrl", callback_url),
        _ => callback_url.to_owned(),
    }
}

pub(crate) fn signin<D: AuthDefinition>(core: &Core<D>, context: &RequestContext<'_>) -> Reply {
    let base = &core.settings.base;
    if let Some(page) = D::SETTINGS.pages.sign_in {
        let mut url = with_param(page, "callbackUrl", &context.callback_url);
        if let Some(error) = context.query("error") {
            url = with_param(&url, "error", &error);
        }
        return Reply::redirect(url, false, StatusCode::FOUND).no_cache();
    }
    let error = context.query("error");
    let error = error.as_deref().filter(|code| SIGNIN_ERRORS.contains(code));
    let html = pages::signin(
        base.as_str(),
        core.enabled.providers(),
        &context.csrf.token,
        &context.callback_url,
        error,
        &D::SETTINGS.theme,
    );
    // The page carries this browser's CSRF token: never kept by a shared cache.
    Reply::html(StatusCode::OK, html).no_cache()
}

pub(crate) fn signout<D: AuthDefinition>(core: &Core<D>, context: &RequestContext<'_>) -> Reply {
    if let Some(page) = D::SETTINGS.pages.sign_out {
        return Reply::redirect(page.to_owned(), false, StatusCode::FOUND).no_cache();
    }
    let html = pages::signout(
        core.settings.base.as_str(),
        &context.csrf.token,
        &context.callback_url,
        &D::SETTINGS.theme,
    );
    Reply::html(StatusCode::OK, html).no_cache()
}

pub(crate) fn error<D: AuthDefinition>(
    core: &Core<D>,
    segment: Option<&str>,
    context: &RequestContext<'_>,
) -> Reply {
    let base = &core.settings.base;
    let code = context
        .query("error")
        .or_else(|| segment.map(str::to_owned))
        .unwrap_or_default();
    if let Some(known) = SIGNIN_ERRORS.iter().find(|known| **known == code) {
        return Reply::redirect(
            format!("{}?error={known}", base.endpoint("signin")),
            false,
            StatusCode::FOUND,
        );
    }
    if let Some(page) = D::SETTINGS.pages.error {
        return Reply::redirect(with_param(page, "error", &code), false, StatusCode::FOUND);
    }
    let status = match code.to_ascii_lowercase().as_str() {
        "configuration" => StatusCode::INTERNAL_SERVER_ERROR,
        "accessdenied" | "verification" => StatusCode::FORBIDDEN,
        _ => StatusCode::OK,
    };
    Reply::html(
        status,
        pages::error(
            &code,
            base.origin(),
            &base.endpoint("signin"),
            &D::SETTINGS.theme,
        ),
    )
}

pub(crate) fn verify_request<D: AuthDefinition>(core: &Core<D>) -> Reply {
    if let Some(page) = D::SETTINGS.pages.verify_request {
        return Reply::redirect(page.to_owned(), false, StatusCode::FOUND);
    }
    Reply::html(
        StatusCode::OK,
        pages::verify_request(core.settings.base.origin(), &D::SETTINGS.theme),
    )
}
