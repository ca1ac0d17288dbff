//! The guest store wired into the engine (feature `guests`): the Anonymous provider's callback,
//! the upgrade every sign-in goes through, and the guest check of session reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::StatusCode;

use crate::callback::CallbackError;
use crate::clock;
use crate::cookies::{self, RequestCookies};
use crate::definition::{AuthDefinition, ProviderInfo, TokenClaims};
use crate::engine::{Auth, RequestContext};
use crate::guests::{
    ClientKey, CreateGuest, GuestError, GuestStore, GuestTx, HookFuture, Identity, Limits, NoHook,
    TrustedProxy, UpgradeHook, UpgradeOutcome,
};
use crate::handlers::{Resolved, error_url};
use crate::protocol::reply::Reply;
use crate::session_version;
use crate::user::{Account, GuestUpgrade, JwtEvent, User};

/// The application's upgrade hook, typed with its state: moves the guest's data (the cart)
/// inside the store's transaction. See [`AuthBuilder::upgrade_hook`](crate::AuthBuilder::upgrade_hook).
pub type StateHook<S> =
    dyn for<'a> Fn(&'a UpgradeOutcome, GuestTx<'a>, &'a S) -> HookFuture<'a> + Send + Sync;

/// The guest store and its settings, as the engine holds them.
pub(crate) struct GuestSetup<S: 'static> {
    pub store: Arc<dyn GuestStore>,
    pub hook: Option<Box<StateHook<S>>>,
    pub store_hook: Option<Box<dyn UpgradeHook>>,
    pub proxy: TrustedProxy,
    /// The limits written in `next_auth!` (with the environment over them), if any: they take
    /// the place of the store's own.
    pub limits: Option<Limits>,
    /// Whether "no client address" was logged already (it is logged once).
    pub warned_no_peer: AtomicBool,
}

/// The state-typed hook bound to the state, as the store takes it.
struct Bound<'s, S: 'static> {
    hook: &'s StateHook<S>,
    state: &'s S,
}

impl<S: Send + Sync + 'static> UpgradeHook for Bound<'_, S> {
    fn on_upgrade<'a>(&'a self, outcome: &'a UpgradeOutcome, tx: GuestTx<'a>) -> HookFuture<'a> {
        (self.hook)(outcome, tx, self.state)
    }
}

impl From<UpgradeOutcome> for GuestUpgrade {
    fn from(outcome: UpgradeOutcome) -> Self {
        match outcome {
            UpgradeOutcome::Promoted { user_id } => GuestUpgrade::Promoted { user_id },
            UpgradeOutcome::Merged { guest_id, into } => GuestUpgrade::Merged { guest_id, into },
        }
    }
}

/// A sign-in the guest store refused: the error code for the client and the status.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub code: &'static str,
    pub status: StatusCode,
    pub retry_after: Option<u64>,
}

impl Refusal {
    fn from_error(error: &GuestError, stage: &str) -> Self {
        let (code, status) = match error {
            GuestError::RateLimited { .. } => ("RateLimited", StatusCode::TOO_MANY_REQUESTS),
            GuestError::Unavailable(_) => {
                ("GuestStoreUnavailable", StatusCode::SERVICE_UNAVAILABLE)
            }
            GuestError::Hook(_) => ("UpgradeFailed", StatusCode::INTERNAL_SERVER_ERROR),
            _ => ("Callback", StatusCode::INTERNAL_SERVER_ERROR),
        };
        match error {
            GuestError::RateLimited { .. } => {
                tracing::info!(target: "auth_runtime::guests", %error, stage, "guest creation refused");
            }
            _ => {
                tracing::error!(target: "auth_runtime::guests", %error, stage, "guest store failed")
            }
        }
        Refusal {
            code,
            status,
            retry_after: error.retry_after_secs(),
        }
    }

