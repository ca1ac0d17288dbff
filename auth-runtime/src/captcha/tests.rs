//! `Captcha::verify` against a local verify endpoint that answers as each provider does.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;

const SECRET: &str = "0x4AAAAAAA-the-secret-key";
const TOKEN: &str = "0.token-from-the-widget";

/// What the endpoint does with a request.
#[derive(Clone)]
enum Behaviour {
    /// Answers with this status and body.
    Answer(u16, String),
    /// Answers `307 Temporary Redirect` to this URL.
    Redirect(String),
    /// Reads the request and never answers.
    Silent,
}

fn json(body: &str) -> Behaviour {
    Behaviour::Answer(200, body.to_owned())
}

/// One request as the endpoint read it.
#[derive(Debug, Clone)]
struct Seen {
    request_line: String,
    content_type: Option<String>,
    form: Vec<(String, String)>,
}

impl Seen {
    fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A verify endpoint on 127.0.0.1 behaving as told for every connection.
struct Endpoint {
    url: Url,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Endpoint {
    fn start(behaviour: Behaviour) -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/siteverify", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (record, behaviour) = (Arc::clone(&record), behaviour.clone());
                std::thread::spawn(move || serve(stream, &record, &behaviour));
            }
        });
        Endpoint {
            url: Url::parse(&url).unwrap(),
            seen,
        }
    }

    fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn captcha(&self, provider: CaptchaProvider) -> Captcha {
        self.with(CaptchaConfig::new(provider, SECRET))
    }

    fn with(&self, config: CaptchaConfig) -> Captcha {
        Captcha::new(config.with_verify_url(self.url.clone())).unwrap()
    }
}

fn serve(stream: std::net::TcpStream, record: &Mutex<Vec<Seen>>, behaviour: &Behaviour) {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    let mut content_type = None;
    let mut length = 0;
    let mut first = true;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        if first {
            request_line = line.trim_end().to_owned();
            first = false;
        } else if let Some((name, value)) = line.split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "content-type" => content_type = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    record.lock().unwrap().push(Seen {
        request_line,
        content_type,
        form: form_urlencoded::parse(&body).into_owned().collect(),
    });
    match behaviour {
        Behaviour::Answer(status, body) => {
            let response = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = reader.get_mut().write_all(response.as_bytes());
        }
        Behaviour::Redirect(location) => {
            let response = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}\r\ncontent-length: 0\r\n\
                 connection: close\r\n\r\n"
            );
            let _ = reader.get_mut().write_all(response.as_bytes());
        }
        Behaviour::Silent => std::thread::sleep(Duration::from_secs(10)),
    }
}

/// A port nothing listens on.
fn closed_port() -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/siteverify", listener.local_addr().unwrap());
    drop(listener);
    Url::parse(&url).unwrap()
}

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

fn unavailable(result: Result<(), CaptchaRefusal>) -> UnavailableReason {
    match result {
        Err(CaptchaRefusal::Unavailable(reason)) => reason,
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn each_provider_is_sent_a_form_and_its_success_passes() {
    let answers = [
        (
            CaptchaProvider::Turnstile,
            r#"{"success":true,"error-codes":[],"challenge_ts":"2022-10-06T00:07:23.274Z",
                "hostname":"shop.example","action":"login","cdata":""}"#,
        ),
        (
            CaptchaProvider::HCaptcha,
            r#"{"success":true,"challenge_ts":"2022-10-06T00:07:23Z","hostname":"shop.example",
                "credit":false}"#,
        ),
        (
            CaptchaProvider::ReCaptchaV3,
            r#"{"success":true,"score":0.9,"action":"login",
                "challenge_ts":"2022-10-06T00:07:23Z","hostname":"shop.example"}"#,
        ),
    ];
    for (provider, answer) in answers {
        let endpoint = Endpoint::start(json(answer));
        let captcha = endpoint.captcha(provider);
        let result = captcha
            .verify(Some(TOKEN), ip("203.0.113.9"), Some("login"))
            .await;
        assert_eq!(result, Ok(()), "{provider}");
        let seen = endpoint.requests();
        assert_eq!(seen.len(), 1, "{provider}");
        let seen = &seen[0];
        assert_eq!(seen.request_line, "POST /siteverify HTTP/1.1");
        assert_eq!(
            seen.content_type.as_deref(),
            Some("application/x-www-form-urlencoded")
        );
        assert_eq!(seen.field("secret"), Some(SECRET));
        assert_eq!(seen.field("response"), Some(TOKEN));
        assert_eq!(seen.field("remoteip"), Some("203.0.113.9"));
        assert_eq!(seen.form.len(), 3, "{:?}", seen.form);
    }
}

