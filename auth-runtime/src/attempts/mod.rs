//! Password attempt limits: a Credentials sign-in is charged to the client's address and to the
//! identifier it submitted (the user name, the e-mail address) before `authorize` runs, and
//! given back when it was right. A password form cannot be tried faster than the limits allow,
//! from one address or from many against one account.
//!
//! Limits must not become a way to lock the owner out, so a browser that signed in for an
//! identifier carries a device cookie ([`device`]): its attempts on that identifier are counted
//! on its own bucket and never meet the identifier's, which strangers share. A refusal by the
//! identifier's bucket still costs the client its attempt, so polling a locked identifier is
//! not free.
//!
//! The buckets live in a PostgreSQL guest store's database when there is one (every server
//! shares them), else in this process (an SQLite store serves one process); while the shared
//! buckets cannot be reached, this process's count applies, so an outage never lifts the limits.

pub(crate) mod device;
pub(crate) mod gate;

pub(crate) use gate::{Proof, Refused};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};

use crate::body::RequestBody;
use crate::cookies::RequestCookies;
use crate::definition::{AttemptLimitSettings, ProviderInfo};
use crate::log_budget::LogBudget;
use crate::rate_limit::{
    ClientKey, LimitsError, MemoryBuckets, Rate, RateBuckets, Verdict, read_limit_variables,
};

/// How many Credentials sign-ins are allowed before `429 RateLimited`. Right ones are given
/// back, so only wrong ones count. A rate of 0 turns that limit off.
///
/// The defaults: 10 attempts at once per client address (an IPv4 address, an IPv6 /64), then one
/// every 2 minutes (30 an hour); 10 at once per identifier, then 3 an hour, so strangers make at
/// most 82 guesses a day at one account (NIST SP 800-63B asks for fewer than 100). A browser
/// that signed in for the identifier before (its device cookie) is counted at the per-client
/// rate on its own, so strangers exhausting the identifier's budget never lock its owner out.
///
/// ```
/// use auth_runtime::AttemptLimits;
///
/// let strict = AttemptLimits { per_client_burst: 5, ..AttemptLimits::default() };
/// assert_eq!(strict.per_client_per_hour, 30);
/// assert!(AttemptLimits::off().is_off());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptLimits {
    /// Sustained attempts per hour per client (`AUTH_CREDENTIALS_LIMIT_PER_HOUR`).
    pub per_client_per_hour: u32,
    /// Attempts a client may make at once (`AUTH_CREDENTIALS_LIMIT_BURST`).
    pub per_client_burst: u32,
    /// Sustained attempts per hour on one identifier (`AUTH_CREDENTIALS_IDENTIFIER_PER_HOUR`).
    pub per_identifier_per_hour: u32,
    /// Attempts on one identifier at once (`AUTH_CREDENTIALS_IDENTIFIER_BURST`).
    pub per_identifier_burst: u32,
}

impl Default for AttemptLimits {
    fn default() -> Self {
        AttemptLimits {
            per_client_per_hour: 30,
            per_client_burst: 10,
            per_identifier_per_hour: 3,
            per_identifier_burst: 10,
        }
    }
}

impl AttemptLimits {
    /// No limits (tests, a back office behind its own protection).
    pub fn off() -> Self {
        AttemptLimits {
            per_client_per_hour: 0,
            per_client_burst: 0,
            per_identifier_per_hour: 0,
            per_identifier_burst: 0,
        }
    }

    /// Whether both limits are off.
    pub fn is_off(&self) -> bool {
        self.client_rate().is_none() && self.identifier_rate().is_none()
    }

    /// The variables that override the limits, in field order.
    pub const VARIABLES: [&'static str; 4] = [
        "AUTH_CREDENTIALS_LIMIT_PER_HOUR",
        "AUTH_CREDENTIALS_LIMIT_BURST",
        "AUTH_CREDENTIALS_IDENTIFIER_PER_HOUR",
        "AUTH_CREDENTIALS_IDENTIFIER_BURST",
    ];

    /// These limits with the values written in `next_auth!` in place, then the
    /// `AUTH_CREDENTIALS_*` variables over them (a number, or `off`).
    pub fn configured(mut self, written: &AttemptLimitSettings) -> Result<Self, LimitsError> {
        for (value, field) in [
            (written.per_client_per_hour, &mut self.per_client_per_hour),
            (written.per_client_burst, &mut self.per_client_burst),
            (
                written.per_identifier_per_hour,
                &mut self.per_identifier_per_hour,
            ),
            (written.per_identifier_burst, &mut self.per_identifier_burst),
        ] {
            if let Some(value) = value {
                *field = value;
            }
        }
        self.with_vars(|name| std::env::var(name).ok())
    }

