//! The framework-free engine: `http::Request` in, `http::Response` out.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};

use crate::body::RequestBody;
use crate::cookies::{self, CookieError, Lifetime, RequestCookies};
use crate::csrf::{self, CsrfToken};
use crate::definition::AuthDefinition;
use crate::error::{ConfigError, RequestError};
use crate::handlers;
use crate::protocol::reply::Reply;
use crate::protocol::route::{self, Action};
use crate::session_version::SessionVersions;
use crate::settings::{Overrides, Settings};
use crate::token::TokenCodec;

/// The authentication engine for one application definition `D`.
///
/// `next_auth!` generates `D` and the alias `type Auth = auth_runtime::Auth<NextAuth>`. The engine
/// is cheap to clone (one `Arc`) and serves NextAuth v4's REST API through [`Auth::handle`], or
/// through [`Auth::router`] in axum.
///
/// ```
/// use auth_runtime::{User, next_auth};
///
/// next_auth! {
///     providers: [
///         Credentials {
///             id: "anon",
///             name: "Anonymous",
///             credentials: {},
///             authorize: |_credentials| Ok(Some(User::with_id("guest"))),
///         },
///     ],
/// }
///
/// let auth = Auth::builder(())
///     .secret("a-secret-of-at-least-32-characters!!")
///     .url("http://127.0.0.1:3000/api/auth")
///     .build()
///     .unwrap();
/// assert_eq!(auth.settings().base_url().as_str(), "http://127.0.0.1:3000/api/auth");
/// ```
pub struct Auth<D: AuthDefinition> {
    inner: Arc<Inner<D>>,
}

pub(crate) struct Inner<D: AuthDefinition> {
    pub state: D::State,
    pub settings: Settings,
    pub codec: TokenCodec,
    /// Session versions (sign-out everywhere), when a store is configured.
    pub versions: Option<Arc<dyn SessionVersions>>,
    /// `GET /providers` never changes, so its body is built once.
    pub providers_json: Bytes,
    /// The guest store, its upgrade hook and the trusted proxy (feature `guests`).
    #[cfg(feature = "guests")]
    pub guests: Option<crate::handlers::guests::GuestSetup<D::State>>,
    /// The OAuth and OpenID Connect providers, their HTTP client and check cookies.
    #[cfg(feature = "oauth")]
    pub oauth: crate::providers::OAuthClients,
}

