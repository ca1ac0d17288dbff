//! How every sign-in ends, whatever the provider: the browser's guest is upgraded (or the
//! identity linked), the `jwt` callback runs, and the session is issued.

use crate::body::RequestBody;
use crate::callback::CallbackError;
use crate::cookies::RequestCookies;
use crate::definition::{AuthDefinition, ProviderId, TokenClaims, fire_event};
use crate::events::{self, Event};
use crate::settings::Settings;
use crate::sign_in_callback::{SignInAttempt, SignInDecision};
use crate::user::{Account, GuestUpgrade, JwtEvent, Profile, User};

use super::{Sessions, Verified};

/// A sign-in the provider accepted, on its way to a session.
pub(crate) struct SignIn<D: AuthDefinition> {
    /// The provider used.
    pub provider: D::Provider,
    /// The user the provider returned.
    pub user: User,
    /// How the user signed in.
    pub account: Account,
    /// The user's profile at an OAuth or OpenID Connect provider.
    pub profile: Option<Profile>,
    /// The browser's session before this sign-in, verified (a guest, typically).
    pub previous: Option<Verified<D::Token>>,
    /// `true` for an Anonymous provider's sign-in: the user is the guest itself, nothing to
    /// upgrade.
    pub as_guest: bool,
    /// Whether the Anonymous provider created the guest for this sign-in.
    pub created_guest: bool,
    /// Whether the sign-in method made the user's row (an e-mail link's first use): the
    /// visitor is sent to `pages.new_user` if the app has one.
    pub made_user: bool,
    /// The submitted form of a Credentials sign-in, for the `sign_in` callback.
    pub credentials: Option<RequestBody>,
    /// The browser's `User-Agent`, for the device list (database sessions).
    pub user_agent: Option<String>,
}

/// A sign-in that issued its session.
pub(crate) struct SignedIn {
    /// The `Set-Cookie` lines: the session cookies replacing every chunk the request carried,
    /// and a rotated CSRF cookie after an upgrade.
    pub cookies: Vec<String>,
    /// Whether this sign-in made the user (a guest promoted to a user, an e-mail link's first
    /// use).
    #[cfg_attr(not(feature = "oauth"), allow(dead_code))]
    pub is_new_user: bool,
}

/// Why a sign-in produced no session.
pub(crate) enum SignInError {
    /// The `sign_in` callback refused, with this error code (`AccessDenied`, or the app's).
    Denied(String),
    /// The `sign_in` callback sent the visitor to this URL (same-origin, already checked).
    Redirected(String),
    /// The guest store refused (limits, outage, a failing upgrade hook).
    #[cfg_attr(not(any(feature = "guests", feature = "sqlx-store")), allow(dead_code))]
    Refused(crate::protocol::reply::Refusal),
    /// A callback failed, or the session could not be issued, at `stage`.
    Callback {
        stage: &'static str,
        error: CallbackError,
    },
}

impl SignInError {
    /// A session that could not be issued: 503 when its store cannot be reached now.
    fn from_issue(error: super::IssueError) -> Self {
        match error {
            #[cfg(feature = "sqlx-store")]
            super::IssueError::Adapter(error) => SignInError::from_adapter(error),
            error => SignInError::Callback {
                stage: "issue",
                error: CallbackError::internal(error),
            },
        }
    }

    /// The adapter failed: 503 `SessionStoreUnavailable` when it cannot be reached now (the
    /// client retries), else a server error.
    #[cfg(feature = "sqlx-store")]
    fn from_adapter(error: crate::adapter::AdapterError) -> Self {
        match error {
            crate::adapter::AdapterError::Unavailable(ref cause) => {
                tracing::warn!(%cause, "the session store is unavailable; sign-in refused with 503");
                SignInError::Refused(crate::protocol::reply::Refusal::session_store_unavailable())
            }
            error => SignInError::Callback {
                stage: "adapter",
                error: CallbackError::internal(error),
            },
        }
    }

