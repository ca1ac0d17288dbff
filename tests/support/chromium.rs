//! What the headless-Chromium tests share: whether the browser, Node and `tests/browser`'s
//! packages are there (skipped, said, without them; a failure under `CI=true`), where the
//! screenshots go, and running one of `tests/browser`'s scripts. Included with `#[path]` by
//! `browser_checkout.rs` and `browser_passkeys.rs`, next to their `skip` module.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::skip::{available, skipped, under_ci};

/// `tests/browser`: the scripts and their `node_modules`.
pub fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// The browser binary, once `node`, `npm`, `chromium` and `tests/browser/node_modules` (with
/// each of `packages`) are there; `None` (skipped, said) without them, a failure under
/// `CI=true`.
pub fn browser_ready(test: &str, packages: &[&str]) -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
    let missing: Vec<&str> = [("node", "node"), ("npm", "npm"), ("chromium", &*chromium)]
        .into_iter()
        .filter(|(_, program)| !available(program))
        .map(|(name, _)| name)
        .collect();
    if !missing.is_empty() {
        assert!(
            !under_ci(),
            "CI=true but missing: {}; the browser test {test} cannot run (.ci/run installs them)",
            missing.join(", ")
        );
        skipped(&format!(
            "SKIPPED: the browser test {test} needs {} (apt-get install chromium; Node 20 with npm)",
            missing.join(", ")
        ));
        return None;
    }
    let modules = browser_dir().join("node_modules");
    let installed = std::iter::once(&"playwright-core")
        .chain(packages)
        .all(|package| modules.join(package).join("package.json").exists());
    if !installed {
        let started = Instant::now();
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(browser_dir())
            .status()
            .expect("npm runs");
        assert!(status.success(), "npm ci --prefix tests/browser failed");
        println!("npm ci --prefix tests/browser: {:?}", started.elapsed());
    }
    Some(which(&chromium))
}

/// Where a run's screenshots go: `$CARGO_TARGET_DIR/<parent>/<run>/` (or under `target/` in
/// the workspace), else the temp dir. One directory per run, so that two runs sharing a target
/// dir do not clash; runs older than an hour are removed.
pub fn screenshot_dir(parent: &str, run: &str) -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let parent = if base.is_dir() {
        base.join(parent)
    } else {
        std::env::temp_dir().join(parent)
    };
    for old in std::fs::read_dir(&parent).into_iter().flatten().flatten() {
        let stale = old
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if stale {
            let _ = std::fs::remove_dir_all(old.path());
        }
    }
    let dir = parent.join(run);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the screenshot directory can be created");
    dir
}

/// Runs `tests/browser/<script>` with `env`, the screenshot directory and the browser; prints
/// its output and how long it took.
pub async fn run_script(
    script: &str,
    env: &[(&str, &str)],
    shots: &Path,
    chromium: &str,
) -> std::process::Output {
    let started = Instant::now();
    let mut command = tokio::process::Command::new("node");
    command
        .arg(browser_dir().join(script))
        .current_dir(browser_dir())
        .env("SCREENSHOT_DIR", shots)
        .env("CHROMIUM", chromium)
        .kill_on_drop(true);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .unwrap_or_else(|_| panic!("{script} finishes within 120 s"))
        .expect("node starts");
    println!("{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    println!("{script}: {:?}", started.elapsed());
    output
}

/// The absolute path of `program` (as given when it already has a `/`), for playwright's
/// `executablePath`.
fn which(program: &str) -> String {
    if program.contains('/') {
        return program.to_owned();
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(program))
                .find(|candidate| candidate.is_file())
        })
        .map(|path| path.display().to_string())
        .unwrap_or_else(|| program.to_owned())
}
