//! What every handler reads: one engine's parts, built once by the engine's builder. It stands
//! with the handlers, which read it, so the engine above imports it downward.

use bytes::Bytes;

use crate::definition::AuthDefinition;
use crate::log_budget::LogBudget;
use crate::sessions::Sessions;
use crate::settings::Settings;

/// What every handler reads: one engine's parts, built once by
/// [`AuthBuilder::build`](crate::AuthBuilder::build).
pub(crate) struct Core<D: AuthDefinition> {
    pub state: D::State,
    pub settings: Settings,
    pub sessions: Sessions<D>,
    /// `GET /providers` never changes, so its body is built once.
    pub providers_json: Bytes,
    /// How many `POST /_log` lines reach the log.
    pub client_log: LogBudget,
    /// Which address is the client's (for the per-client limits, in `authorize` too).
    pub proxy: crate::rate_limit::TrustedProxy,
    /// Credentials attempt limits.
    pub attempts: crate::attempts::Attempts,
    /// The providers on at this server (optional ones may be off).
    pub enabled: crate::providers::EnabledProviders,
    /// The sign-in method of each provider on at this server, by id.
    pub methods: crate::providers::method::Methods<D>,
}
