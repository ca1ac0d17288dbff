//! The Email provider (magic link) end to end: a real SMTP server on loopback (Python's
//! `aiosmtpd`, delivering to a Maildir) and the real `next-auth/react` client
//! (`tests/js/email.test.mjs`); then, in process, every way a link is refused (reused, expired,
//! altered, another address), an SMTP server that is down, hostile addresses (a header
//! injection, an encoded word) and the per-address limit. SMTP servers that hang, cancelled
//! requests and the whole list of addresses a mail system could turn into another are in
//! `mail_faults.rs`.
//!
//! Needs Node, npm and `python3 -m aiosmtpd` (`.ci/run` installs it); without them the end-to-end
//! test says it is skipped, and under `CI=true` fails.

#[path = "support/browser.rs"]
mod browser;
#[path = "support/skip.rs"]
mod skip;
use skip::under_ci;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_runtime::guests::{GuestConfig, Limits, SqliteGuestStore};
use auth_runtime::providers::email::{EmailLimits, SendError, VerificationRequest};
use auth_runtime::{SessionStrategy, next_auth};
use browser::Browser;
use http::StatusCode;

/// The user events every engine of this file told, as `"<event> <user id> [<address>]"`.
static USER_EVENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn told(line: String) -> Result<(), auth_runtime::CallbackError> {
    USER_EVENTS.lock().unwrap().push(line);
    Ok(())
}

next_auth! {
    providers: [
        Email {},
        Anonymous { id: "guest" },
    ],
    events: {
        create_user: |m| told(format!("create_user {}", m.user_id)),
        update_user: |m| told(format!("update_user {} {}", m.user_id, m.email)),
    },
}

const SECRET: &str = "email-sign-in-secret-0123456789abcdef";
const PEER: std::net::SocketAddr =
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40001);

