//! The CAPTCHA in front of the limits: in mode `always` an unknown browser solves one on every
//! guarded attempt; in both modes a solved one lifts a budget that strangers emptied (an
//! identifier's, a mailbox's, the guests' global one), so an exhausted budget asks for a
//! CAPTCHA instead of answering 429 to everyone.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[cfg(feature = "captcha")]
use crate::captcha::{Captcha, CaptchaMode, CaptchaRefusal};

/// What a guarded request says for itself.
#[derive(Debug, Default)]
#[cfg_attr(not(feature = "captcha"), allow(dead_code))]
pub(crate) struct Proof<'a> {
    /// Its CAPTCHA token (`x-captcha-response`, or the `captchaToken` field).
    pub token: Option<&'a str>,
    /// The client's address, sent to the provider.
    pub ip: Option<IpAddr>,
    /// Whether the token passed already: a provider answers a token once.
    passed: AtomicBool,
}

impl<'a> Proof<'a> {
    pub fn new(token: Option<&'a str>, ip: Option<IpAddr>) -> Self {
        Proof {
            token,
            ip,
            passed: AtomicBool::new(false),
        }
    }
}

/// Why an attempt was refused.
#[derive(Debug)]
pub(crate) enum Refused {
    /// A budget is empty: retry after this long.
    Limited(Duration),
    /// The CAPTCHA was missing, wrong or could not be checked.
    #[cfg(feature = "captcha")]
    Captcha(CaptchaRefusal),
}

/// The configured CAPTCHA, if any.
#[derive(Default)]
pub(crate) struct Gate {
    #[cfg(feature = "captcha")]
    captcha: Option<Captcha>,
}

impl Gate {
    /// A gate that asks `captcha`.
    #[cfg(feature = "captcha")]
    pub fn new(captcha: Option<Captcha>) -> Self {
        Gate { captcha }
    }

    /// Whether a solved CAPTCHA lifts an exhausted budget (one is configured).
    pub fn lifts_limits(&self) -> bool {
        #[cfg(feature = "captcha")]
        return self.captcha.is_some();
        #[cfg(not(feature = "captcha"))]
        false
    }

    /// In mode `always`, the request's CAPTCHA must pass; otherwise nothing is asked.
    pub async fn always(&self, proof: &Proof<'_>) -> Result<(), Refused> {
        #[cfg(feature = "captcha")]
        if let Some(captcha) = &self.captcha
            && captcha.mode() == CaptchaMode::Always
        {
            return self.check(proof).await;
        }
        let _ = proof;
        Ok(())
    }

    /// The request's CAPTCHA must pass (once per request: a token is answered once).
    pub async fn check(&self, proof: &Proof<'_>) -> Result<(), Refused> {
        if proof.passed.load(Ordering::Relaxed) {
            return Ok(());
        }
        #[cfg(feature = "captcha")]
        if let Some(captcha) = &self.captcha {
            captcha
                .verify(proof.token, proof.ip, None)
                .await
                .map_err(Refused::Captcha)?;
        }
        proof.passed.store(true, Ordering::Relaxed);
        Ok(())
    }
}

impl From<Refused> for crate::refusal::Refusal {
    /// The answer to an attempt the limits refused: 429 with `Retry-After`, or the CAPTCHA's
    /// code (400 `CaptchaRequired`, 403 `CaptchaInvalid`, 503 `CaptchaUnavailable`).
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Limited(retry_after) => crate::refusal::Refusal::rate_limited(retry_after),
            #[cfg(feature = "captcha")]
            Refused::Captcha(refusal) => crate::refusal::Refusal {
                code: refusal.code(),
                status: refusal.status(),
                retry_after: None,
            },
        }
    }
}

#[cfg(all(test, feature = "captcha"))]
mod tests {
    use super::*;

    /// The engine's handlers run on a multi-threaded runtime: every check is `Send`.
    #[allow(dead_code)]
    fn checks_are_send(gate: &Gate, proof: &Proof<'_>) {
        fn is_send<T: Send>(_: T) {}
        is_send(gate.check(proof));
        is_send(gate.always(proof));
    }
}
