//! [`AuthBuilder`]: settings from code, the environment, the macro and defaults, resolved into
//! an engine.

use std::sync::Arc;

use crate::definition::AuthDefinition;
use crate::error::ConfigError;
use crate::session_version::SessionVersions;
use crate::sessions::codec::ClaimRules;
use crate::sessions::{SessionCodec, Sessions};
use crate::settings::{Overrides, Settings};
use crate::tokens::TokenFormat;

use super::{Auth, Core};

/// Builds an [`Auth`]; settings not given here come from the environment (`AUTH_SECRET` or
/// `NEXTAUTH_SECRET`, `AUTH_URL` or `NEXTAUTH_URL`), then from the macro, then from defaults.
pub struct AuthBuilder<D: AuthDefinition> {
    state: D::State,
    overrides: Overrides,
    versions: Option<Arc<dyn SessionVersions>>,
    oauth: crate::providers::Overrides,
    proxy: crate::rate_limit::TrustedProxy,
    attempt_limits: Option<crate::attempts::AttemptLimits>,
    attempt_buckets: Option<Arc<dyn crate::rate_limit::RateBuckets>>,
    #[cfg(feature = "captcha")]
    captcha: Option<crate::captcha::CaptchaConfig>,
    enabled: Vec<String>,
    #[cfg(feature = "sqlx-store")]
    adapter: Option<Arc<dyn crate::adapter::Adapter>>,
    #[cfg(feature = "email")]
    email_hook: Option<Arc<dyn crate::providers::email::SendVerificationRequest>>,
    #[cfg(feature = "email")]
    email_limits: Option<crate::providers::email::EmailLimits>,
    #[cfg(feature = "email")]
    email_server: Option<(String, String)>,
    #[cfg(feature = "email")]
    email_timeout: Option<std::time::Duration>,
    #[cfg(feature = "guests")]
    guests: GuestOptions<D::State>,
}

impl<D: AuthDefinition> AuthBuilder<D> {
    pub(super) fn new(state: D::State) -> Self {
        AuthBuilder {
            state,
            overrides: Overrides::default(),
            versions: None,
            oauth: crate::providers::Overrides::default(),
            proxy: crate::rate_limit::TrustedProxy::None,
            attempt_limits: None,
            attempt_buckets: None,
            #[cfg(feature = "captcha")]
            captcha: None,
            enabled: Vec::new(),
            #[cfg(feature = "sqlx-store")]
            adapter: None,
            #[cfg(feature = "email")]
            email_hook: None,
            #[cfg(feature = "email")]
            email_limits: None,
            #[cfg(feature = "email")]
            email_server: None,
            #[cfg(feature = "email")]
            email_timeout: None,
            #[cfg(feature = "guests")]
            guests: GuestOptions::default(),
        }
    }
}

#[cfg(feature = "guests")]
struct GuestOptions<S: 'static> {
    store: Option<Arc<dyn crate::guests::GuestStore>>,
    hook: Option<Box<crate::sessions::guests::StateHook<S>>>,
    store_hook: Option<Box<dyn crate::guests::UpgradeHook>>,
}

#[cfg(feature = "guests")]
impl<S> Default for GuestOptions<S> {
    fn default() -> Self {
        GuestOptions {
            store: None,
            hook: None,
            store_hook: None,
        }
    }
}

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
}

impl<D: AuthDefinition> AuthBuilder<D> {
    /// Which address is the client's for the per-client limits (guest creations, password
    /// attempts): the connection's (the default), or the one a trusted proxy puts in a header.
    pub fn trusted_proxy(mut self, proxy: crate::rate_limit::TrustedProxy) -> Self {
        self.proxy = proxy;
        self
    }

    /// How many Credentials sign-ins a client, and an identifier, may try (default
    /// [`AttemptLimits::default`](crate::attempts::AttemptLimits)), instead of what `next_auth!` wrote;
    /// the `AUTH_CREDENTIALS_*` variables still override it, for load tests.
    pub fn attempt_limits(mut self, limits: crate::attempts::AttemptLimits) -> Self {
        self.attempt_limits = Some(limits);
        self
    }

