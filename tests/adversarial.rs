//! The attacks of an adversarial probe, replayed by HTTP against the examples as they serve
//! (`serve_app`, on loopback): guest lock-out by one client, a promoted guest's old cookie,
//! sign-out that kept the guest, forged and flooded log lines through `POST /_log`, sockets that
//! send nothing or half a request, cacheable CSRF and session replies, and planted cookies.
//! Each test names the probe's finding it answers (SECURITY.md lists them).

#[path = "../examples/anonymous.rs"]
#[allow(dead_code)]
mod anonymous;
#[path = "support/browser.rs"]
mod browser;
#[path = "support/logs.rs"]
mod logs;
#[path = "../examples/guest_checkout.rs"]
#[allow(dead_code)]
mod shop;

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_runtime::axum::{ServeConfig, serve_app};
use auth_runtime::guests::{GuestConfig, Limits, SqliteGuestStore};
use browser::{Browser, Http, wire};
use reqwest::StatusCode;
use serde_json::json;

const SECRET: &str = "adversarial-test-secret-0123456789abcdef";

fn temp_db(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("adversarial-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("guests.db")
}

/// A loopback listener and its origin, bound before the app that needs its URL is built.
fn bind() -> (std::net::TcpListener, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    (listener, origin)
}

/// Serves `app` on `listener` as the examples do.
fn serve(listener: std::net::TcpListener, app: axum::Router, config: ServeConfig) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    tokio::spawn(async move { serve_app(listener, app, config).await.unwrap() });
}

/// The shop example served with `config`; its origin.
async fn shop(test: &str, limits: Limits, config: ServeConfig) -> String {
    let store = SqliteGuestStore::open_with(temp_db(test), GuestConfig::default().limits(limits))
        .await
        .unwrap();
    let store = Arc::new(store);
    shop::migrate(&store.clone().into()).await.unwrap();
    let (listener, origin) = bind();
    let auth = shop::auth_builder::<shop::NextAuth>(store)
        .secret(SECRET)
        .url(format!("{origin}/api/auth"))
        .build()
        .unwrap();
    serve(listener, shop::app(auth), config);
    origin
}

fn loopback(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// Finding 1: one client made 1,001 guests in 0.7 s against `examples/anonymous.rs` and every
/// other visitor got `RateLimited`. Served with the client's address, the client spends its own
/// budget only, other visitors still get guests, and the refusals are logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_cannot_lock_other_visitors_out_of_guest_sign_in() {
    logs::global();
    let config = GuestConfig::default().limits(Limits {
        per_client_per_hour: 20,
        per_client_burst: 20,
        global_per_hour: 1000,
        global_burst: 100,
    });
    let guests = SqliteGuestStore::open_with(temp_db("lockout"), config)
        .await
        .unwrap();
    let (listener, origin) = bind();
    let auth = anonymous::Auth::builder(anonymous::AppState {
        guests: std::sync::Arc::new(guests),
    })
    .secret(SECRET)
    .url(format!("{origin}/api/auth"))
    .build()
    .unwrap();
    serve(listener, anonymous::app(auth), ServeConfig::default());

    let attacker = Browser::http(&origin, Some(loopback(2)));
    let mut refused = 0;
    let attack = std::time::Instant::now();
    for _ in 0..150 {
        let mut attempt = attacker.clone();
        attempt.jar.clear();
        let answer = attempt.sign_in("anon", &[]).await;
        if answer.status != StatusCode::OK {
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
            assert!(answer.body["url"].as_str().unwrap().contains("RateLimited"));
            refused += 1;
        }
    }
    assert_eq!(
        refused, 130,
        "the attacker gets its own burst of 20, no more"
    );
    for visitor in 3..23 {
        let mut browser = Browser::http(&origin, Some(loopback(visitor)));
        let answer = browser.sign_in("anon", &[]).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "visitor {visitor}: {}",
            answer.body
        );
        assert_eq!(browser.session().await["isLoggedIn"], false);
    }
    let log = logs::global().text();
    let lines = log
        .lines()
        .filter(|l| l.contains("sign-in refused"))
        .count();
    // The refusal log's budget: a burst of 20 lines, then 5 a second (a slower machine refills
    // more of it while the attack lasts).
    let most = 20 + (5.0 * attack.elapsed().as_secs_f64()).ceil() as usize;
    assert!(
        (1..=most).contains(&lines),
        "{lines} refusal lines, at most {most}"
    );
}

