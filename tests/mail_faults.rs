//! The Email provider against SMTP servers that misbehave, and addresses that a mail system could
//! route or decode into another mailbox.
//!
//! The SMTP server here is a fake written for the purpose: it speaks just enough SMTP to take a
//! mail, or falls silent at a chosen point (before its greeting, after `MAIL FROM`, after the
//! message's final dot) while it keeps reading, so the test sees when the client hangs up. Every
//! sign-in must be answered within the mail bound (`AuthBuilder::email_timeout`), its connection
//! closed, and no link's token left behind; a request cancelled mid-mail (the server's request
//! timeout, a client that leaves) withdraws its token too.

#[path = "support/browser.rs"]
mod browser;
#[path = "support/logs.rs"]
mod logs;

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_runtime::axum::{ServeConfig, serve_app};
use auth_runtime::guests::{GuestConfig, Limits, SqliteGuestStore};
use auth_runtime::next_auth;
use browser::Browser;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

next_auth! {
    providers: [Email {}],
}

const SECRET: &str = "mail-faults-secret-0123456789abcdef0123";
const CALLBACK: &str = "http://127.0.0.1:3000/account";

async fn store(test: &str) -> (Arc<SqliteGuestStore>, PathBuf) {
    let dir = std::env::temp_dir().join(format!("mail-faults-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = GuestConfig::default().limits(Limits::unlimited());
    let store = SqliteGuestStore::open_with(dir.join("app.db"), config)
        .await
        .unwrap();
    (Arc::new(store), dir)
}

async fn stored_tokens(store: &SqliteGuestStore) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM verification_token")
        .fetch_one(store.pool())
        .await
        .unwrap()
}

/// Polls (up to 3 s) until no link's token is stored; the count seen last.
async fn tokens_once_withdrawn(store: &SqliteGuestStore) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let left = stored_tokens(store).await;
        if left == 0 || Instant::now() > deadline {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Where the fake SMTP server stops answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Silence {
    /// It answers everything: a sink that takes every mail.
    Never,
    /// It accepts the connection and never greets.
    BeforeGreeting,
    /// It greets, answers `EHLO`, and never answers `MAIL FROM`.
    AfterMailFrom,
    /// It takes the whole message and never answers its final dot.
    AfterData,
}

/// What the fake SMTP server saw.
#[derive(Debug, Default, Clone)]
struct Seen {
    connections: usize,
    /// Connections the client closed (an EOF read).
    closed: usize,
    /// `RCPT TO` addresses.
    recipients: Vec<String>,
    /// Messages taken (answered `250` after the final dot).
    mails: usize,
}

/// A fake SMTP server on loopback.
struct FakeSmtp {
    port: u16,
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeSmtp {
    async fn start(silence: Silence) -> FakeSmtp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let shared = seen.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                shared.lock().unwrap().connections += 1;
                tokio::spawn(converse(stream, silence, shared.clone()));
            }
        });
        FakeSmtp { port, seen, task }
    }

    /// What it saw so far.
    fn seen(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Polls (up to 2 s) until every connection the client opened was closed by it.
    async fn all_closed(&self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let done = {
                let seen = self.seen.lock().unwrap();
                seen.connections > 0 && seen.closed == seen.connections
            };
            if done || Instant::now() > deadline {
                return done;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One SMTP conversation, silent from `silence` on; it reads until the client hangs up.
async fn converse(stream: tokio::net::TcpStream, silence: Silence, seen: Arc<Mutex<Seen>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut silent = silence == Silence::BeforeGreeting;
    if !silent {
        let _ = write.write_all(b"220 fake.smtp ESMTP\r\n").await;
    }
    let mut in_data = false;
    let mut line = String::new();
    loop {
        line.clear();
        match lines.read_line(&mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if silent {
            continue;
        }
        let command = line.trim_end().to_ascii_uppercase();
        let answer: &[u8] = if in_data {
            if command != "." {
                continue;
            }
            in_data = false;
            if silence == Silence::AfterData {
                silent = true;
                continue;
            }
            seen.lock().unwrap().mails += 1;
            b"250 queued\r\n"
        } else if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250 fake.smtp\r\n"
        } else if command.starts_with("MAIL FROM") {
            if silence == Silence::AfterMailFrom {
                silent = true;
                continue;
            }
            b"250 OK\r\n"
        } else if command.starts_with("RCPT TO:") {
            let to = line.trim_end()["RCPT TO:".len()..].trim();
            let to = to.trim_start_matches('<').trim_end_matches('>');
            seen.lock().unwrap().recipients.push(to.to_owned());
            b"250 OK\r\n"
        } else if command == "DATA" {
            in_data = true;
            b"354 end with <CRLF>.<CRLF>\r\n"
        } else if command == "QUIT" {
            let _ = write.write_all(b"221 bye\r\n").await;
            break;
        } else if command == "NOOP" || command == "RSET" {
            b"250 OK\r\n"
        } else {
            b"502 not implemented\r\n"
        };
        if write.write_all(answer).await.is_err() {
            break;
        }
    }
    // Drain whatever else comes, so that the EOF counted is the client's.
    let mut rest = Vec::new();
    let _ = lines.read_to_end(&mut rest).await;
    seen.lock().unwrap().closed += 1;
}

/// An engine on `store` mailing through `server`, each mail bounded by `bound`.
fn engine(store: Arc<SqliteGuestStore>, server: &str, bound: Duration) -> Auth {
    Auth::builder(())
        .secret(SECRET)
        .url("http://127.0.0.1:3000/api/auth")
        .guests(store)
        .email_server(server, "Shop <no-reply@shop.example>")
        .email_timeout(bound)
        .build()
        .unwrap()
}

/// What `signIn('email', { email, redirect: false })` posts, given the CSRF token.
fn link_form<'a>(email: &'a str, csrf: &'a str) -> [(&'static str, &'a str); 4] {
    [
        ("email", email),
        ("csrfToken", csrf),
        ("callbackUrl", CALLBACK),
        ("json", "true"),
    ]
}

async fn ask_for_link(client: &mut Browser<Auth>, email: &str) -> browser::Reply {
    let csrf = client.csrf().await;
    client
        .post_form("/api/auth/signin/email", &link_form(email, &csrf))
        .await
}

const BOUND: Duration = Duration::from_secs(1);
/// How much later than the bound an answer may come (a loaded two-core machine).
const MARGIN: Duration = Duration::from_millis(1500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_smtp_server_is_answered_email_signin_within_the_bound() {
    let logs = logs::global();
    for silence in [
        Silence::BeforeGreeting,
        Silence::AfterMailFrom,
        Silence::AfterData,
    ] {
        let (store, _dir) = store(&format!("silent-{silence:?}")).await;
        let smtp = FakeSmtp::start(silence).await;
        let auth = engine(store.clone(), &smtp.url(), BOUND);
        // Twice: a connection left half-spoken must not be the next mail's.
        for attempt in 1..=2 {
            let mut browser = Browser::engine(auth.clone());
            let started = Instant::now();
            let reply = tokio::time::timeout(
                BOUND + MARGIN,
                ask_for_link(&mut browser, "carol@shop.example"),
            )
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{silence:?} #{attempt}: no answer within {:?}",
                    BOUND + MARGIN
                )
            });
            let took = started.elapsed();
            println!("{silence:?} #{attempt}: answered in {took:?}");
            assert!(took >= BOUND, "{silence:?} #{attempt}: {took:?}");
            assert!(
                reply.url().contains("error=EmailSignin"),
                "{silence:?} #{attempt}: {}",
                reply.url()
            );
            assert_eq!(stored_tokens(&store).await, 0, "{silence:?} #{attempt}");
            assert!(
                smtp.all_closed().await,
                "{silence:?} #{attempt}: a connection stayed open: {:?}",
                smtp.seen()
            );
        }
        let seen = smtp.seen();
        assert_eq!(seen.connections, 2, "{silence:?}: {seen:?}");
        assert_eq!(seen.mails, 0, "{silence:?}: {seen:?}");
        store.close().await;
    }
    let text = logs.text();
    assert!(
        text.lines().any(|l| l.contains("ERROR")
            && l.contains("the sign-in mail was not sent")
            && l.contains("not sent within 1s (AUTH_EMAIL_TIMEOUT_S)")),
        "no error logged for the abandoned mails in:\n{text}"
    );
}

