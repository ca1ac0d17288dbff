//! Guests: anonymous users that later become logged-in users without losing their data.
//!
//! This module is the store layer (feature `guests`): a [`GuestStore`] trait with two back ends
//! that pass one test suite, [`SqliteGuestStore`] (embedded, the default: a file created and
//! migrated on first use) and [`PostgresGuestStore`] (feature `postgres`, for several app servers
//! sharing one database). Everything correctness depends on lives in the database, never only in
//! one process: the guests, the identities they were upgraded to, and the creation limits.
//!
//! - **Creation** ([`GuestStore::create`]) is rate limited per client ([`ClientKey`]: an IPv4
//!   address, or an IPv6 /64) and by a global budget ([`Limits`], 30 per hour with a burst of 30
//!   per client by default, overridable from the environment). It is idempotent when the caller
//!   passes an idempotency key (see [`CreateGuest::idempotency_key`]).
//! - **Upgrade** ([`GuestStore::upgrade`]) is one state transition in one transaction: the guest
//!   becomes the user ([`UpgradeOutcome::Promoted`], same id) or, when the identity already belongs
//!   to a user, is merged into that user ([`UpgradeOutcome::Merged`]). The application's
//!   [`UpgradeHook`] moves its data in the same transaction; if it fails, nothing changes. Of
//!   concurrent upgrades of one guest exactly one succeeds; the others get
//!   [`GuestError::AlreadyUpgraded`].
//! - **Cleanup** ([`GuestStore::cleanup`], [`spawn_cleanup`]) removes guests by last activity, never
//!   upgraded ones, in bounded batches, with a [`CleanupHook`] for the application's data and a dry
//!   run.
//! - **Choosing the database** ([`GuestDatabase::from_env`]): PostgreSQL when `DATABASE_URL` is
//!   a `postgres://` URL, an SQLite file otherwise; [`GuestStore::close`] when the server stops.
//! - **Metrics** ([`GuestStore::stats`]): counters of this process and totals from the database;
//!   every transition is also a `tracing` event (target `auth_runtime::guests`).
//!
//! Design notes:
//!
//! - Ids are 32 hex digits: 48 bits of the creation time in milliseconds, then 80 random bits
//!   (as UUIDv7). An id therefore tells when its guest was created (it is in the session token
//!   and, after a promotion, it is the user's id); it cannot be guessed (80 bits of a CSPRNG per
//!   millisecond). Time-ordered ids keep a burst of creations appending to the primary-key index
//!   (see `BENCHMARKS.md`); an application that must not reveal sign-up times should give
//!   users ids of its own (an upgrade hook can map them). A promoted guest keeps its id as the
//!   user's.
//! - An upgraded guest's row stays (with `upgraded_to`): a replayed upgrade or idempotency key
//!   gets "already upgraded, into this user" instead of a new guest or a guest session for a
//!   user's id. Cleanup never removes it.
//! - Idempotency keys are stored hashed; a replay charges no limit and refreshes activity. With
//!   no key, every call creates a guest: a caller that already holds a valid guest session should
//!   reuse its guest (and [`GuestStore::touch`] it) rather than create another.
//! - Limits are GCRA buckets (a token bucket stored as one timestamp) in the database, updated by
//!   one atomic upsert each: per client first, then global, so a client over its own limit does
//!   not spend the global budget (a client under its limit refused by the global budget has
//!   spent its own token). On PostgreSQL the bucket updates commit without waiting for the WAL
//!   flush, since every creation touches the one `global` row.
//! - Times come from [`GuestConfig::clock`] (Unix ms), so tests move time instead of sleeping.
//!
//! ```
//! # tokio_test_block_on(async {
//! use auth_runtime::guests::{
//!     ClientKey, CreateGuest, GuestStore, Identity, NoHook, SqliteGuestStore, UpgradeOutcome,
//! };
//!
//! let dir = std::env::temp_dir().join(format!("guests-doc-{}", std::process::id()));
//! let store = SqliteGuestStore::open(dir.join("guests.db")).await.unwrap();
//! let client = ClientKey::from_ip("203.0.113.7".parse().unwrap());
//! let guest = store.create(CreateGuest::for_client(client)).await.unwrap().guest;
//!
//! let google = Identity::new("google", "1234567890");
//! let outcome = store.upgrade(&guest.id, &google, &NoHook).await.unwrap();
//! assert_eq!(outcome, UpgradeOutcome::Promoted { user_id: guest.id.clone() });
//! # std::fs::remove_dir_all(dir).unwrap();
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

