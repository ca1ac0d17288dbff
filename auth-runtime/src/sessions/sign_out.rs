//! How a sign-out ends a browser's session: its cookies cleared, the application told.

use crate::cookies::{self, RequestCookies};
use crate::definition::{AuthDefinition, fire_event};
use crate::events::{self, Event};
use crate::settings::Settings;

use super::Sessions;

impl<D: AuthDefinition> Sessions<D> {
    /// Signs the browser out: a database session's row is deleted, the `sign_out` event gets
    /// the session's token when it was still valid, and the returned `Set-Cookie` lines clear every session chunk the request carried.
    pub async fn sign_out(
        &self,
        state: &D::State,
        settings: &Settings,
        cookies: &RequestCookies<'_>,
    ) -> Vec<String> {
        if D::HANDLES_EVENTS || self.in_database() {
            let verified = self.verify_request(settings, cookies, None).await.ok();
            #[cfg(feature = "sqlx-store")]
            if let (Some(database), Some(stored)) = (
                self.database(),
                verified.as_ref().and_then(|v| v.stored.as_ref()),
            ) && let Err(error) = database.delete(stored).await
            {
                // The cookies are cleared anyway; the row expires, or cleanup takes it.
                tracing::warn!(%error, "could not delete the database session at sign-out");
            }
            let token = verified.as_ref().map(|v| &v.claims);
            fire_event::<D>(Event::SignOut(events::SignOut { token }), state).await;
        }
        let name = &settings.cookies.session_token;
        let present = cookies.chunk_names(name);
        cookies::clear_session(name, settings.secure, &present)
    }
}
