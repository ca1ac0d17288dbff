//! A `siteverify` answer, and what it says of the token.

use serde::Deserialize;

use super::{CaptchaProvider, CaptchaRefusal, UnavailableReason};

/// The fields of an answer this crate reads. The rest (`challenge_ts`, `hostname`, Turnstile's
/// `cdata` and `metadata`, hCaptcha's `credit` and `score_reason`) are left alone.
#[derive(Debug, Deserialize)]
pub(super) struct Answer {
    success: bool,
    #[serde(rename = "error-codes", default)]
    error_codes: Option<Vec<String>>,
    /// reCAPTCHA v3: 0.0 (a bot) to 1.0 (a person). hCaptcha's enterprise score is a risk
    /// (the other way round) and is not read as one.
    #[serde(default)]
    score: Option<f64>,
    /// reCAPTCHA v3 and Turnstile: the action the page gave the widget.
    #[serde(default)]
    action: Option<String>,
}

/// At most this many error codes, each this long, are kept from an answer (they are logged).
const MAX_CODES: usize = 8;
const MAX_CODE_LEN: usize = 64;

/// Codes saying the provider refused this server's secret, not the client's token.
const SECRET_CODES: [&str; 3] = [
    "missing-input-secret",
    "invalid-input-secret",
    // hCaptcha: the site key the token was made with belongs to another account.
    "sitekey-secret-mismatch",
];

/// Turnstile's "the check failed inside; it can be retried".
const PROVIDER_FAILED: &str = "internal-error";

impl Answer {
    /// Parses the body of a 2xx answer.
    pub fn parse(body: &[u8]) -> Result<Answer, UnavailableReason> {
        let bad = |error: serde_json::Error| {
            UnavailableReason::BadAnswer(match error.line() {
                0 => what_failed(&error).to_owned(),
                line => format!("{} (line {line})", what_failed(&error)),
            })
        };
        // Through a value: serde would read a struct from an array too (`[true]` is a success).
        match serde_json::from_slice(body).map_err(bad)? {
            object @ serde_json::Value::Object(_) => serde_json::from_value(object).map_err(bad),
            _ => Err(UnavailableReason::BadAnswer("not a JSON object".to_owned())),
        }
    }

    /// What the answer says of a token `provider` checked, held to `min_score` and
    /// `expected_action`.
    pub fn judge(
        self,
        provider: CaptchaProvider,
        min_score: f64,
        expected_action: Option<&str>,
    ) -> Result<(), CaptchaRefusal> {
        let codes: Vec<String> = self
            .error_codes
            .unwrap_or_default()
            .iter()
            .take(MAX_CODES)
            .map(|code| printable(code, MAX_CODE_LEN))
            .collect();
        if !self.success {
            let unavailable = CaptchaRefusal::Unavailable;
            return Err(
                if codes.iter().any(|c| SECRET_CODES.contains(&c.as_str())) {
                    unavailable(UnavailableReason::SecretRefused { codes })
                } else if codes.iter().any(|c| c == PROVIDER_FAILED) {
                    unavailable(UnavailableReason::ProviderFailed { codes })
                } else {
                    CaptchaRefusal::Invalid { codes }
                },
            );
        }
        if provider.has_score() {
            let score = self
                .score
                .ok_or(CaptchaRefusal::Unavailable(UnavailableReason::NoScore))?;
            if score < min_score {
                return Err(CaptchaRefusal::LowScore {
                    score,
                    min: min_score,
                });
            }
        }
        if let Some(expected) = expected_action.filter(|_| provider.reports_action())
            && self.action.as_deref() != Some(expected)
        {
            return Err(CaptchaRefusal::WrongAction {
                expected: expected.to_owned(),
                actual: self.action.map(|a| printable(&a, MAX_CODE_LEN)),
            });
        }
        Ok(())
    }
}

