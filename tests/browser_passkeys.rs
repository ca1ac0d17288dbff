//! Passkeys in a real headless browser: Debian's `chromium` with a virtual authenticator (CDP
//! `WebAuthn.addVirtualAuthenticator`: CTAP2, internal, resident keys, user verification, the
//! user's presence simulated), driven by `playwright-core` (`tests/browser/passkeys.mjs`), the
//! apps in this process on `http://localhost:PORT` (browsers refuse an IP address as a passkey's
//! relying party id).
//!
//! - The shop (`examples/guest_checkout.rs`, its page's own ceremonies): a guest adds tea, saves
//!   the cart with a passkey (promoted in place), signs out, signs in with the passkey's button,
//!   and the cart is there; signed out once more, the username field's autofill (conditional
//!   mediation) signs in. Chromium's virtual authenticator answers a conditional request at once,
//!   as a user picking the passkey from the autofill list would.
//! - `examples/passkeys.rs` with the REAL `next-auth/webauthn` client of next-auth 5.0.0-beta.32
//!   (`tests/browser/passkey.entry.mjs`, bundled with esbuild by `tests/browser/bundle.mjs`, served
//!   through `PASSKEY_CLIENT_JS`): register, session, sign out, authenticate, session; and the same
//!   with the example's built-in stand-in client.
//!
//! Screenshots of each step go to `<target dir>/browser-passkeys/<pid>-<test>/` (printed). Needs
//! `node`, `npm` and `chromium` (`CHROMIUM` overrides the binary). Without them the tests say
//! "SKIPPED: ..." and pass, except under `CI=true`, where a missing one is a failure.
//! `tests/browser/node_modules` is installed with `npm ci` when missing or stale.

#[path = "support/chromium.rs"]
mod chromium;
#[path = "support/formats.rs"]
mod formats;
#[path = "support/skip.rs"]
mod skip;
use chromium::{browser_dir, browser_ready, run_script, screenshot_dir};

#[allow(dead_code)]
#[path = "../examples/guest_checkout.rs"]
mod shop;

#[allow(dead_code)]
#[path = "../examples/passkeys.rs"]
mod passkeys;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use auth_runtime::guests::{GuestDatabase, SqliteGuestStore};

/// A listener on 127.0.0.1 and the origin the browser uses for it (`localhost`, a valid
/// relying party id).
async fn localhost() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    (listener, origin)
}

/// A fresh SQLite database for one test.
async fn database(test: &str) -> (GuestDatabase, PathBuf) {
    let dir = std::env::temp_dir().join(format!("browser-passkeys-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = SqliteGuestStore::open(dir.join("app.db")).await.unwrap();
    (Arc::new(store).into(), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_saves_the_cart_with_a_passkey_and_signs_in_with_it_in_chromium() {
    let Some(chromium) = browser_ready(
        "passkeys (shop)",
        &["next-auth", "esbuild", "@simplewebauthn/browser"],
    ) else {
        return;
    };
    let (db, db_dir) = database("shop").await;
    shop::migrate(&db).await.unwrap();
    let (listener, origin) = localhost().await;
    let auth = shop::auth_builder::<shop::NextAuth>(db)
        .secret("browser-passkeys-secret-0123456789abcdef")
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
    let shots = screenshot_dir("browser-passkeys", &format!("{}-shop", std::process::id()));
    println!("shop at {origin}; screenshots in {}", shots.display());
    let output = run_script(
        "passkeys.mjs",
        &[("SHOP_ORIGIN", &origin)],
        &shots,
        &chromium,
    )
    .await;
    server.abort();
    let _ = std::fs::remove_dir_all(&db_dir);
    assert_passed(&output, &shots);
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("AUTOFILL: conditional mediation signed in"),
        "the autofill step did not run"
    );
    assert_screenshots(
        &shots,
        &[
            "01-shop-guest-with-tea.png",
            "02-shop-cart-saved-with-passkey.png",
            "03-shop-signed-out.png",
            "04-shop-signed-in-with-passkey-button.png",
            "05-shop-signed-in-by-autofill.png",
        ],
    );
}

/// `examples/passkeys.rs` in this process with `client_js` as `/passkey-client.js`; runs the
/// script against it with `env`.
async fn on_the_passkeys_example(test: &str, client_js: Option<&str>, env: &[(&str, &str)]) {
    let Some(chromium) = browser_ready(test, &["next-auth", "esbuild", "@simplewebauthn/browser"])
    else {
        return;
    };
    let shots = screenshot_dir(
        "browser-passkeys",
        &format!("{}-{test}", std::process::id()),
    );
    let client_js: Arc<str> = match client_js {
        Some(entry) => {
            // The real client, bundled now from the pinned node_modules.
            let bundle = shots.join("passkey-client.js");
            let status = Command::new("node")
                .arg(browser_dir().join(entry))
                .arg(&bundle)
                .current_dir(browser_dir())
                .status()
                .expect("node runs");
            assert!(status.success(), "bundling next-auth/webauthn failed");
            std::fs::read_to_string(&bundle).unwrap().into()
        }
        None => passkeys::BUILT_IN_CLIENT.into(),
    };
    let (db, db_dir) = database(test).await;
    let (listener, origin) = localhost().await;
    let auth = passkeys::Auth::builder(())
        .adapter(db.adapter())
        .secret("browser-passkeys-secret-0123456789abcdef")
        .url(format!("{origin}/api/auth"))
        .build()
        .unwrap();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            passkeys::app(auth, client_js).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    println!(
        "passkeys example at {origin}; screenshots in {}",
        shots.display()
    );
    let mut env = env.to_vec();
    env.push(("PASSKEYS_ORIGIN", &origin));
    let output = run_script("passkeys.mjs", &env, &shots, &chromium).await;
    server.abort();
    let _ = std::fs::remove_dir_all(&db_dir);
    assert_passed(&output, &shots);
    assert_screenshots(
        &shots,
        &[
            "01-client-signed-out.png",
            "02-client-registered.png",
            "03-client-signed-out-again.png",
            "04-client-signed-in-with-passkey.png",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_auth_webauthn_registers_and_signs_in_with_a_passkey_in_chromium() {
    on_the_passkeys_example("next-auth-webauthn", Some("bundle.mjs"), &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_examples_built_in_client_registers_and_signs_in_with_a_passkey_in_chromium() {
    on_the_passkeys_example("built-in-client", None, &[("PASSKEY_CLIENT", "built-in")]).await;
}

fn assert_passed(output: &std::process::Output, shots: &Path) {
    assert!(
        output.status.success(),
        "the browser passkeys script failed ({}); its output and {}/failure.png tell where",
        output.status,
        shots.display()
    );
}

/// Each of `steps` is a non-empty PNG in `shots`.
fn assert_screenshots(shots: &Path, steps: &[&str]) {
    for step in steps {
        let file = shots.join(step);
        let mut head = [0u8; 8];
        std::io::Read::read_exact(
            &mut std::fs::File::open(&file)
                .unwrap_or_else(|e| panic!("screenshot {} missing: {e}", file.display())),
            &mut head,
        )
        .unwrap_or_else(|e| panic!("screenshot {} is too short: {e}", file.display()));
        assert_eq!(
            &head,
            b"\x89PNG\r\n\x1a\n",
            "{} is not a PNG",
            file.display()
        );
    }
}