impl<D: AuthDefinition> Clone for Auth<D> {
    fn clone(&self) -> Self {
        Auth {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<D: AuthDefinition> std::fmt::Debug for Auth<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("url", &self.inner.settings.base.as_str())
            .field(
                "providers",
                &D::PROVIDERS.iter().map(|p| p.id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Builds an [`Auth`]; settings not given here come from the environment (`AUTH_SECRET` or
/// `NEXTAUTH_SECRET`, `AUTH_URL` or `NEXTAUTH_URL`), then from the macro, then from defaults.
pub struct AuthBuilder<D: AuthDefinition> {
    state: D::State,
    overrides: Overrides,
    versions: Option<Arc<dyn SessionVersions>>,
    oauth: crate::providers::Overrides,
    #[cfg(feature = "guests")]
    guests: GuestOptions<D::State>,
}

#[cfg(feature = "guests")]
struct GuestOptions<S: 'static> {
    store: Option<Arc<dyn crate::guests::GuestStore>>,
    hook: Option<Box<crate::handlers::guests::StateHook<S>>>,
    store_hook: Option<Box<dyn crate::guests::UpgradeHook>>,
    proxy: crate::guests::TrustedProxy,
}

#[cfg(feature = "guests")]
impl<S> Default for GuestOptions<S> {
    fn default() -> Self {
        GuestOptions {
            store: None,
            hook: None,
            store_hook: None,
            proxy: crate::guests::TrustedProxy::None,
        }
    }
}

/// The address of the client's connection, for the guest creation limits. The axum glue puts
/// it in the request's extensions when the app is served with
/// `into_make_service_with_connect_info::<SocketAddr>()`; callers of [`Auth::handle`] may
/// insert it themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::SocketAddr);

#[cfg(feature = "guests")]
impl<D: AuthDefinition> AuthBuilder<D> {
    /// The guest store (feature `guests`): Anonymous providers create their guests in it, every
    /// sign-in of a guest upgrades it (Promoted or Merged) and links identities, and guest
    /// sessions end once their guest is upgraded. Pass an `Arc` of the store (the application
    /// may keep its own clone, e.g. for [`SqliteGuestStore::pool`](crate::guests::SqliteGuestStore::pool)).
    ///
    /// With a store, the user id of a real sign-in is the store's: the promoted guest's id, or
    /// the user the identity (provider id, provider account id) already belongs to.
    pub fn guests(mut self, store: Arc<dyn crate::guests::GuestStore>) -> Self {
        self.guests.store = Some(store);
        self
    }

    /// The application's upgrade hook, with its state: moves the guest's data (the cart) inside
    /// the store's transaction when a guest signs in. If it fails, nothing changes and the guest
    /// keeps its session; the sign-in answers `UpgradeFailed`.
    ///
    /// ```no_run
    /// # use auth_runtime::{User, next_auth};
    /// # use auth_runtime::guests::{GuestTx, UpgradeOutcome};
    /// # next_auth! { providers: [Anonymous {}] }
    /// let builder = Auth::builder(()).upgrade_hook(|outcome, tx, _state| {
    ///     Box::pin(async move {
    ///         let (UpgradeOutcome::Merged { guest_id, into }, GuestTx::Sqlite(tx)) = (outcome, tx) else {
    ///             return Ok(());
    ///         };
    ///         sqlx::query("UPDATE carts SET owner = $1 WHERE owner = $2")
    ///             .bind(into).bind(guest_id).execute(&mut **tx).await?;
    ///         Ok(())
    ///     })
    /// });
    /// ```
    pub fn upgrade_hook<F>(mut self, hook: F) -> Self
    where
        F: for<'a> Fn(
                &'a crate::guests::UpgradeOutcome,
                crate::guests::GuestTx<'a>,
                &'a D::State,
            ) -> crate::guests::HookFuture<'a>
            + Send
            + Sync
            + 'static,
    {
        self.guests.hook = Some(Box::new(hook));
        self
    }

    /// An upgrade hook that needs no application state (a [`UpgradeHook`](crate::guests::UpgradeHook)
    /// value); [`AuthBuilder::upgrade_hook`] wins if both are set.
    pub fn store_upgrade_hook(mut self, hook: impl crate::guests::UpgradeHook + 'static) -> Self {
        self.guests.store_hook = Some(Box::new(hook));
        self
    }

    /// Which address is the client's for the guest creation limits: the connection's (the
    /// default), or the one a trusted proxy puts in a header.
    pub fn trusted_proxy(mut self, proxy: crate::guests::TrustedProxy) -> Self {
        self.guests.proxy = proxy;
        self
    }
}

impl<D: AuthDefinition> AuthBuilder<D> {
    /// The secret that signs session tokens and CSRF cookies (at least 16 bytes; 32 random bytes
    /// recommended).
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.overrides.secrets = Some(vec![secret.into()]);
        self
    }

    /// Several secrets at once, newest first, for rotation: the first signs session tokens and
    /// CSRF cookies, every one verifies them, and a session token signed with an older secret
    /// is re-issued under the newest on its next read (at most 8; each at least 16 bytes).
    /// The environment equivalent is `AUTH_SECRET` (newest) plus `AUTH_SECRET_1`,
    /// `AUTH_SECRET_2`, ... (older).
    pub fn secrets<I, S>(mut self, secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.overrides.secrets = Some(secrets.into_iter().map(Into::into).collect());
        self
    }

    /// Tolerance for clock skew between servers when checking a token's `exp`, `nbf` and `iat`,
    /// in seconds (default 15, as NextAuth; at most 300).
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.overrides.leeway = Some(seconds);
        self
    }

    /// The `iss` claim session tokens carry and must carry (default: the public origin).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.overrides.issuer = Some(issuer.into());
        self
    }

    /// The `aud` claim session tokens carry and must carry (default: the auth API's URL, so a
    /// token minted for one deployment is refused by another sharing its secret).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.overrides.audience = Some(audience.into());
        self
    }

