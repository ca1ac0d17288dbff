//! Saying that a test is skipped where a person sees it.

/// Writes `message` straight to the terminal's stderr, past the test harness's output capture
/// (which swallows `eprintln!` unless `--nocapture` is given).
pub fn skipped(message: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{message}");
}
