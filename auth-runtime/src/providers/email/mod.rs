//! The Email provider's side of a magic link: the address checked, the link's one-time token,
//! and the mail sent — over SMTP (`AUTH_EMAIL_SERVER`, `AUTH_EMAIL_FROM`), by the application's
//! own [`SendVerificationRequest`] hook, or, in a debug build without either, to the log.

mod flow;

pub(crate) use flow::Email;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::Digest as _;

use crate::error::ConfigError;
use crate::rate_limit::Rate;

/// How long a sign-in link works unless set otherwise: 24 hours, as NextAuth's.
pub const DEFAULT_LINK_MAX_AGE: u64 = 24 * 60 * 60;
/// How long one mail may take unless set otherwise (`AUTH_EMAIL_TIMEOUT_S`,
/// [`AuthBuilder::email_timeout`](crate::AuthBuilder::email_timeout)): the whole of it, from the
/// SMTP connection to the server's answer to the message, or the application's hook.
pub const DEFAULT_MAIL_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest address accepted (RFC 5321's path limit, less the brackets).
const MAX_ADDRESS_LEN: usize = 254;

/// A sign-in link to deliver: what [`SendVerificationRequest`] receives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerificationRequest {
    /// The address, normalized (trimmed, lower-cased, the domain in its IDNA ASCII form).
    pub identifier: String,
    /// The link: `{AUTH_URL}/callback/{provider}?callbackUrl=..&token=..&email=..`.
    pub url: String,
    /// When the link stops working, Unix seconds.
    pub expires: i64,
    /// The provider id.
    pub provider: &'static str,
    /// The application's host, for the subject line.
    pub host: String,
}

/// Why a mail could not be sent.
pub type SendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What [`SendVerificationRequest::send`] returns.
pub type SendFuture = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send>>;

/// The application's own delivery of sign-in links (a mail API, a templating service): given to
/// [`AuthBuilder::send_verification_request`](crate::AuthBuilder::send_verification_request), it
/// replaces SMTP. Any `Fn(VerificationRequest) -> impl Future<Output = Result<(), SendError>>`
/// is one.
///
/// ```
/// use auth_runtime::providers::email::{SendError, SendVerificationRequest, VerificationRequest};
///
/// async fn deliver(request: VerificationRequest) -> Result<(), SendError> {
///     println!("mail {} to {}", request.url, request.identifier);
///     Ok(())
/// }
/// fn takes(_: impl SendVerificationRequest) {}
/// takes(deliver);
/// ```
pub trait SendVerificationRequest: Send + Sync + 'static {
    /// Delivers `request`; an error is answered `EmailSignin` and the link is withdrawn. The
    /// future has the mail timeout (`AUTH_EMAIL_TIMEOUT_S`, default 10 s) to finish; then it is
    /// dropped, and that is an error too.
    fn send(&self, request: VerificationRequest) -> SendFuture;
}

impl<F, Fut> SendVerificationRequest for F
where
    F: Fn(VerificationRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), SendError>> + Send + 'static,
{
    fn send(&self, request: VerificationRequest) -> SendFuture {
        Box::pin(self(request))
    }
}

