//! The guest store (`auth_runtime::guests`): one suite, run on SQLite (a file per test) and on
//! PostgreSQL (127.0.0.1:5432, database `test`, a schema per test; skipped with a message when
//! absent, a failure under `CI=true`).
//!
//! Timings are printed (`cargo test --test guest_store -- --nocapture`).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use auth_runtime::guests::{
    CleanupHook, CleanupPolicy, ClientKey, CreateGuest, GuestConfig, GuestError, GuestStore,
    GuestTx, HookFuture, Identity, LimitDecision, LimitScope, Limits, NoCleanupHook, NoHook,
    PostgresGuestStore, SqliteGuestStore, UpgradeHook, UpgradeOutcome,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Runs one statement on whichever transaction a hook was given.
macro_rules! on_tx {
    ($tx:expr, |$c:ident| $body:expr) => {
        match $tx {
            GuestTx::Sqlite($c) => $body,
            GuestTx::Postgres($c) => $body,
            _ => unreachable!("a new store kind"),
        }
    };
}

/// A database for one test, and a clock the test moves.
struct Backend {
    db: Db,
    clock: Arc<AtomicI64>,
}

#[path = "support/postgres.rs"]
mod pg;

enum Db {
    Sqlite(PathBuf),
    Postgres {
        admin: sqlx::PgPool,
        schema: String,
        options: Box<PgConnectOptions>,
    },
}

impl Backend {
    fn sqlite(test: &str) -> Backend {
        let dir = std::env::temp_dir().join(format!("auth-guests-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Backend {
            db: Db::Sqlite(dir.join("guests.db")),
            clock: Arc::new(AtomicI64::new(1_800_000_000_000)),
        }
    }

    async fn postgres(test: &str) -> Option<Backend> {
        let what = format!("postgres::{test}");
        let pg = pg::schema(&format!("guests_{test}"), &what).await?;
        Some(Backend {
            db: Db::Postgres {
                admin: pg.admin,
                schema: pg.name,
                options: Box::new(pg.scoped),
            },
            clock: Arc::new(AtomicI64::new(1_800_000_000_000)),
        })
    }

    fn name(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "SQLite",
            Db::Postgres { .. } => "PostgreSQL",
        }
    }

    fn config(&self, limits: Limits) -> GuestConfig {
        let clock = self.clock.clone();
        GuestConfig::default()
            .limits(limits)
            .clock(move || clock.load(Ordering::SeqCst))
    }

    /// A store instance (a new pool, as another app server would have).
    async fn store(&self, limits: Limits) -> Arc<dyn GuestStore> {
        let config = self.config(limits);
        match &self.db {
            Db::Sqlite(path) => Arc::new(SqliteGuestStore::open_with(path, config).await.unwrap()),
            Db::Postgres { options, .. } => {
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .connect_with((**options).clone())
                    .await
                    .unwrap();
                Arc::new(PostgresGuestStore::with_config(pool, config).await.unwrap())
            }
        }
    }

    fn advance(&self, ms: i64) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }

    fn now(&self) -> i64 {
        self.clock.load(Ordering::SeqCst)
    }

    /// The application's own table, in the same database: one cart per owner.
    async fn app(&self) -> App {
        let app = match &self.db {
            Db::Sqlite(path) => App::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(
                        SqliteConnectOptions::new()
                            .filename(path)
                            .create_if_missing(true)
                            .busy_timeout(Duration::from_secs(10)),
                    )
                    .await
                    .unwrap(),
            ),
            Db::Postgres { options, .. } => App::Postgres(
                PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with((**options).clone())
                    .await
                    .unwrap(),
            ),
        };
        app.run(
            "CREATE TABLE IF NOT EXISTS carts (owner TEXT PRIMARY KEY, items BIGINT NOT NULL)",
            &[],
        )
        .await;
        app
    }

    async fn finish(self) {
        match self.db {
            Db::Sqlite(path) => {
                let _ = std::fs::remove_dir_all(path.parent().unwrap());
            }
            Db::Postgres { admin, schema, .. } => {
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                    .execute(&admin)
                    .await
                    .unwrap();
            }
        }
    }
}

enum App {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl App {
    async fn run(&self, sql: &'static str, binds: &[&str]) {
        match self {
            App::Sqlite(pool) => {
                let mut q = sqlx::query(sql);
                for b in binds {
                    q = q.bind(*b);
                }
                q.execute(pool).await.unwrap();
            }
            App::Postgres(pool) => {
                let mut q = sqlx::query(sql);
                for b in binds {
                    q = q.bind(*b);
                }
                q.execute(pool).await.unwrap();
            }
        }
    }