    fn with_vars(mut self, var: impl Fn(&str) -> Option<String>) -> Result<Self, LimitsError> {
        let [a, b, c, d] = Self::VARIABLES;
        read_limit_variables(
            [
                (a, &mut self.per_client_per_hour),
                (b, &mut self.per_client_burst),
                (c, &mut self.per_identifier_per_hour),
                (d, &mut self.per_identifier_burst),
            ],
            var,
        )?;
        Ok(self)
    }

    fn client_rate(&self) -> Option<Rate> {
        Rate::new(self.per_client_per_hour, self.per_client_burst)
    }

    fn identifier_rate(&self) -> Option<Rate> {
        Rate::new(self.per_identifier_per_hour, self.per_identifier_burst)
    }
}

/// The engine's attempt limiter.
pub(crate) struct Attempts {
    limits: AttemptLimits,
    devices: device::DeviceCookies,
    /// The CAPTCHA that lifts an exhausted budget (or guards every attempt), if configured.
    gate: gate::Gate,
    /// Buckets every server shares (the guest store's database), if any.
    shared: Option<Arc<dyn RateBuckets>>,
    /// This process's buckets: the only ones without a shared store, the fallback while it
    /// cannot be reached.
    local: MemoryBuckets,
    /// Whether "no client address" was said (once per process is enough).
    said_no_client: AtomicBool,
    fallback_log: LogBudget,
}

/// One bucket an attempt was charged to.
struct Charge {
    bucket: String,
    rate: Rate,
    shared: bool,
}

/// An attempt that was allowed: give it back if the credentials were right.
#[must_use = "a right sign-in gives its attempt back"]
pub(crate) struct Charged<'a> {
    attempts: &'a Attempts,
    charges: Vec<Charge>,
    /// The identifier's bucket, which a success remembers in the browser's device cookie.
    subject: Option<String>,
    /// The browser's entry for it, if it holds one.
    known: Option<device::Known>,
}

/// A bucket to charge: its key and its rate.
pub(crate) type Bucket = (String, Rate);

impl Attempts {
    pub fn new(
        limits: AttemptLimits,
        shared: Option<Arc<dyn RateBuckets>>,
        devices: device::DeviceCookies,
        gate: gate::Gate,
    ) -> Self {
        Attempts {
            limits,
            devices,
            gate,
            shared,
            local: MemoryBuckets::default(),
            said_no_client: AtomicBool::new(false),
            fallback_log: LogBudget::new(1, 5),
        }
    }

