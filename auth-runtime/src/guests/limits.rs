//! Guest creation limits: a token bucket per client (an IPv4 address, or an IPv6 /64) and a
//! global budget, kept in the store's database so that every app server shares them.
//!
//! Each bucket is one row of `auth_guest_limits`, updated by one atomic
//! `INSERT ... ON CONFLICT ... DO UPDATE ... RETURNING` (GCRA, the token bucket written as a
//! "theoretical arrival time"): no read-modify-write race, on SQLite or on PostgreSQL.

use std::fmt;
use std::time::Duration;

pub use crate::rate_limit::LimitsError;
use crate::rate_limit::{ClientKey, Rate, read_limit_variables};

/// Guest creation limits. A rate of 0 turns that limit off.
///
/// The defaults follow Supabase's: 30 guests per hour per client, with a burst of 30, and a global
/// budget of 10,000 per hour with a burst of 1,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Sustained guests per hour per client (`AUTH_GUEST_LIMIT_PER_HOUR`).
    pub per_client_per_hour: u32,
    /// How many a client may create at once (`AUTH_GUEST_LIMIT_BURST`).
    pub per_client_burst: u32,
    /// Sustained guests per hour over all clients (`AUTH_GUEST_GLOBAL_PER_HOUR`).
    pub global_per_hour: u32,
    /// The global burst (`AUTH_GUEST_GLOBAL_BURST`).
    pub global_burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_client_per_hour: 30,
            per_client_burst: 30,
            global_per_hour: 10_000,
            global_burst: 1_000,
        }
    }
}

impl Limits {
    /// No limits at all (tests, trusted back offices).
    pub fn unlimited() -> Self {
        Limits {
            per_client_per_hour: 0,
            per_client_burst: 0,
            global_per_hour: 0,
            global_burst: 0,
        }
    }

    /// The defaults, overridden by `AUTH_GUEST_LIMIT_PER_HOUR`, `AUTH_GUEST_LIMIT_BURST`,
    /// `AUTH_GUEST_GLOBAL_PER_HOUR` and `AUTH_GUEST_GLOBAL_BURST` when set (a number, or `off`
    /// for 0), e.g. to raise them for a load test.
    pub fn from_env() -> Result<Self, LimitsError> {
        warn_of_unknown_variables(std::env::vars_os().map(|(name, _)| name));
        Limits::default().with_vars(|name| std::env::var(name).ok())
    }

    /// These limits with the values written in `next_auth!` in place, then the `AUTH_GUEST_*`
    /// variables over them (the environment wins, for load tests).
    pub fn configured(
        mut self,
        written: &crate::definition::GuestLimitSettings,
    ) -> Result<Self, LimitsError> {
        for (value, field) in [
            (written.per_client_per_hour, &mut self.per_client_per_hour),
            (written.per_client_burst, &mut self.per_client_burst),
            (written.global_per_hour, &mut self.global_per_hour),
            (written.global_burst, &mut self.global_burst),
        ] {
            if let Some(value) = value {
                *field = value;
            }
        }
        warn_of_unknown_variables(std::env::vars_os().map(|(name, _)| name));
        self.with_vars(|name| std::env::var(name).ok())
    }

    /// Whether any `AUTH_GUEST_*` limit variable is set.
    pub fn set_in_env() -> bool {
        Self::VARIABLES
            .iter()
            .any(|name| std::env::var_os(name).is_some())
    }

    const VARIABLES: [&'static str; 4] = [
        "AUTH_GUEST_LIMIT_PER_HOUR",
        "AUTH_GUEST_LIMIT_BURST",
        "AUTH_GUEST_GLOBAL_PER_HOUR",
        "AUTH_GUEST_GLOBAL_BURST",
    ];

    /// The `AUTH_GUEST_*` variables among `names` that no setting reads (a misspelt limit would
    /// otherwise be ignored without a word).
    fn unknown_variables(names: impl Iterator<Item = std::ffi::OsString>) -> Vec<String> {
        names
            .filter_map(|name| name.into_string().ok())
            .filter(|name| {
                name.starts_with("AUTH_GUEST_") && !Self::VARIABLES.contains(&name.as_str())
            })
            .collect()
    }