    async fn cart(&self, owner: &str, items: i64) {
        match self {
            App::Sqlite(pool) => {
                sqlx::query("INSERT INTO carts (owner, items) VALUES ($1, $2)")
                    .bind(owner)
                    .bind(items)
                    .execute(pool)
                    .await
                    .unwrap();
            }
            App::Postgres(pool) => {
                sqlx::query("INSERT INTO carts (owner, items) VALUES ($1, $2)")
                    .bind(owner)
                    .bind(items)
                    .execute(pool)
                    .await
                    .unwrap();
            }
        }
    }

    async fn items(&self, owner: &str) -> Option<i64> {
        let sql = "SELECT items FROM carts WHERE owner = $1";
        match self {
            App::Sqlite(pool) => sqlx::query_scalar(sql)
                .bind(owner)
                .fetch_optional(pool)
                .await
                .unwrap(),
            App::Postgres(pool) => sqlx::query_scalar(sql)
                .bind(owner)
                .fetch_optional(pool)
                .await
                .unwrap(),
        }
    }
}

/// Moves the guest's cart to the user it merged into (adding to the user's cart), then fails
/// when told to, after its writes.
struct MoveCart {
    fail: bool,
    calls: AtomicUsize,
}

impl MoveCart {
    fn new(fail: bool) -> Self {
        MoveCart {
            fail,
            calls: AtomicUsize::new(0),
        }
    }
}

impl UpgradeHook for MoveCart {
    fn on_upgrade<'a>(&'a self, outcome: &'a UpgradeOutcome, tx: GuestTx<'a>) -> HookFuture<'a> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if let UpgradeOutcome::Merged { guest_id, into } = outcome {
                let add = "UPDATE carts SET items = items + \
                           COALESCE((SELECT items FROM carts WHERE owner = $2), 0) WHERE owner = $1";
                let drop = "DELETE FROM carts WHERE owner = $1";
                on_tx!(tx, |c| {
                    sqlx::query(add)
                        .bind(into)
                        .bind(guest_id)
                        .execute(&mut **c)
                        .await?;
                    sqlx::query(drop).bind(guest_id).execute(&mut **c).await?;
                });
            }
            if self.fail {
                return Err("the cart service said no".into());
            }
            Ok(())
        })
    }
}

/// Deletes the carts of removed guests; counts the ids it saw.
struct DeleteCarts(AtomicUsize);

impl CleanupHook for DeleteCarts {
    fn on_cleanup<'a>(&'a self, ids: &'a [String], tx: GuestTx<'a>) -> HookFuture<'a> {
        Box::pin(async move {
            self.0.fetch_add(ids.len(), Ordering::SeqCst);
            on_tx!(tx, |c| {
                for id in ids {
                    sqlx::query("DELETE FROM carts WHERE owner = $1")
                        .bind(id)
                        .execute(&mut **c)
                        .await?;
                }
            });
            Ok(())
        })
    }
}

fn ip(s: &str) -> ClientKey {
    ClientKey::from_ip(s.parse().unwrap())
}

// ---------------------------------------------------------------------------------------------
// The suite. Each function runs on both stores.

async fn create_touch_get(b: &Backend) {
    let store = b.store(Limits::default()).await;
    let created = store
        .create(CreateGuest::for_client(ip("203.0.113.1")))
        .await
        .unwrap();
    assert!(created.new);
    let guest = created.guest;
    assert_eq!(guest.id.len(), 32);
    assert_eq!((guest.created_at, guest.last_seen_at), (b.now(), b.now()));
    assert!(guest.is_guest());
    assert_eq!(store.get(&guest.id).await.unwrap(), Some(guest.clone()));

    b.advance(HOUR);
    assert!(store.touch(&guest.id).await.unwrap());
    let seen = store.get(&guest.id).await.unwrap().unwrap();
    assert_eq!(seen.last_seen_at, b.now());
    assert_eq!(seen.created_at, guest.created_at);
    // Within the touch interval (1 minute) a touch only reads.
    b.advance(30_000);
    assert!(store.touch(&guest.id).await.unwrap());
    let unchanged = store.get(&guest.id).await.unwrap().unwrap();
    assert_eq!(unchanged.last_seen_at, b.now() - 30_000);
    assert!(!store.touch("no-such-guest").await.unwrap());
    assert_eq!(store.get("no-such-guest").await.unwrap(), None);
}