/// `text` without control characters, at most `max` characters: what a provider (or a page
/// choosing its own action) says is logged.
fn printable(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// The kind of parse failure, without quoting the body.
fn what_failed(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "unreadable",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "JSON without a boolean `success`",
        serde_json::error::Category::Eof => "truncated JSON",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaptchaProvider::{HCaptcha, ReCaptchaV3, Turnstile};

    fn judge(
        provider: CaptchaProvider,
        body: &str,
        expected_action: Option<&str>,
    ) -> Result<(), CaptchaRefusal> {
        Answer::parse(body.as_bytes())
            .map_err(CaptchaRefusal::Unavailable)?
            .judge(provider, 0.5, expected_action)
    }

    #[test]
    fn success_is_a_pass_whatever_else_the_answer_holds() {
        let turnstile = r#"{"success":true,"error-codes":[],"challenge_ts":"2022-02-28T15:14:30.096Z",
            "hostname":"example.com","action":"login","cdata":"sessionid-123456789",
            "metadata":{"ephemeral_id":"x:abc"}}"#;
        assert_eq!(judge(Turnstile, turnstile, Some("login")), Ok(()));
        let hcaptcha = r#"{"success":true,"challenge_ts":"2024-01-01T00:00:00Z",
            "hostname":"example.com","credit":false,"score":0.9,"score_reason":["x"]}"#;
        // hCaptcha reports no action and its score is a risk: neither is held to anything.
        assert_eq!(judge(HCaptcha, hcaptcha, Some("login")), Ok(()));
        let recaptcha = r#"{"success":true,"score":0.9,"action":"login",
            "challenge_ts":"2024-01-01T00:00:00Z","hostname":"example.com"}"#;
        assert_eq!(judge(ReCaptchaV3, recaptcha, Some("login")), Ok(()));
        assert_eq!(judge(ReCaptchaV3, recaptcha, None), Ok(()));
    }

    #[test]
    fn a_failure_keeps_the_codes_and_sorts_server_faults_from_client_ones() {
        let refused = judge(
            Turnstile,
            r#"{"success":false,"error-codes":["timeout-or-duplicate"]}"#,
            None,
        );
        assert_eq!(
            refused,
            Err(CaptchaRefusal::Invalid {
                codes: vec!["timeout-or-duplicate".into()]
            })
        );
        let secret = judge(
            HCaptcha,
            r#"{"success":false,"error-codes":["sitekey-secret-mismatch"]}"#,
            None,
        );
        assert!(matches!(
            secret,
            Err(CaptchaRefusal::Unavailable(
                UnavailableReason::SecretRefused { .. }
            ))
        ));
        let inside = judge(
            Turnstile,
            r#"{"success":false,"error-codes":["internal-error"]}"#,
            None,
        );
        assert!(matches!(
            inside,
            Err(CaptchaRefusal::Unavailable(
                UnavailableReason::ProviderFailed { .. }
            ))
        ));
        // Hostile codes are cut and cleaned before they reach a log line.
        let many = format!(
            r#"{{"success":false,"error-codes":[{}]}}"#,
            vec![format!("\"{}\\n\"", "x".repeat(500)); 100].join(",")
        );
        let Err(CaptchaRefusal::Invalid { codes }) = judge(HCaptcha, &many, None) else {
            panic!("refused");
        };
        assert_eq!(codes.len(), MAX_CODES);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == MAX_CODE_LEN && !c.contains('\n'))
        );
    }

    #[test]
    fn a_recaptcha_answer_is_held_to_the_score_and_the_action() {
        let low = judge(
            ReCaptchaV3,
            r#"{"success":true,"score":0.3,"action":"login"}"#,
            None,
        );
        assert_eq!(
            low,
            Err(CaptchaRefusal::LowScore {
                score: 0.3,
                min: 0.5
            })
        );
        let at_min = r#"{"success":true,"score":0.5,"action":"login"}"#;
        assert_eq!(judge(ReCaptchaV3, at_min, None), Ok(()));
        let v2 = judge(ReCaptchaV3, r#"{"success":true}"#, None);
        assert_eq!(
            v2,
            Err(CaptchaRefusal::Unavailable(UnavailableReason::NoScore))
        );
        let other = judge(ReCaptchaV3, at_min, Some("signup"));
        assert_eq!(
            other,
            Err(CaptchaRefusal::WrongAction {
                expected: "signup".into(),
                actual: Some("login".into())
            })
        );
        let none = judge(Turnstile, r#"{"success":true}"#, Some("login"));
        assert!(matches!(
            none,
            Err(CaptchaRefusal::WrongAction { actual: None, .. })
        ));
    }

    #[test]
    fn an_answer_that_is_not_the_providers_json_is_a_bad_answer() {
        for body in [
            "",
            "<html>502 Bad Gateway</html>",
            r#"{"success":"yes"}"#,
            r#"{"ok":true}"#,
            "[true]",
            "[true, [], 1.0, \"login\"]",
            "true",
            r#"{"success":true"#,
        ] {
            let error = Answer::parse(body.as_bytes()).expect_err(body);
            assert!(matches!(error, UnavailableReason::BadAnswer(_)), "{body}");
            assert!(!error.to_string().contains("html"), "{error}");
        }
    }
}