    /// JSON `{ url, error }` whatever the client asked for: the status carries the meaning
    /// (429, 503), and `signIn()` turns the `error` of the URL into `{ ok: false, error }`.
    pub fn reply(&self, base: &crate::base_url::BaseUrl, provider: &str) -> Reply {
        let mut reply = Reply::json_value(
            self.status,
            &serde_json::json!({
                "url": error_url(base, self.code, Some(provider)),
                "error": self.code,
            }),
        );
        reply.retry_after = self.retry_after;
        reply
    }
}

/// What the guest check of a session read found.
pub(crate) enum GuestCheck {
    /// A guest of the store, not upgraded (or the store could not say: sessions keep working
    /// while it is down).
    Active,
    /// Upgraded or removed: the guest session is over.
    Gone,
}

/// Checks the guest `id` of a session being read, and records its activity for cleanup. Only
/// guest sessions pay for it ([`GuestStore::check_active`]).
pub(crate) async fn check_guest(store: &dyn GuestStore, id: &str) -> GuestCheck {
    match store.check_active(id).await {
        Ok(true) => GuestCheck::Active,
        Ok(false) => GuestCheck::Gone,
        Err(error) => {
            tracing::warn!(target: "auth_runtime::guests", %error, "cannot check a guest session; keeping it");
            GuestCheck::Active
        }
    }
}

/// The client's address for the per-client limit: the connection's (or the trusted proxy's
/// header), or `None` when the app was served without connection info.
fn client_key<S>(setup: &GuestSetup<S>, context: &RequestContext<'_>) -> Option<ClientKey> {
    match context.peer {
        Some(peer) => Some(ClientKey::from_ip(
            setup.proxy.client_ip(peer, context.headers),
        )),
        None => {
            if !setup.warned_no_peer.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    target: "auth_runtime::guests",
                    "no client address on requests (serve the app with \
                     `into_make_service_with_connect_info::<SocketAddr>()`): guest creation is \
                     limited by the global budget only"
                );
            }
            None
        }
    }
}