async fn concurrent_creations(b: &Backend) {
    // Limits on, as in production, from 1,000 different addresses.
    let limits = Limits {
        global_per_hour: 100_000,
        global_burst: 5_000,
        ..Limits::default()
    };
    let store = b.store(limits).await;
    let started = Instant::now();
    let tasks: Vec<_> = (0..1000u32)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let client = ip(&format!("10.{}.{}.{}", i / 65536, (i / 256) % 256, i % 256));
                store.create(CreateGuest::for_client(client)).await
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        let created = task.await.unwrap().unwrap();
        assert!(created.new);
        ids.insert(created.guest.id);
    }
    let took = started.elapsed();
    eprintln!(
        "{}: 1,000 concurrent guest creations (limits on) in {} ms",
        b.name(),
        took.as_millis()
    );
    assert_eq!(ids.len(), 1000);
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (stats.created, stats.guests, stats.active),
        (1000, 1000, 1000)
    );
    for id in ids.iter().take(50) {
        assert!(store.get(id).await.unwrap().is_some());
    }
}

async fn idempotent_creation(b: &Backend) {
    let store = b.store(Limits::default()).await;
    let key = "7f1c0a3e9b2d4c6e8a0b1c2d3e4f5061";
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let request = CreateGuest::for_client(ip("203.0.113.2")).idempotency_key(key);
                store.create(request).await.unwrap()
            })
        })
        .collect();
    let mut created = Vec::new();
    for task in tasks {
        created.push(task.await.unwrap());
    }
    let id = created[0].guest.id.clone();
    assert!(created.iter().all(|c| c.guest.id == id));
    assert_eq!(created.iter().filter(|c| c.new).count(), 1);
    // A replay later refreshes activity and charges no limit.
    b.advance(DAY);
    let again = store
        .create(CreateGuest::server_side().idempotency_key(key))
        .await
        .unwrap();
    assert_eq!((again.guest.id.as_str(), again.new), (id.as_str(), false));
    assert_eq!(again.guest.last_seen_at, b.now());
    // Once upgraded, the key never hands out a guest session for what is now a user.
    store
        .upgrade(&id, &Identity::new("google", "idem"), &NoHook)
        .await
        .unwrap();
    let err = store
        .create(CreateGuest::server_side().idempotency_key(key))
        .await
        .unwrap_err();
    assert!(
        matches!(err, GuestError::AlreadyUpgraded { ref into, .. } if *into == id),
        "{err}"
    );
    assert_eq!(err.status(), 409);
    // Another key is another guest.
    let other = store
        .create(CreateGuest::server_side().idempotency_key("another-key-0123456789abcdef"))
        .await
        .unwrap();
    assert_ne!(other.guest.id, id);
}

async fn concurrent_upgrades(b: &Backend) {
    let store = b.store(Limits::default()).await;
    let app = b.app().await;
    let guest = store
        .create(CreateGuest::server_side())
        .await
        .unwrap()
        .guest;
    app.cart(&guest.id, 3).await;
    b.advance(5 * 60_000);
    let hook = Arc::new(MoveCart::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (store, hook, id) = (store.clone(), hook.clone(), guest.id.clone());
            tokio::spawn(async move {
                let identity = Identity::new("google", "sub-50");
                store.upgrade(&id, &identity, hook.as_ref()).await
            })
        })
        .collect();
    let mut won = Vec::new();
    let mut already = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(outcome) => won.push(outcome),
            Err(GuestError::AlreadyUpgraded { guest_id, into }) => {
                assert_eq!((&guest_id, &into), (&guest.id, &guest.id));
                already += 1;
            }
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    eprintln!(
        "{}: 50 concurrent upgrades of one guest in {} ms",
        b.name(),
        started.elapsed().as_millis()
    );
    assert_eq!(
        won,
        vec![UpgradeOutcome::Promoted {
            user_id: guest.id.clone()
        }]
    );
    assert_eq!(already, 49);
    assert_eq!(hook.calls.load(Ordering::SeqCst), 1);
    let upgraded = store.get(&guest.id).await.unwrap().unwrap();
    assert_eq!(upgraded.upgraded_to.as_deref(), Some(guest.id.as_str()));
    assert_eq!(
        app.items(&guest.id).await,
        Some(3),
        "promoted: the cart stays"
    );
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (stats.promoted, stats.promoted_total, stats.guests),
        (1, 1, 0)
    );
    assert_eq!(stats.upgrade_latency.count, 1);
    assert_eq!(stats.upgrade_latency.max, Duration::from_secs(300));
}