/// An address the Email provider refuses; its message says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a single e-mail address: {0}")]
pub struct AddressError(&'static str);

/// The longest local part (RFC 5321).
const MAX_LOCAL_PART_LEN: usize = 64;

/// Punctuation a local part may hold besides ASCII letters and digits: RFC 5322's `atext`, less
/// what some mail system acts on instead of reading it as part of the mailbox's name: `%`
/// (percent-hack routing) and `!` (UUCP bang paths), refused with reasons of their own; `/`
/// (X.400 addresses, deliveries to files), `|` (deliveries to programs), `` ` `` and `$` (shell
/// expansion in delivery scripts). `=?` (an RFC 2047 encoded word) is refused wherever it appears.
const LOCAL_PART_PUNCTUATION: &str = ".'+-_=?#&*^~{}";

/// `raw` as one plain address (`local@domain`), trimmed and lower-cased, as NextAuth normalizes
/// it. The identity a link signs in as is this string, so it must name the mailbox the mail
/// reaches and no other: whatever a mail system could decode or route into another address is
/// refused, each with its reason.
///
/// - Lists, display names, comments, quoted strings and quoted pairs, whitespace or control
///   characters (a header injection), more than 254 bytes.
/// - RFC 2047 encoded words (`=?utf-8?q?attacker=40evil.example?=@victim.example`: a system that
///   decodes it delivers elsewhere), percent-hack routing (`%`), UUCP bang paths (`!`), pipes,
///   paths and shell characters (`|`, `/`, `` ` ``, `$`), dots at an end of the local part or two
///   in a row.
/// - Any non-ASCII local part. Mail systems may apply Unicode normalization (NFC, NFKC) or case
///   folding of their own to a UTF-8 local part, and NFKC turns compatibility forms into ASCII
///   specials (fullwidth `＠` U+FF20 and small `﹫` U+FE6B into `@`, `％` into `%`); which
///   mailbox such an address reaches is the receiving system's choice, not this string. (Sending
///   one would also need SMTPUTF8 of the server.)
/// - A domain that is not a host name: an IP address or literal, a trailing dot, characters
///   outside letters, digits and hyphens. An internationalized domain is kept, in its IDNA
///   ASCII form (`bücher.example` is `xn--bcher-kva.example`), so the link's identity and the
///   mail's destination are one string whatever the mail system's own mapping.
///
/// ```
/// use auth_runtime::providers::email::normalize_address;
///
/// assert_eq!(normalize_address("  Ada@Example.COM ").unwrap(), "ada@example.com");
/// assert_eq!(normalize_address("o'brien+tag@example.com").unwrap(), "o'brien+tag@example.com");
/// assert!(normalize_address("a@b.c\r\nBcc: x@y.z").is_err());
/// assert!(normalize_address("a@b.c, d@e.f").is_err());
/// assert!(normalize_address("=?utf-8?q?eve=40evil.example?=@victim.example").is_err());
/// assert!(normalize_address("eve%evil.example@victim.example").is_err());
/// ```
pub fn normalize_address(raw: &str) -> Result<String, AddressError> {
    let address = raw.trim();
    if address.is_empty() {
        return Err(AddressError("empty"));
    }
    if address.len() > MAX_ADDRESS_LEN {
        return Err(AddressError("longer than 254 bytes"));
    }
    if address
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || ",;<>()[]\"\\:".contains(c))
    {
        return Err(AddressError(
            "whitespace, a control character or a list or display-name character",
        ));
    }
    if address.contains("=?") {
        return Err(AddressError("an RFC 2047 encoded word (=?)"));
    }
    // Anywhere: in a domain, the host parser below would percent-decode it.
    if address.contains('%') {
        return Err(AddressError("percent-hack routing or percent-encoding (%)"));
    }
    if address.contains('!') {
        return Err(AddressError("a UUCP bang path (!)"));
    }
    let (local, domain) = address.split_once('@').ok_or(AddressError("no @"))?;
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return Err(AddressError("not local@domain.tld"));
    }
    let address = format!("{}@{}", local_part(local)?, domain_name(domain)?);
    if address.len() > MAX_ADDRESS_LEN {
        return Err(AddressError("longer than 254 bytes"));
    }
    address
        .parse::<Address>()
        .map_err(|_| AddressError("refused by the address grammar"))?;
    Ok(address)
}

/// A local part, lower-cased, if it is ASCII dot-atom text of the safe punctuation.
fn local_part(local: &str) -> Result<String, AddressError> {
    // Checked before lower-casing: Unicode lower-cases some letters into ASCII (KELVIN SIGN to
    // `k`).
    if !local.is_ascii() {
        return Err(AddressError(
            "a non-ASCII local part (a mail system may normalize it into another mailbox)",
        ));
    }
    if local
        .chars()
        .any(|c| !c.is_ascii_alphanumeric() && !LOCAL_PART_PUNCTUATION.contains(c))
    {
        return Err(AddressError(
            "a local-part character some mail system acts on (/ | ` $)",
        ));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(AddressError(
            "a dot at an end of the local part, or two in a row",
        ));
    }
    if local.len() > MAX_LOCAL_PART_LEN {
        return Err(AddressError("a local part longer than 64 bytes"));
    }
    Ok(local.to_ascii_lowercase())
}