    /// The CAPTCHA that guards guest creation, magic links and password attempts (on every
    /// one, or once a budget runs out: [`CaptchaMode`](crate::captcha::CaptchaMode)), instead
    /// of what `next_auth!` wrote; the `AUTH_CAPTCHA_*` variables still override it.
    ///
    /// ```
    /// use auth_runtime::captcha::{CaptchaConfig, CaptchaMode, CaptchaProvider};
    ///
    /// let config = CaptchaConfig::new(CaptchaProvider::Turnstile, "0x4AAAAAAA-secret")
    ///     .with_mode(CaptchaMode::WhenLimited);
    /// # fn takes<D: auth_runtime::AuthDefinition>(b: auth_runtime::AuthBuilder<D>, c: CaptchaConfig) -> auth_runtime::AuthBuilder<D> {
    /// #     b.captcha(c)
    /// # }
    /// assert_eq!(config.mode(), CaptchaMode::WhenLimited);
    /// ```
    #[cfg(feature = "captcha")]
    pub fn captcha(mut self, config: crate::captcha::CaptchaConfig) -> Self {
        self.captcha = Some(config);
        self
    }

    /// Where the attempt limits count, when not in the guest store's database (the default
    /// with a guest store) or in this process (without one): any shared
    /// [`RateBuckets`](crate::rate_limit::RateBuckets).
    pub fn attempt_buckets(mut self, buckets: Arc<dyn crate::rate_limit::RateBuckets>) -> Self {
        self.attempt_buckets = Some(buckets);
        self
    }

    /// Turns on the provider `id`, declared `optional: true` in `next_auth!`, whatever the
    /// environment says (an OAuth provider still needs its client id and secret).
    pub fn enable_provider(mut self, id: impl Into<String>) -> Self {
        self.enabled.push(id.into());
        self
    }

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

    /// Where sessions live, instead of `AUTH_SESSION_STRATEGY` or the macro's `strategy`
    /// (default [`SessionStrategy::Jwt`](crate::definition::SessionStrategy::Jwt)). The database strategy
    /// needs an adapter: [`AuthBuilder::adapter`], or the guest store's database.
    pub fn session_strategy(mut self, strategy: crate::definition::SessionStrategy) -> Self {
        self.overrides.strategy = Some(strategy);
        self
    }

    /// The adapter database sessions and their users live in (features `sqlite`, `postgres`),
    /// used when the strategy is `database`. Without one, the guest store's database is used;
    /// without a guest store either, a debug build keeps them in memory (and warns) and a
    /// release build refuses to start.
    ///
    /// ```
    /// # use auth_runtime::{User, next_auth};
    /// # next_auth! { strategy: "database", providers: [Credentials { id: "pw", credentials: {}, authorize: |_c| Ok(Some(User::with_id("u"))) }] }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use auth_runtime::adapter::SqliteAdapter;
    ///
    /// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    /// let auth = Auth::builder(())
    ///     .secret("0123456789abcdef0123456789abcdef")
    ///     .adapter(Arc::new(SqliteAdapter::new(pool).await.unwrap()))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(auth.settings().strategy(), auth_runtime::SessionStrategy::Database);
    /// # });
    /// ```
    #[cfg(feature = "sqlx-store")]
    pub fn adapter(mut self, adapter: Arc<dyn crate::adapter::Adapter>) -> Self {
        self.adapter = Some(adapter);
        self
    }

    /// Delivers the Email provider's sign-in links with the application's own code instead of
    /// SMTP (`AUTH_EMAIL_SERVER`): a mail API, a template. Its error is answered `EmailSignin`
    /// and the link withdrawn; so is a hook still running at the
    /// [`email_timeout`](AuthBuilder::email_timeout).
    #[cfg(feature = "email")]
    pub fn send_verification_request(
        mut self,
        hook: impl crate::providers::email::SendVerificationRequest,
    ) -> Self {
        self.email_hook = Some(Arc::new(hook));
        self
    }

    /// The SMTP server (`smtp://user:password@host:587`, `smtps://..`) and sender
    /// (`Shop <no-reply@shop.example>`) of the Email provider's sign-in mails, instead of
    /// `AUTH_EMAIL_SERVER` and `AUTH_EMAIL_FROM`.
    #[cfg(feature = "email")]
    pub fn email_server(mut self, server: impl Into<String>, from: impl Into<String>) -> Self {
        self.email_server = Some((server.into(), from.into()));
        self
    }