#[tokio::test]
async fn the_client_address_is_sent_as_it_is_or_not_at_all() {
    let endpoint = Endpoint::start(json(r#"{"success":true}"#));
    let captcha = endpoint.captcha(CaptchaProvider::HCaptcha);
    for (address, sent) in [
        (ip("2001:db8::1"), Some("2001:db8::1")),
        // An IPv4 client accepted on an IPv6 socket.
        (ip("::ffff:198.51.100.7"), Some("198.51.100.7")),
        (None, None),
    ] {
        captcha.verify(Some(TOKEN), address, None).await.unwrap();
        let seen = endpoint.requests().pop().unwrap();
        assert_eq!(seen.field("remoteip"), sent);
    }
    // A token with characters that mean something in a form arrives as it was.
    let odd = "a+b/c=d&secret=forged%20x";
    captcha.verify(Some(odd), None, None).await.unwrap();
    let seen = endpoint.requests().pop().unwrap();
    assert_eq!(seen.field("response"), Some(odd));
    assert_eq!(seen.field("secret"), Some(SECRET));
}

#[tokio::test]
async fn each_providers_refusal_codes_come_back_as_invalid() {
    let refusals = [
        (CaptchaProvider::Turnstile, "invalid-input-response"),
        (CaptchaProvider::Turnstile, "timeout-or-duplicate"),
        (CaptchaProvider::Turnstile, "bad-request"),
        (CaptchaProvider::HCaptcha, "invalid-input-response"),
        (CaptchaProvider::HCaptcha, "expired-input-response"),
        (CaptchaProvider::HCaptcha, "already-seen-response"),
        (
            CaptchaProvider::HCaptcha,
            "invalid-or-already-seen-response",
        ),
        (CaptchaProvider::HCaptcha, "missing-remoteip"),
        (CaptchaProvider::ReCaptchaV3, "invalid-input-response"),
        (CaptchaProvider::ReCaptchaV3, "timeout-or-duplicate"),
    ];
    for (provider, code) in refusals {
        let endpoint = Endpoint::start(json(&format!(
            r#"{{"success":false,"error-codes":["{code}"],"hostname":""}}"#
        )));
        // Failing open changes nothing: the provider answered.
        let captcha = endpoint.with(CaptchaConfig::new(provider, SECRET).with_fail_open(true));
        let refusal = captcha.verify(Some(TOKEN), None, None).await.unwrap_err();
        assert_eq!(
            refusal,
            CaptchaRefusal::Invalid {
                codes: vec![code.to_owned()]
            },
            "{provider}"
        );
        assert_eq!(refusal.code(), "CaptchaInvalid");
        assert_eq!(refusal.status(), http::StatusCode::FORBIDDEN);
    }
}

#[tokio::test]
async fn a_secret_the_provider_refuses_is_refused_even_failing_open() {
    for code in [
        "invalid-input-secret",
        "missing-input-secret",
        "sitekey-secret-mismatch",
    ] {
        let endpoint = Endpoint::start(json(&format!(
            r#"{{"success":false,"error-codes":["{code}"]}}"#
        )));
        let config = CaptchaConfig::new(CaptchaProvider::HCaptcha, SECRET).with_fail_open(true);
        let result = endpoint.with(config).verify(Some(TOKEN), None, None).await;
        assert_eq!(
            unavailable(result),
            UnavailableReason::SecretRefused {
                codes: vec![code.to_owned()]
            }
        );
    }
    // A reCAPTCHA v2 key answers without a score.
    let endpoint = Endpoint::start(json(r#"{"success":true,"hostname":"shop.example"}"#));
    let config = CaptchaConfig::new(CaptchaProvider::ReCaptchaV3, SECRET).with_fail_open(true);
    let result = endpoint.with(config).verify(Some(TOKEN), None, None).await;
    assert_eq!(unavailable(result), UnavailableReason::NoScore);
}

#[tokio::test]
async fn recaptcha_scores_are_held_to_the_minimum() {
    for (score, min, passes) in [
        (0.1, 0.5, false),
        (0.49, 0.5, false),
        (0.5, 0.5, true),
        (0.9, 0.5, true),
        (0.7, 0.8, false),
        (0.9, 0.8, true),
        (0.0, 0.0, true),
    ] {
        let endpoint = Endpoint::start(json(&format!(
            r#"{{"success":true,"score":{score},"action":"login"}}"#
        )));
        let config = CaptchaConfig::new(CaptchaProvider::ReCaptchaV3, SECRET).with_min_score(min);
        let result = endpoint.with(config).verify(Some(TOKEN), None, None).await;
        if passes {
            assert_eq!(result, Ok(()), "{score} against {min}");
        } else {
            let refusal = result.unwrap_err();
            assert_eq!(refusal, CaptchaRefusal::LowScore { score, min });
            assert_eq!(refusal.code(), "CaptchaInvalid");
            assert_eq!(refusal.status(), http::StatusCode::FORBIDDEN);
        }
    }
}

#[tokio::test]
async fn a_token_made_for_another_action_is_refused() {
    for provider in [CaptchaProvider::Turnstile, CaptchaProvider::ReCaptchaV3] {
        let endpoint = Endpoint::start(json(
            r#"{"success":true,"score":0.9,"action":"newsletter"}"#,
        ));
        let captcha = endpoint.captcha(provider);
        let refusal = captcha
            .verify(Some(TOKEN), None, Some("login"))
            .await
            .unwrap_err();
        assert_eq!(
            refusal,
            CaptchaRefusal::WrongAction {
                expected: "login".into(),
                actual: Some("newsletter".into())
            },
            "{provider}"
        );
        assert_eq!(refusal.code(), "CaptchaInvalid");
        // No action expected: any will do.
        assert_eq!(captcha.verify(Some(TOKEN), None, None).await, Ok(()));
    }
}

#[tokio::test]
async fn missing_and_hostile_tokens_are_refused_without_asking() {
    let endpoint = Endpoint::start(json(r#"{"success":true}"#));
    let captcha = endpoint.captcha(CaptchaProvider::Turnstile);
    for token in [None, Some(""), Some("  ")] {
        let refusal = captcha.verify(token, None, None).await.unwrap_err();
        assert_eq!(refusal, CaptchaRefusal::Missing);
        assert_eq!(refusal.code(), "CaptchaRequired");
        assert_eq!(refusal.status(), http::StatusCode::BAD_REQUEST);
    }
    let long = "a".repeat(MAX_TOKEN_LEN + 1);
    for token in [long.as_str(), "token\r\nsecret: x", "tok\0en"] {
        let refusal = captcha.verify(Some(token), None, None).await.unwrap_err();
        assert!(
            matches!(refusal, CaptchaRefusal::Invalid { .. }),
            "{refusal:?}"
        );
    }
    assert!(endpoint.requests().is_empty());
}

#[tokio::test]
async fn outages_fail_closed_by_default() {
    let outages = [
        (Behaviour::Answer(500, "oops".into()), "500"),
        (
            Behaviour::Answer(502, "<html>bad gateway</html>".into()),
            "502",
        ),
        (
            json("<html>Just a moment...</html>"),
            "HTML in place of JSON",
        ),
        (json(r#"{"success":"true"}"#), "a string success"),
        (
            json(r#"{"success":false,"error-codes":["internal-error"]}"#),
            "internal-error",
        ),
        (
            json(&format!(
                r#"{{"success":true,"pad":"{}"}}"#,
                "x".repeat(20_000)
            )),
            "20 kB",
        ),
    ];
    for (behaviour, what) in outages {
        let endpoint = Endpoint::start(behaviour);
        let refusal = endpoint
            .captcha(CaptchaProvider::Turnstile)
            .verify(Some(TOKEN), None, None)
            .await
            .unwrap_err();
        assert_eq!(refusal.code(), "CaptchaUnavailable", "{what}: {refusal}");
        assert_eq!(refusal.status(), http::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(endpoint.requests().len(), 1, "{what}");
    }
    let status = Endpoint::start(Behaviour::Answer(500, String::new()));
    let result = status
        .captcha(CaptchaProvider::HCaptcha)
        .verify(Some(TOKEN), None, None)
        .await;
    assert_eq!(unavailable(result), UnavailableReason::Status(500));
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let elsewhere = Endpoint::start(json(r#"{"success":true}"#));
    let redirect = Endpoint::start(Behaviour::Redirect(elsewhere.url.to_string()));
    let result = redirect
        .captcha(CaptchaProvider::Turnstile)
        .verify(Some(TOKEN), None, None)
        .await;
    assert_eq!(unavailable(result), UnavailableReason::Status(307));
    assert!(elsewhere.requests().is_empty());
}

#[tokio::test]
async fn a_silent_endpoint_is_given_up_on_at_the_timeout() {
    let endpoint = Endpoint::start(Behaviour::Silent);
    let timeout = Duration::from_millis(300);
    let config = CaptchaConfig::new(CaptchaProvider::ReCaptchaV3, SECRET).with_timeout(timeout);
    let captcha = endpoint.with(config);
    let started = Instant::now();
    let result = captcha.verify(Some(TOKEN), None, None).await;
    let took = started.elapsed();
    assert_eq!(unavailable(result), UnavailableReason::TimedOut(timeout));
    assert!(took >= timeout, "{took:?}");
    assert!(took < timeout + Duration::from_secs(1), "{took:?}");
    assert_eq!(endpoint.requests().len(), 1, "the request was sent");
}

#[tokio::test]
async fn a_closed_port_is_unavailable_at_once() {
    let config = CaptchaConfig::new(CaptchaProvider::Turnstile, SECRET)
        .with_verify_url(closed_port())
        .with_timeout(Duration::from_secs(5));
    let captcha = Captcha::new(config).unwrap();
    let started = Instant::now();
    let result = captcha.verify(Some(TOKEN), None, None).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let reason = unavailable(result);
    assert!(
        matches!(reason, UnavailableReason::Unreachable(_)),
        "{reason:?}"
    );
    assert!(!reason.to_string().contains(SECRET), "{reason}");
}

#[tokio::test]
async fn failing_open_lets_requests_through_an_outage_only() {
    let open = |url: Url| {
        let config = CaptchaConfig::new(CaptchaProvider::Turnstile, SECRET)
            .with_verify_url(url)
            .with_timeout(Duration::from_millis(300))
            .with_fail_open(true);
        Captcha::new(config).unwrap()
    };
    let down = Endpoint::start(Behaviour::Answer(503, String::new()));
    let garbage = Endpoint::start(json("{not json"));
    let silent = Endpoint::start(Behaviour::Silent);
    for url in [
        down.url.clone(),
        garbage.url.clone(),
        silent.url.clone(),
        closed_port(),
    ] {
        assert_eq!(
            open(url.clone()).verify(Some(TOKEN), None, None).await,
            Ok(()),
            "{url}"
        );
    }
    // Failing open is for outages: without a token, or with a refused one, it still refuses.
    let refused = Endpoint::start(json(
        r#"{"success":false,"error-codes":["timeout-or-duplicate"]}"#,
    ));
    let captcha = open(refused.url.clone());
    assert_eq!(
        captcha.verify(None, None, None).await,
        Err(CaptchaRefusal::Missing)
    );
    assert!(matches!(
        captcha.verify(Some(TOKEN), None, None).await,
        Err(CaptchaRefusal::Invalid { .. })
    ));
}

#[test]
fn a_plain_http_endpoint_elsewhere_than_this_machine_is_allowed_with_a_warning() {
    for url in [
        "http://127.0.0.1:9/",
        "http://[::1]:9/",
        "http://localhost:9/",
    ] {
        assert!(is_loopback(&Url::parse(url).unwrap()), "{url}");
    }
    assert!(!is_loopback(
        &Url::parse("http://captcha-proxy.internal/").unwrap()
    ));
    let config = CaptchaConfig::new(CaptchaProvider::Turnstile, SECRET)
        .with_verify_url(Url::parse("http://captcha-proxy.internal/siteverify").unwrap());
    assert!(Captcha::new(config).is_ok());
}

/// Every log line the verifier writes, as text.
mod logs {
    use std::fmt::Write as _;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    #[derive(Clone, Default)]
    pub struct Captured(pub Arc<Mutex<String>>);

    struct Line<'a>(&'a mut String);

    impl Visit for Line<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    impl Subscriber for Captured {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, span: &Attributes<'_>) -> Id {
            let mut text = self.0.lock().unwrap();
            span.record(&mut Line(&mut text));
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, values: &Record<'_>) {
            values.record(&mut Line(&mut self.0.lock().unwrap()));
        }
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut text = self.0.lock().unwrap();
            let _ = write!(text, "{}", event.metadata().level());
            event.record(&mut Line(&mut text));
            text.push('\n');
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }
}

#[tokio::test]
async fn neither_the_secret_nor_the_token_is_logged_or_shown() {
    let captured = logs::Captured::default();
    // tracing caches each callsite's interest for every thread, and while one dispatcher is
    // registered it asks only the registering thread's: a line first hit by a test running
    // alongside (no subscriber there) would be lost here. A second live one makes it ask all.
    let _second = tracing::Dispatch::new(logs::Captured::default());
    let _guard = tracing::subscriber::set_default(captured.clone());
    let mut shown = String::new();
    let answers = [
        json(r#"{"success":false,"error-codes":["invalid-input-secret"]}"#),
        json(r#"{"success":false,"error-codes":["timeout-or-duplicate"]}"#),
        Behaviour::Answer(500, String::new()),
        json("garbage"),
    ];
    for (fail_open, behaviour) in [false, true]
        .into_iter()
        .flat_map(|open| answers.clone().into_iter().map(move |b| (open, b)))
    {
        let endpoint = Endpoint::start(behaviour);
        let config =
            CaptchaConfig::new(CaptchaProvider::Turnstile, SECRET).with_fail_open(fail_open);
        let captcha = endpoint.with(config);
        let result = captcha
            .verify(Some(TOKEN), ip("192.0.2.1"), Some("login"))
            .await;
        shown.push_str(&format!("{captcha:?} {result:?} "));
        if let Err(refusal) = result {
            shown.push_str(&refusal.to_string());
        }
    }
    let logs = captured.0.lock().unwrap().clone();
    assert!(
        logs.contains("WARN") && logs.contains("ERROR"),
        "the capture works: {logs}"
    );
    assert!(logs.contains("letting the request through"), "{logs}");
    for text in [&logs, &shown] {
        assert!(!text.contains(SECRET), "the secret in:\n{text}");
        assert!(!text.contains(TOKEN), "the token in:\n{text}");
    }
}
