//! `POST /callback/:id` for an Anonymous provider (feature `guests`): the browser's guest, or
//! a new one created in the guest store under the creation limits.

use http::StatusCode;

use crate::attempts::Refused;
use crate::cookies::RequestCookies;
use crate::definition::{AuthDefinition, ProviderInfo};
use crate::guests::{CreateGuest, GuestError, LimitScope, Limits};
use crate::handlers::Core;
use crate::handlers::credentials::{end_sign_in, previous};
use crate::protocol::reply::{Reply, error_url};
use crate::protocol::request::RequestContext;
use crate::sessions::SignIn;
use crate::user::{Account, User};

/// `POST /callback/:id` for an Anonymous provider: the browser's guest, or a new one.
pub(crate) async fn anonymous_callback<D: AuthDefinition>(
    core: &Core<D>,
    provider: D::Provider,
    info: &'static ProviderInfo,
    context: &RequestContext<'_>,
    cookies: &RequestCookies<'_>,
) -> Reply {
    let settings = &core.settings;
    let base = &settings.base;
    let json = context.body.wants_json();
    let Some(setup) = core.sessions.guests() else {
        return Reply::redirect(
            error_url(base, "Configuration", None),
            json,
            StatusCode::INTERNAL_SERVER_ERROR,
        );
    };
    let previous = previous(core, cookies).await;
    let (guest_id, created_guest) = match previous.as_ref().and_then(|d| d.guest.clone()) {
        // Already a guest of this store (checked by the read): the same guest, no new row.
        Some(id) => (id, false),
        None => {
            // No client address: refused, not silently limited by the global budget alone.
            let Some(client) = super::client_key(&core.proxy, context) else {
                return setup
                    .refuse(&GuestError::NoClientAddress, "create")
                    .reply(base, info.id);
            };
            let client = Some(client);
            // Where a CAPTCHA guards every new guest, it is asked before anything is counted.
            let proof = super::proof(core, context);
            if let Err(refused) = core.attempts.guard(&proof).await {
                let refusal = super::attempt_refusal(refused);
                crate::telemetry::sign_in_failure(info.id, refusal.code, "refused");
                return refusal.reply(base, info.id);
            }
            // The CSRF token is this browser's secret: concurrent double-submits share it, so
            // they get one guest.
            let key = format!("csrf:{}", context.csrf.token);
            let request = CreateGuest {
                client: client.clone(),
                key: Some(&key),
                limits: setup.limits,
            };
            let create = setup.store.create(request);
            let created = match crate::telemetry::timed("guests", "create", create).await {
                // The key's guest was upgraded since: a new guest, without the key.
                Err(GuestError::AlreadyUpgraded { .. }) => {
                    let request = CreateGuest {
                        client: client.clone(),
                        key: None,
                        limits: setup.limits,
                    };
                    setup.store.create(request).await
                }
                other => other,
            };
            // Strangers drained the global budget: a solved CAPTCHA lets this visitor past it
            // (the per-client limit still holds), so the drain turns into a CAPTCHA, not a 429
            // for everyone.
            let created = match created {
                Err(GuestError::RateLimited {
                    scope: LimitScope::Global,
                    retry_after,
                }) => match core
                    .attempts
                    .lift(&proof, Refused::Limited(retry_after))
                    .await
                {
                    Ok(()) => {
                        let request = CreateGuest {
                            client,
                            key: Some(&key),
                            // The per-client limit stays (the store's defaults when the
                            // macro wrote none); the global budget is what the CAPTCHA lifts.
                            limits: Some(Limits {
                                global_per_hour: 0,
                                ..setup.limits.unwrap_or_default()
                            }),
                        };
                        setup.store.create(request).await
                    }
                    Err(refused) => {
                        let refusal = super::attempt_refusal(refused);
                        crate::telemetry::sign_in_failure(info.id, refusal.code, "refused");
                        return refusal.reply(base, info.id);
                    }
                },
                other => other,
            };
            match created {
                Ok(created) => (created.guest.id, created.new),
                Err(error) => {
                    let refusal = setup.refuse(&error, "create");
                    let outcome = if refusal.status.is_server_error() {
                        "error"
                    } else {
                        "refused"
                    };
                    crate::telemetry::sign_in_failure(info.id, refusal.code, outcome);
                    return refusal.reply(base, info.id);
                }
            }
        }
    };
    crate::debug::step!(settings, "guest", created = created_guest);
    let sign_in = SignIn {
        provider,
        account: Account::new(info.id, "anonymous", guest_id.clone()),
        user: User::with_id(guest_id),
        profile: None,
        previous,
        as_guest: true,
        made_user: false,
        created_guest,
        credentials: None,
        user_agent: context.user_agent(),
    };
    end_sign_in(core, sign_in, info.id, context, cookies).await
}
