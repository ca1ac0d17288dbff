//! Guest sign-ins per second on SQLite and on PostgreSQL, and the session read path with the
//! revocation check (session versions) on and off, all through `Auth::handle` in one run so the
//! ratios against the baseline (`session_read/member_plain`: a member's `GET /session` with
//! nothing configured) mean something on a noisy machine.
//!
//! `cargo bench --bench guests -- --warm-up-time 1 --measurement-time 5`
//!
//! PostgreSQL: 127.0.0.1:5432, database `test`, role `postgres` or `$USER`, one schema of its own
//! (dropped at the end). When it is unreachable the PostgreSQL benchmarks are skipped with a
//! message. After the criterion groups, 1,000 sign-ins by 32 concurrent tasks on each store print
//! their sign-ins/s (`GUESTS_CONCURRENT=0` skips that section).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use auth_runtime::guests::{GuestConfig, Limits, PostgresGuestStore, SqliteGuestStore};
use auth_runtime::{PostgresSessionVersions, SqliteSessionVersions};
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response, StatusCode};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::runtime::Runtime;

const SECRET: &str = "guests-benchmark-secret-0123456789abcdef0123";
const URL: &str = "http://127.0.0.1:3000/api/auth";
const CONCURRENT_SIGN_INS: usize = 1_000;
const CONCURRENT_TASKS: usize = 32;

/// Visitors: the Anonymous provider, which creates a guest per sign-in.
mod guest {
    use auth_runtime::next_auth;

    next_auth! {
        providers: [Anonymous {}],
    }
}

/// Members: a Credentials provider that always signs in the same user.
mod member {
    use auth_runtime::{User, next_auth};

    next_auth! {
        providers: [
            Credentials {
                id: "password",
                name: "Password",
                credentials: {},
                authorize: |_credentials| Ok(Some(User::with_id("member-1"))),
            },
        ],
    }
}

/// A browser's cookie jar, for requests sent straight to `Auth::handle`.
#[derive(Default, Clone)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn header(&self) -> String {
        let pairs: Vec<String> = self.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.join("; ")
    }

    fn store(&mut self, response: &Response<Bytes>) {
        for line in response.headers().get_all("set-cookie") {
            let line = line.to_str().unwrap();
            let (name, value) = line.split(';').next().unwrap().split_once('=').unwrap();
            if value.is_empty() || line.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }
}

fn get(path: &str, jar: &Jar) -> Request<Bytes> {
    let mut request = Request::get(path);
    if !jar.0.is_empty() {
        request = request.header("cookie", jar.header());
    }
    request.body(Bytes::new()).unwrap()
}

fn post_form(path: &str, jar: &Jar, csrf: &str) -> Request<Bytes> {
    let form = format!(
        "csrfToken={csrf}&json=true&callbackUrl=http%3A%2F%2F127.0.0.1%3A3000%2F&redirect=false"
    );
    Request::post(path)
        .header("cookie", jar.header())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Bytes::from(form))
        .unwrap()
}

/// A fresh browser's sign-in: `GET /csrf`, then `POST /callback/{provider}`. Returns its jar.
async fn sign_in<F, Fut>(handle: F, provider: &str) -> Jar
where
    F: Fn(Request<Bytes>) -> Fut,
    Fut: Future<Output = Response<Bytes>>,
{
    let mut jar = Jar::default();
    let response = handle(get("/api/auth/csrf", &jar)).await;
    assert_eq!(response.status(), StatusCode::OK);
    jar.store(&response);
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    let csrf = body["csrfToken"].as_str().unwrap().to_owned();
    let response = handle(post_form(
        &format!("/api/auth/callback/{provider}"),
        &jar,
        &csrf,
    ))
    .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(response.body())
    );
    jar.store(&response);
    assert!(
        jar.0.contains_key("next-auth.session-token"),
        "no session cookie after signing in with {provider}"
    );
    jar
}

/// A session read's answer: 200 and a non-empty session.
fn check_session(response: Response<Bytes>) {
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.body().len() > 2,
        "{}",
        String::from_utf8_lossy(response.body())
    );
}

fn session_request(cookie: &str) -> Request<Bytes> {
    Request::get("/api/auth/session")
        .header("cookie", cookie)
        .body(Bytes::new())
        .unwrap()
}

fn guest_config() -> GuestConfig {
    GuestConfig::default().limits(Limits::unlimited())
}

fn guest_auth(store: Arc<dyn auth_runtime::guests::GuestStore>) -> Arc<guest::Auth> {
    Arc::new(
        guest::Auth::builder(())
            .secret(SECRET)
            .url(URL)
            .guests(store)
            .build()
            .unwrap(),
    )
}

fn member_builder() -> auth_runtime::AuthBuilder<member::NextAuth> {
    member::Auth::builder(()).secret(SECRET).url(URL)
}

/// A schema of our own in 127.0.0.1:5432/test (base options, scoped options, name), or `None`
/// with a message.
async fn postgres() -> Option<(PgConnectOptions, PgConnectOptions, String)> {
    let pg = pg::schema("bench_guests", "the PostgreSQL benchmarks").await?;
    Some((pg.base, pg.scoped, pg.name))
}

#[path = "../tests/support/postgres.rs"]
mod pg;

async fn pg_pool(options: &PgConnectOptions) -> sqlx::PgPool {
    PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options.clone())
        .await
        .unwrap()
}