/// 100 guests sign in with one new identity at once (one person, many tabs or devices): the
/// first becomes the user, the 99 others merge into it, none fails.
async fn concurrent_upgrades_to_one_identity(b: &Backend) {
    let store = b.store(Limits::unlimited()).await;
    let mut guests = Vec::new();
    for _ in 0..100 {
        guests.push(
            store
                .create(CreateGuest::server_side())
                .await
                .unwrap()
                .guest
                .id,
        );
    }
    let started = Instant::now();
    let tasks: Vec<_> = guests
        .iter()
        .map(|id| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move {
                let identity = Identity::new("email", "ada@example.com");
                store.upgrade(&id, &identity, &NoHook).await.unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    eprintln!(
        "{}: 100 concurrent upgrades of distinct guests to one identity in {} ms",
        b.name(),
        started.elapsed().as_millis()
    );
    let promoted: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, UpgradeOutcome::Promoted { .. }))
        .collect();
    assert_eq!(promoted.len(), 1);
    let user = promoted[0].user_id().to_owned();
    assert!(outcomes.iter().all(|o| o.user_id() == user));
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.promoted_total, stats.merged_total), (1, 99));
    assert_eq!(
        store
            .user_for(&Identity::new("email", "ada@example.com"))
            .await
            .unwrap(),
        Some(user)
    );
}

async fn merged_when_the_identity_exists(b: &Backend) {
    let store = b.store(Limits::default()).await;
    let app = b.app().await;
    let github = Identity::new("github", "octocat");
    // A user who signed up directly, with a cart of 2.
    assert_eq!(
        store.link_identity(&github, "user-1").await.unwrap(),
        "user-1"
    );
    assert_eq!(
        store.link_identity(&github, "user-2").await.unwrap(),
        "user-1"
    );
    assert_eq!(
        store.user_for(&github).await.unwrap().as_deref(),
        Some("user-1")
    );
    app.cart("user-1", 2).await;
    // A guest with a cart of 5 signs in with that identity.
    let guest = store
        .create(CreateGuest::server_side())
        .await
        .unwrap()
        .guest;
    app.cart(&guest.id, 5).await;
    let outcome = store
        .upgrade(&guest.id, &github, &MoveCart::new(false))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        UpgradeOutcome::Merged {
            guest_id: guest.id.clone(),
            into: "user-1".into()
        }
    );
    assert_eq!(outcome.user_id(), "user-1");
    assert_eq!(app.items("user-1").await, Some(7));
    assert_eq!(app.items(&guest.id).await, None);
    let merged = store.get(&guest.id).await.unwrap().unwrap();
    assert_eq!(merged.upgraded_to.as_deref(), Some("user-1"));

    // A promoted guest is a user too: a second guest with its identity merges into it.
    let first = store
        .create(CreateGuest::server_side())
        .await
        .unwrap()
        .guest;
    let google = Identity::new("google", "g-1");
    let promoted = store.upgrade(&first.id, &google, &NoHook).await.unwrap();
    assert_eq!(promoted.user_id(), first.id);
    let second = store
        .create(CreateGuest::server_side())
        .await
        .unwrap()
        .guest;
    let outcome = store.upgrade(&second.id, &google, &NoHook).await.unwrap();
    assert_eq!(outcome.user_id(), first.id);
    // Unknown guests are a clear error.
    let err = store.upgrade("nobody", &google, &NoHook).await.unwrap_err();
    assert!(matches!(err, GuestError::NotFound { .. }), "{err}");
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.merged, stats.promoted), (2, 1));
    assert_eq!((stats.merged_total, stats.promoted_total), (2, 1));
}

async fn a_failing_hook_changes_nothing(b: &Backend) {
    let store = b.store(Limits::default()).await;
    let app = b.app().await;
    let apple = Identity::new("apple", "a-1");
    store.link_identity(&apple, "user-9").await.unwrap();
    app.cart("user-9", 1).await;
    let guest = store
        .create(CreateGuest::server_side())
        .await
        .unwrap()
        .guest;
    app.cart(&guest.id, 4).await;

    // Merged: the hook moved the cart, then failed.
    let err = store
        .upgrade(&guest.id, &apple, &MoveCart::new(true))
        .await
        .unwrap_err();
    assert!(matches!(err, GuestError::Hook(_)), "{err}");
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    assert_eq!(store.get(&guest.id).await.unwrap(), Some(guest.clone()));
    assert_eq!(app.items(&guest.id).await, Some(4));
    assert_eq!(app.items("user-9").await, Some(1));

    // Promoted: the identity link is rolled back too.
    let fresh = Identity::new("apple", "a-2");
    store
        .upgrade(&guest.id, &fresh, &MoveCart::new(true))
        .await
        .unwrap_err();
    assert_eq!(store.user_for(&fresh).await.unwrap(), None);
    assert_eq!(store.get(&guest.id).await.unwrap(), Some(guest.clone()));

    // And the guest can still be upgraded afterwards.
    let outcome = store
        .upgrade(&guest.id, &apple, &MoveCart::new(false))
        .await
        .unwrap();
    assert_eq!(outcome.user_id(), "user-9");
    assert_eq!(app.items("user-9").await, Some(5));
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.merged, stats.promoted), (1, 0));
}