/// A domain as its lower-case IDNA ASCII form, if it is a host name of two labels or more.
fn domain_name(domain: &str) -> Result<String, AddressError> {
    let ascii = match url::Host::parse(domain) {
        Ok(url::Host::Domain(ascii)) => ascii,
        Ok(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => {
            return Err(AddressError("an IP address, not a domain name"));
        }
        Err(_) => return Err(AddressError("a domain name IDNA refuses")),
    };
    // Also a fullwidth or ideographic full stop at the end, which IDNA maps to `.`.
    if ascii.ends_with('.') {
        return Err(AddressError("a trailing dot"));
    }
    let mut labels = 0;
    for label in ascii.split('.') {
        labels += 1;
        if label.is_empty() {
            return Err(AddressError("an empty domain label"));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(AddressError(
                "a domain name that is not letters, digits and hyphens",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') || label.len() > 63 {
            return Err(AddressError(
                "a domain label that begins or ends with a hyphen, or is longer than 63 bytes",
            ));
        }
    }
    if labels < 2 {
        return Err(AddressError("not local@domain.tld"));
    }
    Ok(ascii)
}

/// The stored form of a link's token, as next-auth stores it: hex SHA-256 of the token followed
/// by the secret, so a database next-auth shares reads the same rows.
pub(crate) fn hash_token(token: &str, secret: &str) -> String {
    let mut hasher = sha2::Sha256::new();
    hasher.update(token.as_bytes());
    hasher.update(secret.as_bytes());
    crate::csrf::hex(&hasher.finalize())
}

/// A link's token: 256 random bits in hex, as next-auth's.
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    crate::csrf::hex(&bytes)
}

/// Limits on sign-in mails, on by default: each address gets a few links an hour (a mailbox is
/// not flooded by strangers), each client a few more (nobody mails the world from one address).
/// A limit of 0 an hour is off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailLimits {
    /// Mails to one address per hour (default 10).
    pub per_address_per_hour: u32,
    /// Mails to one address at once (default 3).
    pub per_address_burst: u32,
    /// Mails requested by one client per hour (default 30).
    pub per_client_per_hour: u32,
    /// Mails requested by one client at once (default 10).
    pub per_client_burst: u32,
}

impl Default for EmailLimits {
    fn default() -> Self {
        EmailLimits {
            per_address_per_hour: 10,
            per_address_burst: 3,
            per_client_per_hour: 30,
            per_client_burst: 10,
        }
    }
}

impl EmailLimits {
    /// No limit.
    pub fn off() -> Self {
        EmailLimits {
            per_address_per_hour: 0,
            per_address_burst: 0,
            per_client_per_hour: 0,
            per_client_burst: 0,
        }
    }

    /// The defaults, with what `AUTH_EMAIL_PER_ADDRESS_PER_HOUR`, `AUTH_EMAIL_PER_ADDRESS_BURST`,
    /// `AUTH_EMAIL_PER_CLIENT_PER_HOUR` and `AUTH_EMAIL_PER_CLIENT_BURST` set (a number, or `off`).
    pub fn from_env(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, crate::rate_limit::LimitsError> {
        let mut limits = EmailLimits::default();
        crate::rate_limit::read_limit_variables(
            [
                (
                    "AUTH_EMAIL_PER_ADDRESS_PER_HOUR",
                    &mut limits.per_address_per_hour,
                ),
                (
                    "AUTH_EMAIL_PER_ADDRESS_BURST",
                    &mut limits.per_address_burst,
                ),
                (
                    "AUTH_EMAIL_PER_CLIENT_PER_HOUR",
                    &mut limits.per_client_per_hour,
                ),
                ("AUTH_EMAIL_PER_CLIENT_BURST", &mut limits.per_client_burst),
            ],
            var,
        )?;
        Ok(limits)
    }

    pub(crate) fn address_rate(&self) -> Option<Rate> {
        Rate::new(self.per_address_per_hour, self.per_address_burst)
    }

    pub(crate) fn client_rate(&self) -> Option<Rate> {
        Rate::new(self.per_client_per_hour, self.per_client_burst)
    }
}

/// Why a link could not be mailed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MailError {
    #[error("the mail could not be built: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("the SMTP server refused or could not be reached: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("the application's send_verification_request failed: {0}")]
    Hook(SendError),
    #[error("the mail was not sent within {0:?} (AUTH_EMAIL_TIMEOUT_S) and was abandoned")]
    TimedOut(Duration),
}

/// How links are delivered, and how long one delivery may take.
pub(crate) struct Mailer {
    delivery: Delivery,
    timeout: Duration,
}

/// Where links go.
enum Delivery {
    /// SMTP, from `AUTH_EMAIL_SERVER` and `AUTH_EMAIL_FROM`.
    Smtp {
        // Boxed: without lettre's pool the transport holds its whole client inline.
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        from: Mailbox,
    },
    /// The application's hook.
    Hook(Arc<dyn SendVerificationRequest>),
    /// A debug build without a server: the link is logged.
    Log,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.delivery {
            Delivery::Smtp { from, .. } => write!(f, "Mailer::Smtp(from {from}")?,
            Delivery::Hook(_) => f.write_str("Mailer::Hook(")?,
            Delivery::Log => f.write_str("Mailer::Log(")?,
        }
        write!(f, ", within {:?})", self.timeout)
    }
}