mod cleanup;
mod database;
mod limits;
mod metrics;
#[cfg(feature = "postgres")]
mod postgres;
mod recent;
mod sql;
mod sqlite;
mod sqlite_batch;
mod store;
mod upgrade;

use crate::rate_limit::Rate;
pub use crate::rate_limit::{ClientKey, TrustedProxy};
pub use cleanup::{CleanupHook, CleanupPolicy, CleanupReport, NoCleanupHook, spawn_cleanup};
pub use database::GuestDatabase;
pub use limits::{LimitDecision, LimitScope, Limits, LimitsError};
use metrics::GuestMetrics;
pub use metrics::{GuestStats, UpgradeLatency};
#[cfg(feature = "postgres")]
pub use postgres::PostgresGuestStore;
pub use sqlite::SqliteGuestStore;
pub use store::{GuestDialect, SqlGuestStore};
pub use upgrade::{Identity, NoHook, UpgradeHook, UpgradeOutcome};

/// A persistent anonymous user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guest {
    /// The guest's id: 32 lowercase hex characters, the creation time in milliseconds (48 bits)
    /// then 80 random bits; it reveals when the guest was created. After a
    /// [`UpgradeOutcome::Promoted`] upgrade it is also the user's id.
    pub id: String,
    /// When the guest was created, in Unix milliseconds.
    pub created_at: i64,
    /// The last time the guest was seen ([`GuestStore::touch`]), in Unix milliseconds. Cleanup
    /// keys on this, never on `created_at`: an active guest is never removed.
    pub last_seen_at: i64,
    /// The user the guest became (its own id when promoted, the existing user's when merged);
    /// `None` while it is a guest.
    pub upgraded_to: Option<String>,
}

impl Guest {
    /// True while the guest has not been upgraded.
    pub fn is_guest(&self) -> bool {
        self.upgraded_to.is_none()
    }
}

/// What [`GuestStore::create`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The guest.
    pub guest: Guest,
    /// False when the idempotency key named an existing guest (nothing was created, no limit was
    /// charged).
    pub new: bool,
}

tokio::task_local! {
    /// The client of the request whose `authorize` is running (see
    /// [`CreateGuest::for_requesting_client`]).
    static REQUESTING_CLIENT: Option<ClientKey>;
}

/// Runs `future` (an `authorize` call) with `client` as the requesting client.
pub(crate) async fn with_requesting_client<F: std::future::Future>(
    client: Option<ClientKey>,
    future: F,
) -> F::Output {
    REQUESTING_CLIENT.scope(client, future).await
}

/// A request to create a guest: who asks (for the limits) and, optionally, an idempotency key.
#[derive(Debug, Clone, Default)]
pub struct CreateGuest<'a> {
    /// The client the request came from, for the per-client limit. `None` skips the per-client
    /// limit (a server-side call with no client behind it); the global budget still applies.
    pub client: Option<ClientKey>,
    /// See [`CreateGuest::idempotency_key`].
    pub key: Option<&'a str>,
    /// Limits for this creation instead of the store's own (see [`CreateGuest::limits`]).
    pub limits: Option<Limits>,
}

impl<'a> CreateGuest<'a> {
    /// A creation asked for by `client`.
    pub fn for_client(client: ClientKey) -> Self {
        CreateGuest {
            client: Some(client),
            key: None,
            limits: None,
        }
    }

    /// A creation with no client behind it (a server-side call): only the global budget applies.
    /// For a visitor's request use [`CreateGuest::for_requesting_client`], so that one client
    /// cannot spend the budget of every other.
    pub fn server_side() -> Self {
        CreateGuest::default()
    }

    /// A creation for the client of the request being served: inside a Credentials provider's
    /// `authorize` (as a hand-written anonymous provider does), the engine knows the client's
    /// address (the connection's, or the trusted proxy's header) and charges the per-client
    /// limit to it. [`GuestError::NoClientAddress`] when it does not know it (the app is served
    /// without connection info, or this is called outside a request), rather than silently
    /// falling back to the global budget alone.
    ///
    /// ```
    /// use auth_runtime::guests::{CreateGuest, GuestError};
    ///
    /// // Outside a request there is no client.
    /// assert!(matches!(CreateGuest::for_requesting_client(), Err(GuestError::NoClientAddress)));
    /// ```
    pub fn for_requesting_client() -> Result<Self, GuestError> {
        match REQUESTING_CLIENT.try_with(Clone::clone) {
            Ok(Some(client)) => Ok(CreateGuest::for_client(client)),
            _ => Err(GuestError::NoClientAddress),
        }
    }