async fn cleanup_by_last_activity(b: &Backend) {
    let store = b.store(Limits::unlimited()).await;
    let app = b.app().await;
    // 25 guests created 40 days ago; 5 of them active since; 3 upgraded long ago.
    let mut idle = Vec::new();
    let mut active = Vec::new();
    for i in 0..25 {
        let guest = store
            .create(CreateGuest::server_side())
            .await
            .unwrap()
            .guest;
        app.cart(&guest.id, 1).await;
        if i < 5 {
            active.push(guest.id);
        } else {
            idle.push(guest.id);
        }
    }
    for (i, id) in idle.drain(..3).collect::<Vec<_>>().iter().enumerate() {
        let identity = Identity::new("google", format!("kept-{i}"));
        store.upgrade(id, &identity, &NoHook).await.unwrap();
    }
    b.advance(39 * DAY);
    for id in &active {
        assert!(store.touch(id).await.unwrap());
    }
    b.advance(DAY);
    let young = store
        .create(CreateGuest::server_side())
        .await
        .unwrap()
        .guest;

    let policy = CleanupPolicy {
        batch_size: 7,
        max_batches: 2,
        ..CleanupPolicy::default()
    };
    // Dry run: reports the 17 idle, never-upgraded guests, removes nothing.
    let dry = store
        .cleanup(&policy.clone().dry_run(), &NoCleanupHook)
        .await
        .unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.guests, 17);
    assert_eq!(dry.cutoff, b.now() - 30 * DAY);
    assert_eq!(dry.sample.len(), 17);
    assert!(dry.sample.iter().all(|id| idle.contains(id)));
    assert_eq!(store.stats().await.unwrap().guests, 23);

    // Bounded: two batches of 7, then the next run takes the last 3.
    let hook = DeleteCarts(AtomicUsize::new(0));
    let first = store.cleanup(&policy, &hook).await.unwrap();
    assert_eq!((first.guests, first.batches, first.more), (14, 2, true));
    let second = store.cleanup(&policy, &hook).await.unwrap();
    assert_eq!((second.guests, second.batches, second.more), (3, 1, false));
    assert_eq!(hook.0.load(Ordering::SeqCst), 17);
    for id in &idle {
        assert_eq!(store.get(id).await.unwrap(), None);
        assert_eq!(app.items(id).await, None, "the hook deleted the cart");
    }
    for id in active.iter().chain([&young.id]) {
        assert!(store.get(id).await.unwrap().is_some());
        assert_eq!(app.items(id).await.unwrap_or(1), 1);
    }
    let stats = store.stats().await.unwrap();
    assert_eq!(
        (stats.cleaned, stats.guests, stats.promoted_total),
        (17, 6, 3)
    );
    // Nothing left: an empty run.
    let empty = store.cleanup(&policy, &hook).await.unwrap();
    assert_eq!((empty.guests, empty.batches), (0, 0));
}

async fn limits_burst_then_retry_after(b: &Backend) {
    let limits = Limits {
        per_client_per_hour: 30,
        per_client_burst: 5,
        global_per_hour: 0,
        global_burst: 0,
    };
    let store = b.store(limits).await;
    let client = ip("198.51.100.7");
    for i in 0..5 {
        let decision = store.check_limits(Some(&client)).await.unwrap();
        assert_eq!(decision, LimitDecision::Allowed { remaining: 4 - i });
    }
    let err = store
        .create(CreateGuest::for_client(client.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 429);
    assert_eq!(err.retry_after_secs(), Some(120), "{err}");
    assert!(matches!(
        err,
        GuestError::RateLimited {
            scope: LimitScope::Client,
            ..
        }
    ));
    // Another address is not affected; after the interval one more is allowed.
    store
        .create(CreateGuest::for_client(ip("198.51.100.8")))
        .await
        .unwrap();
    b.advance(119_000);
    assert!(
        !store
            .check_limits(Some(&client))
            .await
            .unwrap()
            .is_allowed()
    );
    b.advance(1_000);
    store
        .create(CreateGuest::for_client(client.clone()))
        .await
        .unwrap();
    assert!(
        !store
            .check_limits(Some(&client))
            .await
            .unwrap()
            .is_allowed()
    );
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.rejected_client, stats.created), (3, 2));

    // IPv6: one /64 is one client, whatever the interface id.
    for i in 0..5 {
        let key = ip(&format!("2001:db8:aa:bb::{:x}", i + 1));
        store.create(CreateGuest::for_client(key)).await.unwrap();
    }
    let err = store
        .create(CreateGuest::for_client(ip("2001:db8:aa:bb:ffff:1:2:3")))
        .await
        .unwrap_err();
    assert_eq!(err.status(), 429);
    store
        .create(CreateGuest::for_client(ip("2001:db8:aa:bc::1")))
        .await
        .unwrap();
}