impl Mailer {
    /// The mailer the settings describe: the hook if given, else SMTP from
    /// `AUTH_EMAIL_SERVER` (or NextAuth's `EMAIL_SERVER`) and `AUTH_EMAIL_FROM` (`EMAIL_FROM`),
    /// else the log in a debug build; a release build without one does not start. Each mail
    /// takes `timeout` at most, else `AUTH_EMAIL_TIMEOUT_S` seconds, else
    /// [`DEFAULT_MAIL_TIMEOUT`].
    pub fn configure(
        provider: &str,
        hook: Option<Arc<dyn SendVerificationRequest>>,
        timeout: Option<Duration>,
        env: impl Fn(&str) -> Option<String>,
        debug_build: bool,
    ) -> Result<Mailer, ConfigError> {
        let invalid = |variable: &str, reason: String| ConfigError::ProviderSetting {
            provider: provider.to_owned(),
            variable: variable.to_owned(),
            reason,
        };
        let timeout = match timeout {
            Some(Duration::ZERO) => {
                return Err(invalid(
                    "AuthBuilder::email_timeout",
                    "a mail cannot be sent in no time; give it a few seconds".to_owned(),
                ));
            }
            Some(timeout) => timeout,
            None => mail_timeout_from_env(&env)
                .map_err(|reason| invalid(MAIL_TIMEOUT_VARIABLE, reason))?,
        };
        if let Some(hook) = hook {
            return Ok(Mailer {
                delivery: Delivery::Hook(hook),
                timeout,
            });
        }
        let setting = |names: [&'static str; 2]| {
            names.into_iter().find_map(|name| {
                env(name)
                    .filter(|value| !value.trim().is_empty())
                    .map(|value| (name, value))
            })
        };
        let delivery = match setting(["AUTH_EMAIL_SERVER", "EMAIL_SERVER"]) {
            Some((server_name, server)) => {
                let (from_name, from) = setting(["AUTH_EMAIL_FROM", "EMAIL_FROM"]).ok_or_else(
                    || invalid("AUTH_EMAIL_FROM", "the sender of sign-in mails is not set (e.g. `Shop <no-reply@shop.example>`)".to_owned()),
                )?;
                let from: Mailbox = from
                    .trim()
                    .parse()
                    .map_err(|e| invalid(from_name, format!("not a mailbox: {e}")))?;
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(server.trim())
                    .map_err(|e| {
                        invalid(server_name, format!("not an smtp:// or smtps:// URL: {e}"))
                    })?
                    // lettre's own timeout bounds the TCP connect alone; `send` bounds the rest.
                    .timeout(Some(timeout))
                    .build();
                Delivery::Smtp {
                    transport: Box::new(transport),
                    from,
                }
            }
            None if debug_build => {
                tracing::warn!(
                    provider,
                    "AUTH_EMAIL_SERVER is not set: sign-in links are written to the log, not \
                     mailed (a debug build only; a release build refuses to start)"
                );
                Delivery::Log
            }
            None => {
                return Err(invalid(
                    "AUTH_EMAIL_SERVER",
                    "sign-in links need an SMTP server (smtp://user:password@host:587) or \
                     AuthBuilder::send_verification_request"
                        .to_owned(),
                ));
            }
        };
        Ok(Mailer { delivery, timeout })
    }