    /// Turns on sign-out everywhere: tokens carry their user's session version, every session
    /// read checks it against `store`, and [`Auth::sign_out_everywhere`] ends every session of
    /// a user. Without a store nothing is checked (see `SECURITY.md`).
    pub fn session_versions(mut self, store: impl SessionVersions) -> Self {
        self.versions = Some(Arc::new(store));
        self
    }

    /// The public URL of the auth API, e.g. `https://shop.example/api/auth`.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.overrides.url = Some(url.into());
        self
    }

    /// Session lifetime in seconds (default 30 days).
    pub fn max_age(mut self, seconds: u64) -> Self {
        self.overrides.max_age = Some(seconds);
        self
    }

    /// How old a session token must be before a read renews it (default 24 hours; 0 renews on
    /// every read, as NextAuth does).
    pub fn update_age(mut self, seconds: u64) -> Self {
        self.overrides.update_age = Some(seconds);
        self
    }

    /// The largest request body accepted, in bytes (default 64 KiB).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.overrides.max_body_bytes = Some(bytes);
        self
    }

    /// The client id and secret of the OAuth provider `provider`, instead of `AUTH_<ID>_ID` and
    /// `AUTH_<ID>_SECRET` or the values written in `next_auth!`.
    pub fn oauth_client(
        mut self,
        provider: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.oauth.clients.insert(
            provider.to_owned(),
            (client_id.into(), client_secret.into()),
        );
        self
    }

    /// The issuer URL of the OpenID Connect provider `provider`, instead of `AUTH_<ID>_ISSUER` or
    /// the value written in `next_auth!`.
    pub fn oauth_issuer(mut self, provider: &str, issuer: impl Into<String>) -> Self {
        self.oauth
            .issuers
            .insert(provider.to_owned(), issuer.into());
        self
    }

    /// How long one request to an OAuth provider may take, connecting included (default 10 s).
    /// A provider that does not answer in time fails the sign-in with `OAuthSignin` or
    /// `OAuthCallback`.
    pub fn oauth_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.oauth.timeout = Some(timeout);
        self
    }

    /// Resolves the settings and builds the engine.
    ///
    /// Without a secret, a debug build generates one and warns; a release build returns
    /// [`ConfigError::MissingSecret`].
    pub fn build(self) -> Result<Auth<D>, ConfigError> {
        let settings = Settings::resolve(
            D::SETTINGS,
            self.overrides,
            |name| std::env::var(name).ok(),
            cfg!(debug_assertions),
        )?;
        let codec = TokenCodec::with_secrets(
            &settings.secrets,
            settings.token_options(self.versions.is_some()),
        );
        let providers_json = handlers::providers_json(D::PROVIDERS, &settings.base);
        #[cfg(feature = "oauth")]
        let oauth = crate::providers::OAuthClients::build(
            D::PROVIDERS,
            &self.oauth,
            |name| std::env::var(name).ok(),
            &settings.base,
            &settings.secret,
            settings.secure,
        )?;
        #[cfg(not(feature = "oauth"))]
        if let Some(p) = D::PROVIDERS
            .iter()
            .find(|p| p.kind == crate::definition::ProviderKind::OAuth)
        {
            let _ = &self.oauth;
            return Err(ConfigError::ProviderSetting {
                provider: p.id.to_owned(),
                variable: "features".to_owned(),
                reason: "auth-runtime was built without its `oauth` feature".to_owned(),
            });
        }
        // Limits written in the macro, or set in the environment (`AUTH_GUEST_*`, which wins),
        // replace the store's own configuration.
        #[cfg(feature = "guests")]
        let guest_limits =
            match D::SETTINGS.guest_limits.is_set() || crate::guests::Limits::set_in_env() {
                true => Some(
                    crate::guests::Limits::default()
                        .configured(&D::SETTINGS.guest_limits)
                        .map_err(|error| ConfigError::InvalidSetting {
                            name: "guest limits",
                            reason: error.to_string(),
                        })?,
                ),
                false => None,
            };
        #[cfg(feature = "guests")]
        let guests = self
            .guests
            .store
            .map(|store| crate::handlers::guests::GuestSetup {
                store,
                hook: self.guests.hook,
                store_hook: self.guests.store_hook,
                proxy: self.guests.proxy,
                limits: guest_limits,
                warned_no_peer: std::sync::atomic::AtomicBool::new(false),
            });
        #[cfg(feature = "guests")]
        let has_store = guests.is_some();
        #[cfg(not(feature = "guests"))]
        let has_store = false;
        if let Some(p) = D::PROVIDERS
            .iter()
            .find(|p| p.kind == crate::definition::ProviderKind::Anonymous)
            .filter(|_| !has_store)
        {
            let reason = if cfg!(feature = "guests") {
                "an Anonymous provider creates its guests in a guest store: call \
                 `AuthBuilder::guests(Arc::new(SqliteGuestStore::open(\"guests.db\").await?))` \
                 (or a PostgresGuestStore for several app servers)"
            } else {
                "an Anonymous provider needs a guest store: enable auth-runtime's `guests` feature \
                 and call `AuthBuilder::guests(..)`"
            };
            return Err(ConfigError::ProviderSetting {
                provider: p.id.to_owned(),
                variable: "guests".to_owned(),
                reason: reason.to_owned(),
            });
        }
        Ok(Auth {
            inner: Arc::new(Inner {
                state: self.state,
                settings,
                codec,
                versions: self.versions,
                providers_json,
                #[cfg(feature = "guests")]
                guests,
                #[cfg(feature = "oauth")]
                oauth,
            }),
        })
    }
}

