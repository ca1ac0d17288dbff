//! One handler per endpoint of the REST API.

mod credentials;
#[cfg(feature = "oauth")]
mod oauth;
mod pages;
mod session;
mod signout;

use bytes::Bytes;
use http::{Method, StatusCode};

use crate::base_url::BaseUrl;
use crate::body::RequestBody;
use crate::cookies::RequestCookies;
use crate::definition::{AuthDefinition, ProviderInfo};
use crate::engine::{Auth, RequestContext};
use crate::protocol::reply::Reply;
use crate::protocol::route::{Action, Route};
use crate::settings::Settings;

pub(crate) use session::{read_checked_token, read_session, read_token};

pub(crate) async fn dispatch<D: AuthDefinition>(
    auth: &Auth<D>,
    method: &Method,
    route: Route<'_>,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let post = method == Method::POST;
    match route.action {
        Action::Csrf => Reply::json_value(
            StatusCode::OK,
            &serde_json::json!({ "csrfToken": context.csrf.token }),
        )
        .no_cache(),
        Action::Session if post => session::update(auth, context, cookies).await,
        Action::Session => session::get(auth, cookies).await,
        #[cfg(feature = "oauth")]
        Action::SignIn if post && oauth::is_oauth::<D>(route.provider) => {
            oauth::signin(auth, route.provider.unwrap_or_default(), context).await
        }
        Action::SignIn if post => credentials::signin_post(auth, route.provider, context),
        Action::SignIn => pages::signin(auth, context),
        #[cfg(feature = "oauth")]
        Action::Callback if oauth::is_oauth::<D>(route.provider) => {
            let id = route.provider.unwrap_or_default();
            oauth::callback(auth, id, post, context, cookies).await
        }
        Action::Callback if post => {
            credentials::callback(auth, route.provider, context, cookies).await
        }
        Action::Callback => credentials::callback_get(auth, route.provider),
        Action::SignOut if post => signout::post(auth, context, cookies),
        Action::SignOut => pages::signout(auth, context),
        Action::Error => pages::error(auth, route.provider, context),
        Action::VerifyRequest => pages::verify_request(auth),
        // Answered before the init step, as NextAuth does; kept total for the compiler.
        Action::Providers => Reply::json(StatusCode::OK, auth.inner().providers_json.clone()),
        Action::Log => log(context.body),
    }
}

/// The body of `GET /providers`: `{ id: { id, name, type, signinUrl, callbackUrl } }`.
pub(crate) fn providers_json(providers: &[ProviderInfo], base: &BaseUrl) -> Bytes {
    let map: serde_json::Map<String, serde_json::Value> = providers
        .iter()
        .map(|p| {
            let value = serde_json::json!({
                "id": p.id,
                "name": p.name,
                "type": p.kind.as_str(),
                "signinUrl": base.endpoint(&format!("signin/{}", p.id)),
                "callbackUrl": base.endpoint(&format!("callback/{}", p.id)),
            });
            (p.id.to_owned(), value)
        })
        .collect();
    Bytes::from(serde_json::to_vec(&map).unwrap_or_else(|_| b"{}".to_vec()))
}

/// A request the engine cannot parse: JSON that the client's `signIn()` turns into an error.
pub(crate) fn bad_request(settings: &Settings, status: StatusCode, message: &str) -> Reply {
    Reply::json_value(
        status,
        &serde_json::json!({
            "error": "BadRequest",
            "message": message,
            "url": format!("{}?error=BadRequest", settings.base.endpoint("error")),
        }),
    )
}

/// `POST /_log`: the browser client's error beacon. Logged with bounded fields, answered empty.
pub(crate) fn log(body: &RequestBody) -> Reply {
    let field = |name: &str| {
        body.get(name)
            .map(|v| v.chars().take(500).collect::<String>())
            .unwrap_or_default()
    };
    tracing::warn!(
        target: "auth_runtime::client",
        level = %field("level"),
        code = %field("code"),
        message = %field("message"),
        "next-auth client reported an error"
    );
    Reply::new(StatusCode::OK)
}

/// An absolute URL under the API with an `error` query, as the client parses it.
pub(crate) fn error_url(base: &BaseUrl, code: &str, provider: Option<&str>) -> String {
    let mut url = format!(
        "{}?error={}",
        base.endpoint("error"),
        encode_component(code)
    );
    if let Some(provider) = provider {
        url.push_str("&provider=");
        url.push_str(&encode_component(provider));
    }
    url
}

/// `encodeURIComponent`.
pub(crate) fn encode_component(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