/// `POST /callback/:id` for an Anonymous provider: the browser's guest, or a new one.
pub(crate) async fn anonymous_callback<D: AuthDefinition>(
    auth: &Auth<D>,
    provider: D::Provider,
    info: &'static ProviderInfo,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let inner = auth.inner();
    let settings = &inner.settings;
    let base = &settings.base;
    let json = context.body.wants_json();
    let Some(setup) = &inner.guests else {
        return Reply::redirect(
            error_url(base, "Configuration", None),
            json,
            StatusCode::INTERNAL_SERVER_ERROR,
        );
    };
    let previous = crate::handlers::session::read_checked_decoded(auth, cookies).await;
    let guest_id = match previous.as_ref().and_then(|d| d.guest.clone()) {
        // Already a guest of this store (checked by the read): the same guest, no new row.
        Some(id) => id,
        None => {
            let client = client_key(setup, context);
            // The CSRF token is this browser's secret: concurrent double-submits share it, so
            // they get one guest.
            let key = format!("csrf:{}", context.csrf.token);
            let request = CreateGuest {
                client: client.clone(),
                key: Some(&key),
                limits: setup.limits,
            };
            let created = match setup.store.create(request).await {
                // The key's guest was upgraded since: a new guest, without the key.
                Err(GuestError::AlreadyUpgraded { .. }) => {
                    let request = CreateGuest {
                        client,
                        key: None,
                        limits: setup.limits,
                    };
                    setup.store.create(request).await
                }
                other => other,
            };
            match created {
                Ok(created) => created.guest.id,
                Err(error) => {
                    return Refusal::from_error(&error, "create").reply(base, info.id);
                }
            }
        }
    };

    let user = User::with_id(guest_id.clone());
    let token = D::Token::from_user(&user);
    let event = JwtEvent::SignIn {
        provider,
        user,
        account: Account::new(info.id, "anonymous", guest_id.clone()),
        profile: None,
        previous: previous.map(|d| d.claims),
        upgrade: None,
    };
    let mut token = match D::jwt(token, event, &inner.state).await {
        Ok(token) => token,
        Err(error) => return super::credentials::failure(base, "jwt", &error, json),
    };
    let version = match session_version::at_sign_in(inner.versions.as_deref(), &guest_id).await {
        Ok(version) => version,
        Err(error) => {
            let error = CallbackError::internal(error);
            return super::credentials::failure(base, "session version", &error, json);
        }
    };
    let now = clock::now();
    let jwt = match inner.codec.encode_session(
        &mut token,
        now,
        settings.max_age,
        version.as_ref(),
        Some(&guest_id),
    ) {
        Ok(jwt) => jwt,
        Err(error) => {
            let error = CallbackError::internal(error);
            return super::credentials::failure(base, "encode", &error, json);
        }
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
    tracing::info!(provider = info.id, "guest signed in");
    Reply::redirect(context.callback_url.clone(), json, StatusCode::OK).with_cookies(set)
}

/// Every real sign-in goes through here: a guest is upgraded (Promoted or Merged) with the
/// application's hook, in one transaction; a sign-in without a guest links its identity so that
/// a later guest with that identity merges. Without a store, the user id is the provider's.
pub(crate) async fn resolve_sign_in<D: AuthDefinition>(
    auth: &Auth<D>,
    identity: Identity,
    user_id: &str,
    previous_guest: Option<&str>,
) -> Result<Resolved, Refusal> {
    let inner = auth.inner();
    let Some(setup) = &inner.guests else {
        return Ok(Resolved {
            user_id: user_id.to_owned(),
            upgrade: None,
            cookies: Vec::new(),
        });
    };
    let store = &*setup.store;
    if let Some(guest_id) = previous_guest {
        let result = match (&setup.hook, &setup.store_hook) {
            (Some(hook), _) => {
                let bound = Bound {
                    hook: &**hook,
                    state: &inner.state,
                };
                store.upgrade(guest_id, &identity, &bound).await
            }
            (None, Some(hook)) => store.upgrade(guest_id, &identity, &**hook).await,
            (None, None) => store.upgrade(guest_id, &identity, &NoHook).await,
        };
        match result {
            Ok(outcome) => {
                // The guest's other sessions stop working: the store now says "upgraded" to
                // every server's session read, and the session version moves on as well.
                if let Some(versions) = &inner.versions
                    && let Err(error) = versions.bump(guest_id).await
                {
                    tracing::warn!(%error, "could not bump the upgraded guest's session version");
                }
                let settings = &inner.settings;
                let csrf = crate::csrf::bootstrap(None, &settings.secrets);
                let cookies = csrf
                    .new_cookie
                    .map(|value| {
                        cookies::set_cookie(
                            &settings.cookies.csrf_token,
                            &value,
                            cookies::Lifetime::Session,
                            settings.secure,
                        )
                    })
                    .into_iter()
                    .collect();
                return Ok(Resolved {
                    user_id: outcome.user_id().to_owned(),
                    upgrade: Some(outcome.into()),
                    cookies,
                });
            }
            // A concurrent double-submit won: sign in as the user it produced.
            Err(GuestError::AlreadyUpgraded { .. }) => match store.user_for(&identity).await {
                Ok(Some(owner)) => {
                    return Ok(Resolved {
                        user_id: owner,
                        upgrade: None,
                        cookies: Vec::new(),
                    });
                }
                Ok(None) => {}
                Err(error) => return Err(Refusal::from_error(&error, "user_for")),
            },
            // The guest was cleaned up meanwhile: a plain sign-in.
            Err(GuestError::NotFound { .. }) => {}
            Err(error) => return Err(Refusal::from_error(&error, "upgrade")),
        }
    }
    match store.link_identity(&identity, user_id).await {
        Ok(owner) => Ok(Resolved {
            user_id: owner,
            upgrade: None,
            cookies: Vec::new(),
        }),
        Err(error) => Err(Refusal::from_error(&error, "link_identity")),
    }
}
