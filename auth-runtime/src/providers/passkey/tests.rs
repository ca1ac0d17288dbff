//! Passkey ceremonies end to end against the SQL adapter, answered by the software
//! authenticator: Auth.js's options to the field, and every refusal.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::soft_authenticator::{SoftAuthenticator, Tweaks};
use super::*;
use crate::adapter::SqliteAdapter;

const SECRET: &str = "passkey-test-secret-0123456789abcdef";
const ORIGIN: &str = "http://localhost:3000";

/// A passkey provider on a fresh in-memory SQLite adapter, with a clock the test moves.
struct Harness {
    passkeys: Passkeys,
    adapter: Arc<dyn Adapter>,
    store: Arc<dyn Authenticators>,
    clock: Arc<AtomicI64>,
}

fn no_env(_: &str) -> Option<String> {
    None
}

async fn sqlite() -> Arc<SqliteAdapter> {
    let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    Arc::new(SqliteAdapter::new(pool).await.unwrap())
}

impl Harness {
    async fn new() -> Self {
        let adapter = sqlite().await;
        Harness::on(adapter.clone(), adapter, no_env)
    }

    fn on(
        adapter: Arc<dyn Adapter>,
        store: Arc<dyn Authenticators>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Self {
        let base = BaseUrl::parse("AUTH_URL", ORIGIN, "/api/auth").unwrap();
        let clock = Arc::new(AtomicI64::new(crate::clock::now()));
        let now = clock.clone();
        let passkeys = Passkeys::configure(
            "passkey",
            &base,
            &[SECRET],
            false,
            TokenFormat::NextAuthV4,
            adapter.clone(),
            store.clone(),
            env,
        )
        .unwrap()
        .with_clock(move || now.load(Ordering::SeqCst));
        Harness {
            passkeys,
            adapter,
            store,
            clock,
        }
    }

    /// The options' `options` member, their action, and the challenge cookie's value.
    async fn options(
        &self,
        action: Option<&str>,
        email: Option<&str>,
        signed_in: Option<SignedInUser>,
    ) -> (Value, String, String) {
        let answer = self
            .passkeys
            .options(action, email, signed_in)
            .await
            .unwrap();
        let cookie = cookie_value(&answer.set_cookie, self.passkeys.cookie_name());
        let action = answer.body["action"].as_str().unwrap().to_owned();
        (answer.body["options"].clone(), action, cookie)
    }

    async fn finish(
        &self,
        action: &str,
        data: &Value,
        cookie: &str,
        signed_in: Option<SignedInUser>,
    ) -> Result<Finished, PasskeyError> {
        let data = data.to_string();
        self.passkeys
            .finish(Some(action), Some(&data), Some(cookie), signed_in)
            .await
    }

    /// A new user with a passkey, registered while signed out.
    async fn registered(&self, email: &str) -> (SoftAuthenticator, User) {
        let mut authenticator = SoftAuthenticator::new(ORIGIN);
        let (options, action, cookie) = self.options(Some("register"), Some(email), None).await;
        assert_eq!(action, "register");
        let answer = authenticator.register(&options, &Tweaks::default());
        match self.finish("register", &answer, &cookie, None).await {
            Ok(Finished::Registered { user, .. }) => (authenticator, user),
            other => panic!("registration refused: {other:?}"),
        }
    }

    /// Signs in with `authenticator` (tweaked), from fresh options.
    async fn sign_in(
        &self,
        authenticator: &mut SoftAuthenticator,
        tweaks: &Tweaks,
        signed_in: Option<SignedInUser>,
    ) -> Result<Finished, PasskeyError> {
        let (options, action, cookie) = self
            .options(Some("authenticate"), None, signed_in.clone())
            .await;
        assert_eq!(action, "authenticate");
        let answer = authenticator.authenticate(&options, tweaks);
        self.finish("authenticate", &answer, &cookie, signed_in)
            .await
    }

    /// Registers `authenticator` (tweaked) for `email`, from fresh options, signed out.
    async fn register_with(
        &self,
        authenticator: &mut SoftAuthenticator,
        email: &str,
        tweaks: &Tweaks,
    ) -> Result<Finished, PasskeyError> {
        let (options, _, cookie) = self.options(Some("register"), Some(email), None).await;
        let answer = authenticator.register(&options, tweaks);
        self.finish("register", &answer, &cookie, None).await
    }

    fn advance(&self, seconds: i64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }
}

/// The value a `Set-Cookie` line sets for `name`.
fn cookie_value(line: &str, name: &str) -> String {
    let pair = line.split(';').next().unwrap();
    let (cookie, value) = pair.split_once('=').unwrap();
    assert_eq!(cookie, name);
    value.to_owned()
}

fn member(user: &User) -> SignedInUser {
    SignedInUser {
        id: user.id.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        is_guest: false,
    }
}

fn guest(id: &str) -> SignedInUser {
    SignedInUser {
        id: id.to_owned(),
        email: None,
        name: None,
        is_guest: true,
    }
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

fn assert_challenge(options: &Value) {
    let challenge = options["challenge"].as_str().unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(challenge).unwrap().len(), 32);
}

#[track_caller]
fn assert_refused(result: Result<Finished, PasskeyError>, id: &str) -> PasskeyError {
    match result {
        Err(error) => {
            assert_eq!(error.error_id(), id, "{error:?}");
            error
        }
        Ok(finished) => panic!("accepted: {finished:?}"),
    }
}

#[tokio::test]
async fn a_passkey_registers_a_new_user_and_signs_them_in() {
    let h = Harness::new().await;
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    // Signed out, no action, an unknown e-mail: a registration.
    let (options, action, cookie) = h.options(None, Some(" Ada@Example.com "), None).await;
    assert_eq!(action, "register");
    assert_eq!(options["user"]["name"], "ada@example.com");
    let answer = authenticator.register(&options, &Tweaks::default());
    let Ok(Finished::Registered {
        user,
        credential_id,
        made_user: true,
    }) = h.finish("register", &answer, &cookie, None).await
    else {
        panic!("not registered");
    };
    assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    assert_eq!(credential_id, STANDARD.encode(&authenticator.credential_id));

    // Auth.js's rows: the user, its webauthn account, its authenticator.
    let by_account = h
        .adapter
        .get_user_by_account("passkey", &credential_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_account.id, user.id);
    let stored = h.store.by_credential_id(&credential_id).await.unwrap();
    assert_eq!(
        stored,
        Some(StoredAuthenticator {
            credential_id: credential_id.clone(),
            user_id: user.id.clone(),
            provider_account_id: credential_id.clone(),
            credential_public_key: STANDARD.encode(authenticator.cose_key()),
            counter: 0,
            credential_device_type: "multiDevice".into(),
            credential_backed_up: true,
            transports: Some("internal,hybrid".into()),
        })
    );

    // Signed out, no action, a known e-mail: a sign-in.
    let (options, action, cookie) = h.options(None, Some("ada@example.com"), None).await;
    assert_eq!(action, "authenticate");
    let answer = authenticator.authenticate(&options, &Tweaks::default());
    let signed_in = h.finish("authenticate", &answer, &cookie, None).await;
    assert_eq!(
        signed_in.unwrap(),
        Finished::Authenticated {
            user: user.clone(),
            credential_id: credential_id.clone(),
        }
    );
    let counter = h.store.by_credential_id(&credential_id).await.unwrap();
    assert_eq!(counter.unwrap().counter, 1);

    // Without an e-mail: a sign-in with a discoverable credential.
    let (options, action, cookie) = h.options(None, None, None).await;
    assert_eq!(action, "authenticate");
    let answer = authenticator.authenticate(&options, &Tweaks::default());
    assert!(
        h.finish("authenticate", &answer, &cookie, None)
            .await
            .is_ok()
    );
    assert_eq!(
        h.passkeys.clear_challenge_cookie(),
        "next-auth.challenge=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax"
    );
}

#[tokio::test]
async fn register_options_are_auth_js_s_field_for_field() {
    let h = Harness::new().await;
    let answer = h
        .passkeys
        .options(Some("register"), Some("ada@example.com"), None)
        .await
        .unwrap();
    assert_eq!(keys(&answer.body), ["action", "options"]);
    assert_eq!(answer.body["action"], "register");
    let options = &answer.body["options"];
    assert_eq!(
        keys(options),
        [
            "attestation",
            "authenticatorSelection",
            "challenge",
            "excludeCredentials",
            "extensions",
            "pubKeyCredParams",
            "rp",
            "timeout",
            "user"
        ]
    );
    assert_challenge(options);
    assert_eq!(
        options["rp"],
        json!({ "id": "localhost", "name": "localhost:3000" })
    );
    let handle = options["user"]["id"].as_str().unwrap();
    assert!(
        handle.len() == 64 && handle.bytes().all(|b| b.is_ascii_hexdigit()),
        "{handle}"
    );
    assert_eq!(keys(&options["user"]), ["displayName", "id", "name"]);
    assert_eq!(options["user"]["name"], "ada@example.com");
    assert_eq!(options["user"]["displayName"], "ada@example.com");
    assert_eq!(
        options["pubKeyCredParams"],
        json!([
            { "type": "public-key", "alg": -8 },
            { "type": "public-key", "alg": -7 },
            { "type": "public-key", "alg": -257 },
        ])
    );
    assert_eq!(options["timeout"], 300_000);
    assert_eq!(options["attestation"], "none");
    assert_eq!(options["excludeCredentials"], json!([]));
    assert_eq!(
        options["authenticatorSelection"],
        json!({ "residentKey": "required", "userVerification": "required", "requireResidentKey": true })
    );
    assert_eq!(options["extensions"], json!({ "credProps": true }));
    // Two options, two challenges.
    let again = h
        .passkeys
        .options(Some("register"), Some("ada@example.com"), None)
        .await
        .unwrap();
    assert_ne!(again.body["options"]["challenge"], options["challenge"]);

    let line = &answer.set_cookie;
    assert!(line.starts_with("next-auth.challenge="), "{line}");
    for attribute in ["; Path=/", "; HttpOnly", "; SameSite=Lax", "; Expires="] {
        assert!(line.contains(attribute), "{line}");
    }
    assert!(!line.contains("Secure"), "{line}");

    // Over https, __Host- and Secure; Auth.js's token format names it authjs.
    let adapter = sqlite().await;
    let base = BaseUrl::parse("AUTH_URL", "https://shop.example", "/api/auth").unwrap();
    let secure = Passkeys::configure(
        "passkey",
        &base,
        &[SECRET],
        true,
        TokenFormat::AuthJsV5,
        adapter.clone(),
        adapter,
        no_env,
    )
    .unwrap();
    let answer = secure.options(None, None, None).await.unwrap();
    assert!(
        answer.set_cookie.starts_with("__Host-authjs.challenge=")
            && answer.set_cookie.contains("; Secure"),
        "{}",
        answer.set_cookie
    );
    assert_eq!(answer.body["options"]["rpId"], "shop.example");
}

#[tokio::test]
async fn authenticate_options_list_credentials_only_to_their_signed_in_owner() {
    let h = Harness::new().await;
    let (_, ada) = h.registered("ada@example.com").await;
    let (options, _, _) = h
        .options(Some("authenticate"), Some("ada@example.com"), None)
        .await;
    assert_eq!(
        keys(&options),
        ["challenge", "rpId", "timeout", "userVerification"]
    );
    assert_challenge(&options);
    assert_eq!(options["timeout"], 300_000);
    assert_eq!(options["userVerification"], "required");
    assert_eq!(options["rpId"], "localhost");

    // Unknown e-mail, another signed-in user: nothing listed either.
    let (options, _, _) = h
        .options(Some("authenticate"), Some("nobody@example.com"), None)
        .await;
    assert!(options.get("allowCredentials").is_none());
    let (bob_key, bob) = h.registered("bob@example.com").await;
    let (options, _, _) = h
        .options(
            Some("authenticate"),
            Some("ada@example.com"),
            Some(member(&bob)),
        )
        .await;
    assert!(options.get("allowCredentials").is_none());

    // The owner, signed in, gets theirs.
    let (options, _, _) = h
        .options(
            Some("authenticate"),
            Some("ada@example.com"),
            Some(member(&ada)),
        )
        .await;
    let stored = h.store.of_user(&ada.id).await.unwrap();
    let id = URL_SAFE_NO_PAD.encode(STANDARD.decode(&stored[0].credential_id).unwrap());
    assert_eq!(
        options["allowCredentials"],
        json!([{ "id": id, "type": "public-key", "transports": ["internal", "hybrid"] }])
    );
    assert_ne!(id, bob_key.id());
}

#[tokio::test]
async fn options_follow_auth_js_s_decision_rules() {
    let h = Harness::new().await;
    let (_, ada) = h.registered("ada@example.com").await;
    let refused = |result: Result<OptionsAnswer, OptionsRefusal>| match result {
        Err(refusal) => refusal.message(),
        Ok(answer) => panic!("answered {}", answer.body),
    };
    let p = &h.passkeys;
    assert_eq!(
        refused(p.options(Some("delete"), None, None).await),
        "Invalid action"
    );
    assert_eq!(
        refused(p.options(None, None, Some(member(&ada))).await),
        "Invalid request"
    );
    assert_eq!(
        refused(p.options(Some("register"), None, None).await),
        "Invalid request"
    );
    assert_eq!(
        refused(
            p.options(Some("register"), Some("ADA@example.com"), None)
                .await
        ),
        "Invalid request"
    );
    for malformed in ["ada", "@example.com", "ada@", "a da@example.com", "<a@b>"] {
        assert_eq!(
            refused(p.options(Some("register"), Some(malformed), None).await),
            "Invalid request",
            "{malformed}"
        );
    }
    // A guest is signed out here: a known e-mail is refused, a new one registers.
    assert_eq!(
        refused(
            p.options(Some("register"), Some("ada@example.com"), Some(guest("g1")))
                .await
        ),
        "Invalid request"
    );
    let (options, action, _) = h
        .options(None, Some("new@example.com"), Some(guest("g1")))
        .await;
    assert_eq!(
        (action.as_str(), &options["user"]["name"]),
        ("register", &json!("new@example.com"))
    );
    // An empty action is no action.
    let (_, action, _) = h.options(Some(""), None, None).await;
    assert_eq!(action, "authenticate");
    // Signed in, register: the session's user, whatever e-mail is given; its passkeys
    // excluded.
    let (options, action, _) = h
        .options(
            Some("register"),
            Some("someone@example.com"),
            Some(member(&ada)),
        )
        .await;
    assert_eq!(action, "register");
    assert_eq!(options["user"]["name"], "ada@example.com");
    assert_eq!(options["excludeCredentials"].as_array().unwrap().len(), 1);
    // Signed in, authenticate: allowed.
    let (_, action, _) = h
        .options(Some("authenticate"), None, Some(member(&ada)))
        .await;
    assert_eq!(action, "authenticate");
}

#[tokio::test]
async fn the_timeout_comes_from_the_environment_and_must_be_usable() {
    let adapter = sqlite().await;
    let h = Harness::on(adapter.clone(), adapter.clone(), |name| {
        (name == "AUTH_PASSKEY_TIMEOUT_S").then(|| " 60 ".to_owned())
    });
    let (options, _, _) = h.options(None, None, None).await;
    assert_eq!(options["timeout"], 60_000);
    let base = BaseUrl::parse("AUTH_URL", ORIGIN, "/api/auth").unwrap();
    for bad in ["abc", "0", "-1", "86401", "1.5"] {
        let error = Passkeys::configure(
            "passkey",
            &base,
            &[SECRET],
            false,
            TokenFormat::NextAuthV4,
            adapter.clone(),
            adapter.clone(),
            |_| Some(bad.to_owned()),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("AUTH_PASSKEY_TIMEOUT_S"),
            "{bad}: {error}"
        );
    }
    let none: [&str; 0] = [];
    let error = Passkeys::configure(
        "passkey",
        &base,
        &none,
        false,
        TokenFormat::NextAuthV4,
        adapter.clone(),
        adapter,
        no_env,
    )
    .unwrap_err();
    assert_eq!(error, ConfigError::MissingSecret);
}

#[tokio::test]
async fn an_answer_cannot_be_replayed() {
    let h = Harness::new().await;
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let (options, _, cookie) = h
        .options(Some("register"), Some("ada@example.com"), None)
        .await;
    let registration = authenticator.register(&options, &Tweaks::default());
    assert!(
        h.finish("register", &registration, &cookie, None)
            .await
            .is_ok()
    );
    let replayed = h.finish("register", &registration, &cookie, None).await;
    assert!(matches!(
        assert_refused(replayed, "Configuration"),
        PasskeyError::ChallengeUsed
    ));

    // Byte for byte, with an authenticator that keeps its counter at 0.
    authenticator.counting = false;
    let (options, _, cookie) = h.options(Some("authenticate"), None, None).await;
    let answer = authenticator.authenticate(&options, &Tweaks::default());
    assert!(
        h.finish("authenticate", &answer, &cookie, None)
            .await
            .is_ok()
    );
    let replayed = h.finish("authenticate", &answer, &cookie, None).await;
    assert!(matches!(
        assert_refused(replayed, "Configuration"),
        PasskeyError::ChallengeUsed
    ));
    // The same authenticator, fresh options: fine (a counter of 0 stays acceptable).
    let again = h
        .sign_in(&mut authenticator, &Tweaks::default(), None)
        .await;
    assert!(again.is_ok(), "{again:?}");
}

#[tokio::test]
async fn a_failed_answer_uses_the_challenge_up() {
    let h = Harness::new().await;
    let (mut authenticator, _) = h.registered("ada@example.com").await;
    let (options, _, cookie) = h.options(Some("authenticate"), None, None).await;
    let wrong = Tweaks {
        origin: Some("http://evil.example".into()),
        ..Tweaks::default()
    };
    let answer = authenticator.authenticate(&options, &wrong);
    assert_refused(
        h.finish("authenticate", &answer, &cookie, None).await,
        "WebAuthnVerificationError",
    );
    let honest = authenticator.authenticate(&options, &Tweaks::default());
    let second = h.finish("authenticate", &honest, &cookie, None).await;
    assert!(matches!(
        assert_refused(second, "Configuration"),
        PasskeyError::ChallengeUsed
    ));

    // A malformed answer, a wrong or missing action, no data: the challenge is used up too.
    for (action, data) in [
        (Some("authenticate"), Some("{not json")),
        (Some("authenticate"), Some("")),
        (Some("authenticate"), None),
        (Some("register"), Some("{}")),
        (Some("nonsense"), Some("{}")),
        (None, Some("{}")),
    ] {
        let (options, _, cookie) = h.options(Some("authenticate"), None, None).await;
        let refused = h.passkeys.finish(action, data, Some(&cookie), None).await;
        assert_refused(refused, "Configuration");
        let honest = authenticator.authenticate(&options, &Tweaks::default());
        let after = h.finish("authenticate", &honest, &cookie, None).await;
        assert!(
            matches!(after, Err(PasskeyError::ChallengeUsed)),
            "{action:?} {data:?}: {after:?}"
        );
    }
}

/// The marks of answered challenges left in the store, expired or not.
async fn marks(h: &Harness) -> u64 {
    h.store
        .forget_answered(&challenge::record_identifier("passkey"), i64::MAX)
        .await
        .unwrap()
}

#[tokio::test]
async fn options_write_nothing_and_answers_leave_a_mark_until_their_ceremony_ends() {
    let h = Harness::new().await;
    let (mut authenticator, _) = h.registered("ada@example.com").await;
    assert_eq!(marks(&h).await, 1, "the registration's answer");
    for _ in 0..50 {
        h.options(Some("authenticate"), None, None).await;
        h.options(None, Some("bob@example.com"), None).await;
    }
    assert_eq!(marks(&h).await, 0, "options are not recorded");

    // Every FORGET_EVERY-th answer forgets the marks of ceremonies that ended.
    assert!(
        h.sign_in(&mut authenticator, &Tweaks::default(), None)
            .await
            .is_ok()
    );
    h.advance(DEFAULT_TIMEOUT_S as i64 + 1);
    let answered = h.passkeys.answered.load(Ordering::SeqCst);
    // Answers number from 0; the one numbered a multiple of FORGET_EVERY forgets.
    let until_forgetting = FORGET_EVERY - answered % FORGET_EVERY + 1;
    for _ in 0..until_forgetting {
        let (_, _, cookie) = h.options(Some("authenticate"), None, None).await;
        let refused = h
            .passkeys
            .finish(Some("authenticate"), Some("{not json"), Some(&cookie), None)
            .await;
        assert!(refused.is_err());
    }
    // The sign-in's mark is gone; the malformed answers' marks stay until their ceremonies end.
    assert_eq!(marks(&h).await, until_forgetting);
}

#[tokio::test]
async fn an_expired_challenge_is_refused() {
    let adapter = sqlite().await;
    let h = Harness::on(adapter.clone(), adapter, |name| {
        (name == "AUTH_PASSKEY_TIMEOUT_S").then(|| "30".to_owned())
    });
    let (mut authenticator, _) = h.registered("ada@example.com").await;
    let (options, _, cookie) = h.options(Some("authenticate"), None, None).await;
    h.advance(31);
    let answer = authenticator.authenticate(&options, &Tweaks::default());
    let late = h.finish("authenticate", &answer, &cookie, None).await;
    assert!(matches!(
        assert_refused(late, "Configuration"),
        PasskeyError::ChallengeExpired
    ));
    // Just in time is in time.
    let (options, _, cookie) = h.options(Some("authenticate"), None, None).await;
    h.advance(30);
    let answer = authenticator.authenticate(&options, &Tweaks::default());
    assert!(
        h.finish("authenticate", &answer, &cookie, None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_missing_or_forged_challenge_cookie_is_refused() {
    let h = Harness::new().await;
    let (mut authenticator, _) = h.registered("ada@example.com").await;
    let (options, _, cookie) = h.options(Some("authenticate"), None, None).await;
    let answer = authenticator
        .authenticate(&options, &Tweaks::default())
        .to_string();
    let finish = |cookie: Option<String>| {
        let answer = answer.clone();
        let passkeys = &h.passkeys;
        async move {
            passkeys
                .finish(Some("authenticate"), Some(&answer), cookie.as_deref(), None)
                .await
        }
    };
    let missing = assert_refused(finish(None).await, "Configuration");
    assert!(matches!(missing, PasskeyError::MissingChallenge));
    assert!(matches!(
        finish(Some(String::new())).await,
        Err(PasskeyError::MissingChallenge)
    ));
    let mut bytes = URL_SAFE_NO_PAD.decode(&cookie).unwrap();
    bytes[20] ^= 1;
    let tampered = URL_SAFE_NO_PAD.encode(&bytes);
    for forged in [
        tampered,
        "x".repeat(60),
        cookie[..cookie.len() - 1].to_owned(),
    ] {
        let refused = assert_refused(finish(Some(forged)).await, "Configuration");
        assert!(
            matches!(refused, PasskeyError::InvalidChallenge),
            "{refused:?}"
        );
    }
    // Sealed under a secret this server does not have.
    let other = Harness::new().await;
    let foreign = CookieSeal::new(
        &["another-secret-0123456789abcdef"],
        "passkey",
        "next-auth.challenge",
    );
    let ceremony = other.passkeys.seal.open(&cookie).unwrap();
    let forged = foreign.seal(&ceremony).unwrap();
    assert!(matches!(
        finish(Some(forged)).await,
        Err(PasskeyError::InvalidChallenge)
    ));
    // The genuine cookie still works: the refusals above did not reach its record.
    assert!(finish(Some(cookie)).await.is_ok());
}

#[tokio::test]
async fn a_rotated_secret_still_opens_challenges_in_flight() {
    let adapter = sqlite().await;
    let h = Harness::on(adapter.clone(), adapter.clone(), no_env);
    let (mut authenticator, _) = h.registered("ada@example.com").await;
    let (options, _, cookie) = h.options(Some("authenticate"), None, None).await;
    let base = BaseUrl::parse("AUTH_URL", ORIGIN, "/api/auth").unwrap();
    let rotated = Passkeys::configure(
        "passkey",
        &base,
        &["newer-secret-0123456789abcdef", SECRET],
        false,
        TokenFormat::NextAuthV4,
        adapter.clone(),
        adapter,
        no_env,
    )
    .unwrap();
    let answer = authenticator
        .authenticate(&options, &Tweaks::default())
        .to_string();
    let finished = rotated
        .finish(Some("authenticate"), Some(&answer), Some(&cookie), None)
        .await;
    assert!(finished.is_ok(), "{finished:?}");
}

#[tokio::test]
async fn every_broken_sign_in_answer_is_a_verification_error() {
    let h = Harness::new().await;
    let (mut authenticator, user) = h.registered("ada@example.com").await;
    let broken = [
        Tweaks {
            origin: Some("http://localhost:3001".into()),
            ..Tweaks::default()
        },
        Tweaks {
            origin: Some("https://localhost:3000".into()),
            ..Tweaks::default()
        },
        Tweaks {
            client_data_type: Some("webauthn.create".into()),
            ..Tweaks::default()
        },
        Tweaks {
            challenge: Some(URL_SAFE_NO_PAD.encode([7u8; 32])),
            ..Tweaks::default()
        },
        Tweaks {
            rp_id: Some("evil.example".into()),
            ..Tweaks::default()
        },
        Tweaks {
            user_verified: false,
            ..Tweaks::default()
        },
        Tweaks {
            user_present: false,
            ..Tweaks::default()
        },
        Tweaks {
            bad_signature: true,
            ..Tweaks::default()
        },
        Tweaks {
            cross_origin: true,
            ..Tweaks::default()
        },
        // A synced passkey that claims not to be backup eligible any more.
        Tweaks {
            backup_eligible: false,
            backed_up: false,
            ..Tweaks::default()
        },
    ];
    for tweaks in &broken {
        let refused = h.sign_in(&mut authenticator, tweaks, None).await;
        assert!(refused.is_err(), "{tweaks:?}");
        let error = assert_refused(refused, "WebAuthnVerificationError");
        assert!(
            matches!(error, PasskeyError::Verification(_)),
            "{tweaks:?}: {error:?}"
        );
    }
    // After all that, an honest answer signs in.
    let honest = h
        .sign_in(&mut authenticator, &Tweaks::default(), None)
        .await;
    assert!(matches!(honest, Ok(Finished::Authenticated { user: u, .. }) if u == user));
}

#[tokio::test]
async fn every_broken_registration_is_a_verification_error_and_writes_nothing() {
    let h = Harness::new().await;
    let broken = [
        Tweaks {
            origin: Some("http://evil.example".into()),
            ..Tweaks::default()
        },
        Tweaks {
            client_data_type: Some("webauthn.get".into()),
            ..Tweaks::default()
        },
        Tweaks {
            challenge: Some(URL_SAFE_NO_PAD.encode([7u8; 32])),
            ..Tweaks::default()
        },
        Tweaks {
            rp_id: Some("evil.example".into()),
            ..Tweaks::default()
        },
        Tweaks {
            user_verified: false,
            ..Tweaks::default()
        },
        Tweaks {
            user_present: false,
            ..Tweaks::default()
        },
        Tweaks {
            cross_origin: true,
            ..Tweaks::default()
        },
        // Backed up without being backup eligible.
        Tweaks {
            backup_eligible: false,
            backed_up: true,
            ..Tweaks::default()
        },
    ];
    for tweaks in &broken {
        let mut authenticator = SoftAuthenticator::new(ORIGIN);
        let refused = h
            .register_with(&mut authenticator, "ada@example.com", tweaks)
            .await;
        assert_refused(refused, "WebAuthnVerificationError");
        let id = STANDARD.encode(&authenticator.credential_id);
        assert_eq!(h.store.by_credential_id(&id).await.unwrap(), None);
    }
    assert_eq!(
        h.adapter
            .get_user_by_email("ada@example.com")
            .await
            .unwrap(),
        None
    );
    // id and rawId must agree, and the type be public-key.
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let (options, _, cookie) = h
        .options(Some("register"), Some("ada@example.com"), None)
        .await;
    let mut answer = authenticator.register(&options, &Tweaks::default());
    answer["rawId"] = json!(URL_SAFE_NO_PAD.encode([1u8; 16]));
    assert_refused(
        h.finish("register", &answer, &cookie, None).await,
        "WebAuthnVerificationError",
    );
    let (options, _, cookie) = h
        .options(Some("register"), Some("ada@example.com"), None)
        .await;
    let mut answer = authenticator.register(&options, &Tweaks::default());
    answer["type"] = json!("password");
    assert_refused(
        h.finish("register", &answer, &cookie, None).await,
        "WebAuthnVerificationError",
    );
    // A single-device passkey (not backup eligible) is fine.
    let single = Tweaks {
        backup_eligible: false,
        backed_up: false,
        ..Tweaks::default()
    };
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let made = h
        .register_with(&mut authenticator, "ada@example.com", &single)
        .await;
    assert!(made.is_ok(), "{made:?}");
    let id = STANDARD.encode(&authenticator.credential_id);
    let stored = h.store.by_credential_id(&id).await.unwrap().unwrap();
    assert_eq!(
        (
            stored.credential_device_type.as_str(),
            stored.credential_backed_up
        ),
        ("singleDevice", false)
    );
    assert!(h.sign_in(&mut authenticator, &single, None).await.is_ok());
}

#[tokio::test]
async fn an_unknown_credential_is_refused() {
    let h = Harness::new().await;
    h.registered("ada@example.com").await;
    let mut stranger = SoftAuthenticator::new(ORIGIN);
    let refused = h.sign_in(&mut stranger, &Tweaks::default(), None).await;
    assert!(matches!(
        assert_refused(refused, "Configuration"),
        PasskeyError::UnknownCredential
    ));
}

#[tokio::test]
async fn a_credential_of_another_user_is_not_registered_again() {
    let h = Harness::new().await;
    let (ada_key, ada) = h.registered("ada@example.com").await;
    // Another authenticator claiming Ada's credential id, for a new user.
    let mut clone = SoftAuthenticator::new(ORIGIN).with_credential_id(&ada_key.credential_id);
    let refused = h
        .register_with(&mut clone, "mallory@example.com", &Tweaks::default())
        .await;
    let error = assert_refused(refused, "AccountNotLinked");
    assert!(matches!(error, PasskeyError::CredentialOfAnotherUser));
    assert_eq!(error.page(), "signin");
    // Nothing was written: no user, and Ada's passkey is Ada's with her key.
    assert_eq!(
        h.adapter
            .get_user_by_email("mallory@example.com")
            .await
            .unwrap(),
        None
    );
    let id = STANDARD.encode(&ada_key.credential_id);
    let stored = h.store.by_credential_id(&id).await.unwrap().unwrap();
    assert_eq!(stored.user_id, ada.id);
    assert_eq!(
        stored.credential_public_key,
        STANDARD.encode(ada_key.cose_key())
    );
    // Ada, signed in, registering her own passkey again.
    let mut again = ada_key.clone();
    let (options, _, cookie) = h.options(Some("register"), None, Some(member(&ada))).await;
    let answer = again.register(&options, &Tweaks::default());
    let refused = h
        .finish("register", &answer, &cookie, Some(member(&ada)))
        .await;
    assert!(matches!(
        assert_refused(refused, "Configuration"),
        PasskeyError::CredentialRegistered
    ));
}

#[tokio::test]
async fn a_signature_counter_must_move_forward() {
    let h = Harness::new().await;
    let (mut authenticator, _) = h.registered("ada@example.com").await;
    let at = |count| Tweaks {
        sign_count: Some(count),
        ..Tweaks::default()
    };
    assert!(h.sign_in(&mut authenticator, &at(5), None).await.is_ok());
    for (count, why) in [(5, "equal"), (4, "backwards"), (0, "reset")] {
        let refused = h.sign_in(&mut authenticator, &at(count), None).await;
        assert!(
            matches!(&refused, Err(PasskeyError::Verification(_))),
            "{why}: {refused:?}"
        );
    }
    assert!(h.sign_in(&mut authenticator, &at(6), None).await.is_ok());
    let id = STANDARD.encode(&authenticator.credential_id);
    assert_eq!(
        h.store
            .by_credential_id(&id)
            .await
            .unwrap()
            .unwrap()
            .counter,
        6
    );
}

#[tokio::test]
async fn a_signed_in_user_adds_a_second_passkey() {
    let h = Harness::new().await;
    let (mut first, ada) = h.registered("ada@example.com").await;
    let mut second = SoftAuthenticator::new(ORIGIN);
    let (options, action, cookie) = h.options(Some("register"), None, Some(member(&ada))).await;
    assert_eq!(action, "register");
    assert_eq!(
        options["excludeCredentials"],
        json!([{ "id": first.id(), "type": "public-key", "transports": ["internal", "hybrid"] }])
    );
    let answer = second.register(&options, &Tweaks::default());
    let added = h
        .finish("register", &answer, &cookie, Some(member(&ada)))
        .await;
    let Ok(Finished::Registered {
        user,
        made_user: false,
        ..
    }) = added
    else {
        panic!("not added: {added:?}");
    };
    assert_eq!(user.id, ada.id);
    assert_eq!(h.store.of_user(&ada.id).await.unwrap().len(), 2);
    for authenticator in [&mut first, &mut second] {
        let signed_in = h.sign_in(authenticator, &Tweaks::default(), None).await;
        assert!(matches!(signed_in, Ok(Finished::Authenticated { user, .. }) if user.id == ada.id));
    }

    // Registration options for Ada, answered after signing out (or as someone else): refused.
    let (options, _, cookie) = h.options(Some("register"), None, Some(member(&ada))).await;
    let answer = SoftAuthenticator::new(ORIGIN).register(&options, &Tweaks::default());
    let refused = h.finish("register", &answer, &cookie, None).await;
    assert!(matches!(
        assert_refused(refused, "Configuration"),
        PasskeyError::SessionChanged
    ));
}

#[tokio::test]
async fn a_passkey_of_another_user_does_not_sign_in_over_a_session() {
    let h = Harness::new().await;
    let (mut ada_key, ada) = h.registered("ada@example.com").await;
    let (mut bob_key, bob) = h.registered("bob@example.com").await;
    let refused = h
        .sign_in(&mut bob_key, &Tweaks::default(), Some(member(&ada)))
        .await;
    let error = assert_refused(refused, "AccountNotLinked");
    assert!(matches!(error, PasskeyError::AccountNotLinked));
    assert_eq!(error.page(), "signin");
    // Her own passkey over her session is fine; a guest's session is no obstacle.
    let own = h
        .sign_in(&mut ada_key, &Tweaks::default(), Some(member(&ada)))
        .await;
    assert!(own.is_ok(), "{own:?}");
    let as_guest = h
        .sign_in(&mut bob_key, &Tweaks::default(), Some(guest("g7")))
        .await;
    assert!(matches!(as_guest, Ok(Finished::Authenticated { user, .. }) if user == bob));
}

#[tokio::test]
async fn a_guest_registers_a_new_user_with_its_e_mail() {
    let h = Harness::new().await;
    let mut authenticator = SoftAuthenticator::new(ORIGIN);
    let (options, _, cookie) = h
        .options(
            Some("register"),
            Some("guest@example.com"),
            Some(guest("g1")),
        )
        .await;
    let answer = authenticator.register(&options, &Tweaks::default());
    let made = h
        .finish("register", &answer, &cookie, Some(guest("g1")))
        .await;
    let Ok(Finished::Registered {
        user,
        made_user: true,
        ..
    }) = made
    else {
        panic!("not registered: {made:?}");
    };
    assert_eq!(user.email.as_deref(), Some("guest@example.com"));
    // The e-mail was taken between the options and the answer: refused, nothing written.
    let (options, _, cookie) = h
        .options(Some("register"), Some("late@example.com"), None)
        .await;
    h.adapter
        .create_user(UserFields {
            email: Some("late@example.com".into()),
            ..UserFields::default()
        })
        .await
        .unwrap();
    let mut late = SoftAuthenticator::new(ORIGIN);
    let answer = late.register(&options, &Tweaks::default());
    let refused = h.finish("register", &answer, &cookie, None).await;
    assert!(matches!(
        assert_refused(refused, "Configuration"),
        PasskeyError::EmailTaken
    ));
}

#[tokio::test]
async fn an_unreachable_store_is_told_apart() {
    let h = Harness::new().await;
    let (mut authenticator, _) = h.registered("ada@example.com").await;
    let (options, _, cookie) = h.options(Some("authenticate"), None, None).await;
    h.adapter.close().await;
    // Options without an e-mail read nothing; with one, the store is asked who it is.
    assert!(h.passkeys.options(None, None, None).await.is_ok());
    let refusal = h
        .passkeys
        .options(None, Some("ada@example.com"), None)
        .await
        .unwrap_err();
    assert!(refusal.is_unavailable(), "{refusal:?}");
    let answer = authenticator.authenticate(&options, &Tweaks::default());
    let error = h
        .finish("authenticate", &answer, &cookie, None)
        .await
        .unwrap_err();
    assert!(error.is_unavailable(), "{error:?}");
    assert_eq!(error.error_id(), "Configuration");
    assert!(!PasskeyError::ChallengeUsed.is_unavailable());
}

/// The same ceremonies on PostgreSQL (127.0.0.1:5432, database `test`, a schema of the test's
/// own), when it is there; a failure under `CI=true` when it is not.
#[cfg(feature = "postgres")]
#[tokio::test]
async fn ceremonies_run_on_postgres_too() {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    let user = std::env::var("USER").unwrap_or_else(|_| "postgres".into());
    let mut found = None;
    for role in ["postgres", user.as_str()] {
        let base = PgConnectOptions::new()
            .host("127.0.0.1")
            .port(5432)
            .username(role)
            .database("test");
        if let Ok(admin) = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(std::time::Duration::from_secs(3))
            .connect_with(base.clone())
            .await
        {
            found = Some((admin, base));
            break;
        }
    }
    let Some((admin, base)) = found else {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "PostgreSQL is not reachable at 127.0.0.1:5432/test"
        );
        eprintln!("SKIPPED passkeys on PostgreSQL: no PostgreSQL at 127.0.0.1:5432/test");
        return;
    };
    let schema = format!("passkey_unit_{}", std::process::id());
    for statement in [
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&admin)
            .await
            .unwrap();
    }
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(base.options([("search_path", schema.as_str())]))
        .await
        .unwrap();
    let adapter = Arc::new(crate::adapter::PostgresAdapter::new(pool).await.unwrap());
    let h = Harness::on(adapter.clone(), adapter, no_env);

    let (mut ada_key, ada) = h.registered("ada@example.com").await;
    let id = STANDARD.encode(&ada_key.credential_id);
    let stored = h.store.by_credential_id(&id).await.unwrap().unwrap();
    assert_eq!(
        (
            stored.user_id.as_str(),
            stored.credential_backed_up,
            stored.counter
        ),
        (ada.id.as_str(), true, 0)
    );
    let signed_in = h.sign_in(&mut ada_key, &Tweaks::default(), None).await;
    assert!(matches!(signed_in, Ok(Finished::Authenticated { user, .. }) if user == ada));
    let backwards = Tweaks {
        sign_count: Some(1),
        ..Tweaks::default()
    };
    assert_refused(
        h.sign_in(&mut ada_key, &backwards, None).await,
        "WebAuthnVerificationError",
    );
    let mut clone = SoftAuthenticator::new(ORIGIN).with_credential_id(&ada_key.credential_id);
    assert_refused(
        h.register_with(&mut clone, "mallory@example.com", &Tweaks::default())
            .await,
        "AccountNotLinked",
    );
    let (options, _, cookie) = h.options(Some("authenticate"), None, None).await;
    let answer = ada_key.authenticate(&options, &Tweaks::default());
    assert!(
        h.finish("authenticate", &answer, &cookie, None)
            .await
            .is_ok()
    );
    assert!(matches!(
        h.finish("authenticate", &answer, &cookie, None).await,
        Err(PasskeyError::ChallengeUsed)
    ));
    assert!(h.adapter.delete_user(&ada.id).await.unwrap());
    assert_eq!(h.store.by_credential_id(&id).await.unwrap(), None);
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .unwrap();
}
