//! Password attempt limits: a Credentials sign-in is charged to the client's address and to the
//! identifier it submitted (the user name, the e-mail address) before `authorize` runs, and
//! given back when it was right. A password form cannot be tried faster than the limits allow,
//! from one address or from many against one account.
//!
//! The buckets live in a PostgreSQL guest store's database when there is one (every server
//! shares them), else in this process (an SQLite store serves one process); while the shared
//! buckets cannot be reached, this process's count applies, so an outage never lifts the limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::body::RequestBody;
use crate::definition::{AttemptLimitSettings, ProviderInfo};
use crate::log_budget::LogBudget;
use crate::rate_limit::{
    ClientKey, LimitsError, MemoryBuckets, Rate, RateBuckets, Verdict, read_limit_variables,
};

/// How many Credentials sign-ins are allowed before `429 RateLimited`. Right ones are given
/// back, so only wrong ones count. A rate of 0 turns that limit off.
///
/// The defaults: 10 attempts at once per client address (an IPv4 address, an IPv6 /64), then one
/// every 2 minutes (30 an hour); 20 at once per identifier, then one a minute. An attacker
/// spreading guesses over many addresses meets the identifier's limit; the real user, whose
/// right password is given back, keeps signing in from a fresh address.
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
            per_identifier_per_hour: 60,
            per_identifier_burst: 20,
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
}

impl Attempts {
    pub fn new(limits: AttemptLimits, shared: Option<Arc<dyn RateBuckets>>) -> Self {
        Attempts {
            limits,
            shared,
            local: MemoryBuckets::default(),
            said_no_client: AtomicBool::new(false),
            fallback_log: LogBudget::new(1, 5),
        }
    }

    /// Charges one attempt at `provider` to the client and to the identifier in `body`, or says
    /// how long to wait. Providers without credential fields (a hand-written guest provider)
    /// guess nothing and are not charged.
    pub async fn charge(
        &self,
        provider: &ProviderInfo,
        client: Option<&ClientKey>,
        body: &RequestBody,
    ) -> Result<Charged<'_>, Duration> {
        if provider.credentials.is_empty() {
            return Ok(Charged {
                attempts: self,
                charges: Vec::new(),
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
        let identifier_bucket = self
            .limits
            .identifier_rate()
            .zip(identifier(provider, body))
            .map(|(rate, id)| (format!("credentials:{}:{id}", provider.id), rate));
        self.charge_buckets(client_bucket.into_iter().chain(identifier_bucket))
            .await
    }

    /// Charges one use to each of `buckets`, all or none: the first one over its limit gives
    /// the others back and says how long to wait. (The Email provider's mail limits count
    /// here too.)
    pub async fn charge_buckets(
        &self,
        buckets: impl IntoIterator<Item = (String, Rate)>,
    ) -> Result<Charged<'_>, Duration> {
        let mut charged = Charged {
            attempts: self,
            charges: Vec::new(),
        };
        for (bucket, rate) in buckets {
            let (verdict, shared) = self.take(&bucket, rate).await;
            match verdict {
                Verdict::Allowed => charged.charges.push(Charge {
                    bucket,
                    rate,
                    shared,
                }),
                Verdict::Limited { retry_after } => {
                    charged.give_back().await;
                    return Err(retry_after);
                }
            }
        }
        Ok(charged)
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
    /// Gives the attempt back: the credentials were right. A bucket that cannot be reached
    /// keeps the charge (it only counts once more against the limit).
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
    let digest = Sha256::digest(value.as_bytes());
    Some(digest[..16].iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::{CredentialField, ProviderKind};

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

    #[tokio::test]
    async fn wrong_attempts_count_right_ones_are_given_back() {
        let limits = AttemptLimits {
            per_client_burst: 3,
            per_identifier_burst: 5,
            ..AttemptLimits::default()
        };
        let attempts = Attempts::new(limits, None);
        let here = ClientKey::from_ip("203.0.113.1".parse().unwrap());
        let there = ClientKey::from_ip("198.51.100.2".parse().unwrap());
        let alice = form(&[("username", "alice"), ("password", "guess")]);
        for _ in 0..3 {
            drop(
                attempts
                    .charge(&PASSWORD, Some(&here), &alice)
                    .await
                    .unwrap(),
            );
        }
        let wait = match attempts.charge(&PASSWORD, Some(&here), &alice).await {
            Err(wait) => wait,
            Ok(_) => panic!("a fourth attempt from one client is refused"),
        };
        assert!(wait > Duration::from_secs(60), "{wait:?}");
        // Right from elsewhere, again and again: given back each time.
        for _ in 0..10 {
            let charged = attempts.charge(&PASSWORD, Some(&there), &alice).await;
            charged.unwrap().give_back().await;
        }
        // Two more wrong ones from elsewhere reach the identifier's burst of 5.
        for _ in 0..2 {
            drop(
                attempts
                    .charge(&PASSWORD, Some(&there), &alice)
                    .await
                    .unwrap(),
            );
        }
        assert!(
            attempts
                .charge(&PASSWORD, Some(&there), &alice)
                .await
                .is_err()
        );
        // Another user from that address is not locked out by alice's identifier.
        let bob = form(&[("username", "bob"), ("password", "guess")]);
        assert!(attempts.charge(&PASSWORD, Some(&there), &bob).await.is_ok());
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