async fn global_budget(b: &Backend) {
    let limits = Limits {
        global_per_hour: 60,
        global_burst: 10,
        ..Limits::default()
    };
    let store = b.store(limits).await;
    for i in 0..10 {
        store
            .create(CreateGuest::for_client(ip(&format!("192.0.2.{i}"))))
            .await
            .unwrap();
    }
    let err = store
        .create(CreateGuest::for_client(ip("192.0.2.200")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, GuestError::RateLimited { scope: LimitScope::Global, retry_after } if retry_after == Duration::from_secs(60)),
        "{err}"
    );
    // Server-side creations are charged to the global budget too.
    assert!(store.create(CreateGuest::server_side()).await.is_err());
    b.advance(60_000);
    store.create(CreateGuest::server_side()).await.unwrap();
    assert_eq!(store.stats().await.unwrap().rejected_global, 2);
    // Housekeeping: once full again, buckets are dropped by cleanup.
    b.advance(2 * HOUR);
    let report = store
        .cleanup(&CleanupPolicy::default(), &NoCleanupHook)
        .await
        .unwrap();
    assert_eq!(report.buckets_pruned, 12);
}

/// Two app servers (two store instances, two pools) on one database share one limit.
async fn limits_hold_across_two_instances(b: &Backend) {
    let limits = Limits {
        per_client_per_hour: 30,
        per_client_burst: 10,
        ..Limits::default()
    };
    let (one, two) = (b.store(limits).await, b.store(limits).await);
    let client = ip("203.0.113.50");
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = if i % 2 == 0 { one.clone() } else { two.clone() };
            let client = client.clone();
            tokio::spawn(async move { store.create(CreateGuest::for_client(client)).await })
        })
        .collect();
    let mut allowed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => allowed += 1,
            Err(GuestError::RateLimited { .. }) => {}
            Err(other) => panic!("unexpected: {other}"),
        }
    }
    assert_eq!(allowed, 10, "one burst across both servers");
    let (s1, s2) = (one.stats().await.unwrap(), two.stats().await.unwrap());
    assert_eq!(s1.created + s2.created, 10);
    assert_eq!(s1.rejected_client + s2.rejected_client, 30);
    assert_eq!(s1.guests, 10, "both read the shared totals");
}

macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = super::Backend::sqlite(stringify!($name));
                    super::$name(&backend).await;
                    backend.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(backend) = super::Backend::postgres(stringify!($name)).await else {
                        return;
                    };
                    super::$name(&backend).await;
                    backend.finish().await;
                }
            )*
        }
    };
}

/// A guest's session check says "still a guest" until the store upgrades the guest, and "over"
/// from that moment, also right after a check the SQLite store answered from memory; cleanup
/// ends it the same way.
async fn check_active_ends_at_upgrade_and_cleanup(b: &Backend) {
    let store = b.store(Limits::unlimited()).await;
    let guest = store
        .create(CreateGuest::server_side())
        .await
        .unwrap()
        .guest;
    assert!(store.check_active(&guest.id).await.unwrap());
    assert!(store.check_active(&guest.id).await.unwrap());
    store
        .upgrade(&guest.id, &Identity::new("google", "check"), &NoHook)
        .await
        .unwrap();
    assert!(
        !store.check_active(&guest.id).await.unwrap(),
        "{}",
        b.name()
    );
    assert!(!store.check_active("no-such-guest").await.unwrap());

    let idle = store
        .create(CreateGuest::server_side())
        .await
        .unwrap()
        .guest;
    assert!(store.check_active(&idle.id).await.unwrap());
    b.advance(31 * 24 * 3600 * 1000);
    let report = store
        .cleanup(&CleanupPolicy::default(), &NoCleanupHook)
        .await
        .unwrap();
    assert_eq!(report.guests, 1, "{report:?}");
    assert!(!store.check_active(&idle.id).await.unwrap(), "{}", b.name());
}

on_both_stores!(
    check_active_ends_at_upgrade_and_cleanup,
    create_touch_get,
    concurrent_creations,
    idempotent_creation,
    concurrent_upgrades,
    concurrent_upgrades_to_one_identity,
    merged_when_the_identity_exists,
    a_failing_hook_changes_nothing,
    cleanup_by_last_activity,
    limits_burst_then_retry_after,
    global_budget,
    limits_hold_across_two_instances,
);