    /// Charges one attempt at `provider` to the client and to the identifier in `body` (or to
    /// the browser's device, if it signed in for that identifier before), or says how long to
    /// wait. Providers without credential fields (a hand-written guest provider) guess nothing
    /// and are not charged (in CAPTCHA mode `always` they pass it).
    pub async fn charge(
        &self,
        provider: &ProviderInfo,
        client: Option<&ClientKey>,
        body: &RequestBody,
        cookies: &RequestCookies<'_>,
        proof: &Proof<'_>,
    ) -> Result<Charged<'_>, Refused> {
        if provider.credentials.is_empty() {
            // Nothing to guess, but a hand-written guest maker creates guests: in mode `always`
            // its visitors pass the CAPTCHA as the Anonymous provider's do.
            self.gate.always(proof).await?;
            return Ok(Charged {
                attempts: self,
                charges: Vec::new(),
                subject: None,
                known: None,
            });
        }
        let client_bucket = self.limits.client_rate().and_then(|rate| match client {
            Some(client) => Some((format!("credentials:{client}"), rate)),
            None => {
                if !self.said_no_client.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        "no client address for a Credentials sign-in: the per-client attempt \
                         limit does not apply; serve the app with auth_runtime::axum::serve_app \
                         or set AuthBuilder::trusted_proxy"
                    );
                }
                None
            }
        });
        let subject =
            identifier(provider, body).map(|id| format!("credentials:{}:{id}", provider.id));
        let device_rate = self.limits.client_rate().or(self.limits.identifier_rate());
        self.charge_on(
            subject,
            self.limits.identifier_rate(),
            client_bucket,
            device_rate,
            cookies,
            proof,
        )
        .await
    }

    /// Charges one attempt on `subject` (an identifier's bucket key, limited by `subject_rate`)
    /// by `client` (its bucket), or says how long to wait.
    ///
    /// A browser whose device cookie says it signed in for `subject` before is charged on its
    /// device's bucket alone (at `device_rate`): strangers emptying the subject's bucket do not
    /// stop it. Any other browser is charged to its client bucket, then to the subject's; when
    /// the subject's refuses, the client's charge is kept (a refused attempt still costs).
    ///
    /// Where a CAPTCHA is configured, an unknown browser passes it on every attempt (mode
    /// `always`), and a solved one lifts the subject's exhausted budget (both modes): strangers
    /// who empty it turn the owner's sign-in into a CAPTCHA, not a lock-out.
    /// (The Email provider's mail limits count here too, with the address as the subject.)
    pub async fn charge_on(
        &self,
        subject: Option<String>,
        subject_rate: Option<Rate>,
        client: Option<Bucket>,
        device_rate: Option<Rate>,
        cookies: &RequestCookies<'_>,
        proof: &Proof<'_>,
    ) -> Result<Charged<'_>, Refused> {
        let mut charged = Charged {
            attempts: self,
            charges: Vec::new(),
            subject: None,
            known: None,
        };
        let known = subject.as_deref().and_then(|subject| {
            self.devices
                .device_for(cookies, subject, crate::clock::now())
        });
        let subject_bucket = subject_rate.zip(subject.clone()).map(|(rate, s)| (s, rate));
        charged.subject = subject;
        if let Some(known) = known {
            let bucket = format!("device:{}", known.device);
            charged.known = Some(known);
            if let Some(rate) = device_rate {
                self.charge_one(&mut charged, (bucket, rate)).await?;
            }
            return Ok(charged);
        }
        if let Some(client) = client {
            self.charge_one(&mut charged, client).await?;
        }
        // What was taken before a refusal stays taken: the refused attempt is counted.
        self.gate.always(proof).await?;
        if let Some(bucket) = subject_bucket
            && let Err(limited) = self.charge_one(&mut charged, bucket).await
        {
            self.lift(proof, limited).await?;
        }
        Ok(charged)
    }

    /// Charges one bucket, or says how long to wait.
    async fn charge_one(
        &self,
        charged: &mut Charged<'_>,
        (bucket, rate): Bucket,
    ) -> Result<(), Refused> {
        let (verdict, shared) = self.take(&bucket, rate).await;
        match verdict {
            Verdict::Allowed => {
                charged.charges.push(Charge {
                    bucket,
                    rate,
                    shared,
                });
                Ok(())
            }
            Verdict::Limited { retry_after } => Err(Refused::Limited(retry_after)),
        }
    }

    /// The CAPTCHA of a request that a budget outside these buckets refused (the guests'
    /// global one): `Ok` when a solved CAPTCHA lifts it, else why not.
    #[cfg_attr(not(feature = "guests"), allow(dead_code))]
    pub async fn lift(&self, proof: &Proof<'_>, limited: Refused) -> Result<(), Refused> {
        if !self.gate.lifts_limits() {
            return Err(limited);
        }
        self.gate.check(proof).await
    }

    /// The CAPTCHA of a request it guards on every attempt (mode `always`): `Ok` when there is
    /// none or it was solved.
    #[cfg_attr(not(feature = "guests"), allow(dead_code))]
    pub async fn guard(&self, proof: &Proof<'_>) -> Result<(), Refused> {
        self.gate.always(proof).await
    }

    /// The `Set-Cookie` line that makes this browser known for `subject` (it has just proved it
    /// can sign in as it), or `None` when its entry was written less than a day ago.
    #[cfg_attr(not(feature = "email"), allow(dead_code))]
    pub fn remember(&self, cookies: &RequestCookies<'_>, subject: &str) -> Option<String> {
        let now = crate::clock::now();
        let known = self.devices.device_for(cookies, subject, now);
        self.devices.remember(cookies, subject, now, known.as_ref())
    }

    /// Takes from the shared bucket, or from this process's while the shared one is out of
    /// reach. Returns the verdict and whether the shared bucket gave it.
    async fn take(&self, bucket: &str, rate: Rate) -> (Verdict, bool) {
        if let Some(shared) = &self.shared {
            match shared.take(bucket, rate).await {
                Ok(verdict) => return (verdict, true),
                Err(error) => {
                    if let crate::log_budget::Verdict::Write { dropped } = self.fallback_log.take()
                    {
                        tracing::warn!(
                            %error, dropped_since_last = dropped,
                            "sign-in attempt limits cannot reach the store; counting in this process"
                        );
                    }
                }
            }
        }
        let verdict = self.local.take(bucket, rate).await;
        (verdict.unwrap_or(Verdict::Allowed), false)
    }
}