    /// Delivers one link, within the mailer's timeout: a server that accepts the connection and
    /// then says nothing, or answers one command and not the next, or a hook that never returns,
    /// costs the request that long and no more. The abandoned SMTP connection is dropped (and so
    /// closed) with the future: lettre's pool is not built (see auth-runtime's Cargo.toml), so a
    /// conversation cut off half-way is never parked and handed to the next mail.
    pub async fn send(&self, request: VerificationRequest) -> Result<(), MailError> {
        tokio::time::timeout(self.timeout, self.delivery.send(request))
            .await
            .unwrap_or(Err(MailError::TimedOut(self.timeout)))
    }
}

impl Delivery {
    async fn send(&self, request: VerificationRequest) -> Result<(), MailError> {
        match self {
            Delivery::Smtp { transport, from } => {
                let message = message(from.clone(), &request)?;
                transport.send(message).await?;
                Ok(())
            }
            Delivery::Hook(hook) => hook.send(request).await.map_err(MailError::Hook),
            Delivery::Log => {
                tracing::warn!(
                    to = %request.identifier,
                    url = %request.url,
                    "SIGN-IN LINK (not mailed: AUTH_EMAIL_SERVER is not set)"
                );
                Ok(())
            }
        }
    }
}

/// The variable that bounds one mail, in whole seconds.
const MAIL_TIMEOUT_VARIABLE: &str = "AUTH_EMAIL_TIMEOUT_S";

/// `AUTH_EMAIL_TIMEOUT_S` (whole seconds, at least 1), else [`DEFAULT_MAIL_TIMEOUT`]; the reason
/// a value is refused.
fn mail_timeout_from_env(env: impl Fn(&str) -> Option<String>) -> Result<Duration, String> {
    let Some(value) = env(MAIL_TIMEOUT_VARIABLE).filter(|v| !v.trim().is_empty()) else {
        return Ok(DEFAULT_MAIL_TIMEOUT);
    };
    match value.trim().parse::<u64>() {
        Ok(0) => Err("a mail cannot be sent in 0 seconds; give it a few (default 10)".to_owned()),
        Ok(seconds) => Ok(Duration::from_secs(seconds)),
        Err(_) => Err(format!(
            "{value:?} is not a whole number of seconds (e.g. 10)"
        )),
    }
}