fn available(program: &str, args: &[&str]) -> bool {
    std::process::Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

async fn store(test: &str) -> (Arc<SqliteGuestStore>, PathBuf) {
    let dir = std::env::temp_dir().join(format!("email-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = GuestConfig::default().limits(Limits::unlimited());
    let store = SqliteGuestStore::open_with(dir.join("app.db"), config)
        .await
        .unwrap();
    (Arc::new(store), dir)
}

async fn count(store: &SqliteGuestStore, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// The links an application's `send_verification_request` was given.
type Outbox = Arc<Mutex<Vec<VerificationRequest>>>;

/// An engine on `store` whose `send_verification_request` keeps the links in an outbox.
fn with_outbox(
    store: Arc<SqliteGuestStore>,
    configure: impl FnOnce(auth_runtime::AuthBuilder<NextAuth>) -> auth_runtime::AuthBuilder<NextAuth>,
) -> (Auth, Outbox) {
    let outbox = Outbox::default();
    let sent = outbox.clone();
    let builder = Auth::builder(())
        .secret(SECRET)
        .url("http://127.0.0.1:3000/api/auth")
        .guests(store)
        .send_verification_request(move |request: VerificationRequest| {
            let sent = sent.clone();
            async move {
                sent.lock().unwrap().push(request);
                Ok::<(), SendError>(())
            }
        });
    (configure(builder).build().unwrap(), outbox)
}

/// What `signIn('email', { email, redirect: false })` posts.
async fn ask_for_link(client: &mut Browser<Auth>, email: &str) -> browser::Reply {
    let csrf = client.csrf().await;
    client
        .post_form(
            "/api/auth/signin/email",
            &[
                ("email", email),
                ("csrfToken", &csrf),
                ("callbackUrl", "http://127.0.0.1:3000/account"),
                ("json", "true"),
            ],
        )
        .await
}

/// The path and query of a link, for the in-process client.
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_works_once_for_its_address_until_it_expires() {
    for strategy in [SessionStrategy::Jwt, SessionStrategy::Database] {
        let (store, _dir) = store(&format!("once-{}", strategy.as_str())).await;
        let (auth, outbox) = with_outbox(store.clone(), |b| b.session_strategy(strategy));
        let mut browser = Browser::engine(auth.clone());
        let reply = ask_for_link(&mut browser, "Bob@Shop.Example").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert!(
            reply
                .url()
                .ends_with("/api/auth/verify-request?provider=email&type=email")
        );
        let link = outbox.lock().unwrap().pop().expect("one link").url;
        assert_eq!(count(&store, "verification_token").await, 1);
        // The stored token is a hash, not the link's.
        let stored: String = sqlx::query_scalar("SELECT token FROM verification_token")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert!(!link.contains(&stored));

        // Altered (one character), or for another address: refused, and the link still works.
        let altered = link.replacen("token=", "token=0", 1);
        let other = link.replace("bob%40shop.example", "eve%40shop.example");
        for wrong in [&altered, &other] {
            let reply = browser.get(&path_of(wrong)).await;
            let to = reply.header("location").unwrap();
            assert!(to.contains("error=Verification"), "{wrong}: {to}");
        }
        let reply = browser.get(&path_of(&link)).await;
        assert_eq!(reply.status, StatusCode::FOUND);
        assert_eq!(
            reply.header("location"),
            Some("http://127.0.0.1:3000/account")
        );
        let session = browser.session().await;
        assert_eq!(session["user"]["email"], "bob@shop.example", "{session}");
        assert_eq!(
            count(&store, "users WHERE \"emailVerified\" IS NOT NULL").await,
            1
        );
        assert_eq!(count(&store, "accounts WHERE type = 'email'").await, 1);

        // Reused: refused.
        let mut other_browser = Browser::engine(auth.clone());
        let reply = other_browser.get(&path_of(&link)).await;
        assert!(
            reply
                .header("location")
                .unwrap()
                .contains("error=Verification")
        );

        // Expired: refused (and taken).
        ask_for_link(&mut browser, "bob@shop.example").await;
        let link = outbox.lock().unwrap().pop().unwrap().url;
        sqlx::query("UPDATE verification_token SET expires = 1")
            .execute(store.pool())
            .await
            .unwrap();
        let reply = other_browser.get(&path_of(&link)).await;
        assert!(
            reply
                .header("location")
                .unwrap()
                .contains("error=Verification")
        );
        assert_eq!(count(&store, "verification_token").await, 0);

        // A second sign-in by the same address is the same user.
        ask_for_link(&mut other_browser, "bob@shop.example").await;
        let link = outbox.lock().unwrap().pop().unwrap().url;
        other_browser.get(&path_of(&link)).await;
        assert_eq!(
            other_browser.session().await["user"]["email"],
            "bob@shop.example"
        );
        assert_eq!(count(&store, "users").await, 1);
        store.close().await;
    }
}

// As NextAuth's: a new address's first link makes its user (`create_user`); the first link of a
// known user whose address was never verified verifies it (`update_user`); later links change
// nothing, and tell nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_tells_create_user_or_update_user() {
    let (store, _dir) = store("user-events").await;
    let adapter = auth_runtime::guests::GuestStore::adapter(&*store).unwrap();
    let known = adapter
        .create_user(auth_runtime::adapter::UserFields {
            email: Some("known@events.example".to_owned()),
            name: Some("Known".to_owned()),
            ..Default::default()
        })
        .await
        .unwrap();
    let (auth, outbox) = with_outbox(store.clone(), |b| b);
    let mut browser = Browser::engine(auth.clone());
    let mut follow = async |address: &str| {
        ask_for_link(&mut browser, address).await;
        let link = outbox.lock().unwrap().pop().unwrap().url;
        let reply = browser.get(&path_of(&link)).await;
        assert_eq!(reply.status, StatusCode::FOUND);
        // Addresses are this test's own; other tests' engines tell into the same log.
        let lines = USER_EVENTS.lock().unwrap();
        let mine = lines.iter().filter(|l| l.contains("known@events.example"));
        mine.cloned().collect::<Vec<_>>()
    };
    assert_eq!(
        follow("known@events.example").await,
        [format!("update_user {} known@events.example", known.id)]
    );
    // Verified now: the next link tells nothing more.
    assert_eq!(follow("known@events.example").await.len(), 1);
    let verified = adapter.get_user(&known.id).await.unwrap().unwrap();
    assert!(verified.email_verified.is_some());

    let before = USER_EVENTS.lock().unwrap().len();
    follow("new@events.example").await;
    let new_user = adapter
        .get_user_by_email("new@events.example")
        .await
        .unwrap()
        .expect("the link made its user");
    let lines = USER_EVENTS.lock().unwrap()[before..].to_vec();
    assert!(
        lines.contains(&format!("create_user {}", new_user.id)),
        "{lines:?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("update_user")),
        "{lines:?}"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_down_smtp_server_is_a_clear_error_and_leaves_nothing() {
    let (store, _dir) = store("down").await;
    let closed = support_free_port();
    let auth = Auth::builder(())
        .secret(SECRET)
        .url("http://127.0.0.1:3000/api/auth")
        .guests(store.clone())
        .email_server(
            format!("smtp://127.0.0.1:{closed}"),
            "Shop <no-reply@shop.example>",
        )
        .build()
        .unwrap();
    let mut browser = Browser::engine(auth);
    let reply = ask_for_link(&mut browser, "carol@shop.example").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(reply.url().contains("error=EmailSignin"), "{}", reply.url());
    assert_eq!(count(&store, "verification_token").await, 0);
    assert_eq!(count(&store, "users").await, 0);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_addresses_are_refused_before_anything_is_stored_or_sent() {
    let (store, _dir) = store("hostile").await;
    let (auth, outbox) = with_outbox(store.clone(), |b| {
        b.session_strategy(SessionStrategy::Database)
    });
    let long = format!("{}@example.com", "a".repeat(300));
    for hostile in [
        "a@b.c\r\nBcc: x@y.z",
        "a@b.c\nBcc: x@y.z",
        "a@b.c, victim@y.z",
        "Eve <eve@example.com>",
        "'; DROP TABLE users; --@example.com",
        "",
        long.as_str(),
        "not-an-address",
        // Addresses a mail system could decode or route into another mailbox.
        "=?utf-8?q?attacker=40evil.example=3e=00?=@victim-corp.example",
        "attacker%evil.example@victim-corp.example",
        "evil.example!attacker@victim-corp.example",
        "attacker\u{FF20}evil.example@victim-corp.example",
        "victim@victim-corp.example.",
    ] {
        let mut browser = Browser::engine(auth.clone());
        let reply = ask_for_link(&mut browser, hostile).await;
        assert_eq!(reply.status, StatusCode::OK, "{hostile:?}");
        assert!(
            reply.url().contains("error=EmailSignin"),
            "{hostile:?}: {}",
            reply.url()
        );
    }
    assert!(outbox.lock().unwrap().is_empty());
    assert_eq!(count(&store, "verification_token").await, 0);
    // An SQL metacharacter that is a valid address is data; a subaddress is an address.
    for valid in ["o'brien@example.com", "a+tag@example.com"] {
        let mut browser = Browser::engine(auth.clone());
        ask_for_link(&mut browser, valid).await;
        let link = outbox.lock().unwrap().pop().unwrap().url;
        browser.get(&path_of(&link)).await;
        assert_eq!(browser.session().await["user"]["email"], valid);
    }
    let mut browser = Browser::engine(auth.clone());
    // A hostile callback with a token that is not ours: refused, no 500.
    for query in [
        "token=%27%20OR%201%3D1&email=a%40b.c",
        "token=&email=",
        "email=a%40b.c",
        "token=x&email=a%40b.c%0D%0ABcc%3A%20x%40y.z",
    ] {
        let reply = browser
            .get(&format!("/api/auth/callback/email?{query}"))
            .await;
        assert_eq!(reply.status, StatusCode::FOUND, "{query}");
        assert!(
            reply
                .header("location")
                .unwrap()
                .contains("error=Verification")
        );
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_gets_a_few_mails_then_429() {
    let (store, _dir) = store("limits").await;
    let (auth, outbox) = with_outbox(store.clone(), |b| {
        b.email_limits(EmailLimits {
            per_address_per_hour: 10,
            per_address_burst: 2,
            ..EmailLimits::default()
        })
    });
    let mut browser = Browser::engine(auth.clone());
    browser.peer = Some(PEER);
    for _ in 0..2 {
        let reply = ask_for_link(&mut browser, "dave@shop.example").await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let reply = ask_for_link(&mut browser, "DAVE@shop.example ").await;
    assert_eq!(
        reply.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        reply.text()
    );
    assert!(reply.header("retry-after").is_some());
    // Another address is not limited by dave's.
    let reply = ask_for_link(&mut browser, "erin@shop.example").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(outbox.lock().unwrap().len(), 3);
    store.close().await;
}

fn support_free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `python3 -m aiosmtpd` on a free loopback port, delivering to a Maildir; killed on drop.
struct SmtpServer {
    child: std::process::Child,
    port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    async fn start(dir: &Path) -> SmtpServer {
        let port = support_free_port();
        let maildir = dir.join("maildir");
        let mut child = std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .spawn()
            .expect("python3 -m aiosmtpd starts");
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return SmtpServer {
                    child,
                    port,
                    maildir,
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("aiosmtpd did not listen on {port}");
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_client_signs_in_by_email_through_a_real_smtp_server() {
    let missing: Vec<&str> = [
        ("node", available("node", &["--version"])),
        ("npm", available("npm", &["--version"])),
        (
            "python3 -m aiosmtpd",
            available("python3", &["-c", "import aiosmtpd"]),
        ),
    ]
    .into_iter()
    .filter(|(_, ok)| !ok)
    .map(|(name, _)| name)
    .collect();
    if !missing.is_empty() {
        assert!(
            !under_ci(),
            "CI=true but missing: {}; the e-mail sign-in test cannot run (.ci/run installs them)",
            missing.join(", ")
        );
        skip::skipped(&format!(
            "SKIPPED the e-mail end-to-end test: missing {} (pip install aiosmtpd)",
            missing.join(", ")
        ));
        return;
    }
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    assert!(
        js.join("node_modules/next-auth/package.json").exists(),
        "tests/js/node_modules is missing: npm ci --prefix tests/js"
    );
    let (store, dir) = store("real-client").await;
    let smtp = SmtpServer::start(&dir).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let auth = Auth::builder(())
        .secret(SECRET)
        .url(format!("{origin}/api/auth"))
        .guests(store.clone())
        .session_strategy(SessionStrategy::Database)
        .email_server(
            format!("smtp://127.0.0.1:{}", smtp.port),
            "Shop <no-reply@shop.example>",
        )
        .build()
        .unwrap();
    let app = axum::Router::new().nest("/api/auth", auth.router());
    let server = tokio::spawn(async move {
        auth_runtime::axum::serve_app(listener, app, Default::default())
            .await
            .unwrap();
    });
    let output = tokio::process::Command::new("node")
        .args(["--test", "--test-reporter=spec", "email.test.mjs"])
        .current_dir(&js)
        .env("AUTH_ORIGIN", &origin)
        .env("EMAIL_MAILDIR", &smtp.maildir)
        .env_remove("NEXTAUTH_URL")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("the e-mail client test finishes within 120 s")
        .unwrap();
    server.abort();
    let out = String::from_utf8_lossy(&output.stdout);
    println!("{out}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "the e-mail client test failed; its output is above"
    );
    assert!(
        out.contains("ℹ pass 1") && out.contains("ℹ fail 0"),
        "{out}"
    );
    // The database strategy: the session is a row of the address's user.
    assert_eq!(count(&store, "sessions").await, 1);
    assert_eq!(
        count(&store, "users WHERE email = 'ada.lovelace@example.com'").await,
        1
    );
    store.close().await;
}
