//! Limits that strangers cannot turn against the owner, over TCP from many loopback addresses:
//! the shop of `examples/guest_checkout.rs` (passwords) and of `examples/magic_link.rs` (links)
//! with their default limits. A browser that signed in for an identifier carries a device
//! cookie, and strangers guessing or asking for that identifier from 50 addresses never lock it
//! out; a refused attempt still costs the stranger (no free polling of a locked identifier).

#[path = "support/browser.rs"]
mod browser;
#[path = "../examples/magic_link.rs"]
#[allow(dead_code)]
mod magic;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use auth_runtime::axum::{ServeConfig, serve_app};
// The magic-link shop is the password shop with an Email provider: one module for both (the
// shop installs the process's one metrics recorder).
use auth_runtime::guests::{GuestConfig, Limits, SqliteGuestStore};
use auth_runtime::providers::email::{SendError, VerificationRequest};
use browser::{Browser, Http, wire};
use magic::shop;
use reqwest::StatusCode;

async fn store(test: &str) -> Arc<SqliteGuestStore> {
    let dir = std::env::temp_dir().join(format!("lockout-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = GuestConfig::default().limits(Limits::unlimited());
    let store = Arc::new(
        SqliteGuestStore::open_with(dir.join("shop.db"), config)
            .await
            .unwrap(),
    );
    shop::migrate(&store.clone().into()).await.unwrap();
    store
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { serve_app(listener, app, ServeConfig::default()).await });
    origin
}

fn address(third: u8, last: u8) -> IpAddr {
    IpAddr::from([127, 0, third, last])
}

/// The same browser, signed out (its other cookies kept), on another address: the owner's
/// laptop on another network.
fn moved(browser: &Browser<Http>, to: IpAddr) -> Browser<Http> {
    let mut there = Browser::http(&browser.server.origin, Some(to));
    there.jar = browser.jar.clone();
    there.jar.retain(|name, _| !name.contains("session-token"));
    there
}

/// Finding 1 of the probe: the identifier's bucket was charged before `authorize` and a refused
/// client's charge was given back, so a few guesses and free polls from two addresses kept
/// every right-password attempt of the owner at 429. Now the owner's browser signs in every
/// time while 50 addresses guess, strangers' guesses stay within the identifier's budget, and
/// each refused poll costs the stranger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_guessing_from_50_addresses_do_not_lock_the_owner_out() {
    let store = store("password").await;
    let auth = shop::auth_builder::<shop::NextAuth>(store.clone())
        .secret("lockout-secret-0123456789abcdef")
        .url("http://127.0.0.1:3000/api/auth")
        .attempt_buckets(store.clone());
    let origin = serve(shop::app(auth.build().unwrap())).await;

    let mut owner = Browser::http(&origin, Some(address(1, 1)));
    let answer = owner
        .sign_in(
            "password",
            &[("username", "alice"), ("password", "alice-password")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let device = owner
        .jar
        .keys()
        .find(|name| name.ends_with(".device"))
        .cloned()
        .expect("a device cookie after a right password");
    let issued = answer
        .headers
        .get_all("set-cookie")
        .iter()
        .find_map(|line| {
            let line = line.to_str().unwrap();
            line.starts_with(&device).then(|| line.to_owned())
        });
    let issued = issued.unwrap();
    assert!(
        issued.contains("HttpOnly") && issued.contains("SameSite=Lax"),
        "{issued}"
    );

    let mut accepted_guesses = 0;
    let mut strangers: Vec<Browser<Http>> = (0..50)
        .map(|i| Browser::http(&origin, Some(address(2, 10 + i))))
        .collect();
    for round in 0..4 {
        for stranger in &mut strangers {
            let answer = stranger
                .sign_in("password", &[("username", "Alice "), ("password", "guess")])
                .await;
            match answer.status {
                status if status == wire::wrong_password_status() => accepted_guesses += 1,
                StatusCode::TOO_MANY_REQUESTS => {}
                other => panic!("a guess answered {other}"),
            }
        }
        // The owner's browser, from a network it never used, signs in while the guessing goes on.
        let mut travelling = moved(&owner, address(3, round + 1));
        let answer = travelling
            .sign_in(
                "password",
                &[("username", "alice"), ("password", "alice-password")],
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "round {round}: {:?}",
            answer.body
        );
        assert_eq!(travelling.session().await["user"]["name"], "alice");
    }
    // 200 guesses were made; the identifier's budget (a burst of 10) let at most 10 be tried.
    assert!(
        (1..=10).contains(&accepted_guesses),
        "{accepted_guesses} guesses reached the password check"
    );
    // A browser that never signed in as alice meets the identifier's lock, right password or
    // not: that is the price strangers can still impose (a CAPTCHA lifts it where configured).
    let mut new_device = Browser::http(&origin, Some(address(4, 1)));
    let answer = new_device
        .sign_in(
            "password",
            &[("username", "alice"), ("password", "alice-password")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);

    // No free polling: each refusal on the locked identifier costs the stranger's own budget
    // (a burst of 10), after which a guess at another account is refused to it too.
    let mut poller = Browser::http(&origin, Some(address(5, 1)));
    for poll in 0..10 {
        let answer = poller
            .sign_in("password", &[("username", "alice"), ("password", "poll")])
            .await;
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS, "poll {poll}");
    }
    let answer = poller
        .sign_in("password", &[("username", "bob"), ("password", "guess")])
        .await;
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "ten refused polls spent the client's burst"
    );
    // A forged or another server's device cookie is an unknown browser.
    let mut forger = Browser::http(&origin, Some(address(6, 1)));
    let mut forged = owner.jar[&device].clone();
    forged.replace_range(forged.len() - 4.., "0000");
    forger.jar.insert(device.clone(), forged);
    let answer = forger
        .sign_in(
            "password",
            &[("username", "alice"), ("password", "alice-password")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
    store.close().await;
}

/// Finding 2 of the probe: three requests for an address from anywhere made the owner's own
/// request answer 429 for six minutes. A browser that followed a link for the address before
/// keeps getting links while strangers on 50 addresses ask for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_asking_for_a_mailbox_do_not_block_its_owner() {
    let store = store("mailbox").await;
    let outbox: Arc<Mutex<Vec<VerificationRequest>>> = Arc::default();
    let sent = outbox.clone();
    let auth = magic::shop::auth_builder::<magic::NextAuth>(store.clone())
        .secret("lockout-secret-0123456789abcdef")
        .url("http://127.0.0.1:3000/api/auth")
        .attempt_buckets(store.clone())
        .send_verification_request(move |request: VerificationRequest| {
            let sent = sent.clone();
            async move {
                sent.lock().unwrap().push(request);
                Ok::<(), SendError>(())
            }
        });
    let origin = serve(magic::shop::app(auth.build().unwrap())).await;
    let link_path = |outbox: &Mutex<Vec<VerificationRequest>>| {
        let url = outbox.lock().unwrap().pop().expect("a link was mailed").url;
        let rest = url.split_once("://").unwrap().1.to_owned();
        rest[rest.find('/').unwrap()..].to_owned()
    };
    let ask = async |browser: &mut Browser<Http>, email: &str| {
        let csrf = browser.csrf().await;
        browser
            .post_form(
                "/api/auth/signin/email",
                &[("email", email), ("csrfToken", &csrf), ("json", "true")],
            )
            .await
            .status
    };

    let mut owner = Browser::http(&origin, Some(address(1, 1)));
    assert_eq!(ask(&mut owner, "kim@shop.example").await, StatusCode::OK);
    let followed = owner.get(&link_path(&outbox)).await;
    assert_eq!(followed.status, StatusCode::FOUND);
    assert!(owner.jar.keys().any(|name| name.ends_with(".device")));
    assert_eq!(owner.session().await["user"]["email"], "kim@shop.example");

    let mut mailed_to_strangers = 0;
    for round in 0..3 {
        for i in 0..50 {
            let mut stranger = Browser::http(&origin, Some(address(2, 10 + i)));
            match ask(&mut stranger, "KIM@shop.example").await {
                StatusCode::OK => mailed_to_strangers += 1,
                StatusCode::TOO_MANY_REQUESTS => {}
                other => panic!("a stranger's request answered {other}"),
            }
        }
        outbox.lock().unwrap().clear();
        let mut travelling = moved(&owner, address(3, round + 1));
        assert_eq!(
            ask(&mut travelling, "kim@shop.example").await,
            StatusCode::OK,
            "round {round}"
        );
        let followed = travelling.get(&link_path(&outbox)).await;
        assert_eq!(followed.status, StatusCode::FOUND);
        assert_eq!(
            travelling.session().await["user"]["email"],
            "kim@shop.example"
        );
    }
    // The address's own budget (a burst of 3) is all the strangers got.
    assert!(
        (1..=3).contains(&mailed_to_strangers),
        "{mailed_to_strangers} mails to strangers"
    );
    // A browser that never followed a link for kim is still held to the address's limit.
    let mut unknown = Browser::http(&origin, Some(address(4, 1)));
    assert_eq!(
        ask(&mut unknown, "kim@shop.example").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    store.close().await;
}
