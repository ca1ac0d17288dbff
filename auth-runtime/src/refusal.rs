//! A sign-in refused before any session was issued: the error code the client gets and the
//! status that carries its meaning. The protocols write it out (`protocol::reply`).

use http::StatusCode;

/// A sign-in refused before any session was issued, with a status that carries the meaning
/// (429 with `Retry-After` for a limit, 503 for an unreachable store): the error code for the
/// client and the status.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub code: &'static str,
    pub status: StatusCode,
    pub retry_after: Option<u64>,
}

impl Refusal {
    /// `429 RateLimited`, retry after `retry_after` (rounded up to whole seconds).
    pub fn rate_limited(retry_after: std::time::Duration) -> Self {
        Refusal {
            code: "RateLimited",
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(retry_after.as_millis().div_ceil(1000).max(1) as u64),
        }
    }

    /// `503 SessionStoreUnavailable`: the database that keeps sessions (the adapter) cannot be
    /// reached now; retry in a second.
    #[cfg(feature = "sqlx-store")]
    pub fn session_store_unavailable() -> Self {
        Refusal {
            code: "SessionStoreUnavailable",
            status: StatusCode::SERVICE_UNAVAILABLE,
            retry_after: Some(1),
        }
    }
}

#[cfg(feature = "guests")]
impl Refusal {
    /// The refusal for a callback that failed with the guest store's own error (a hand-written
    /// anonymous provider's `authorize` passing it on with `?`): the client gets what the
    /// built-in `Anonymous` provider answers (429 `RateLimited`, 503 `GuestStoreUnavailable`).
    pub fn of_callback(error: &crate::callback::CallbackError) -> Option<Self> {
        let cause = error.cause()?.downcast_ref::<crate::guests::GuestError>()?;
        Some(Refusal::from_error(cause))
    }

    pub fn from_error(error: &crate::guests::GuestError) -> Self {
        let (code, status) = match error {
            crate::guests::GuestError::RateLimited { .. } => {
                ("RateLimited", StatusCode::TOO_MANY_REQUESTS)
            }
            crate::guests::GuestError::Unavailable(_) => {
                ("GuestStoreUnavailable", StatusCode::SERVICE_UNAVAILABLE)
            }
            crate::guests::GuestError::Hook(_) => {
                ("UpgradeFailed", StatusCode::INTERNAL_SERVER_ERROR)
            }
            crate::guests::GuestError::NoClientAddress => {
                ("Configuration", StatusCode::INTERNAL_SERVER_ERROR)
            }
            _ => ("Callback", StatusCode::INTERNAL_SERVER_ERROR),
        };
        Refusal {
            code,
            status,
            retry_after: error.retry_after_secs(),
        }
    }

    /// The refusal for the guest store's `error` at `stage`, logged within `log` (a flood of
    /// refused creations must not become a flood of log lines).
    pub fn of_guest_store(
        error: &crate::guests::GuestError,
        stage: &str,
        log: &crate::log_budget::LogBudget,
    ) -> Self {
        let refusal = Refusal::from_error(error);
        if let crate::log_budget::Verdict::Write { dropped } = log.take() {
            match error {
                crate::guests::GuestError::RateLimited { .. } => tracing::warn!(
                    target: "auth_runtime::guests",
                    %error, stage, dropped_since_last = dropped, "guest creation refused"
                ),
                _ => tracing::error!(
                    target: "auth_runtime::guests",
                    %error, stage, dropped_since_last = dropped, "guest store failed"
                ),
            }
        }
        refusal
    }
}