// ---------------------------------------------------------------------------------------------
// Only meaningful for one store.

/// A store that cannot be reached fails fast with a clear error.
#[tokio::test]
async fn an_unreachable_store_is_a_clear_error() {
    // PostgreSQL on a closed port.
    let started = Instant::now();
    let err = PostgresGuestStore::connect("postgres://postgres@127.0.0.1:1/test")
        .await
        .unwrap_err();
    let took = started.elapsed();
    eprintln!(
        "PostgreSQL on a closed port, after {} ms: {err}",
        took.as_millis()
    );
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert!(matches!(err, GuestError::Unavailable(_)), "{err:?}");
    assert_eq!(err.status(), 503);
    assert!(
        err.to_string().starts_with("guest store unreachable"),
        "{err}"
    );

    // A pool that connected lazily: the first operation says so.
    let pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(1))
        .connect_lazy("postgres://postgres@127.0.0.1:1/test")
        .unwrap();
    let err = PostgresGuestStore::new(pool).await.unwrap_err();
    assert!(matches!(err, GuestError::Unavailable(_)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));

    // SQLite where no file can be created.
    let err = SqliteGuestStore::open("/proc/no-such-dir/guests.db")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GuestError::Open { source, .. } if matches!(**source, GuestError::Unavailable(_))),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("/proc/no-such-dir/guests.db"),
        "{err}"
    );
}

/// The default file store is created and migrated on first use, and reopened as it was.
#[tokio::test]
async fn sqlite_file_is_created_on_first_use() {
    let dir = std::env::temp_dir().join(format!("auth-guests-{}-open", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("nested").join("guests.db");
    let store = SqliteGuestStore::open(&path).await.unwrap();
    let id = store
        .create(CreateGuest::server_side())
        .await
        .unwrap()
        .guest
        .id;
    drop(store);
    assert!(path.exists());
    let again = SqliteGuestStore::open(&path).await.unwrap();
    assert!(again.get(&id).await.unwrap().is_some());
    let _ = std::fs::remove_dir_all(dir);
}

/// The scheduled cleanup removes idle guests on its own; abort stops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_cleanup_runs_on_a_schedule() {
    let b = Backend::sqlite("scheduled");
    let store = b.store(Limits::unlimited()).await;
    let idle = store
        .create(CreateGuest::server_side())
        .await
        .unwrap()
        .guest;
    b.advance(31 * DAY);
    let fresh = store
        .create(CreateGuest::server_side())
        .await
        .unwrap()
        .guest;
    let task = auth_runtime::guests::spawn_cleanup(
        store.clone(),
        CleanupPolicy::default(),
        Arc::new(NoCleanupHook),
        Duration::from_millis(20),
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while store.get(&idle.id).await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "the scheduled cleanup never ran");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(store.get(&fresh.id).await.unwrap().is_some());
    assert_eq!(store.stats().await.unwrap().cleaned, 1);
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    b.finish().await;
}

/// A store whose database goes away mid-life answers "unreachable", not a panic or a hang.
#[tokio::test]
async fn a_store_that_lost_its_database_says_so() {
    let dir = std::env::temp_dir().join(format!("auth-guests-{}-closed", std::process::id()));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(dir.with_extension("db"))
                .create_if_missing(true),
        )
        .await
        .unwrap();
    let store = SqliteGuestStore::new(pool.clone()).await.unwrap();
    pool.close().await;
    let err = store.create(CreateGuest::server_side()).await.unwrap_err();
    assert!(matches!(err, GuestError::Unavailable(_)), "{err:?}");
    assert_eq!(err.status(), 503);
    let _ = std::fs::remove_file(dir.with_extension("db"));
}

/// A hook whose connection dies under it (here it terminates its own backend, as a PostgreSQL
/// restart would) makes the upgrade "unavailable" (503, retry), not the hook "wrong" (500):
/// nothing changed, and the same upgrade succeeds on the next connection.
#[tokio::test]
async fn a_hook_that_loses_its_connection_is_unavailable_and_changes_nothing() {
    struct DiesOnce(AtomicUsize);
    impl UpgradeHook for DiesOnce {
        fn on_upgrade<'a>(&'a self, _: &'a UpgradeOutcome, tx: GuestTx<'a>) -> HookFuture<'a> {
            Box::pin(async move {
                if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
                    let GuestTx::Postgres(tx) = tx else {
                        unreachable!("a PostgreSQL store")
                    };
                    sqlx::query("SELECT pg_terminate_backend(pg_backend_pid())")
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            })
        }
    }
    let Some(b) = Backend::postgres("hook_loses_connection").await else {
        return;
    };
    let store = b.store(Limits::unlimited()).await;
    let guest = store
        .create(CreateGuest::server_side())
        .await
        .unwrap()
        .guest;
    let github = Identity::new("github", "gh-dies");
    let hook = DiesOnce(AtomicUsize::new(0));

    let err = store.upgrade(&guest.id, &github, &hook).await.unwrap_err();
    assert!(matches!(err, GuestError::Unavailable(_)), "{err:?}");
    assert_eq!(err.status(), 503);
    assert_eq!(store.get(&guest.id).await.unwrap(), Some(guest.clone()));
    assert_eq!(store.user_for(&github).await.unwrap(), None);

    let outcome = store.upgrade(&guest.id, &github, &hook).await.unwrap();
    assert_eq!(outcome.user_id(), guest.id);
    b.finish().await;
}