    /// Counts a sign-in that failed here, by the code the client gets.
    fn count(&self, provider: &str) {
        match self {
            SignInError::Denied(code) => {
                crate::telemetry::sign_in_failure(provider, code, "refused");
                tracing::info!(provider, code = %code, "the sign_in callback refused a sign-in");
            }
            SignInError::Redirected(_) => {
                crate::telemetry::sign_in_failure(provider, "Redirected", "refused");
                tracing::info!(provider, "the sign_in callback redirected a sign-in");
            }
            SignInError::Refused(refusal) => {
                let outcome = match refusal.status.is_server_error() {
                    true => "error",
                    false => "refused",
                };
                crate::telemetry::sign_in_failure(provider, refusal.code, outcome);
            }
            SignInError::Callback { error, .. } => {
                let code = error.public_message().unwrap_or("Callback");
                crate::telemetry::sign_in_failure(provider, code, "error");
            }
        }
    }
}

impl<D: AuthDefinition> Sessions<D> {
    /// Ends a sign-in: resolves who it signs in as (a guest is upgraded in the store's
    /// transaction), runs the `jwt` callback, and issues the session; counts and logs the
    /// outcome. Returns the `Set-Cookie` lines: the session cookies replacing every session
    /// chunk the request carried, and a rotated CSRF cookie after an upgrade.
    pub async fn sign_in(
        &self,
        state: &D::State,
        settings: &Settings,
        sign_in: SignIn<D>,
        cookies: &RequestCookies<'_>,
    ) -> Result<SignedIn, SignInError> {
        let provider = sign_in.provider.id();
        if sign_in.created_guest {
            let guest_id = &sign_in.user.id;
            fire_event::<D>(
                Event::GuestCreated(events::GuestCreated { guest_id }),
                state,
            )
            .await;
        }
        let present = cookies.chunk_names(&settings.cookies.session_token);
        let result = self
            .complete_sign_in(state, settings, sign_in, &present)
            .await;
        match &result {
            Ok(_) => {
                crate::telemetry::sign_in(provider, "ok");
                tracing::info!(provider, "signed in");
            }
            Err(error) => error.count(provider),
        }
        result
    }