/// Times `iters` sequential runs of `op` on the runtime.
fn timed<Fut: Future<Output = ()>>(
    rt: &Runtime,
    iters: u64,
    mut op: impl FnMut() -> Fut,
) -> Duration {
    rt.block_on(async {
        let started = Instant::now();
        for _ in 0..iters {
            op().await;
        }
        started.elapsed()
    })
}

/// `CONCURRENT_SIGN_INS` fresh-browser sign-ins by `CONCURRENT_TASKS` tasks; sign-ins/s.
fn concurrent_sign_ins(rt: &Runtime, auth: &Arc<guest::Auth>) -> f64 {
    rt.block_on(async {
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let tasks: Vec<_> = (0..CONCURRENT_TASKS)
            .map(|_| {
                let auth = auth.clone();
                let next = next.clone();
                tokio::spawn(async move {
                    while next.fetch_add(1, Ordering::Relaxed) < CONCURRENT_SIGN_INS {
                        sign_in(|r| auth.handle(r), "anon").await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        CONCURRENT_SIGN_INS as f64 / started.elapsed().as_secs_f64()
    })
}

fn guests(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = std::env::temp_dir().join(format!("bench-guests-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    // Stores and configurations.
    let sqlite_store = rt.block_on(async {
        Arc::new(
            SqliteGuestStore::open_with(dir.join("guests.db"), guest_config())
                .await
                .unwrap(),
        )
    });
    let sqlite_guests = guest_auth(sqlite_store.clone());
    let sqlite_versions = rt.block_on(async {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(dir.join("versions.db"))
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .unwrap();
        SqliteSessionVersions::new(pool).await.unwrap()
    });
    let pg = rt.block_on(postgres());
    let pg_guests = pg.as_ref().map(|(_, scoped, _)| {
        rt.block_on(async {
            let store = PostgresGuestStore::with_config(pg_pool(scoped).await, guest_config())
                .await
                .unwrap();
            guest_auth(Arc::new(store))
        })
    });
    let pg_versions = pg.as_ref().map(|(_, scoped, _)| {
        rt.block_on(async {
            PostgresSessionVersions::new(pg_pool(scoped).await)
                .await
                .unwrap()
        })
    });

    let plain = Arc::new(member_builder().build().unwrap());
    let with_sqlite_versions = Arc::new(
        member_builder()
            .session_versions(sqlite_versions)
            .build()
            .unwrap(),
    );
    let with_pg_versions =
        pg_versions.map(|v| Arc::new(member_builder().session_versions(v).build().unwrap()));

    // 1. Guest sign-ins: csrf GET + callback POST, a fresh browser and a new guest each time.
    {
        let mut group = c.benchmark_group("guest_sign_in");
        group.bench_function("sqlite", |b| {
            b.iter_custom(|iters| {
                timed(&rt, iters, || async {
                    sign_in(|r| sqlite_guests.handle(r), "anon").await;
                })
            })
        });
        match &pg_guests {
            Some(auth) => {
                group.bench_function("postgres", |b| {
                    b.iter_custom(|iters| {
                        timed(&rt, iters, || async {
                            sign_in(|r| auth.handle(r), "anon").await;
                        })
                    })
                });
            }
            None => eprintln!("SKIPPED guest_sign_in/postgres: PostgreSQL unreachable"),
        }
        group.finish();
    }

    // 2 and 3. GET /session of a signed-in session.
    {
        let mut group = c.benchmark_group("session_read");
        let mut members: Vec<(&str, &Arc<member::Auth>)> = vec![
            ("member_plain", &plain),
            ("member_versions_sqlite", &with_sqlite_versions),
        ];
        if let Some(auth) = &with_pg_versions {
            members.push(("member_versions_postgres", auth));
        } else {
            eprintln!("SKIPPED session_read/member_versions_postgres: PostgreSQL unreachable");
        }
        for (name, auth) in members {
            let cookie = rt
                .block_on(sign_in(|r| auth.handle(r), "password"))
                .header();
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    timed(&rt, iters, || async {
                        check_session(auth.handle(session_request(&cookie)).await)
                    })
                })
            });
        }
        let mut guests: Vec<(&str, &Arc<guest::Auth>)> = vec![("guest_sqlite", &sqlite_guests)];
        if let Some(auth) = &pg_guests {
            guests.push(("guest_postgres", auth));
        } else {
            eprintln!("SKIPPED session_read/guest_postgres: PostgreSQL unreachable");
        }
        for (name, auth) in guests {
            let cookie = rt.block_on(sign_in(|r| auth.handle(r), "anon")).header();
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    timed(&rt, iters, || async {
                        check_session(auth.handle(session_request(&cookie)).await)
                    })
                })
            });
        }
        group.finish();
    }

    // Concurrent throughput: not a criterion measurement, printed once.
    if std::env::var("GUESTS_CONCURRENT").as_deref() != Ok("0") {
        let mut stores: Vec<(&str, &Arc<guest::Auth>)> = vec![("sqlite", &sqlite_guests)];
        if let Some(auth) = &pg_guests {
            stores.push(("postgres", auth));
        }
        for (name, auth) in stores {
            let rate = concurrent_sign_ins(&rt, auth);
            println!(
                "CONCURRENT guest_sign_in/{name}: {CONCURRENT_SIGN_INS} sign-ins by \
                 {CONCURRENT_TASKS} tasks: {rate:.0} sign-ins/s"
            );
        }
    }

    if let Some((admin, _, schema)) = pg {
        rt.block_on(async {
            if let Ok(pool) = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(admin)
                .await
            {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE"
                )))
                .execute(&pool)
                .await;
            }
        });
    }
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, guests);
criterion_main!(benches);