    /// How long one sign-in mail may take, all of it (the SMTP connection, the server's
    /// greeting, each command and the message; or the
    /// [`send_verification_request`](AuthBuilder::send_verification_request) hook), instead of
    /// `AUTH_EMAIL_TIMEOUT_S` or the default 10 s. A mail not sent by then is abandoned, its
    /// connection closed, its link withdrawn, and the sign-in answered `EmailSignin`. Keep it
    /// shorter than the server's request timeout (`ServeConfig::request_timeout`, 30 s), so the
    /// visitor sees that error page rather than a timeout.
    ///
    /// ```
    /// use std::time::Duration;
    /// # use auth_runtime::next_auth;
    /// # next_auth! { providers: [Email {}] }
    /// let builder = Auth::builder(()).email_timeout(Duration::from_secs(5));
    /// # drop(builder);
    /// ```
    #[cfg(feature = "email")]
    pub fn email_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.email_timeout = Some(timeout);
        self
    }

    /// Limits on the Email provider's sign-in mails, instead of the `AUTH_EMAIL_PER_*`
    /// variables or the defaults ([`EmailLimits`](crate::providers::email::EmailLimits)).
    #[cfg(feature = "email")]
    pub fn email_limits(mut self, limits: crate::providers::email::EmailLimits) -> Self {
        self.email_limits = Some(limits);
        self
    }

    /// How session tokens are written and read, instead of `AUTH_TOKEN_FORMAT` or the macro's
    /// `token_format` (default [`TokenFormat::NextAuthV4`]). Every format reads tokens under
    /// each of the [`secrets`](AuthBuilder::secrets), for rotation.
    pub fn token_format(mut self, format: TokenFormat) -> Self {
        self.overrides.token_format = Some(format);
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

    /// Lets redirects (the `callbackUrl`, the `redirect` callback's answer, a `sign_in`
    /// redirect) go to this other origin as well as the app's own, e.g.
    /// `https://docs.shop.example`. Every other URL still resolves to the app's origin.
    pub fn allow_redirect_origin(mut self, origin: impl Into<String>) -> Self {
        self.overrides.redirect_origins.push(origin.into());
        self
    }

    /// Logs each protocol step of each request (a `tracing` span per request with a request id;
    /// never a secret, a token or a password), instead of `AUTH_DEBUG` or the macro's `debug`.
    pub fn debug(mut self, on: bool) -> Self {
        self.overrides.debug = Some(on);
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

    /// The OAuth 2.0 endpoints of the plain OAuth provider `provider` (`OAuth { .. }` or the
    /// `GitHub { .. }` preset), instead of the URLs written in `next_auth!` or the preset's:
    /// where the browser signs in, where the code is exchanged for tokens, and where the
    /// profile is read with the access token. For GitHub Enterprise Server, a staging identity
    /// provider, or a local stand-in in tests.
    ///
    /// [`build`](AuthBuilder::build) returns [`ConfigError::ProviderSetting`] (variable
    /// `oauth_endpoints...`) when a URL is not an absolute `http` or `https` URL with a host (or
    /// has credentials or a fragment in it), when no provider `provider` is declared, and when
    /// it is an OpenID Connect provider (`Oidc { .. }`, `Google { .. }`), whose endpoints come
    /// from its issuer's discovery document: give it [`oauth_issuer`](AuthBuilder::oauth_issuer)
    /// instead. Calling it again for the same provider replaces the earlier endpoints.
    ///
    /// ```no_run
    /// # use auth_runtime::next_auth;
    /// # next_auth! { providers: [GitHub {}] }
    /// // GitHub Enterprise Server: the same protocol as github.com, at another host.
    /// let auth = Auth::builder(())
    ///     .oauth_client("github", "client-id", "client-secret")
    ///     .oauth_endpoints(
    ///         "github",
    ///         "https://github.example.com/login/oauth/authorize",
    ///         "https://github.example.com/login/oauth/access_token",
    ///         "https://github.example.com/api/v3/user",
    ///     )
    ///     .build()?;
    /// # Ok::<(), auth_runtime::ConfigError>(())
    /// ```
    pub fn oauth_endpoints(
        mut self,
        provider: &str,
        authorization_url: impl Into<String>,
        token_url: impl Into<String>,
        userinfo_url: impl Into<String>,
    ) -> Self {
        self.oauth.endpoints.insert(
            provider.to_owned(),
            crate::providers::Endpoints {
                authorization_url: authorization_url.into(),
                token_url: token_url.into(),
                userinfo_url: userinfo_url.into(),
            },
        );
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
        let codec = SessionCodec::new(
            settings.token_format,
            &settings.secrets,
            &settings.cookies.session_token,
            ClaimRules::of(&settings),
        );
        self.oauth.check_against(D::PROVIDERS)?;
        let env = |name: &str| std::env::var(name).ok();
        #[cfg(feature = "oauth")]
        let given_client = |id: &str| self.oauth.clients.contains_key(id);
        #[cfg(not(feature = "oauth"))]
        let given_client = |_: &str| false;
        let enabled = crate::providers::EnabledProviders::resolve(
            D::PROVIDERS,
            &self.enabled,
            |id| {
                given_client(id)
                    || env(&crate::providers::env_variable(id, "ID"))
                        .is_some_and(|v| !v.trim().is_empty())
            },
            env,
        )?;
        let providers_json =
            crate::protocol::reply::providers_json(enabled.providers(), &settings.base);
        #[cfg(feature = "oauth")]
        let oauth = Arc::new(crate::providers::OAuthClients::build(
            enabled.providers(),
            &self.oauth,
            |name| std::env::var(name).ok(),
            &settings.base,
            &settings.secret,
            settings.secure,
        )?);
        #[cfg(not(feature = "oauth"))]
        if let Some(p) = enabled
            .providers()
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
        let attempt_limits = match self.attempt_limits {
            Some(limits) => limits.configured(&Default::default()),
            None => {
                crate::attempts::AttemptLimits::default().configured(&D::SETTINGS.attempt_limits)
            }
        }
        .map_err(|error| ConfigError::InvalidSetting {
            name: "credentials attempt limits",
            reason: error.to_string(),
        })?;
        let gate = captcha_gate::<D>(
            #[cfg(feature = "captcha")]
            self.captcha,
        )?;
        #[cfg(feature = "guests")]
        let attempt_buckets = self.attempt_buckets.or_else(|| {
            let store = self.guests.store.clone()?;
            store.rate_buckets()
        });
        #[cfg(not(feature = "guests"))]
        let attempt_buckets = self.attempt_buckets;
        #[cfg(feature = "guests")]
        let guests = self
            .guests
            .store
            .map(|store| crate::sessions::guests::GuestSetup {
                store,
                hook: self.guests.hook,
                store_hook: self.guests.store_hook,
                limits: guest_limits,
                refusal_log: crate::log_budget::LogBudget::new(5, 20),
            });
        #[cfg(feature = "guests")]
        let guest_store = guests
            .as_ref()
            .map(|setup| (Arc::clone(&setup.store), setup.limits));
        #[cfg(feature = "guests")]
        let has_store = guests.is_some();
        #[cfg(not(feature = "guests"))]
        let has_store = false;
        if let Some(p) = enabled
            .providers()
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
        let email_provider = enabled
            .providers()
            .iter()
            .find(|p| p.kind == crate::definition::ProviderKind::Email);
        let in_database = settings.strategy == crate::definition::SessionStrategy::Database;
        #[cfg(feature = "sqlx-store")]
        let passkey_provider = enabled
            .providers()
            .iter()
            .any(|p| p.kind == crate::definition::ProviderKind::WebAuthn);
        // One adapter for database sessions and e-mail links: the one given, else the guest
        // store's database.
        #[cfg(feature = "sqlx-store")]
        let adapter = {
            #[cfg(feature = "guests")]
            let from_guests = guests.as_ref().and_then(|setup| setup.store.adapter());
            #[cfg(not(feature = "guests"))]
            let from_guests = None;
            match self.adapter.or(from_guests) {
                Some(adapter) => Some(adapter),
                None if in_database || email_provider.is_some() || passkey_provider => {
                    Some(fallback_adapter()?)
                }
                None => None,
            }
        };
        // Passkeys keep their users and authenticators in the same store.
        #[cfg(feature = "passkey")]
        let passkey_adapter = adapter.clone();
        #[cfg(feature = "sqlx-store")]
        let database = adapter.clone().filter(|_| in_database).map(|adapter| {
            crate::sessions::database::DatabaseSessions::new(adapter, settings.max_age)
        });
        #[cfg(feature = "email")]
        let email = match (email_provider, adapter) {
            (Some(provider), Some(adapter)) => {
                let env = |name: &str| std::env::var(name).ok();
                let limits =
                    match self.email_limits {
                        Some(limits) => limits,
                        None => crate::providers::email::EmailLimits::from_env(env).map_err(
                            |error| ConfigError::InvalidSetting {
                                name: "e-mail limits",
                                reason: error.to_string(),
                            },
                        )?,
                    };
                Some(crate::providers::email::Email {
                    mailer: crate::providers::email::Mailer::configure(
                        provider.id,
                        self.email_hook,
                        self.email_timeout,
                        |name: &str| match (&self.email_server, name) {
                            (Some((server, _)), "AUTH_EMAIL_SERVER") => Some(server.clone()),
                            (Some((_, from)), "AUTH_EMAIL_FROM") => Some(from.clone()),
                            _ => env(name),
                        },
                        cfg!(debug_assertions),
                    )?,
                    adapter,
                    limits,
                    max_age: crate::providers::email::DEFAULT_LINK_MAX_AGE,
                })
            }
            _ => None,
        };
        #[cfg(not(feature = "email"))]
        if let Some(provider) = email_provider {
            return Err(ConfigError::ProviderSetting {
                provider: provider.id.to_owned(),
                variable: "features".to_owned(),
                reason: "auth-runtime was built without its `email` feature".to_owned(),
            });
        }
        #[cfg(not(feature = "sqlx-store"))]
        if in_database {
            return Err(ConfigError::InvalidSetting {
                name: "strategy",
                reason: "database sessions need an adapter: enable auth-runtime's `sqlite` or \
                         `postgres` feature"
                    .to_owned(),
            });
        }
        let sessions = Sessions::new(
            codec,
            self.versions,
            #[cfg(feature = "sqlx-store")]
            database,
            #[cfg(feature = "guests")]
            guests,
            #[cfg(feature = "oauth")]
            Arc::clone(&oauth),
        );
        let devices = crate::attempts::device::DeviceCookies::new(
            &settings.secrets,
            settings.cookies.device.clone(),
            settings.secure,
        );
        let methods = register_methods::<D>(
            enabled.providers(),
            #[cfg(feature = "guests")]
            guest_store,
            #[cfg(feature = "email")]
            email,
            #[cfg(feature = "oauth")]
            &oauth,
            #[cfg(feature = "passkey")]
            (&settings, passkey_adapter),
        )?;
        Ok(Auth::from_core(Core {
            state: self.state,
            settings,
            sessions,
            providers_json,
            client_log: crate::log_budget::LogBudget::new(10, 20),
            proxy: self.proxy,
            enabled,
            attempts: crate::attempts::Attempts::new(
                attempt_limits,
                attempt_buckets,
                devices,
                gate,
            ),
            methods,
        }))
    }
}

/// The sign-in method of each provider on: the one place the runtime matches on a provider's
/// kind. A kind whose parts are missing was refused above, with the reason.
fn register_methods<D: AuthDefinition>(
    providers: &[crate::definition::ProviderInfo],
    #[cfg(feature = "guests")] guest_store: Option<(
        Arc<dyn crate::guests::GuestStore>,
        Option<crate::guests::Limits>,
    )>,
    #[cfg(feature = "email")] mut email: Option<crate::providers::email::Email>,
    #[cfg(feature = "oauth")] oauth: &Arc<crate::providers::OAuthClients>,
    #[cfg(feature = "passkey")] passkey: (&Settings, Option<Arc<dyn crate::adapter::Adapter>>),
) -> Result<crate::providers::method::Methods<D>, ConfigError> {
    use crate::definition::ProviderKind;
    use crate::providers::method::SignInMethod;
    let mut methods = crate::providers::method::Methods::default();
    for info in providers {
        let method: Box<dyn SignInMethod<D>> = match info.kind {
            ProviderKind::Credentials => {
                Box::new(crate::providers::credentials::Credentials::new())
            }
            #[cfg(feature = "guests")]
            ProviderKind::Anonymous => match &guest_store {
                Some((store, limits)) => Box::new(crate::providers::anonymous::Anonymous::new(
                    Arc::clone(store),
                    *limits,
                )),
                None => continue,
            },
            #[cfg(feature = "email")]
            ProviderKind::Email => match email.take() {
                Some(email) => Box::new(email),
                None => continue,
            },
            #[cfg(feature = "oauth")]
            ProviderKind::OAuth => Box::new(crate::providers::oauth::OAuth::new(Arc::clone(oauth))),
            #[cfg(feature = "passkey")]
            ProviderKind::WebAuthn => match &passkey.1 {
                Some(adapter) => Box::new(crate::providers::passkey::Passkey::configure(
                    info.id,
                    passkey.0,
                    Arc::clone(adapter),
                    |name: &str| std::env::var(name).ok(),
                )?),
                None => continue,
            },
            #[allow(unreachable_patterns)]
            kind => {
                return Err(ConfigError::ProviderSetting {
                    provider: info.id.to_owned(),
                    variable: "features".to_owned(),
                    reason: format!(
                        "auth-runtime was built without the feature that serves `{}` providers",
                        kind.as_str()
                    ),
                });
            }
        };
        methods.register(info.id, method);
    }
    Ok(methods)
}

