//! Sessions a user can see and end (database strategy): one per signed-in browser or app.

use crate::adapter::AdapterError;
use crate::clock;
use crate::definition::AuthDefinition;
use crate::settings::Settings;

use super::{SessionError, Sessions, Stored};

/// One of a user's sessions, as a "your devices" page lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Device {
    /// The session's id: what [`Auth::end_device`](crate::Auth::end_device) takes. Not a
    /// credential: it opens nothing.
    pub id: String,
    /// When the session was created (its sign-in), Unix seconds; `None` for sessions next-auth
    /// created.
    pub created_at: Option<i64>,
    /// When the session was last renewed by a read, Unix seconds: it was in use then (reads
    /// renew it once per `update_age`).
    pub last_seen_at: Option<i64>,
    /// When it expires unless used, Unix seconds.
    pub expires: i64,
    /// The browser's `User-Agent` at sign-in.
    pub user_agent: Option<String>,
    /// Whether this is the session of the request that asked.
    pub current: bool,
}

/// Why a user's sessions could not be listed or ended.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceError {
    /// The request has no usable session.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Sessions live in tokens (the `jwt` strategy): there is no list to read.
    #[error(
        "sessions live in tokens (the jwt strategy); the device list needs the database strategy"
    )]
    NotStored,
    /// The adapter could not answer.
    #[error(transparent)]
    Adapter(#[from] AdapterError),
}

impl DeviceError {
    /// The HTTP status an API answers with: 401 without a session, 503 when a store cannot
    /// answer, 409 under the token strategy.
    pub fn status(&self) -> http::StatusCode {
        match self {
            DeviceError::Session(error) => error.status(),
            DeviceError::NotStored => http::StatusCode::CONFLICT,
            DeviceError::Adapter(AdapterError::Unavailable(_)) => {
                http::StatusCode::SERVICE_UNAVAILABLE
            }
            DeviceError::Adapter(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl<D: AuthDefinition> Sessions<D> {
    /// The request's database session.
    async fn stored_of(
        &self,
        settings: &Settings,
        headers: &http::HeaderMap,
    ) -> Result<Stored, DeviceError> {
        if self.database().is_none() {
            return Err(DeviceError::NotStored);
        }
        let verified = self.verify_headers(settings, headers).await?;
        verified.stored.ok_or(DeviceError::NotStored)
    }

    /// The sessions of the request's user, newest first.
    pub async fn devices(
        &self,
        settings: &Settings,
        headers: &http::HeaderMap,
    ) -> Result<Vec<Device>, DeviceError> {
        let current = self.stored_of(settings, headers).await?;
        let database = self.database().ok_or(DeviceError::NotStored)?;
        let sessions = database
            .adapter()
            .sessions_of(&current.user_id, clock::now())
            .await?;
        Ok(sessions
            .into_iter()
            .map(|session| Device {
                current: session.id == current.session_id,
                id: session.id,
                created_at: session.created_at,
                last_seen_at: session.last_seen_at,
                expires: session.expires,
                user_agent: session.user_agent,
            })
            .collect())
    }

    /// Ends the session `id` of the request's user; `false` when the user has none by that id.
    pub async fn end_device(
        &self,
        settings: &Settings,
        headers: &http::HeaderMap,
        id: &str,
    ) -> Result<bool, DeviceError> {
        let current = self.stored_of(settings, headers).await?;
        let database = self.database().ok_or(DeviceError::NotStored)?;
        Ok(database
            .adapter()
            .delete_session_of(&current.user_id, id)
            .await?)
    }

    /// Ends every session of the request's user but its own; returns how many.
    pub async fn end_other_devices(
        &self,
        settings: &Settings,
        headers: &http::HeaderMap,
    ) -> Result<u64, DeviceError> {
        let current = self.stored_of(settings, headers).await?;
        let database = self.database().ok_or(DeviceError::NotStored)?;
        Ok(database
            .adapter()
            .delete_sessions_of(&current.user_id, Some(&current.key))
            .await?)
    }
}
