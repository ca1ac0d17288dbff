//! One thin handler per endpoint of the REST API: parse what the request says, call the session
//! layer, write the reply.

pub(crate) mod core;
mod pages;
mod session;
mod sign_in;
mod signout;

use http::{Method, StatusCode};

use crate::body::RequestBody;
use crate::cookies::RequestCookies;
use crate::definition::{AuthDefinition, ProviderId, ProviderInfo};
use crate::handlers::core::Core;
use crate::log_budget::{LogBudget, Verdict, sanitized};
use crate::protocol::reply::Reply;
use crate::protocol::request::RequestContext;
use crate::protocol::route::{Action, Route};

/// The client's address for the per-client limits: the connection's (or the trusted proxy's
/// header), or `None` when the app was served without connection info.
pub(crate) fn client_key(
    proxy: &crate::rate_limit::TrustedProxy,
    context: &RequestContext<'_>,
) -> Option<crate::rate_limit::ClientKey> {
    context
        .peer
        .map(|peer| crate::rate_limit::ClientKey::from_ip(proxy.client_ip(peer, context.headers)))
}

/// What a request limited by the attempt buckets says for itself: its CAPTCHA token and the
/// client's address.
pub(crate) fn proof<'r, D: AuthDefinition>(
    core: &Core<D>,
    context: &RequestContext<'r>,
) -> crate::attempts::Proof<'r> {
    #[cfg(feature = "captcha")]
    let token = crate::captcha::token_from(context.headers, Some(context.body));
    #[cfg(not(feature = "captcha"))]
    let token = None;
    let ip = context
        .peer
        .map(|peer| core.proxy.client_ip(peer, context.headers));
    crate::attempts::Proof::new(token, ip)
}

/// The provider `id` names, with its description.
pub(crate) fn provider_info<D: AuthDefinition>(
    id: Option<&str>,
) -> Option<(D::Provider, &'static ProviderInfo)> {
    let id = id?;
    let provider = D::Provider::from_id(id)?;
    let info = D::PROVIDERS.iter().find(|p| p.id == id)?;
    Some((provider, info))
}

pub(crate) async fn dispatch<D: AuthDefinition>(
    core: &Core<D>,
    method: &Method,
    route: Route<'_>,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let post = method == Method::POST;
    if matches!(route.action, Action::SignIn | Action::Callback)
        && let Some(id) = route.provider
        && core.enabled.is_off(id)
    {
        return Reply::json_value(
            StatusCode::NOT_FOUND,
            &serde_json::json!({
                "error": "ProviderDisabled",
                "message": format!("the provider `{}` is not enabled on this server", sanitized(id, 64)),
            }),
        );
    }
    match route.action {
        Action::Csrf => Reply::json_value(
            StatusCode::OK,
            &serde_json::json!({ "csrfToken": context.csrf.token }),
        )
        .no_cache(),
        Action::Session if post => session::update(core, context, cookies).await,
        Action::Session => session::get(core, cookies).await,
        Action::SignIn if post => sign_in::start(core, route.provider, context, cookies).await,
        Action::SignIn => pages::signin(core, context),
        Action::Callback => sign_in::finish(core, route.provider, post, context, cookies).await,
        Action::WebAuthnOptions => sign_in::options(core, route.provider, context, cookies).await,
        Action::SignOut if post => signout::post(core, context, cookies).await,
        Action::SignOut => pages::signout(core, context),
        Action::Error => pages::error(core, route.provider, context),
        Action::VerifyRequest => pages::verify_request(core),
        // Answered before the init step, as NextAuth does; kept total for the compiler.
        Action::Providers => Reply::json(StatusCode::OK, core.providers_json.clone()),
        Action::Log => log(context.body, &core.client_log),
    }
}

/// `POST /_log`: the browser client's error beacon, answered empty. Anyone can call it, so what
/// reaches the log is bounded: 200 characters per field with control characters escaped, and
/// at most 10 lines a second (a burst of 20); the count of lines left out goes with the next.
/// The client's words are printed quoted, under `client_*` names the server never uses, so a
/// beacon cannot write `provider=password outcome=ok` that reads as the server's own fields.
pub(crate) fn log(body: &RequestBody, budget: &LogBudget) -> Reply {
    let dropped = match budget.take() {
        Verdict::Write { dropped } => dropped,
        Verdict::Drop => return Reply::new(StatusCode::OK),
    };
    // Debug-quoted: control characters, quotes and backslashes escaped inside the quotes.
    let field = |name: &str| -> String {
        body.get(name)
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect()
    };
    tracing::warn!(
        target: "auth_runtime::client",
        client_level = ?field("level"),
        client_code = ?field("code"),
        client_message = ?field("message"),
        dropped_since_last = dropped,
        "next-auth client reported an error"
    );
    Reply::new(StatusCode::OK)
}