// The server's request timeout (shorter than the mail bound here) drops the handler mid-mail:
// the link's token is withdrawn all the same, and a warning says so without the address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_timed_out_by_the_server_withdraws_its_link() {
    let logs = logs::global();
    let (store, _dir) = store("request-timeout").await;
    let smtp = FakeSmtp::start(Silence::AfterMailFrom).await;
    let auth = engine(store.clone(), &smtp.url(), Duration::from_secs(20));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().nest("/api/auth", auth.router());
    let config = ServeConfig::default().request_timeout(Duration::from_millis(500));
    let server = tokio::spawn(async move { serve_app(listener, app, config).await });

    let mut browser = Browser::http(&origin, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    let csrf = browser.csrf().await;
    let started = Instant::now();
    let answer = browser
        .post_form(
            "/api/auth/signin/email",
            &link_form("timed.out@shop.example", &csrf),
        )
        .await;
    println!("answered {} in {:?}", answer.status, started.elapsed());
    assert_eq!(answer.status, reqwest::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.body["error"], "Timeout");
    assert_eq!(tokens_once_withdrawn(&store).await, 0);
    assert!(smtp.all_closed().await, "{:?}", smtp.seen());
    let text = logs.text();
    assert!(
        text.lines().any(|l| l.contains("WARN")
            && l.contains("provider=\"email\"")
            && l.contains("its link is withdrawn")),
        "no warning about the withdrawn link in:\n{text}"
    );
    // Nothing says to whom.
    assert!(!text.contains("timed.out@shop.example"), "{text}");
    server.abort();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_mid_mail_leaves_no_link_behind() {
    logs::global();
    let (store, _dir) = store("client-left").await;
    let smtp = FakeSmtp::start(Silence::BeforeGreeting).await;
    let auth = engine(store.clone(), &smtp.url(), Duration::from_secs(20));
    let mut browser = Browser::engine(auth);
    let csrf = browser.csrf().await;
    let form = link_form("left@shop.example", &csrf);
    let asked = browser.post_form("/api/auth/signin/email", &form);
    // The client hangs up: the request's future is dropped while the mail is under way.
    assert!(
        tokio::time::timeout(Duration::from_millis(300), asked)
            .await
            .is_err()
    );
    assert_eq!(tokens_once_withdrawn(&store).await, 0);
    assert!(smtp.all_closed().await, "{:?}", smtp.seen());
    store.close().await;
}

// "Splitting the email atom": each of these is one mailbox at the victim's domain to a naive
// check, and another one (the attacker's) to some mail system that decodes or routes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addresses_a_mail_system_could_decode_into_another_are_refused_and_not_mailed() {
    logs::global();
    let (store, _dir) = store("atoms").await;
    let smtp = FakeSmtp::start(Silence::Never).await;
    let auth = engine(store.clone(), &smtp.url(), Duration::from_secs(5));
    for hostile in [
        // RFC 2047 encoded words, in the local part and anywhere else.
        "=?utf-8?q?attacker=40evil.example=3e=00?=@victim-corp.example",
        "=?utf-8?b?YXR0YWNrZXJAZXZpbC5leGFtcGxl?=@victim-corp.example",
        "a=?x?=b@victim-corp.example",
        // Percent-hack routing and UUCP bang paths.
        "attacker%evil.example@victim-corp.example",
        "evil.example!attacker@victim-corp.example",
        // Compatibility forms of `@` (fullwidth, small) and of `%` that NFKC turns into them.
        "attacker\u{FF20}evil.example@victim-corp.example",
        "attacker\u{FE6B}evil.example@victim-corp.example",
        "attacker\u{FF05}evil.example@victim-corp.example",
        "victim@victim-corp.example\u{FF20}evil.example",
        // A quoted pair, a quoted local part, an IP literal and a bare IP, a trailing dot.
        "attacker\\@evil.example@victim-corp.example",
        "\"attacker@evil.example\"@victim-corp.example",
        "victim@[127.0.0.1]",
        "victim@127.0.0.1",
        "victim@victim-corp.example.",
        // Pipes, shell expansions and paths some delivery agents act on.
        "|/bin/sh@victim-corp.example",
        "`id`@victim-corp.example",
        "/var/mail/x@victim-corp.example",
        // Dot-atom violations some parsers repair differently.
        ".victim@victim-corp.example",
        "victim.@victim-corp.example",
        "vic..tim@victim-corp.example",
    ] {
        let mut browser = Browser::engine(auth.clone());
        let reply = ask_for_link(&mut browser, hostile).await;
        assert!(
            reply.url().contains("error=EmailSignin"),
            "{hostile:?}: {}",
            reply.url()
        );
    }
    assert_eq!(stored_tokens(&store).await, 0);
    let seen = smtp.seen();
    assert_eq!(seen.connections, 0, "{seen:?}");
    assert!(seen.recipients.is_empty(), "{seen:?}");
    // The sink takes ordinary addresses: the refusals above are the address check's.
    for ordinary in ["a+tag@victim-corp.example", "O'Brien@Victim-Corp.example"] {
        let mut browser = Browser::engine(auth.clone());
        let reply = ask_for_link(&mut browser, ordinary).await;
        assert!(
            reply
                .url()
                .ends_with("/verify-request?provider=email&type=email"),
            "{ordinary:?}: {}",
            reply.url()
        );
    }
    let seen = smtp.seen();
    assert_eq!(
        seen.recipients,
        ["a+tag@victim-corp.example", "o'brien@victim-corp.example"]
    );
    assert_eq!(seen.mails, 2);
    store.close().await;
}