/// The mail of a link: plain text and HTML, the link in both.
fn message(from: Mailbox, request: &VerificationRequest) -> Result<Message, lettre::error::Error> {
    let to = Mailbox::new(
        None,
        request
            .identifier
            .parse::<Address>()
            .map_err(|_| lettre::error::Error::MissingTo)?,
    );
    let host = &request.host;
    let text = format!(
        "Sign in to {host}\n\n{}\n\nThe link works once, for 24 hours at most. If you did not \
         ask for it, ignore this mail.\n",
        request.url
    );
    let url = crate::html::escape(&request.url);
    let host_html = crate::html::escape(host);
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">\
         <p>Sign in to <strong>{host_html}</strong></p>\
         <p><a href=\"{url}\">Sign in</a></p>\
         <p>The link works once, for 24 hours at most. If you did not ask for it, ignore this \
         mail.</p></body></html>"
    );
    Message::builder()
        .from(from)
        .to(to)
        .subject(format!("Sign in to {host}"))
        .multipart(MultiPart::alternative_plain_html(text, html))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalize_address(" Bob@Shop.Example").unwrap(),
            "bob@shop.example"
        );
    }

    #[test]
    fn hostile_addresses_are_refused() {
        for hostile in [
            "",
            "a@b.c\r\nBcc: x@y.z",
            "a@b.c\nBcc:x@y.z",
            "a@b.c,d@e.f",
            "Ada <ada@example.com>",
            "\"a b\"@example.com",
            "a@b",
            "@example.com",
            "a@@example.com",
            "a@b@example.com",
            "a\u{0}@example.com",
            "o'brien'; DROP TABLE users; --@example.com",
        ] {
            assert!(normalize_address(hostile).is_err(), "{hostile:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(normalize_address(&long).is_err());
    }

    #[test]
    fn an_apostrophe_is_a_valid_local_part() {
        assert_eq!(
            normalize_address("o'brien@example.com").unwrap(),
            "o'brien@example.com"
        );
    }

    #[test]
    fn ordinary_addresses_are_valid() {
        for (raw, normalized) in [
            ("a+tag@example.com", "a+tag@example.com"),
            (
                "First.Last@Sub.Example.co.uk",
                "first.last@sub.example.co.uk",
            ),
            ("x_y-z=1@e-x.example", "x_y-z=1@e-x.example"),
            ("ada@B\u{fc}cher.example", "ada@xn--bcher-kva.example"),
            ("ada@xn--bcher-kva.example", "ada@xn--bcher-kva.example"),
        ] {
            assert_eq!(normalize_address(raw).as_deref(), Ok(normalized), "{raw:?}");
            // A link's address is normalized again at the callback: the same identity.
            assert_eq!(normalize_address(normalized).as_deref(), Ok(normalized));
        }
    }

    /// Each address a mail system could decode or route into another, with the reason given.
    #[test]
    fn addresses_that_could_become_another_are_refused_with_their_reason() {
        for (hostile, reason) in [
            (
                "=?utf-8?q?attacker=40evil.example=3e=00?=@victim-corp.example",
                "encoded word",
            ),
            (
                "=?utf-8?b?YXR0YWNrZXJAZXZpbC5leGFtcGxl?=@victim-corp.example",
                "encoded word",
            ),
            ("a@=?utf-8?q?victim-corp?=.example", "encoded word"),
            ("attacker%evil.example@victim-corp.example", "percent"),
            ("a@victim-corp%2eexample", "percent"),
            ("evil.example!attacker@victim-corp.example", "bang path"),
            (
                "attacker\u{FF20}evil.example@victim-corp.example",
                "non-ASCII local part",
            ),
            (
                "attacker\u{FE6B}evil.example@victim-corp.example",
                "non-ASCII local part",
            ),
            (
                "attacker\u{FF05}evil.example@victim-corp.example",
                "non-ASCII local part",
            ),
            (
                "attacker\u{FF01}evil@victim-corp.example",
                "non-ASCII local part",
            ),
            ("\u{212A}elvin@victim-corp.example", "non-ASCII local part"),
            ("jos\u{e9}@victim-corp.example", "non-ASCII local part"),
            (
                "victim@victim-corp.example\u{FF20}evil.example",
                "IDNA refuses",
            ),
            (
                "victim@victim-corp.example\u{FE6B}evil.example",
                "IDNA refuses",
            ),
            (
                "attacker\\@evil.example@victim-corp.example",
                "display-name character",
            ),
            (
                "\"attacker@evil.example\"@victim-corp.example",
                "display-name character",
            ),
            ("victim@[127.0.0.1]", "display-name character"),
            ("victim@127.0.0.1", "IP address"),
            ("victim@0x7f.1", "IP address"),
            ("victim@victim-corp.example.", "trailing dot"),
            ("victim@victim-corp.example\u{3002}", "trailing dot"),
            ("victim@victim-corp..example", "empty domain label"),
            ("victim@victim_corp.example", "letters, digits and hyphens"),
            ("victim@-victim.example", "hyphen"),
            ("victim@localhost", "not local@domain.tld"),
            ("|/bin/sh@victim-corp.example", "acts on"),
            ("`id`@victim-corp.example", "acts on"),
            ("$HOME@victim-corp.example", "acts on"),
            ("/var/mail/x@victim-corp.example", "acts on"),
            (".victim@victim-corp.example", "dot"),
            ("victim.@victim-corp.example", "dot"),
            ("vic..tim@victim-corp.example", "dot"),
        ] {
            let error = normalize_address(hostile).expect_err(hostile);
            assert!(
                error.to_string().contains(reason),
                "{hostile:?}: {error} (expected {reason:?})"
            );
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        let error = normalize_address(&long_local).unwrap_err();
        assert!(error.to_string().contains("64 bytes"), "{error}");
    }

    #[test]
    fn tokens_are_hashed_with_the_secret_as_next_auth_does() {
        // sha256("abc" + "def") = sha256("abcdef").
        assert_eq!(
            hash_token("abc", "def"),
            "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721"
        );
        let token = new_token();
        assert_eq!(token.len(), 64);
        assert_ne!(token, new_token());
    }

    #[test]
    fn without_a_server_a_debug_build_logs_and_a_release_build_refuses() {
        let none = |_: &str| None;
        assert!(matches!(
            Mailer::configure("email", None, None, none, true),
            Ok(Mailer {
                delivery: Delivery::Log,
                ..
            })
        ));
        assert!(Mailer::configure("email", None, None, none, false).is_err());
        let no_from =
            |name: &str| (name == "AUTH_EMAIL_SERVER").then(|| "smtp://127.0.0.1:2525".to_owned());
        let error = Mailer::configure("email", None, None, no_from, true).unwrap_err();
        assert!(error.to_string().contains("AUTH_EMAIL_FROM"), "{error}");
    }

    #[test]
    fn the_mail_timeout_is_whole_seconds_from_the_environment_or_the_builder() {
        let timeout_of = |value: &'static str, builder: Option<Duration>| {
            let env = move |name: &str| (name == "AUTH_EMAIL_TIMEOUT_S").then(|| value.to_owned());
            Mailer::configure("email", None, builder, env, true).map(|mailer| mailer.timeout)
        };
        assert_eq!(timeout_of("", None).unwrap(), DEFAULT_MAIL_TIMEOUT);
        assert_eq!(timeout_of(" 3 ", None).unwrap(), Duration::from_secs(3));
        // The builder's bound wins over the variable, even over a bad one.
        let builder = Some(Duration::from_millis(1500));
        assert_eq!(
            timeout_of("x", builder).unwrap(),
            Duration::from_millis(1500)
        );
        for bad in ["0", "-1", "1.5", "ten", "10s"] {
            let error = timeout_of(bad, None).unwrap_err();
            assert!(
                error.to_string().contains("AUTH_EMAIL_TIMEOUT_S"),
                "{error}"
            );
        }
        let error = timeout_of("", Some(Duration::ZERO)).unwrap_err();
        assert!(error.to_string().contains("email_timeout"), "{error}");
    }

    /// A hook that never returns.
    fn never(_: VerificationRequest) -> SendFuture {
        Box::pin(std::future::pending())
    }

    fn a_request() -> VerificationRequest {
        VerificationRequest {
            identifier: "ada@example.com".into(),
            url: "http://127.0.0.1:3000/api/auth/callback/email?token=t".into(),
            expires: 0,
            provider: "email",
            host: "127.0.0.1:3000".into(),
        }
    }

    #[tokio::test]
    async fn a_hook_that_never_returns_is_abandoned_at_the_bound() {
        let bound = Duration::from_millis(200);
        let hook: Arc<dyn SendVerificationRequest> = Arc::new(never);
        let mailer =
            Mailer::configure("email", Some(hook), Some(bound), |_: &str| None, true).unwrap();
        let started = std::time::Instant::now();
        let error = mailer.send(a_request()).await.unwrap_err();
        assert!(
            matches!(error, MailError::TimedOut(b) if b == bound),
            "{error}"
        );
        assert!(started.elapsed() >= bound);
    }

    #[tokio::test]
    async fn a_silent_smtp_server_is_abandoned_at_the_bound() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let server = format!("smtp://{}", listener.local_addr().unwrap());
        let env = move |name: &str| match name {
            "AUTH_EMAIL_SERVER" => Some(server.clone()),
            "AUTH_EMAIL_FROM" => Some("Shop <no-reply@shop.example>".to_owned()),
            _ => None,
        };
        let bound = Duration::from_millis(300);
        let mailer = Mailer::configure("email", None, Some(bound), env, false).unwrap();
        // The kernel accepts the connection; nobody ever greets.
        let error = mailer.send(a_request()).await.unwrap_err();
        assert!(matches!(error, MailError::TimedOut(_)), "{error}");
        drop(listener);
    }

    #[test]
    fn the_mail_carries_the_link_and_no_injected_header() {
        let request = VerificationRequest {
            identifier: "ada@example.com".into(),
            url: "http://127.0.0.1:3000/api/auth/callback/email?token=t&email=ada%40example.com"
                .into(),
            expires: 0,
            provider: "email",
            host: "127.0.0.1:3000".into(),
        };
        let from: Mailbox = "Shop <no-reply@shop.example>".parse().unwrap();
        let formatted = String::from_utf8(message(from, &request).unwrap().formatted()).unwrap();
        assert!(formatted.contains("To: ada@example.com"), "{formatted}");
        assert!(formatted.contains("Subject: Sign in to 127.0.0.1:3000"));
        assert!(!formatted.contains("Bcc"));
    }
}