impl<D: AuthDefinition> Auth<D> {
    /// Starts building an engine around the application state the callbacks receive.
    pub fn builder(state: D::State) -> AuthBuilder<D> {
        AuthBuilder {
            state,
            overrides: Overrides::default(),
            versions: None,
            oauth: crate::providers::Overrides::default(),
            #[cfg(feature = "guests")]
            guests: GuestOptions::default(),
        }
    }

    /// An engine configured from the environment alone (see [`AuthBuilder`]).
    pub fn new(state: D::State) -> Result<Self, ConfigError> {
        Self::builder(state).build()
    }

    /// The application state the callbacks receive.
    pub fn state(&self) -> &D::State {
        &self.inner.state
    }

    /// The resolved settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The session of a request, as an application handler sees it: the `jwt` and `session`
    /// callbacks run (as for `GET /session`), nothing is written back. `None` without a valid
    /// session.
    pub async fn session(&self, headers: &http::HeaderMap) -> Option<(D::Session, D::Token)> {
        let cookies = request_cookies(headers)?;
        handlers::read_session(self, &cookies).await
    }

    /// As [`Auth::session`], with the guest id when the session is a guest's (an Anonymous
    /// provider's sign-in), `None` for a signed-in user.
    pub async fn session_of(
        &self,
        headers: &http::HeaderMap,
    ) -> Option<(D::Session, D::Token, Option<String>)> {
        let cookies = request_cookies(headers)?;
        handlers::read_session_of(self, &cookies).await
    }

    /// The verified session token of a request, without running any callback. This does not
    /// consult the session version store; [`Auth::verified_token`] does.
    pub fn token(&self, headers: &http::HeaderMap) -> Option<D::Token> {
        let cookies = request_cookies(headers)?;
        handlers::read_token(self, &cookies)
    }

    /// The verified session token of a request, without running any callback, its session
    /// version checked against the store when sign-out everywhere is configured.
    pub async fn verified_token(&self, headers: &http::HeaderMap) -> Option<D::Token> {
        let cookies = request_cookies(headers)?;
        handlers::read_checked_token(self, &cookies).await
    }

