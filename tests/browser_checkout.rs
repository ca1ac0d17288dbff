//! The guest checkout page (`examples/guest_checkout.rs`, in this process) in a real headless
//! browser: Debian's `chromium`, driven by `playwright-core` (`tests/browser/checkout.mjs`). A
//! visitor lands and is a guest without clicking anything, adds tea to the cart, signs in as
//! alice through the page's form, and the cart is still there, also after a reload. The script
//! writes a PNG screenshot of each step into `<target dir>/browser-checkout/<pid>/` (printed).
//!
//! Needs `node`, `npm` and `chromium` (`CHROMIUM` overrides the binary). Without them the test
//! says "SKIPPED: ..." and passes, except under `CI=true`, where a missing one is a failure.
//! `tests/browser/node_modules` is installed with `npm ci` when missing.

#[path = "support/formats.rs"]
mod formats;
#[path = "support/skip.rs"]
mod skip;
use skip::skipped;

#[allow(dead_code)]
#[path = "../examples/guest_checkout.rs"]
mod shop;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_runtime::guests::SqliteGuestStore;

/// The screenshots the script writes, in order.
const STEPS: &[&str] = &[
    "01-landed-as-guest.png",
    "02-added-tea-to-cart.png",
    "03-sign-in-form-filled.png",
    "04-signed-in-cart-kept.png",
    "05-reloaded-still-signed-in.png",
];

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether `program --version` runs.
fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Where the screenshots go: `$CARGO_TARGET_DIR/browser-checkout/<pid>/` (or under `target/`
/// in the workspace), else the temp dir. One directory per run, so that two runs sharing a
/// target dir do not clash; runs older than an hour are removed.
fn screenshot_dir(name: &str) -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let parent = if base.is_dir() {
        base.join(name)
    } else {
        std::env::temp_dir().join(name)
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
    let dir = parent.join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the screenshot directory can be created");
    dir
}

/// The browser binary, once `node`, `npm`, `chromium` and `tests/browser/node_modules` are
/// there; `None` (skipped, said) without them, a failure under `CI=true`.
fn browser_ready(test: &str) -> Option<String> {
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
    if !browser_dir()
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_fills_a_cart_and_keeps_it_when_signing_in_in_chromium() {
    let Some(chromium) = browser_ready("checkout") else {
        return;
    };

    // The shop as `main` builds it, on a free port with its own SQLite file.
    let db_dir = std::env::temp_dir().join(format!("browser-checkout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&db_dir);
    let store = Arc::new(
        SqliteGuestStore::open(db_dir.join("shop.db"))
            .await
            .unwrap(),
    );
    shop::migrate(&store.clone().into()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let auth = shop::auth_builder::<shop::NextAuth>(store)
        .secret("browser-checkout-secret-0123456789abcdef")
        .url(format!("{origin}/api/auth"))
        .token_format(formats::for_the_v4_client())
        .build()
        .unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            shop::app(auth).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });

    let shots = screenshot_dir("browser-checkout");
    println!("shop at {origin}; screenshots in {}", shots.display());
    let output = run_script(
        "checkout.mjs",
        &[("SHOP_ORIGIN", &origin)],
        &shots,
        &chromium,
    )
    .await;
    server.abort();
    let _ = std::fs::remove_dir_all(&db_dir);
    assert!(
        output.status.success(),
        "the browser checkout script failed ({}); its output and {}/failure.png tell where",
        output.status,
        shots.display()
    );
    for step in STEPS {
        let file = shots.join(step);
        let size = std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("screenshot {} missing: {e}", file.display()))
            .len();
        assert!(size > 0, "screenshot {} is empty", file.display());
        let mut head = [0u8; 8];
        std::io::Read::read_exact(&mut std::fs::File::open(&file).unwrap(), &mut head).unwrap();
        assert_eq!(
            &head,
            b"\x89PNG\r\n\x1a\n",
            "{} is not a PNG",
            file.display()
        );
    }
}

/// Runs `tests/browser/<script>` with `env`, the screenshot directory and the browser; prints
/// its output and how long it took.
async fn run_script(
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

/// A themed app with a password and a GitHub sign-in, for the built-in pages.
mod themed {
    use auth_runtime::next_auth;

    next_auth! {
        providers: [
            Credentials {
                id: "password",
                name: "Password",
                credentials: {
                    username: { label: "Username", type: "text", placeholder: "alice" },
                    password: { label: "Password", type: "password" },
                },
                authorize: |_credentials| Ok(None),
            },
            GitHub {},
        ],
        theme: { brand_color: "#0f766e", logo: "/logo.svg", button_text: "#fff" },
    }
}

/// The built-in sign-in, error and sign-out pages wear the theme in Chromium, light and dark.
/// With `UPDATE_SCREENSHOTS=1` the screenshots are copied to `docs/screenshots/` (the README's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_in_pages_wear_the_theme_in_chromium() {
    let Some(chromium) = browser_ready("pages") else {
        return;
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let auth = themed::Auth::builder(())
        .secret("browser-pages-secret-0123456789abcdef")
        .url(format!("{origin}/api/auth"))
        .oauth_client("github", "client-id", "client-secret")
        .build()
        .unwrap();
    // The shop's logo route serves the same logo here.
    let app = axum::Router::new()
        .nest("/api/auth", auth.router())
        .merge(shop::app_logo());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let shots = screenshot_dir("browser-pages");
    let output = run_script("pages.mjs", &[("PAGES_ORIGIN", &origin)], &shots, &chromium).await;
    server.abort();
    assert!(
        output.status.success(),
        "the browser pages script failed ({})",
        output.status
    );
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::create_dir_all(&docs).unwrap();
        for name in ["signin-light.png", "signin-dark.png", "error-light.png"] {
            std::fs::copy(shots.join(name), docs.join(name)).unwrap();
        }
    }
}