/// The CAPTCHA in front of the limits (see [`captcha_config`]), checked and ready.
#[cfg(feature = "captcha")]
fn captcha_gate<D: AuthDefinition>(
    given: Option<crate::captcha::CaptchaConfig>,
) -> Result<crate::attempts::gate::Gate, ConfigError> {
    let config = captcha_config(D::SETTINGS.captcha, given, |name: &str| {
        std::env::var(name).ok()
    })?;
    let captcha = config
        .map(crate::captcha::Captcha::new)
        .transpose()
        .map_err(|error| captcha_error(error.to_string()))?;
    Ok(crate::attempts::gate::Gate::new(captcha))
}

/// The CAPTCHA's configuration: the one given to the builder, else the one `next_auth!` wrote
/// (its secret from `AUTH_CAPTCHA_SECRET`), else the one `AUTH_CAPTCHA_PROVIDER` names; the
/// `AUTH_CAPTCHA_*` variables laid over it. `AUTH_CAPTCHA_PROVIDER=off` turns any of them off
/// (with no other `AUTH_CAPTCHA_*` variable beside it, which would be ignored).
#[cfg(feature = "captcha")]
fn captcha_config(
    written: crate::definition::CaptchaSettings,
    given: Option<crate::captcha::CaptchaConfig>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<crate::captcha::CaptchaConfig>, ConfigError> {
    use crate::captcha::CaptchaConfig;
    let set = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    if set("AUTH_CAPTCHA_PROVIDER").is_some_and(|value| value.trim().eq_ignore_ascii_case("off")) {
        if let Some(ignored) = CaptchaConfig::VARIABLES[1..]
            .iter()
            .find(|name| set(name).is_some())
        {
            return Err(captcha_error(format!(
                "{ignored} is set while AUTH_CAPTCHA_PROVIDER=off turns the CAPTCHA off"
            )));
        }
        return Ok(None);
    }
    let config = match (given, written.provider) {
        (Some(config), _) => Some(config.apply_env(&env)),
        (None, Some(provider)) => {
            let provider = provider
                .parse()
                .map_err(|e| captcha_error(format!("{e}")))?;
            // The secret is never written in code: the environment's is laid over this one.
            let mut config = CaptchaConfig::new(provider, "");
            if let Some(mode) = written.mode {
                let mode = mode.parse().map_err(|e| captcha_error(format!("{e}")))?;
                config = config.with_mode(mode);
            }
            if let Some(percent) = written.min_score_percent {
                config = config.with_min_score(f64::from(percent) / 100.0);
            }
            Some(config.apply_env(&env))
        }
        (None, None) => CaptchaConfig::from_env(&env).transpose(),
    };
    config
        .transpose()
        .map_err(|error| captcha_error(error.to_string()))
}

#[cfg(feature = "captcha")]
fn captcha_error(reason: String) -> ConfigError {
    ConfigError::InvalidSetting {
        name: "captcha",
        reason,
    }
}

/// Without the `captcha` feature a CAPTCHA written in `next_auth!` cannot be honoured.
#[cfg(not(feature = "captcha"))]
fn captcha_gate<D: AuthDefinition>() -> Result<crate::attempts::gate::Gate, ConfigError> {
    match D::SETTINGS.captcha.provider {
        Some(_) => Err(ConfigError::InvalidSetting {
            name: "captcha",
            reason: "auth-runtime was built without its `captcha` feature".to_owned(),
        }),
        None => Ok(crate::attempts::gate::Gate::default()),
    }
}

/// The adapter of a database strategy given none: in memory in a debug build (lost at exit,
/// one process), a configuration error in a release build, as a missing secret is.
#[cfg(feature = "sqlx-store")]
fn fallback_adapter() -> Result<Arc<dyn crate::adapter::Adapter>, ConfigError> {
    let missing = || ConfigError::InvalidSetting {
        name: "strategy",
        reason: "database sessions need an adapter: call `AuthBuilder::adapter` (an SqliteAdapter \
                 or PostgresAdapter on your pool) or `AuthBuilder::guests` with a guest store"
            .to_owned(),
    };
    #[cfg(feature = "sqlite")]
    if cfg!(debug_assertions) {
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        tracing::warn!(
            "the database session strategy has no adapter: sessions are kept in memory and lost \
             when the process exits; call AuthBuilder::adapter (a release build refuses to start)"
        );
        // One connection, never closed once opened: an in-memory database lives as long as its
        // connection. (Lazy, and no minimum to maintain: `build` may run outside a runtime.)
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .test_before_acquire(false)
            .connect_lazy_with(SqliteConnectOptions::new().in_memory(true));
        return Ok(Arc::new(crate::adapter::SqlAdapter::lazy(pool)));
    }
    Err(missing())
}

#[cfg(all(test, feature = "captcha"))]
mod tests {
    use super::*;
    use crate::captcha::{CaptchaMode, CaptchaProvider};
    use crate::definition::CaptchaSettings;

    const WRITTEN: CaptchaSettings = CaptchaSettings {
        provider: Some("recaptcha"),
        mode: Some("when-limited"),
        min_score_percent: Some(70),
    };

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_macros_captcha_takes_its_secret_from_the_environment() {
        let config = captcha_config(WRITTEN, None, env(&[("AUTH_CAPTCHA_SECRET", "s3cret")]))
            .unwrap()
            .unwrap();
        assert_eq!(config.provider(), CaptchaProvider::ReCaptchaV3);
        assert_eq!(config.mode(), CaptchaMode::WhenLimited);
        assert!((config.min_score() - 0.7).abs() < 1e-9);
        // Without a secret it does not start, and says which variable is missing.
        let error = captcha_config(WRITTEN, None, env(&[])).unwrap_err();
        assert!(error.to_string().contains("AUTH_CAPTCHA_SECRET"), "{error}");
        // Nothing written, nothing set: no CAPTCHA.
        let none = captcha_config(CaptchaSettings::default(), None, env(&[])).unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn off_in_the_environment_turns_off_what_the_code_configured() {
        let off = [("AUTH_CAPTCHA_PROVIDER", "off")];
        assert!(captcha_config(WRITTEN, None, env(&off)).unwrap().is_none());
        let given = crate::captcha::CaptchaConfig::new(CaptchaProvider::Turnstile, "s3cret");
        assert!(
            captcha_config(WRITTEN, Some(given), env(&off))
                .unwrap()
                .is_none()
        );
        // A variable that `off` would ignore is an error, not ignored.
        let ignored = [
            ("AUTH_CAPTCHA_PROVIDER", "OFF"),
            ("AUTH_CAPTCHA_MODE", "always"),
        ];
        let error = captcha_config(WRITTEN, None, env(&ignored)).unwrap_err();
        assert!(error.to_string().contains("AUTH_CAPTCHA_MODE"), "{error}");
    }
}