    /// Makes the creation idempotent: every creation with the same key returns the same guest,
    /// however many race (a double-submitted `signIn('anon')`, a retried request).
    ///
    /// The key is a secret chosen by the client or the session (e.g. 128 random bits the browser
    /// keeps with its guest cookie, or the id of the guest session being re-established): whoever
    /// presents it gets the guest, so it must be unguessable. Only its SHA-256 is stored. A key
    /// whose guest was upgraded answers [`GuestError::AlreadyUpgraded`], never a guest session for
    /// what is now a user.
    pub fn idempotency_key(mut self, key: &'a str) -> Self {
        self.key = Some(key);
        self
    }

    /// Charges this creation under `limits` instead of the store's configured ones (the engine
    /// passes the limits written in `next_auth!`).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = Some(limits);
        self
    }
}

/// A boxed future, so that [`GuestStore`] can be used as a trait object.
pub type GuestFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, GuestError>> + Send + 'a>>;

/// An application hook's error: any error, boxed.
pub type HookError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A boxed future returned by the application's hooks.
pub type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<(), HookError>> + Send + 'a>>;

/// Where guests live. Implemented by [`SqliteGuestStore`] and [`PostgresGuestStore`]; usable as
/// `Arc<dyn GuestStore>`.
///
/// Implementations must be safe to share between app servers: limits, idempotency and the
/// one-upgrade-per-guest rule are enforced by the database, not by process memory. (The SQLite
/// store, made for one process per file, also remembers for the touch interval which guests it
/// confirmed, so that a guest's session reads need not ask the file each time.)
pub trait GuestStore: Send + Sync + 'static {
    /// Creates a guest, after the creation limits (or returns the existing guest for an
    /// idempotency key, without charging the limits).
    ///
    /// Errors: [`GuestError::RateLimited`] (answer `429` with `Retry-After`),
    /// [`GuestError::AlreadyUpgraded`] (the key's guest is now a user), store errors.
    fn create<'a>(&'a self, request: CreateGuest<'a>) -> GuestFuture<'a, Created>;

    /// The guest `id`, upgraded or not; `None` if there is none (never created, or cleaned up).
    fn get<'a>(&'a self, id: &'a str) -> GuestFuture<'a, Option<Guest>>;

    /// Records activity of guest `id` (its `last_seen_at` becomes now). Returns false if there is
    /// no such guest. Call it when a guest's session is used; cleanup keys on it.
    ///
    /// Cheap to call on every request: within [`GuestConfig::touch_interval`] of the last recorded
    /// activity it only reads.
    fn touch<'a>(&'a self, id: &'a str) -> GuestFuture<'a, bool>;

    /// Whether guest `id` is still a guest (not upgraded, not removed), recording its activity:
    /// what a guest's session read asks. The default reads the guest and
    /// [`touch`](GuestStore::touch)es it when its recorded activity is a minute old or more.
    fn check_active<'a>(&'a self, id: &'a str) -> GuestFuture<'a, bool> {
        Box::pin(read_active(self, id))
    }

    /// Upgrades guest `guest_id` to the user behind `identity`, in one transaction with `hook`.
    ///
    /// Returns [`UpgradeOutcome::Promoted`] when the identity is new (it is linked to the guest,
    /// whose id becomes the user's) or [`UpgradeOutcome::Merged`] when it already belongs to a user
    /// (the guest is marked as merged into that user). Errors: [`GuestError::AlreadyUpgraded`]
    /// (another upgrade of this guest won), [`GuestError::NotFound`], [`GuestError::Hook`] (the
    /// hook failed: the transaction was rolled back, nothing changed), [`GuestError::Unavailable`]
    /// (the store, or the hook's own statements on its transaction, could not reach the database),
    /// store errors.
    fn upgrade<'a>(
        &'a self,
        guest_id: &'a str,
        identity: &'a Identity,
        hook: &'a dyn UpgradeHook,
    ) -> GuestFuture<'a, UpgradeOutcome>;

    /// The user `identity` belongs to, if any.
    fn user_for<'a>(&'a self, identity: &'a Identity) -> GuestFuture<'a, Option<String>>;

    /// Records that `identity` belongs to `user_id` (a user who signed up without being a guest
    /// first), so that a later upgrade with that identity merges into `user_id`. Returns the
    /// owner: `user_id`, or the user the identity already belonged to.
    fn link_identity<'a>(
        &'a self,
        identity: &'a Identity,
        user_id: &'a str,
    ) -> GuestFuture<'a, String>;

    /// Charges one guest creation to `client` (when given) and to the global budget, and says
    /// whether it is allowed. [`GuestStore::create`] calls it; exposed for callers that create
    /// guests elsewhere.
    fn check_limits<'a>(&'a self, client: Option<&'a ClientKey>) -> GuestFuture<'a, LimitDecision>;

    /// This store's database as [`RateBuckets`](crate::rate_limit::RateBuckets), when several
    /// servers share it: the engine keeps its password attempt limits there. `None` (the
    /// default, and the SQLite store's answer: one process per file) keeps them in the server's
    /// memory.
    fn rate_buckets(self: Arc<Self>) -> Option<Arc<dyn crate::rate_limit::RateBuckets>> {
        None
    }

    /// The adapter on this store's database, where database sessions (and their users) live
    /// next to the guests: the engine's adapter when none is given
    /// ([`AuthBuilder::adapter`](crate::AuthBuilder::adapter)). `None` by default.
    fn adapter(&self) -> Option<Arc<dyn crate::adapter::Adapter>> {
        None
    }

    /// Removes guests not seen for `policy.idle` and never upgraded, in batches, calling `hook`
    /// in each batch's transaction; or, with `policy.dry_run`, only reports what it would remove.
    fn cleanup<'a>(
        &'a self,
        policy: &'a CleanupPolicy,
        hook: &'a dyn CleanupHook,
    ) -> GuestFuture<'a, CleanupReport>;

    /// Lifecycle numbers: this process's counters and the database's totals.
    fn stats<'a>(&'a self) -> GuestFuture<'a, GuestStats>;

    /// Closes the store when the server stops: every creation already answered is on disk,
    /// queued writes are committed, connections are closed. Later calls fail as
    /// [`GuestError::Unavailable`]. The default does nothing.
    fn close(&self) -> GuestFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}

