//! A schema of one's own in the machine's PostgreSQL (127.0.0.1:5432, database `test`, trust
//! auth as `postgres` or the OS user), so that parallel tests never see each other's tables.
//!
//! Included with `#[path]` by the tests and benchmarks that need PostgreSQL.

#![allow(dead_code)]

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

/// A fresh schema: `scoped` connects with `search_path` set to it.
pub struct TestSchema {
    /// One connection as the role that created the schema (for `DROP SCHEMA` and checks).
    pub admin: PgPool,
    /// The schema's name.
    pub name: String,
    /// Options without a `search_path`.
    pub base: PgConnectOptions,
    /// Options whose connections see the schema first.
    pub scoped: PgConnectOptions,
}

/// Creates the schema `<prefix>_<pid>` afresh, or says why it cannot: `None` with a `SKIPPED`
/// message naming `what`, except under `CI=true`, where a missing PostgreSQL is a failure.
pub async fn schema(prefix: &str, what: &str) -> Option<TestSchema> {
    let user = std::env::var("USER").unwrap_or_else(|_| "postgres".into());
    for role in ["postgres", user.as_str()] {
        let base = PgConnectOptions::new()
            .host("127.0.0.1")
            .port(5432)
            .username(role)
            .database("test");
        let Ok(admin) = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(3))
            .connect_with(base.clone())
            .await
        else {
            continue;
        };
        let name = format!("{prefix}_{}", std::process::id());
        for statement in [
            format!("DROP SCHEMA IF EXISTS {name} CASCADE"),
            format!("CREATE SCHEMA {name}"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(statement))
                .execute(&admin)
                .await
                .unwrap();
        }
        let scoped = base.clone().options([("search_path", name.as_str())]);
        return Some(TestSchema {
            admin,
            name,
            base,
            scoped,
        });
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "PostgreSQL is not reachable at 127.0.0.1:5432/test (role postgres or {user}), and CI=true"
        );
    }
    skipped(&format!(
        "SKIPPED {what}: no PostgreSQL at 127.0.0.1:5432/test (role postgres or {user}; \
         apt-get install postgresql, then createdb test)"
    ));
    None
}

/// Says the test is skipped where a person sees it: straight to stderr, past the test harness's
/// output capture.
fn skipped(message: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{message}");
}