    /// What [`Sessions::sign_in`] does between counting and logging: the guest upgrade, the
    /// `sign_in` and `jwt` callbacks, the events, and the session issued.
    async fn complete_sign_in(
        &self,
        state: &D::State,
        settings: &Settings,
        sign_in: SignIn<D>,
        present: &[&str],
    ) -> Result<SignedIn, SignInError> {
        let SignIn {
            provider,
            user,
            account,
            profile,
            previous,
            as_guest,
            created_guest: _,
            made_user,
            credentials,
            user_agent,
        } = sign_in;
        let submitted = credentials.and_then(|body| D::credentials(provider, &body));
        let attempt = SignInAttempt {
            provider,
            user: &user,
            account: &account,
            profile: profile.as_ref(),
            credentials: submitted.as_ref(),
            as_guest,
        };
        let decision = D::sign_in(attempt, state).await;
        crate::debug::step!(
            settings,
            "sign_in_callback",
            decision = match &decision {
                Ok(SignInDecision::Allow) => "allow",
                Ok(SignInDecision::Redirect(_)) => "redirect",
                Ok(_) => "deny",
                Err(_) => "error",
            }
        );
        match decision {
            Ok(SignInDecision::Allow) => {}
            Ok(SignInDecision::Redirect(url)) => {
                return Err(SignInError::Redirected(settings.resolve_redirect(&url)));
            }
            Ok(denied) => return Err(SignInError::Denied(denied.denial_code().to_owned())),
            Err(error) => {
                return Err(SignInError::Callback {
                    stage: "sign_in",
                    error,
                });
            }
        }
        // A real sign-in of a guest upgrades it first; the user id becomes the store's.
        #[cfg(feature = "guests")]
        let (user, upgrade, mut extra_cookies) = match (as_guest, &self.guests) {
            (false, Some(setup)) => {
                let identity = crate::guests::Identity::new(&account.provider, user.id.clone());
                let previous_guest = previous.as_ref().and_then(|p| p.guest.as_deref());
                let resolved = super::guests::resolve_sign_in(
                    setup,
                    state,
                    settings,
                    identity,
                    &user.id,
                    previous_guest,
                )
                .await
                .map_err(SignInError::Refused)?;
                let user = User {
                    id: resolved.user_id,
                    ..user
                };
                (user, resolved.upgrade, resolved.cookies)
            }
            _ => (user, None, Vec::new()),
        };
        #[cfg(not(feature = "guests"))]
        let (upgrade, mut extra_cookies) = (None, Vec::new());
        crate::debug::step!(
            settings,
            "guest_upgrade",
            outcome = match &upgrade {
                Some(GuestUpgrade::Promoted { .. }) => "promoted",
                Some(GuestUpgrade::Merged { .. }) => "merged",
                None => "none",
            }
        );
        let mut is_new_user = made_user;
        if let Some(upgrade) = &upgrade {
            fire_event::<D>(
                Event::GuestUpgraded(events::GuestUpgraded { upgrade }),
                state,
            )
            .await;
            if let GuestUpgrade::Promoted { user_id } = upgrade {
                is_new_user = true;
                fire_event::<D>(Event::CreateUser(events::CreateUser { user_id }), state).await;
                let link = events::LinkAccount {
                    user_id,
                    account: &account,
                };
                fire_event::<D>(Event::LinkAccount(link), state).await;
            }
        }
        // Database sessions belong to a user row: the account's, made on its first sign-in.
        let stored_user = self.stored_user(&user, &account, as_guest).await?;
        // The sign-in event tells who signed in after the `jwt` callback took them.
        let told = D::HANDLES_EVENTS.then(|| (user.clone(), account.clone()));
        let guest = as_guest.then(|| user.id.clone());
        let user_id = user.id.clone();
        // The browser's database session this sign-in replaces (a guest's, typically).
        let replaced = previous.as_ref().and_then(|p| p.stored.clone());
        let token = D::Token::from_user(&user);
        let event = JwtEvent::SignIn {
            provider,
            user,
            account,
            profile,
            previous: previous.map(|p| p.claims),
            upgrade,
        };
        let mut token = self
            .jwt_scope(D::jwt(token, event, state))
            .await
            .map_err(|error| SignInError::Callback {
                stage: "jwt",
                error,
            })?;
        let holder = super::Holder {
            user_id: &user_id,
            guest: guest.as_deref(),
            stored_user: stored_user.as_deref(),
            user_agent: user_agent.as_deref(),
        };
        let mut cookies = self
            .issue(settings, &mut token, holder, present)
            .await
            .map_err(SignInError::from_issue)?;
        crate::debug::step!(settings, "session_issued", cookies = cookies.len());
        self.delete_replaced(replaced).await;
        cookies.append(&mut extra_cookies);
        if let Some((user, account)) = &told {
            let signed_in = events::SignIn {
                provider,
                user,
                account,
                is_new_user,
                as_guest,
            };
            fire_event::<D>(Event::SignIn(signed_in), state).await;
        }
        Ok(SignedIn {
            cookies,
            is_new_user,
        })
    }
}

impl<D: AuthDefinition> Sessions<D> {
    /// The user row a database session of this sign-in belongs to; `None` for the token
    /// strategy.
    #[cfg(feature = "sqlx-store")]
    async fn stored_user(
        &self,
        user: &User,
        account: &Account,
        as_guest: bool,
    ) -> Result<Option<String>, SignInError> {
        let Some(database) = &self.database else {
            return Ok(None);
        };
        match database.user_for(user, account, as_guest).await {
            Ok(found) => Ok(Some(found.id)),
            Err(super::database::CreateError::NotLinked) => {
                Err(SignInError::Denied("OAuthAccountNotLinked".to_owned()))
            }
            Err(super::database::CreateError::Adapter(error)) => {
                Err(SignInError::from_adapter(error))
            }
        }
    }

    /// Deletes the database session a sign-in replaced: its cookie is overwritten, and no copy
    /// of it should open anything. A failure only leaves the row to expire.
    async fn delete_replaced(&self, replaced: Option<super::Stored>) {
        #[cfg(feature = "sqlx-store")]
        if let (Some(database), Some(stored)) = (&self.database, replaced)
            && let Err(error) = database.delete(&stored).await
        {
            tracing::warn!(%error, "could not delete the database session a sign-in replaced");
        }
        #[cfg(not(feature = "sqlx-store"))]
        let _ = replaced;
    }

    #[cfg(not(feature = "sqlx-store"))]
    async fn stored_user(
        &self,
        _user: &User,
        _account: &Account,
        _as_guest: bool,
    ) -> Result<Option<String>, SignInError> {
        Ok(None)
    }
}