/// [`GuestStore::check_active`] from the database: the guest's row, and a touch when due.
async fn read_active<S: GuestStore + ?Sized>(store: &S, id: &str) -> Result<bool, GuestError> {
    match store.get(id).await? {
        Some(guest) if guest.is_guest() => {
            if crate::clock::now_millis() - guest.last_seen_at >= 60_000
                && let Err(error) = store.touch(id).await
            {
                tracing::debug!(target: "auth_runtime::guests", %error, "could not record guest activity");
            }
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The transaction an [`UpgradeHook`] or a [`CleanupHook`] runs in: run the application's
/// statements on it (`.execute(&mut **tx)`), and they commit or roll back with the store's.
#[non_exhaustive]
pub enum GuestTx<'a> {
    /// A [`SqliteGuestStore`] transaction (`BEGIN IMMEDIATE`).
    Sqlite(&'a mut sqlx::Transaction<'static, sqlx::Sqlite>),
    /// A [`PostgresGuestStore`] transaction.
    #[cfg(feature = "postgres")]
    Postgres(&'a mut sqlx::Transaction<'static, sqlx::Postgres>),
}

impl std::fmt::Debug for GuestTx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GuestTx::Sqlite(_) => f.write_str("GuestTx::Sqlite"),
            #[cfg(feature = "postgres")]
            GuestTx::Postgres(_) => f.write_str("GuestTx::Postgres"),
        }
    }
}