/// Every transition is a `tracing` event (target `auth_runtime::guests`).
#[tokio::test]
async fn lifecycle_events_are_traced() {
    #[derive(Clone, Default)]
    struct Buf(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let b = Backend::sqlite("traced");
    let limits = Limits {
        per_client_burst: 1,
        ..Limits::default()
    };
    let store = b.store(limits).await;
    let client = ip("192.0.2.99");
    let guest = store
        .create(CreateGuest::for_client(client.clone()))
        .await
        .unwrap()
        .guest;
    store
        .create(CreateGuest::for_client(client))
        .await
        .unwrap_err();
    b.advance(90_000);
    store
        .upgrade(&guest.id, &Identity::new("google", "traced"), &NoHook)
        .await
        .unwrap();
    let idle = store
        .create(CreateGuest::server_side())
        .await
        .unwrap()
        .guest;
    b.advance(31 * DAY);
    store
        .cleanup(&CleanupPolicy::default(), &NoCleanupHook)
        .await
        .unwrap();
    assert_eq!(store.get(&idle.id).await.unwrap(), None);

    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    for needle in [
        "event=\"created\"",
        "event=\"rejected\"",
        "scope=per-client limit",
        "client=\"ip4:192.0.2.99\"",
        "event=\"promoted\"",
        "guest_age_ms=90000",
        "event=\"cleaned\" guests=1",
    ] {
        assert!(log.contains(needle), "{needle} not in:\n{log}");
    }
    b.finish().await;
}

/// Creations on a file store run in the store's batch thread: while another connection holds the
/// write lock past the busy timeout they fail as `Unavailable` (503) without hanging, and the
/// thread keeps serving once the lock is released.
#[tokio::test]
async fn sqlite_creations_wait_for_a_held_write_lock_then_fail_fast() {
    let dir = std::env::temp_dir().join(format!("auth-guests-{}-locked", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("guests.db");
    let config = GuestConfig::default()
        .limits(Limits::unlimited())
        .busy_timeout(Duration::from_millis(200));
    let store = SqliteGuestStore::open_with(&path, config).await.unwrap();
    store.create(CreateGuest::server_side()).await.unwrap();

    let mut other = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(
        &SqliteConnectOptions::new().filename(&path),
    )
    .await
    .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut other)
        .await
        .unwrap();
    let started = Instant::now();
    let err = store.create(CreateGuest::server_side()).await.unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, GuestError::Unavailable(_)), "{err:?}");
    assert_eq!(err.status(), 503);
    assert!(took >= Duration::from_millis(150), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");

    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    let created = store.create(CreateGuest::server_side()).await.unwrap();
    assert!(created.new);
    assert_eq!(store.stats().await.unwrap().guests, 2);
    let _ = std::fs::remove_dir_all(dir);
}

/// The SQLite store serves one process: a guest it confirmed within the touch interval is
/// answered from memory (a row removed behind its back still reads as a guest until then), and
/// from the database after it.
#[tokio::test]
async fn sqlite_guest_checks_are_remembered_for_the_touch_interval() {
    let b = Backend::sqlite("remembered");
    let store = SqliteGuestStore::open_with(
        match &b.db {
            Db::Sqlite(path) => path,
            Db::Postgres { .. } => unreachable!(),
        },
        b.config(Limits::unlimited()),
    )
    .await
    .unwrap();
    let guest = store
        .create(CreateGuest::server_side())
        .await
        .unwrap()
        .guest;
    assert!(store.check_active(&guest.id).await.unwrap());
    sqlx::query("DELETE FROM auth_guests WHERE id = $1")
        .bind(&guest.id)
        .execute(store.pool())
        .await
        .unwrap();
    assert!(store.check_active(&guest.id).await.unwrap());
    b.advance(60_000);
    assert!(!store.check_active(&guest.id).await.unwrap());
}
