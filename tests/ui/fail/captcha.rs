// `captcha`: a known provider and mode ("did you mean"), a score from 0 to 1 in hundredths and
// only for reCAPTCHA v3, no unknown or repeated option. All reported at once.
use auth_runtime::next_auth;

mod misspelt {
    auth_runtime::next_auth! {
        providers: [Anonymous {}],
        captcha: { provider: "turnstyle", mode: "when_limited", min_scor: 0.5 },
    }
}

mod score_for_another_provider {
    auth_runtime::next_auth! {
        providers: [Anonymous {}],
        captcha: { provider: "hcaptcha", min_score: 0.5, mode: "always", mode: "always" },
    }
}

mod bad_scores {
    auth_runtime::next_auth! {
        providers: [Anonymous {}],
        captcha: { provider: "recaptcha", min_score: 1.5 },
    }
}

mod no_provider {
    auth_runtime::next_auth! {
        providers: [Anonymous {}],
        captcha: { mode: "always", min_score: 0.125 },
    }
}

next_auth! {
    providers: [Anonymous {}],
    captcha: { provider: 3 },
}

fn main() {}
