//! The guest checkout page (`examples/guest_checkout.rs`, in this process) in a real headless
//! browser: Debian's `chromium`, driven by `playwright-core` (`tests/browser/checkout.mjs`). A
//! visitor lands and is a guest without clicking anything, adds tea to the cart, signs in as
//! alice through the page's form, and the cart is still there, also after a reload. The script
//! writes a PNG screenshot of each step into `<target dir>/browser-checkout/<pid>/` (printed).
//!
//! Needs `node`, `npm` and `chromium` (`CHROMIUM` overrides the binary). Without them the test
//! says "SKIPPED: ..." and passes, except under `CI=true`, where a missing one is a failure.
//! `tests/browser/node_modules` is installed with `npm ci` when missing.

#[path = "support/chromium.rs"]
mod chromium;
#[path = "support/formats.rs"]
mod formats;
#[path = "support/skip.rs"]
mod skip;
use chromium::{browser_ready, run_script, screenshot_dir};

#[allow(dead_code)]
#[path = "../examples/guest_checkout.rs"]
mod shop;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use auth_runtime::guests::SqliteGuestStore;

/// The screenshots the script writes, in order.
const STEPS: &[&str] = &[
    "01-landed-as-guest.png",
    "02-added-tea-to-cart.png",
    "03-sign-in-form-filled.png",
    "04-signed-in-cart-kept.png",
    "05-reloaded-still-signed-in.png",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_fills_a_cart_and_keeps_it_when_signing_in_in_chromium() {
    let Some(chromium) = browser_ready("checkout", &[]) else {
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

    let shots = screenshot_dir("browser-checkout", &std::process::id().to_string());
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
    let Some(chromium) = browser_ready("pages", &[]) else {
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

    let shots = screenshot_dir("browser-pages", &std::process::id().to_string());
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