/// Why a guest operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GuestError {
    /// A creation limit was reached: answer `429 Too Many Requests` with `Retry-After`.
    #[error("too many guests created ({scope}); retry after {}s", retry_after.as_secs().max(1))]
    RateLimited {
        /// Which limit.
        scope: LimitScope,
        /// When one more creation will be allowed.
        retry_after: Duration,
    },
    /// The guest was already upgraded (by a concurrent or earlier request) into `into`.
    #[error("guest {guest_id} was already upgraded into user {into}")]
    AlreadyUpgraded {
        /// The guest.
        guest_id: String,
        /// The user it became.
        into: String,
    },
    /// There is no such guest (never created, or removed by cleanup).
    #[error("no guest {guest_id}")]
    NotFound {
        /// The id asked for.
        guest_id: String,
    },
    /// The application's hook failed; the transaction was rolled back and nothing changed.
    #[error("the application's guest hook failed, nothing was changed: {0}")]
    Hook(#[source] HookError),
    /// The store could not be reached (connection refused, pool timeout, closed pool).
    #[error("guest store unreachable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The store answered with an error.
    #[error("guest store failed: {0}")]
    Database(#[source] sqlx::Error),
    /// A limit setting (e.g. from the environment) is not valid.
    #[error(transparent)]
    Limits(#[from] LimitsError),
    /// A guest was to be created for a request whose client address is unknown, so the
    /// per-client limit cannot apply: one client could spend the whole global budget and lock
    /// every other visitor out. Serve the app with
    /// `auth_runtime::axum::serve_app` (or `into_make_service_with_connect_info`), or name
    /// the proxy header with `AuthBuilder::trusted_proxy`.
    #[error(
        "no client address for this request, so the per-client guest limit cannot apply: serve \
         the app with auth_runtime::axum::serve_app (or axum's \
         into_make_service_with_connect_info::<SocketAddr>()), or set AuthBuilder::trusted_proxy"
    )]
    NoClientAddress,
    /// The database URL names a database this build does not speak (`mysql://…`, a typo): a
    /// start-up error, rather than an SQLite file named after the URL.
    #[error(
        "the database URL's scheme {scheme}:// is not supported: use an SQLite file path (or \
         sqlite:path), or a postgres:// URL"
    )]
    UnknownDatabase {
        /// The URL's scheme, as written.
        scheme: String,
    },
    /// The store's file could not be opened as its database (not an SQLite file, corrupt,
    /// unreadable, a directory that cannot be created): a start-up error naming the file.
    #[error("cannot open the guest database {}: {source}", path.display())]
    Open {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: Box<GuestError>,
    },
}

impl GuestError {
    /// The HTTP status to answer with: `429`, `409`, `404`, `503` (unreachable) or `500`.
    pub fn status(&self) -> http::StatusCode {
        match self {
            GuestError::RateLimited { .. } => http::StatusCode::TOO_MANY_REQUESTS,
            GuestError::AlreadyUpgraded { .. } => http::StatusCode::CONFLICT,
            GuestError::NotFound { .. } => http::StatusCode::NOT_FOUND,
            GuestError::Unavailable(_) => http::StatusCode::SERVICE_UNAVAILABLE,
            GuestError::Hook(_)
            | GuestError::Database(_)
            | GuestError::Limits(_)
            | GuestError::NoClientAddress
            | GuestError::UnknownDatabase { .. } => http::StatusCode::INTERNAL_SERVER_ERROR,
            GuestError::Open { source, .. } => source.status(),
        }
    }

    /// The `Retry-After` value in whole seconds (rounded up), for [`GuestError::RateLimited`].
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            GuestError::RateLimited { retry_after, .. } => {
                Some(retry_after.as_millis().div_ceil(1000).max(1) as u64)
            }
            _ => None,
        }
    }

    /// The error of an application's hook: a database error that means "not now" (the
    /// connection dropped mid-transaction, the server is shutting down) is the store being
    /// unavailable, so the client gets 503 and retries, as when the store's own statements fail
    /// the same way; any other error is [`GuestError::Hook`].
    pub(crate) fn from_hook(error: HookError) -> Self {
        match error.downcast::<sqlx::Error>() {
            Ok(database) if crate::sql_errors::is_unavailable(&database) => {
                GuestError::Unavailable(*database)
            }
            Ok(database) => GuestError::Hook(database),
            Err(other) => GuestError::Hook(other),
        }
    }
}

impl From<crate::adapter::AdapterError> for GuestError {
    fn from(error: crate::adapter::AdapterError) -> Self {
        use crate::adapter::AdapterError;
        match error {
            AdapterError::Unavailable(e) => GuestError::Unavailable(e),
            AdapterError::Conflict(e) | AdapterError::Database(e) => GuestError::Database(e),
            other => GuestError::Database(sqlx::Error::Protocol(other.to_string())),
        }
    }
}

