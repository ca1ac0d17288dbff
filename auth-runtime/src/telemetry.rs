//! What the engine counts, through the [`metrics`] facade: the application installs an exporter
//! (Prometheus, StatsD, ...) and every name below shows up there; without one, nothing is kept.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `auth_sign_ins_total` | counter | `provider`, `outcome` (`ok`, `refused`, `error`) |
//! | `auth_sign_in_failures_total` | counter | `provider`, `kind` (the error code the client gets: `CredentialsSignin`, `RateLimited`, `OAuthCallback`, ...) |
//! | `auth_session_reads_total` | counter | `outcome` (`ok`, `missing`, `invalid`, `expired`, `revoked`, `unavailable`) |
//! | `auth_guests_total` | counter | `event` (`created`, `reused`, `promoted`, `merged`, `cleaned`, `rejected`) |
//! | `auth_store_seconds` | histogram | `store` (`guests`, `versions`), `op` |

use std::time::Instant;

/// A sign-in that ended: `ok`, `refused` (the visitor's fault or a limit) or `error`.
pub(crate) fn sign_in(provider: &str, outcome: &'static str) {
    metrics::counter!("auth_sign_ins_total", "provider" => provider.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// A sign-in that failed, by the error code the client gets.
pub(crate) fn sign_in_failure(provider: &str, kind: &str, outcome: &'static str) {
    sign_in(provider, outcome);
    metrics::counter!(
        "auth_sign_in_failures_total",
        "provider" => provider.to_owned(),
        "kind" => kind.to_owned()
    )
    .increment(1);
}

/// A session read and what it found: `ok`, `missing`, `invalid`, `expired`, `revoked` or
/// `unavailable`.
pub(crate) fn session_read(outcome: &'static str) {
    metrics::counter!("auth_session_reads_total", "outcome" => outcome).increment(1);
}

/// A guest lifecycle event (the guest store's counters, for every exporter).
#[cfg_attr(not(feature = "guests"), allow(dead_code))]
pub(crate) fn guest(event: &'static str, count: u64) {
    metrics::counter!("auth_guests_total", "event" => event).increment(count);
}

/// Times one store call: `store` and `op` label the `auth_store_seconds` histogram.
pub(crate) async fn timed<F: std::future::Future>(
    store: &'static str,
    op: &'static str,
    future: F,
) -> F::Output {
    let started = Instant::now();
    let output = future.await;
    metrics::histogram!("auth_store_seconds", "store" => store, "op" => op)
        .record(started.elapsed().as_secs_f64());
    output
}