impl Charged<'_> {
    /// The credentials were right: gives the attempt back and answers the `Set-Cookie` line
    /// that makes this browser known for the identifier, if there was one.
    pub async fn succeeded(mut self, cookies: &RequestCookies<'_>) -> Option<String> {
        let (subject, known) = (self.subject.take(), self.known.take());
        let devices = &self.attempts.devices;
        self.give_back().await;
        devices.remember(cookies, &subject?, crate::clock::now(), known.as_ref())
    }

    /// Gives the attempt back. A bucket that cannot be reached keeps the charge (it only
    /// counts once more against the limit).
    pub async fn give_back(self) {
        for charge in self.charges {
            let buckets: &dyn RateBuckets = match (&self.attempts.shared, charge.shared) {
                (Some(shared), true) => shared.as_ref(),
                _ => &self.attempts.local,
            };
            if let Err(error) = buckets.give_back(&charge.bucket, charge.rate).await {
                tracing::debug!(%error, "could not give a sign-in attempt back");
            }
        }
    }
}

/// The bucket key of the identifier a Credentials form submitted: its first field that is not a
/// password, trimmed and lower-cased, hashed so that the store holds no user names.
fn identifier(provider: &ProviderInfo, body: &RequestBody) -> Option<String> {
    let field = provider
        .credentials
        .iter()
        .find(|field| !field.input_type.eq_ignore_ascii_case("password"))?;
    let value = body.get(field.name)?.trim().to_lowercase();
    Some(crate::csrf::hex(&Sha256::digest(value.as_bytes())[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::{CredentialField, ProviderKind};
    use std::time::Duration;

    const FIELDS: &[CredentialField] = &[
        CredentialField {
            name: "password",
            label: "Password",
            input_type: "password",
            placeholder: None,
        },
        CredentialField {
            name: "username",
            label: "Username",
            input_type: "text",
            placeholder: None,
        },
    ];

    const PASSWORD: ProviderInfo = ProviderInfo {
        id: "password",
        name: "Password",
        kind: ProviderKind::Credentials,
        credentials: FIELDS,
        oauth: None,
        optional: false,
    };

    fn form(fields: &[(&str, &str)]) -> RequestBody {
        let encoded: String = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencoding(v)))
            .collect::<Vec<_>>()
            .join("&");
        RequestBody::from_form(encoded.as_bytes()).unwrap()
    }

    fn urlencoding(value: &str) -> String {
        value
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    #[test]
    fn the_identifier_is_the_first_field_that_is_not_a_password_normalised_and_hashed() {
        let a = identifier(
            &PASSWORD,
            &form(&[("username", " Alice "), ("password", "x")]),
        );
        let b = identifier(
            &PASSWORD,
            &form(&[("username", "alice"), ("password", "y")]),
        );
        assert_eq!(a, b);
        let a = a.unwrap();
        assert_eq!(a.len(), 32);
        assert!(!a.contains("alice"));
        // Metacharacters and control characters are only hashed.
        let odd = identifier(&PASSWORD, &form(&[("username", "a'; DROP TABLE x;--\r\n")]));
        assert!(odd.unwrap().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(identifier(&PASSWORD, &form(&[("password", "x")])), None);
    }

    fn attempts(limits: AttemptLimits) -> Attempts {
        let devices = device::DeviceCookies::new(
            &["attempts-secret-0123456789abcdef"],
            "next-auth.device".to_owned(),
            false,
        );
        Attempts::new(limits, None, devices, gate::Gate::default())
    }

    fn no_cookies() -> RequestCookies<'static> {
        RequestCookies::default()
    }

    #[tokio::test]
    async fn wrong_attempts_count_right_ones_are_given_back() {
        let limits = AttemptLimits {
            per_client_burst: 3,
            per_identifier_burst: 5,
            ..AttemptLimits::default()
        };
        let attempts = attempts(limits);
        let none = no_cookies();
        let here = ClientKey::from_ip("203.0.113.1".parse().unwrap());
        let there = ClientKey::from_ip("198.51.100.2".parse().unwrap());
        let elsewhere = ClientKey::from_ip("192.0.2.3".parse().unwrap());
        let alice = form(&[("username", "alice"), ("password", "guess")]);
        for _ in 0..3 {
            drop(
                attempts
                    .charge(&PASSWORD, Some(&here), &alice, &none, &Proof::default())
                    .await
                    .unwrap(),
            );
        }
        let wait = match attempts
            .charge(&PASSWORD, Some(&here), &alice, &none, &Proof::default())
            .await
        {
            Err(Refused::Limited(wait)) => wait,
            _ => panic!("a fourth attempt from one client is refused"),
        };
        assert!(wait > Duration::from_secs(60), "{wait:?}");
        // Right from elsewhere, again and again: given back each time.
        for _ in 0..10 {
            let charged = attempts
                .charge(&PASSWORD, Some(&there), &alice, &none, &Proof::default())
                .await;
            charged.unwrap().give_back().await;
        }
        // Two more wrong ones from elsewhere reach the identifier's burst of 5.
        for _ in 0..2 {
            drop(
                attempts
                    .charge(&PASSWORD, Some(&there), &alice, &none, &Proof::default())
                    .await
                    .unwrap(),
            );
        }
        assert!(
            attempts
                .charge(&PASSWORD, Some(&there), &alice, &none, &Proof::default())
                .await
                .is_err()
        );
        // That refusal cost `there` its third attempt: polling a locked identifier is not free.
        let bob = form(&[("username", "bob"), ("password", "guess")]);
        assert!(
            attempts
                .charge(&PASSWORD, Some(&there), &bob, &none, &Proof::default())
                .await
                .is_err()
        );
        // Another user is not locked out by alice's identifier.
        assert!(
            attempts
                .charge(&PASSWORD, Some(&elsewhere), &bob, &none, &Proof::default())
                .await
                .is_ok()
        );
    }

    #[tokio::test]
    async fn a_browser_that_signed_in_before_is_not_locked_out_by_strangers() {
        let limits = AttemptLimits {
            per_client_burst: 3,
            per_identifier_burst: 2,
            ..AttemptLimits::default()
        };
        let attempts = attempts(limits);
        let none = no_cookies();
        let alice = form(&[("username", "alice"), ("password", "right")]);
        let owner = ClientKey::from_ip("203.0.113.1".parse().unwrap());
        let charged = attempts
            .charge(&PASSWORD, Some(&owner), &alice, &none, &Proof::default())
            .await;
        let line = charged
            .unwrap()
            .succeeded(&none)
            .await
            .expect("a device cookie");
        let header = line.split(';').next().unwrap().to_owned();
        let device = RequestCookies::parse([header.as_str()]).unwrap();
        // Strangers from many addresses empty the identifier's bucket.
        for last in 0..50u8 {
            let stranger = ClientKey::from_ip(std::net::IpAddr::from([198, 51, 100, last]));
            let _ = attempts
                .charge(&PASSWORD, Some(&stranger), &alice, &none, &Proof::default())
                .await;
        }
        let fresh = ClientKey::from_ip("192.0.2.77".parse().unwrap());
        assert!(
            attempts
                .charge(&PASSWORD, Some(&fresh), &alice, &none, &Proof::default())
                .await
                .is_err()
        );
        // The owner's browser still signs in, from any address, and its count is its own.
        for _ in 0..5 {
            let charged = attempts
                .charge(&PASSWORD, Some(&fresh), &alice, &device, &Proof::default())
                .await;
            charged.unwrap().succeeded(&device).await;
        }
        for _ in 0..3 {
            drop(
                attempts
                    .charge(&PASSWORD, Some(&fresh), &alice, &device, &Proof::default())
                    .await
                    .unwrap(),
            );
        }
        assert!(
            attempts
                .charge(&PASSWORD, Some(&fresh), &alice, &device, &Proof::default())
                .await
                .is_err(),
            "a device guessing wrong meets its own limit"
        );
        // The cookie is for alice only.
        let bob = form(&[("username", "bob"), ("password", "guess")]);
        let other = ClientKey::from_ip("192.0.2.78".parse().unwrap());
        assert!(
            attempts
                .charge(&PASSWORD, Some(&other), &bob, &device, &Proof::default())
                .await
                .is_ok()
        );
    }

    #[test]
    fn the_environment_overrides_what_the_macro_wrote() {
        let written = AttemptLimitSettings {
            per_client_burst: Some(3),
            ..AttemptLimitSettings::default()
        };
        let vars = |name: &str| match name {
            "AUTH_CREDENTIALS_IDENTIFIER_PER_HOUR" => Some("off".to_owned()),
            _ => None,
        };
        let limits = AttemptLimits {
            per_client_burst: written.per_client_burst.unwrap(),
            ..AttemptLimits::default()
        };
        let limits = limits.with_vars(vars).unwrap();
        assert_eq!(limits.per_client_burst, 3);
        assert!(limits.identifier_rate().is_none());
        let bad = AttemptLimits::default().with_vars(|_| Some("many".to_owned()));
        assert!(
            bad.unwrap_err()
                .to_string()
                .contains("AUTH_CREDENTIALS_LIMIT_PER_HOUR")
        );
    }
}
