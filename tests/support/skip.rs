//! Saying that a test is skipped where a person sees it, and what decides it: a missing program
//! skips a test, except under `CI=true`, where it is a failure.

/// Whether this run is CI's (`CI=true` or `CI=1`): a missing service fails instead of skipping.
#[allow(dead_code)]
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether `program --version` runs.
#[allow(dead_code)]
pub fn available(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Writes `message` straight to the terminal's stderr, past the test harness's output capture
/// (which swallows `eprintln!` unless `--nocapture` is given).
pub fn skipped(message: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{message}");
}

/// Whether this run keeps sessions in the database (`AUTH_SESSION_STRATEGY=database`, the last
/// pass of `.ci/run`).
#[allow(dead_code)]
pub fn database_sessions() -> bool {
    std::env::var("AUTH_SESSION_STRATEGY").is_ok_and(|v| v.trim().eq_ignore_ascii_case("database"))
}

/// For a test about what a session token carries (its format, chunks, a copy of it going
/// stale): `true`, said as skipped, when sessions live in the database instead, where the
/// cookie holds an opaque key and there is no token to test. `database_sessions.rs` is that
/// strategy's own suite.
#[allow(dead_code)]
pub fn only_for_token_sessions(test: &str) -> bool {
    let skip = database_sessions();
    if skip {
        skipped(&format!(
            "SKIPPED {test}: it tests session tokens, and AUTH_SESSION_STRATEGY=database keeps \
             sessions in the database (tests/database_sessions.rs covers them)"
        ));
    }
    skip
}
