//! `POST /callback/:id` for an Anonymous provider (feature `guests`): the browser's guest, or
//! a new one created in the guest store under the creation limits.

use std::sync::atomic::Ordering;

use http::StatusCode;

use crate::cookies::RequestCookies;
use crate::definition::{AuthDefinition, ProviderInfo};
use crate::guests::{ClientKey, CreateGuest, GuestError};
use crate::handlers::Core;
use crate::handlers::credentials::{end_sign_in, previous};
use crate::protocol::reply::{Reply, error_url};
use crate::protocol::request::RequestContext;
use crate::sessions::SignIn;
use crate::sessions::guests::GuestSetup;
use crate::user::{Account, User};

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
                    return setup.refuse(&error, "create").reply(base, info.id);
                }
            }
        }
    };
    let sign_in = SignIn {
        provider,
        account: Account::new(info.id, "anonymous", guest_id.clone()),
        user: User::with_id(guest_id),
        profile: None,
        previous,
        as_guest: true,
    };
    end_sign_in(core, sign_in, info.id, context, cookies).await
}