    /// Signs a session token as a sign-in would, stamping `iat = issued_at`, `exp = issued_at +
    /// max_age` and a fresh `jti`. For sessions created outside the REST API, and for tests.
    ///
    /// ```
    /// # use auth_runtime::{TokenClaims, User, next_auth};
    /// # next_auth! { providers: [Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(Some(User::with_id("g"))) }] }
    /// let auth = Auth::builder(()).secret("0123456789abcdef0123456789abcdef").build().unwrap();
    /// let mut token = Token::from_user(&User::with_id("guest-1"));
    /// let jwt = auth.encode_session_token(&mut token, 1_800_000_000).unwrap();
    /// assert_eq!(token.exp, Some(1_800_000_000 + 30 * 24 * 3600));
    /// assert_eq!(jwt.split('.').count(), 3);
    /// ```
    pub fn encode_session_token(
        &self,
        token: &mut D::Token,
        issued_at: i64,
    ) -> Result<String, crate::TokenError> {
        self.inner
            .codec
            .encode(token, issued_at, self.inner.settings.max_age)
    }

    /// Ends every session of `user_id` (the `User::id` its sign-ins produced) on every server:
    /// the next read of any token minted before this call signs it out. Needs a store
    /// ([`AuthBuilder::session_versions`]); returns the user's new session version.
    pub async fn sign_out_everywhere(
        &self,
        user_id: &str,
    ) -> Result<u64, crate::session_version::SessionVersionError> {
        match &self.inner.versions {
            Some(versions) => versions.bump(user_id).await,
            None => Err(crate::session_version::SessionVersionError(
                "no session version store is configured (AuthBuilder::session_versions)".into(),
            )),
        }
    }

    pub(crate) fn inner(&self) -> &Inner<D> {
        &self.inner
    }

    /// Serves one request of the auth API. The path may include the base path
    /// (`/api/auth/session`) or be relative to it (`/session`).
    ///
    /// Never panics on input and never answers a 5xx for a malformed request.
    pub async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        self.reply(request).await.into_response()
    }

    async fn reply(&self, request: Request<Bytes>) -> Reply {
        let settings = &self.inner.settings;
        let (parts, body) = request.into_parts();
        let Some(route) = route::route(parts.uri.path(), settings.base.path()) else {
            return Reply::unsupported(&parts.method);
        };
        if !route.action.allows(&parts.method) {
            return Reply::unsupported(&parts.method);
        }

        let cookie_headers = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        let cookies = match RequestCookies::parse(cookie_headers) {
            Ok(cookies) => cookies,
            Err(CookieError::HeaderTooLarge) => {
                return handlers::bad_request(
                    settings,
                    StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                    &CookieError::HeaderTooLarge.to_string(),
                );
            }
        };

        let body = if parts.method == Method::POST {
            match parse_body(&parts.headers, &body, settings.max_body_bytes) {
                Ok(body) => body,
                Err(error) => {
                    let status = match error {
                        RequestError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                        RequestError::UnsupportedContentType(_) => {
                            StatusCode::UNSUPPORTED_MEDIA_TYPE
                        }
                        _ => StatusCode::BAD_REQUEST,
                    };
                    return handlers::bad_request(settings, status, &error.to_string());
                }
            }
        } else {
            RequestBody::default()
        };

        if route.action == Action::Log {
            return handlers::log(&body);
        }
        if route.action == Action::Providers {
            return Reply::json(StatusCode::OK, self.inner.providers_json.clone());
        }

        let query = parts.uri.query().unwrap_or_default();
        // A session read uses neither the CSRF token nor the callback URL; it only keeps their
        // cookies in place, so it skips verifying and resolving what is already there.
        let session_read = route.action == Action::Session && parts.method == Method::GET;
        let mut context = RequestContext::init(
            settings,
            &cookies,
            &body,
            query,
            &parts.headers,
            session_read,
        );
        context.peer = parts.extensions.get::<ClientAddr>().map(|a| a.0.ip());
        let mut reply = handlers::dispatch(self, &parts.method, route, &context, &cookies).await;
        // The init step's cookies go first so that a handler's own cookie of the same name wins.
        let mut all = context.queued_cookies;
        all.append(&mut reply.cookies);
        reply.cookies = all;
        reply
    }
}