impl From<sqlx::Error> for GuestError {
    fn from(e: sqlx::Error) -> Self {
        if crate::sql_errors::is_unavailable(&e) {
            GuestError::Unavailable(e)
        } else {
            GuestError::Database(e)
        }
    }
}

/// A source of the current time, in Unix milliseconds.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// How a store behaves: creation limits, the "active" window of [`GuestStats`], the clock.
#[derive(Clone)]
pub struct GuestConfig {
    /// Creation limits; [`Limits::default`] unless set, [`Limits::from_env`] for
    /// [`GuestConfig::from_env`].
    pub limits: Limits,
    /// A guest seen within this window counts as active in [`GuestStats::active`] (default 24 h).
    pub active_window: Duration,
    /// [`GuestStore::touch`] writes only when the recorded activity is older than this (default
    /// 1 minute), so a guest browsing costs reads, not a write per request.
    pub touch_interval: Duration,
    /// How long a write to an SQLite file waits for another connection's write lock before the
    /// store answers [`GuestError::Unavailable`] (default 10 s; [`SqliteGuestStore::open_with`]).
    pub busy_timeout: Duration,
    /// The current time in Unix milliseconds (the system clock unless a test sets another).
    pub clock: Clock,
}

impl Default for GuestConfig {
    fn default() -> Self {
        GuestConfig {
            limits: Limits::default(),
            active_window: Duration::from_secs(24 * 3600),
            touch_interval: Duration::from_secs(60),
            busy_timeout: Duration::from_secs(10),
            clock: Arc::new(crate::clock::now_millis),
        }
    }
}

impl std::fmt::Debug for GuestConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuestConfig")
            .field("limits", &self.limits)
            .field("active_window", &self.active_window)
            .field("touch_interval", &self.touch_interval)
            .field("busy_timeout", &self.busy_timeout)
            .finish_non_exhaustive()
    }
}

impl GuestConfig {
    /// The defaults, with limits overridden by `AUTH_GUEST_*` variables (see
    /// [`Limits::from_env`]).
    pub fn from_env() -> Result<Self, LimitsError> {
        Ok(GuestConfig {
            limits: Limits::from_env()?,
            ..GuestConfig::default()
        })
    }

    /// Sets the creation limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets how long an SQLite write waits for another connection's write lock.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// Sets the clock (Unix milliseconds), for tests that move time.
    pub fn clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }
}

/// A new guest id: 48 bits of Unix milliseconds, then 80 random bits, as 32 hex digits. Ids made
/// later sort later, so a burst of creations appends to the primary-key index instead of writing
/// all over it (the pages it touches stay in SQLite's cache), as UUIDv7 does.
fn new_id() -> String {
    let mut bytes = [0u8; 16];
    let millis = u64::try_from(crate::clock::now_millis()).unwrap_or(0);
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes[6..]);
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn key_hash(key: &str) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(key.as_bytes()))
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::{GuestError, HookError, new_id};

    #[test]
    fn a_hook_that_lost_its_database_makes_the_store_unavailable_not_the_hook_wrong() {
        let lost: HookError = Box::new(sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));
        let error = GuestError::from_hook(lost);
        assert!(matches!(error, GuestError::Unavailable(_)), "{error}");
        assert_eq!(error.status(), http::StatusCode::SERVICE_UNAVAILABLE);

        let wrong_query: HookError = Box::new(sqlx::Error::RowNotFound);
        let error = GuestError::from_hook(wrong_query);
        assert!(matches!(error, GuestError::Hook(_)), "{error}");
        assert_eq!(error.status(), http::StatusCode::INTERNAL_SERVER_ERROR);

        let application: HookError = "the cart is locked".into();
        let error = GuestError::from_hook(application);
        assert!(matches!(error, GuestError::Hook(_)), "{error}");
        assert!(error.to_string().contains("the cart is locked"));
    }

    #[test]
    fn ids_are_unguessable_and_sort_by_creation_time() {
        let first = new_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = new_id();
        assert_eq!(first.len(), 32);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        // Later ids sort later: appends to the primary-key index.
        assert!(first < second);
        // Within one millisecond the 80 random bits differ.
        let (a, b) = (new_id(), new_id());
        assert_ne!(a[12..], b[12..]);
    }
}