    fn with_vars(mut self, var: impl Fn(&str) -> Option<String>) -> Result<Self, LimitsError> {
        read_limit_variables(
            [
                ("AUTH_GUEST_LIMIT_PER_HOUR", &mut self.per_client_per_hour),
                ("AUTH_GUEST_LIMIT_BURST", &mut self.per_client_burst),
                ("AUTH_GUEST_GLOBAL_PER_HOUR", &mut self.global_per_hour),
                ("AUTH_GUEST_GLOBAL_BURST", &mut self.global_burst),
            ],
            var,
        )?;
        Ok(self)
    }

    /// The buckets a creation by `client` is charged to, in order: the client's own (when there
    /// is a client and a per-client limit), then the global budget (when there is one).
    pub(super) fn buckets<'k>(
        &self,
        client: Option<&'k ClientKey>,
    ) -> impl Iterator<Item = (LimitScope, &'k str, Rate)> + use<'k> {
        let own = client
            .zip(self.client_rate())
            .map(|(client, rate)| (LimitScope::Client, client.as_str(), rate));
        let global = self
            .global_rate()
            .map(|rate| (LimitScope::Global, "global", rate));
        own.into_iter().chain(global)
    }

    pub(super) fn client_rate(&self) -> Option<Rate> {
        Rate::new(self.per_client_per_hour, self.per_client_burst)
    }

    pub(super) fn global_rate(&self) -> Option<Rate> {
        Rate::new(self.global_per_hour, self.global_burst)
    }
}

impl Rate {
    /// Reads the bucket's answer: was it allowed, and the new theoretical arrival time.
    pub fn decide(&self, scope: LimitScope, now: i64, ok: bool, tat: i64) -> LimitDecision {
        if ok {
            let left = (now + self.tolerance + self.interval - tat) / self.interval;
            LimitDecision::Allowed {
                remaining: u32::try_from(left.max(0)).unwrap_or(u32::MAX),
            }
        } else {
            let wait = (tat - now - self.tolerance).max(1);
            LimitDecision::Rejected {
                scope,
                retry_after: Duration::from_millis(wait as u64),
            }
        }
    }
}

/// Which limit rejected a creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitScope {
    /// The client's own bucket.
    Client,
    /// The global budget.
    Global,
}

impl fmt::Display for LimitScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitScope::Client => "per-client limit",
            LimitScope::Global => "global budget",
        })
    }
}

/// The limiter's answer for one creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitDecision {
    /// Allowed; `remaining` more are allowed right now by the tightest limit (`u32::MAX` when
    /// unlimited).
    Allowed {
        /// Creations left in the burst.
        remaining: u32,
    },
    /// Rejected: answer `429` with `Retry-After: ceil(retry_after)`.
    Rejected {
        /// Which limit.
        scope: LimitScope,
        /// When one more creation will be allowed.
        retry_after: Duration,
    },
}

impl LimitDecision {
    /// True when allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, LimitDecision::Allowed { .. })
    }
}

/// Logs a warning naming every `AUTH_GUEST_*` variable that is set but read by nothing.
fn warn_of_unknown_variables(names: impl Iterator<Item = std::ffi::OsString>) {
    for name in Limits::unknown_variables(names) {
        tracing::warn!(
            target: "auth_runtime::guests",
            variable = %name,
            known = ?Limits::VARIABLES,
            "unknown guest limit variable, ignored"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_limit_variables_are_named() {
        let names = [
            "AUTH_GUEST_LIMIT_BURST",
            "AUTH_GUEST_PER_CLIENT_BURST",
            "PATH",
            "AUTH_SECRET",
        ]
        .map(std::ffi::OsString::from);
        assert_eq!(
            Limits::unknown_variables(names.into_iter()),
            ["AUTH_GUEST_PER_CLIENT_BURST"]
        );
    }

    #[test]
    fn environment_overrides_defaults() {
        let vars = |name: &str| match name {
            "AUTH_GUEST_LIMIT_PER_HOUR" => Some("1000".to_owned()),
            "AUTH_GUEST_GLOBAL_PER_HOUR" => Some("off".to_owned()),
            _ => None,
        };
        let limits = Limits::default().with_vars(vars).unwrap();
        assert_eq!(limits.per_client_per_hour, 1000);
        assert_eq!(limits.per_client_burst, 30);
        assert_eq!(limits.global_per_hour, 0);
        assert!(limits.global_rate().is_none());
        let bad = Limits::default().with_vars(|_| Some("lots".to_owned()));
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("AUTH_GUEST_LIMIT_PER_HOUR")
        );
    }
}