fn request_cookies(headers: &http::HeaderMap) -> Option<RequestCookies<'_>> {
    RequestCookies::parse(
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
    .ok()
}

fn parse_body(
    headers: &http::HeaderMap,
    body: &Bytes,
    limit: usize,
) -> Result<RequestBody, RequestError> {
    if body.len() > limit {
        return Err(RequestError::BodyTooLarge { limit });
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/x-www-form-urlencoded" => RequestBody::from_form(body),
        "application/json" => RequestBody::from_json(body),
        "" if body.is_empty() => Ok(RequestBody::default()),
        "" => RequestBody::from_form(body),
        _ if essence.ends_with("+json") => RequestBody::from_json(body),
        _ => Err(RequestError::UnsupportedContentType(
            content_type.chars().take(100).collect(),
        )),
    }
}

/// What NextAuth's "init" step computes for every action: the CSRF token and the callback URL.
pub(crate) struct RequestContext<'r> {
    pub body: &'r RequestBody,
    /// The request's headers (for a trusted proxy's client address).
    #[cfg_attr(not(feature = "guests"), allow(dead_code))]
    pub headers: &'r http::HeaderMap,
    /// The connection's peer address, when the server provides it ([`ClientAddr`]).
    #[cfg_attr(not(feature = "guests"), allow(dead_code))]
    pub peer: Option<std::net::IpAddr>,
    pub query: &'r str,
    pub csrf: CsrfToken,
    pub callback_url: String,
    pub queued_cookies: Vec<String>,
}

impl<'r> RequestContext<'r> {
    fn init(
        settings: &Settings,
        cookies: &RequestCookies<'_>,
        body: &'r RequestBody,
        query: &'r str,
        headers: &'r http::HeaderMap,
        read_only: bool,
    ) -> Self {
        let names = &settings.cookies;
        let mut queued_cookies = Vec::new();
        if read_only
            && cookies.contains(&names.csrf_token)
            && cookies.contains(&names.callback_url)
            && !query.contains("callbackUrl")
        {
            let csrf = CsrfToken {
                token: String::new(),
                new_cookie: None,
                from_cookie: false,
            };
            let callback_url = String::new();
            return RequestContext {
                body,
                headers,
                peer: None,
                query,
                csrf,
                callback_url,
                queued_cookies,
            };
        }
        let csrf = csrf::bootstrap(cookies.get(&names.csrf_token).as_deref(), &settings.secrets);
        if let Some(value) = &csrf.new_cookie {
            queued_cookies.push(cookies::set_cookie(
                &names.csrf_token,
                value,
                Lifetime::Session,
                settings.secure,
            ));
        }
        let cookie_url = cookies.get(&names.callback_url);
        let query_url = query_param(query, "callbackUrl");
        let candidate = body
            .get("callbackUrl")
            .map(str::to_owned)
            .or(query_url)
            .or_else(|| cookie_url.as_deref().map(str::to_owned));
        let callback_url = match candidate {
            Some(candidate) => settings.base.resolve_redirect(&candidate),
            None => settings.base.origin().to_owned(),
        };
        if cookie_url.as_deref() != Some(callback_url.as_str()) {
            queued_cookies.push(cookies::set_cookie(
                &names.callback_url,
                &callback_url,
                Lifetime::Session,
                settings.secure,
            ));
        }
        RequestContext {
            body,
            headers,
            peer: None,
            query,
            csrf,
            callback_url,
            queued_cookies,
        }
    }

    /// Whether the POST carried the right `csrfToken` for a valid CSRF cookie.
    pub fn csrf_verified(&self) -> bool {
        csrf::submitted_matches(&self.csrf, self.body.get("csrfToken"))
    }

    /// A query parameter, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        query_param(self.query, name)
    }
}

/// The first value of `name` in a query string.
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
