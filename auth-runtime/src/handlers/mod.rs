//! One handler per endpoint of the REST API.

mod credentials;
#[cfg(feature = "guests")]
pub(crate) mod guests;
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

pub(crate) use session::{read_checked_token, read_session, read_session_of, read_token};

/// Who a real sign-in signs in as: with a guest store, the store's user (the promoted guest, or
/// the owner of the identity); without one, the provider's user id.
pub(crate) struct Resolved {
    /// The user id to sign in as.
    pub user_id: String,
    /// What happened to the browser's guest, if it was one and this request upgraded it.
    pub upgrade: Option<crate::user::GuestUpgrade>,
    /// Set-Cookie headers to add (the rotated CSRF token after an upgrade).
    pub cookies: Vec<String>,
}

impl Resolved {
    #[cfg_attr(feature = "guests", allow(dead_code))]
    pub(crate) fn unchanged(user_id: &str) -> Self {
        Resolved {
            user_id: user_id.to_owned(),
            upgrade: None,
            cookies: Vec::new(),
        }
    }
}

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
        #[cfg(feature = "guests")]
        Action::Callback if post && is_anonymous::<D>(route.provider) => {
            let id = route.provider.unwrap_or_default();
            let info = D::PROVIDERS.iter().find(|p| p.id == id);
            match (crate::definition::ProviderId::from_id(id), info) {
                (Some(provider), Some(info)) if context.csrf_verified() => {
                    guests::anonymous_callback(auth, provider, info, context, cookies).await
                }
                _ => credentials::callback(auth, route.provider, context, cookies).await,
            }
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

/// Whether `provider` names a configured Anonymous provider.
#[cfg(feature = "guests")]
fn is_anonymous<D: AuthDefinition>(provider: Option<&str>) -> bool {
    provider.is_some_and(|id| {
        D::PROVIDERS
            .iter()
            .any(|p| p.id == id && p.kind == crate::definition::ProviderKind::Anonymous)
    })
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
