//! Guests in the session layer (feature `guests`): a guest session lasts while its guest is a
//! guest, and every real sign-in of a guest upgrades it (Promoted or Merged) before the session
//! is issued.

use std::sync::Arc;

use crate::guests::{
    GuestError, GuestStore, GuestTx, HookFuture, Identity, Limits, NoHook, UpgradeHook,
    UpgradeOutcome,
};
use crate::log_budget::LogBudget;
use crate::refusal::Refusal;
use crate::settings::Settings;
use crate::user::GuestUpgrade;

/// The application's upgrade hook, typed with its state: moves the guest's data (the cart)
/// inside the store's transaction. See [`AuthBuilder::upgrade_hook`](crate::AuthBuilder::upgrade_hook).
pub type StateHook<S> =
    dyn for<'a> Fn(&'a UpgradeOutcome, GuestTx<'a>, &'a S) -> HookFuture<'a> + Send + Sync;

/// The guest store and its settings, as the engine holds them.
pub(crate) struct GuestSetup<S: 'static> {
    pub store: Arc<dyn GuestStore>,
    pub hook: Option<Box<StateHook<S>>>,
    pub store_hook: Option<Box<dyn UpgradeHook>>,
    /// The limits written in `next_auth!` (with the environment over them), if any: they take
    /// the place of the store's own.
    pub limits: Option<Limits>,
    /// How many refusals and store failures reach the log (a flood of refused creations must
    /// not become a flood of log lines).
    pub refusal_log: LogBudget,
}

impl<S> GuestSetup<S> {
    /// The refusal for `error`, logged within the budget.
    pub fn refuse(&self, error: &GuestError, stage: &str) -> Refusal {
        Refusal::of_guest_store(error, stage, &self.refusal_log)
    }
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

/// Whether the guest `id` of a session being read is still a guest, recording its activity for
/// cleanup. Only guest sessions pay for it ([`GuestStore::check_active`]). A store that cannot
/// answer keeps the session: guests keep shopping while it is down.
pub(crate) async fn is_active(store: &dyn GuestStore, id: &str) -> bool {
    match crate::telemetry::timed("guests", "check_active", store.check_active(id)).await {
        Ok(active) => active,
        Err(error) => {
            tracing::warn!(target: "auth_runtime::guests", %error, "cannot check a guest session; keeping it");
            true
        }
    }
}

/// Records that guest `id` was seen (a renewal of its database session); a store that cannot
/// answer costs the guest nothing now.
pub(crate) async fn record_activity(store: &dyn GuestStore, id: &str) {
    if let Err(error) = store.touch(id).await {
        tracing::debug!(target: "auth_runtime::guests", %error, "could not record guest activity");
    }
}

/// Who a real sign-in signs in as.
pub(crate) struct Resolved {
    /// The user id to sign in as.
    pub user_id: String,
    /// What happened to the browser's guest, if this request upgraded it.
    pub upgrade: Option<GuestUpgrade>,
    /// Set-Cookie headers to add (the rotated CSRF token after an upgrade).
    pub cookies: Vec<String>,
}

/// Every real sign-in goes through here: a guest is upgraded (Promoted or Merged) with the
/// application's hook, in one transaction; a sign-in without a guest links its identity so that
/// a later guest with that identity merges.
pub(crate) async fn resolve_sign_in<S: Send + Sync + 'static>(
    setup: &GuestSetup<S>,
    state: &S,
    settings: &Settings,
    identity: Identity,
    user_id: &str,
    previous_guest: Option<&str>,
) -> Result<Resolved, Refusal> {
    let store = &*setup.store;
    if let Some(guest_id) = previous_guest {
        let result = match (&setup.hook, &setup.store_hook) {
            (Some(hook), _) => {
                let bound = Bound {
                    hook: &**hook,
                    state,
                };
                let upgrade = store.upgrade(guest_id, &identity, &bound);
                crate::telemetry::timed("guests", "upgrade", upgrade).await
            }
            (None, Some(hook)) => store.upgrade(guest_id, &identity, &**hook).await,
            (None, None) => store.upgrade(guest_id, &identity, &NoHook).await,
        };
        match result {
            Ok(outcome) => {
                // The guest's CSRF token keyed its creation: a new one, so that this browser's
                // next anonymous sign-in is a new guest.
                let cookies = crate::protocol::request::fresh_csrf_cookie(settings)
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
                Err(error) => return Err(setup.refuse(&error, "user_for")),
            },
            // The guest was cleaned up meanwhile: a plain sign-in.
            Err(GuestError::NotFound { .. }) => {}
            Err(error) => return Err(setup.refuse(&error, "upgrade")),
        }
    }
    match store.link_identity(&identity, user_id).await {
        Ok(owner) => Ok(Resolved {
            user_id: owner,
            upgrade: None,
            cookies: Vec::new(),
        }),
        Err(error) => Err(setup.refuse(&error, "link_identity")),
    }
}