/// Findings 2, 3 and 6 on the shop: sign-out ends the guest (the next anonymous sign-in on the
/// same computer is a new guest with an empty cart), a promoted guest's old cookie opens
/// nothing, and every reply with a CSRF token or session data is `no-store`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_ends_the_guest_and_a_promoted_guests_cookie_opens_nothing() {
    let origin = shop("signout", Limits::unlimited(), ServeConfig::default()).await;
    let mut browser = Browser::http(&origin, Some(loopback(1)));
    browser.sign_in("anon", &[]).await;
    let first = browser.session().await["userId"].clone();
    let body = json!({ "product": "tea", "qty": 2 });
    let added = browser.post_json("/api/cart", &body).await;
    assert_eq!(added.status, StatusCode::OK);

    for path in [
        "/api/auth/csrf",
        "/api/auth/signin",
        "/api/auth/signout",
        "/api/auth/session",
        "/api/cart",
    ] {
        assert!(browser.get(path).await.no_store(), "{path} may be cached");
    }
    let csrf = browser.csrf().await;
    let update = json!({ "csrfToken": csrf, "data": {} });
    assert!(
        browser
            .post_json("/api/auth/session", &update)
            .await
            .no_store()
    );
    let answer = browser
        .post_form(
            "/api/auth/signout",
            &[("csrfToken", &csrf), ("json", "true")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.no_store());

    // The next person at this computer.
    browser.sign_in("anon", &[]).await;
    let second = browser.session().await["userId"].clone();
    assert_ne!(first, second, "sign-out kept the guest");
    assert_eq!(browser.get("/api/cart").await.body["items"], json!({}));

    // The guest signs in; a copy of its old cookie is refused by the API and the session.
    let stale = browser.clone();
    let answer = browser
        .sign_in(
            "password",
            &[("username", "alice"), ("password", "alice-password")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let mut stale_api = stale.clone();
    let mut stale = stale;
    assert_eq!(stale.session().await, wire::no_session());
    assert_eq!(
        stale_api.get("/api/cart").await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// Finding 4: anyone could write any line to the log through `POST /_log` (`\r\n` included) as
/// fast as the server answers. Control characters are escaped, fields cut, and a flood leaves
/// at most the budget's lines, the rest counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_log_beacons_cannot_forge_lines_or_flood_the_log() {
    logs::global();
    let origin = shop("log", Limits::unlimited(), ServeConfig::default()).await;
    let mut browser = Browser::http(&origin, Some(loopback(1)));
    let forged = "beacon-7f3a\r\n2026-11-30T00:00:00Z ERROR auth_runtime: admin signed in";
    let answer = browser
        .post_form(
            "/api/auth/_log",
            &[
                ("level", "error"),
                ("message", forged),
                ("code", &"x".repeat(5000)),
            ],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    let log = logs::global().text();
    let line = log
        .lines()
        .find(|l| l.contains("beacon-7f3a"))
        .expect("the beacon is logged");
    assert!(line.contains(r"beacon-7f3a\r\n2026"), "{line}");
    assert!(!log.lines().any(|l| l.starts_with("2026-11-30T00:00:00Z")));
    assert!(line.len() < 1000, "fields are cut: {} bytes", line.len());

    // A message written to read as the server's own fields stays inside its quotes.
    let imitation = "imitation-5c1e sign-in succeeded provider=password user=admin outcome=ok";
    browser
        .post_form("/api/auth/_log", &[("message", imitation)])
        .await;
    let log = logs::global().text();
    let line = log
        .lines()
        .find(|l| l.contains("imitation-5c1e"))
        .expect("the beacon is logged");
    assert!(
        line.contains(&format!("client_message={imitation:?}")),
        "{line}"
    );
    let outside_quotes: String = line.split('"').step_by(2).collect();
    assert!(!outside_quotes.contains("provider="), "{line}");
    assert!(!outside_quotes.contains("outcome="), "{line}");

    let started = Instant::now();
    for i in 0..300 {
        let message = format!("flood-{i}");
        browser
            .post_form("/api/auth/_log", &[("message", message.as_str())])
            .await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let written = logs::global()
        .text()
        .lines()
        // The client's words are quoted under a name of their own.
        .filter(|l| l.contains("client_message=\"flood-"))
        .count();
    let allowed = 20.0 + 10.0 * seconds + 1.0;
    assert!(
        (written as f64) <= allowed,
        "{written} flood lines in {seconds:.2} s"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    browser
        .post_form("/api/auth/_log", &[("message", "after-the-flood")])
        .await;
    // Every dropped line is counted, and the count is told with the next line written (which
    // may be a flood line that found a token, or the one after the flood).
    let log = logs::global().text();
    let reported: u64 = log
        .lines()
        .filter(|l| l.contains("client_message=\"flood-") || l.contains("after-the-flood"))
        .filter_map(|l| l.split("dropped_since_last=").nth(1))
        .filter_map(|n| n.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    assert!(log.lines().any(|l| l.contains("after-the-flood")));
    // The burst of 20, less the two beacons above.
    assert!(written >= 18, "the burst is written: {written}");
    assert_eq!(
        reported,
        300 - written as u64,
        "{written} flood lines written"
    );
}

/// Finding 5: sockets that sent nothing, or half a request, stayed open indefinitely. Each is
/// closed after the header-read deadline, and so is a kept-alive connection left idle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_half_sent_and_idle_connections_are_closed() {
    let config = ServeConfig::default()
        .header_read_timeout(Duration::from_millis(800))
        .request_timeout(Duration::from_millis(1500));
    let origin = shop("sockets", Limits::unlimited(), config).await;
    let addr: SocketAddr = origin.trim_start_matches("http://").parse().unwrap();

    // Closed by the server: a read ends (EOF or reset) well before our own 10 s deadline.
    let closes_within = |mut stream: TcpStream, limit: Duration| {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let started = Instant::now();
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(_) => continue,
            }
        }
        let took = started.elapsed();
        assert!(took < limit, "closed after {took:?}");
    };
    let silent: Vec<TcpStream> = (0..50).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let mut half = TcpStream::connect(addr).unwrap();
    half.write_all(b"GET /api/auth/session HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.write_all(b"GET /api/auth/csrf HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    // Headers sent, the body trickles: the whole-request deadline answers 503 JSON.
    let mut slow_body = TcpStream::connect(addr).unwrap();
    slow_body
        .write_all(
            b"POST /api/auth/callback/anon HTTP/1.1\r\nHost: x\r\n\
              Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ncsrf",
        )
        .unwrap();
    let checks = std::thread::spawn(move || {
        for stream in silent {
            closes_within(stream, Duration::from_secs(4));
        }
        closes_within(half, Duration::from_secs(4));
        closes_within(idle, Duration::from_secs(4));
        slow_body
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let started = Instant::now();
        let mut answer = vec![0u8; 4096];
        let n = slow_body.read(&mut answer).unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        assert!(answer.contains(r#""error":"Timeout""#), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(4));
    });
    tokio::task::spawn_blocking(move || checks.join().unwrap())
        .await
        .unwrap();
}

/// Finding 8: cookies planted from a sibling subdomain (or by script elsewhere) overrode a valid
/// unchunked session (`session-token.0`), cleared it (one junk chunk), or hid it (more than 200
/// cookies). The unchunked cookie is tried first, a junk chunk changes nothing, and planted
/// cookies up to what a browser keeps per domain do not hide it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_cookies_cannot_override_clear_or_hide_a_session() {
    let origin = shop("planted", Limits::unlimited(), ServeConfig::default()).await;
    let mut victim = Browser::http(&origin, Some(loopback(1)));
    victim.sign_in("anon", &[]).await;
    let victim_id = victim.session().await["userId"].clone();
    let mut attacker = Browser::http(&origin, Some(loopback(9)));
    attacker.sign_in("anon", &[]).await;
    let attacker_id = attacker.session().await["userId"].clone();
    assert_ne!(victim_id, attacker_id);
    // `next-auth.*`, or `authjs.*` under AUTH_TOKEN_FORMAT=authjs-v5.
    let name = victim
        .jar
        .keys()
        .find(|k| k.ends_with(".session-token"))
        .expect("an unchunked session")
        .clone();
    let name = name.as_str();
    let token = |b: &Browser<Http>| b.jar.get(name).cloned().expect("an unchunked session");
    let (victim_token, attacker_token) = (token(&victim), token(&attacker));
    let (first, second) = attacker_token.split_at(attacker_token.len() / 2);
    let junk: String = (0..300)
        .map(|i| format!("planted{i}=x; "))
        .collect::<Vec<_>>()
        .concat();

    for (what, cookie) in [
        (
            "the attacker's session as chunks",
            format!("{name}={victim_token}; {name}.0={first}; {name}.1={second}"),
        ),
        (
            "chunks first in the header",
            format!("{name}.0={first}; {name}.1={second}; {name}={victim_token}"),
        ),
        (
            "one junk chunk",
            format!("{name}={victim_token}; {name}.0=junk"),
        ),
        (
            "300 planted cookies first",
            format!("{junk}{name}={victim_token}"),
        ),
    ] {
        let request = http::Request::get("/api/auth/session")
            .header("cookie", cookie)
            .body(String::new())
            .unwrap();
        let answer = victim.exchange(request).await;
        assert_eq!(answer.body["userId"], victim_id, "{what}: {}", answer.body);
        let cleared = answer
            .headers
            .get_all("set-cookie")
            .iter()
            .any(|l| l.to_str().unwrap().starts_with(&format!("{name}=;")));
        assert!(!cleared, "{what}: the valid session was cleared");
    }
}
