//! Passkeys (WebAuthn), as Auth.js v5's `Passkey` provider serves them to `next-auth/webauthn`'s
//! `signIn("passkey")`: the options of `GET {base}/webauthn-options/{id}` and the answer of
//! `POST {base}/callback/{id}`, framework-free. The handlers parse the request, call
//! [`Passkeys::options`] or [`Passkeys::finish`], and write the reply; the session layer signs
//! in the user a finished ceremony names.
//!
//! The options are Auth.js's to the field (see `shared/reference/authjs-v5-passkey-protocol.md`);
//! webauthn-rs-core checks registrations, `assertion` sign-ins. Where Auth.js is weak, this is
//! stricter without changing what the client sees:
//!
//! - **A challenge answers once.** Besides the sealed challenge cookie that binds the ceremony
//!   to the browser, the server marks each challenge answered on its first answer, right or
//!   wrong, before checking it (see `challenge`): a captured answer cannot be replayed, a failed
//!   one cannot be retried against the same challenge, and an expired one is refused. Giving
//!   options writes nothing, so asking for them cannot fill the store.
//! - **A credential belongs to one user**, checked in code before anything is written.
//! - **Signature counters move forward**, atomically in the store across servers.
//! - **No credential ids to strangers**: `allowCredentials` is listed only to the signed-in owner
//!   of the e-mail given (the passkeys are resident keys: the browser finds them without it).

mod assertion;
mod challenge;
mod method;
#[cfg(test)]
pub(crate) mod soft_authenticator;
mod store;
// The ceremonies run against the SQL adapter on SQLite (and PostgreSQL with `postgres`).
#[cfg(all(test, feature = "sqlite"))]
mod tests;
mod verify;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::proto::PublicKeyCredential;

use crate::adapter::{Adapter, AdapterAccount, AdapterError, AdapterUser, UserFields};
use crate::base_url::BaseUrl;
use crate::cookies::{self, Lifetime};
use crate::error::ConfigError;
use crate::tokens::TokenFormat;
use crate::user::User;

pub(crate) use challenge::Action;
use challenge::{Ceremony, CookieSeal, RegisterFor};
pub(crate) use method::Passkey;
pub(crate) use store::{
    Authenticators, ChallengeMark, CreateAuthenticatorError, SignInRecord, StoredAuthenticator,
};
pub(crate) use verify::{DataError, Refused};

/// How long a ceremony may take unless `AUTH_PASSKEY_TIMEOUT_S` says otherwise: Auth.js's 5
/// minutes. It is the options' `timeout` and the challenge's lifetime.
pub(crate) const DEFAULT_TIMEOUT_S: u64 = 300;
/// The longest timeout accepted: a day.
const MAX_TIMEOUT_S: u64 = 24 * 60 * 60;
/// The environment variable of the timeout, in seconds.
pub(crate) const TIMEOUT_VARIABLE: &str = "AUTH_PASSKEY_TIMEOUT_S";
/// The cookie outlives its challenge by this much, so a late answer is told "expired" rather
/// than "no challenge".
const COOKIE_GRACE_S: i64 = 60;
/// The marks of answered challenges whose ceremonies expired are removed at every this many
/// answers (the first included): one more store round trip per that many sign-ins.
const FORGET_EVERY: u64 = 256;
/// The account type Auth.js gives passkey accounts.
const ACCOUNT_TYPE: &str = "webauthn";
/// The longest e-mail address accepted (RFC 5321's path limit, less the brackets).
const MAX_EMAIL_LEN: usize = 254;

/// The session's user, as the options and the answer need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignedInUser {
    /// The user id (the session's subject).
    pub id: String,
    /// The e-mail address.
    pub email: Option<String>,
    /// The display name.
    pub name: Option<String>,
    /// A guest: counts as signed out here (a guest registers with a new e-mail address; the
    /// session layer upgrades the guest to the user made).
    pub is_guest: bool,
}

/// The options a browser starts a ceremony with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OptionsAnswer {
    /// `{"action": "register" | "authenticate", "options": {...}}`, answered 200.
    pub body: Value,
    /// The `Set-Cookie` line of the challenge cookie.
    pub set_cookie: String,
}

/// Why no options were given.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OptionsRefusal {
    /// Auth.js's 400 `{"error":"Invalid request"}`: a registration without a usable e-mail of
    /// no existing user while signed out, a signed-in request without an action, a malformed
    /// e-mail address.
    #[error("Invalid request")]
    InvalidRequest,
    /// Auth.js's 400 `{"error":"Invalid action"}`: an action other than register or
    /// authenticate.
    #[error("Invalid action")]
    InvalidAction,
    /// The store failed (503 when [`OptionsRefusal::is_unavailable`], else 500).
    #[error("the passkey store failed: {0}")]
    Store(#[from] AdapterError),
}

impl OptionsRefusal {
    /// The `error` of the 400 JSON body (`Invalid request`, `Invalid action`), or
    /// `Configuration` for a store failure.
    pub(crate) fn message(&self) -> &'static str {
        match self {
            OptionsRefusal::InvalidRequest => "Invalid request",
            OptionsRefusal::InvalidAction => "Invalid action",
            OptionsRefusal::Store(_) => ERROR_CONFIGURATION,
        }
    }

    /// Whether the store cannot be reached now: answer 503, try again later.
    pub(crate) fn is_unavailable(&self) -> bool {
        matches!(self, OptionsRefusal::Store(AdapterError::Unavailable(_)))
    }
}

/// A ceremony that succeeded: the user to sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finished {
    /// A new passkey was stored, for a new user (`made_user`) or the signed-in one.
    Registered {
        /// The user.
        user: User,
        /// The credential id, standard base64: the `providerAccountId` of its `webauthn` account.
        credential_id: String,
        /// Whether the user was made by this registration (signed out or a guest).
        made_user: bool,
    },
    /// A passkey signed its user in.
    Authenticated {
        /// The user.
        user: User,
        /// The credential id, standard base64: the `providerAccountId` of its `webauthn` account.
        credential_id: String,
    },
}

/// Auth.js's error ids of a refused answer (`{base}/error?error=ID`).
pub(crate) const ERROR_VERIFICATION: &str = "WebAuthnVerificationError";
/// Everything not safe to tell the client more about.
pub(crate) const ERROR_CONFIGURATION: &str = "Configuration";
/// A passkey of another user than the signed-in one (`{base}/signin?error=AccountNotLinked`).
pub(crate) const ERROR_ACCOUNT_NOT_LINKED: &str = "AccountNotLinked";

/// Why an answer was refused. [`PasskeyError::error_id`] is what Auth.js answers for it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PasskeyError {
    /// No challenge cookie.
    #[error("no passkey challenge cookie")]
    MissingChallenge,
    /// A challenge cookie that this server did not seal (altered, another secret, another
    /// provider) or whose content is unusable.
    #[error("the passkey challenge cookie is not valid")]
    InvalidChallenge,
    /// The challenge was answered already.
    #[error("the passkey challenge was used already")]
    ChallengeUsed,
    /// The challenge's time is over.
    #[error("the passkey challenge expired")]
    ChallengeExpired,
    /// No action, an unknown one, or not the one the challenge was issued for.
    #[error("the passkey action is missing or not the challenge's")]
    InvalidAction,
    /// `data` is missing or is not a credential's JSON.
    #[error(transparent)]
    InvalidData(#[from] DataError),
    /// The session is not the one the registration options were given to.
    #[error("the session changed since the passkey options were given")]
    SessionChanged,
    /// A user with the registration's e-mail address exists (made since the options).
    #[error("a user with this e-mail address exists")]
    EmailTaken,
    /// No passkey has the answer's credential id.
    #[error("no passkey has this credential id")]
    UnknownCredential,
    /// The passkey's user or account is gone.
    #[error("the passkey's user is gone")]
    UnknownUser,
    /// The registered credential is the signed-in user's already.
    #[error("the passkey is registered already")]
    CredentialRegistered,
    /// The registered credential belongs to another user.
    #[error("the passkey belongs to another user")]
    CredentialOfAnotherUser,
    /// Signed in, with a passkey of another user.
    #[error("the passkey belongs to another user than the signed-in one")]
    AccountNotLinked,
    /// The answer failed verification.
    #[error(transparent)]
    Verification(#[from] Refused),
    /// The signature counter did not move forward in the store (a concurrent sign-in with the
    /// same counter, a cloned authenticator).
    #[error("the passkey's signature counter did not move forward")]
    CounterNotAdvanced,
    /// The store failed.
    #[error("the passkey store failed: {0}")]
    Store(#[from] AdapterError),
}

impl PasskeyError {
    /// Auth.js's error id: `WebAuthnVerificationError`, `AccountNotLinked` or `Configuration`.
    pub(crate) fn error_id(&self) -> &'static str {
        match self {
            PasskeyError::Verification(_) | PasskeyError::CounterNotAdvanced => ERROR_VERIFICATION,
            PasskeyError::AccountNotLinked | PasskeyError::CredentialOfAnotherUser => {
                ERROR_ACCOUNT_NOT_LINKED
            }
            _ => ERROR_CONFIGURATION,
        }
    }

    /// The page Auth.js sends the refusal to: `signin` for `AccountNotLinked`, else `error`.
    pub(crate) fn page(&self) -> &'static str {
        match self.error_id() {
            ERROR_ACCOUNT_NOT_LINKED => "signin",
            _ => "error",
        }
    }

    /// Whether the store cannot be reached now: answer 503, try again later.
    pub(crate) fn is_unavailable(&self) -> bool {
        matches!(self, PasskeyError::Store(AdapterError::Unavailable(_)))
    }
}

/// Now, Unix seconds (a test moves it).
type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// One passkey provider: its relying party, its challenge cookie, its stores.
pub(crate) struct Passkeys {
    provider_id: &'static str,
    /// Checks registrations.
    core: WebauthnCore,
    /// What sign-ins are checked against.
    expected: assertion::Expected,
    rp_id: String,
    rp_name: String,
    timeout_s: u64,
    seal: CookieSeal,
    cookie_name: String,
    secure: bool,
    adapter: Arc<dyn Adapter>,
    authenticators: Arc<dyn Authenticators>,
    /// Answers so far: every [`FORGET_EVERY`]th forgets the expired marks.
    answered: AtomicU64,
    clock: Clock,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkeys")
            .field("provider_id", &self.provider_id)
            .field("rp_id", &self.rp_id)
            .field("timeout_s", &self.timeout_s)
            .field("cookie_name", &self.cookie_name)
            .finish_non_exhaustive()
    }
}

impl Passkeys {
    /// The provider `provider_id` served at `base`: relying party id the host name, its name the
    /// host (with the port), the origin `base`'s. The challenge cookie is sealed under `secrets`
    /// (newest first; all open it), named `{__Host-}{next-auth|authjs}.challenge` after the
    /// token format's cookies. `AUTH_PASSKEY_TIMEOUT_S` (1 to 86400, default 300) comes from
    /// `env`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn configure<S: AsRef<str>>(
        provider_id: &'static str,
        base: &BaseUrl,
        secrets: &[S],
        secure: bool,
        token_format: TokenFormat,
        adapter: Arc<dyn Adapter>,
        authenticators: Arc<dyn Authenticators>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        if secrets.is_empty() {
            return Err(ConfigError::MissingSecret);
        }
        let timeout_s = match env(TIMEOUT_VARIABLE).filter(|v| !v.trim().is_empty()) {
            None => DEFAULT_TIMEOUT_S,
            Some(value) => value
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=MAX_TIMEOUT_S).contains(s))
                .ok_or_else(|| ConfigError::InvalidSetting {
                    name: TIMEOUT_VARIABLE,
                    reason: format!(
                        "{value:?} is not a number of seconds from 1 to {MAX_TIMEOUT_S}"
                    ),
                })?,
        };
        let origin = url::Url::parse(base.origin()).map_err(|e| invalid_origin(base, &e))?;
        let rp_id = origin
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| invalid_origin(base, &"no host"))?
            .to_owned();
        let rp_name = match origin.port() {
            Some(port) => format!("{rp_id}:{port}"),
            None => rp_id.clone(),
        };
        if matches!(origin.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_))) {
            tracing::warn!(
                rp_id,
                "passkeys on an IP address: browsers refuse them; serve from a domain name \
                 (localhost in development)"
            );
        }
        let expected = assertion::Expected::new(&rp_id, &origin);
        let core = WebauthnCore::new_unsafe_experts_only(
            &rp_name,
            &rp_id,
            vec![origin],
            Duration::from_secs(timeout_s),
            Some(false),
            Some(false),
        );
        let host_prefix = if secure { "__Host-" } else { "" };
        let cookie_name = format!("{host_prefix}{}.challenge", token_format.cookie_prefix());
        Ok(Passkeys {
            provider_id,
            core,
            expected,
            rp_id,
            rp_name,
            timeout_s,
            seal: CookieSeal::new(secrets, provider_id, &cookie_name),
            cookie_name,
            secure,
            adapter,
            authenticators,
            answered: AtomicU64::new(0),
            clock: Arc::new(crate::clock::now),
        })
    }

    /// Runs on `clock` instead of the system's (tests).
    #[cfg(test)]
    fn with_clock(mut self, clock: impl Fn() -> i64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The name of the challenge cookie: the handler reads it from the callback request.
    pub(crate) fn cookie_name(&self) -> &str {
        &self.cookie_name
    }

    /// The `Set-Cookie` line that deletes the challenge cookie (after a sign-in).
    pub(crate) fn clear_challenge_cookie(&self) -> String {
        cookies::set_cookie(&self.cookie_name, "", Lifetime::Delete, self.secure)
    }

    /// `GET {base}/webauthn-options/{id}?action=..&email=..`: the ceremony's options, and the
    /// challenge cookie. Nothing is written: the cookie carries the ceremony.
    ///
    /// `register` needs an e-mail of no existing user while signed out (or as a guest), or a
    /// session (its user gets the passkey; `email` is ignored). Without an action: signed out,
    /// no e-mail or a known one authenticates and an unknown one registers; signed in, it is
    /// an invalid request.
    pub(crate) async fn options(
        &self,
        action: Option<&str>,
        email: Option<&str>,
        signed_in: Option<SignedInUser>,
    ) -> Result<OptionsAnswer, OptionsRefusal> {
        // An empty parameter is no parameter, as in Auth.js.
        let action = match action.filter(|a| !a.is_empty()) {
            None => None,
            Some(name) => Some(Action::parse(name).ok_or(OptionsRefusal::InvalidAction)?),
        };
        let email = match email.map(str::trim).filter(|e| !e.is_empty()) {
            None => None,
            Some(email) => Some(normalize_email(email).ok_or(OptionsRefusal::InvalidRequest)?),
        };
        // A guest counts as signed out: it registers as a new user.
        let member = signed_in.filter(|user| !user.is_guest);
        let register = match (action, &member) {
            (None, Some(_)) => return Err(OptionsRefusal::InvalidRequest),
            (None, None) => match &email {
                None => None,
                Some(email) => match self.adapter.get_user_by_email(email).await? {
                    Some(_) => None,
                    None => Some(RegisterFor::Email(email.clone())),
                },
            },
            (Some(Action::Register), Some(user)) => Some(RegisterFor::User(user.id.clone())),
            (Some(Action::Register), None) => {
                let email = email.clone().ok_or(OptionsRefusal::InvalidRequest)?;
                if self.adapter.get_user_by_email(&email).await?.is_some() {
                    return Err(OptionsRefusal::InvalidRequest);
                }
                Some(RegisterFor::Email(email))
            }
            (Some(Action::Authenticate), _) => None,
        };
        let (_, challenge_text) = challenge::new_challenge();
        let (action, options) = match &register {
            Some(target) => {
                let options = self
                    .register_options(&challenge_text, target, member.as_ref())
                    .await?;
                (Action::Register, options)
            }
            None => {
                let options = self
                    .authenticate_options(&challenge_text, email.as_deref(), member.as_ref())
                    .await?;
                (Action::Authenticate, options)
            }
        };
        let expires = (self.clock)().saturating_add(self.timeout_s as i64);
        let ceremony = Ceremony {
            challenge: challenge_text,
            action,
            expires,
            register,
        };
        let sealed = self.seal.seal(&ceremony).map_err(|_| {
            OptionsRefusal::Store(AdapterError::Unsupported("a sealed passkey challenge"))
        })?;
        let set_cookie = cookies::set_cookie(
            &self.cookie_name,
            &sealed,
            Lifetime::Until(expires.saturating_add(COOKIE_GRACE_S)),
            self.secure,
        );
        Ok(OptionsAnswer {
            body: json!({ "action": action.as_str(), "options": options }),
            set_cookie,
        })
    }

    /// PublicKeyCredentialCreationOptionsJSON, as Auth.js's `@simplewebauthn/server` writes it.
    async fn register_options(
        &self,
        challenge: &str,
        target: &RegisterFor,
        member: Option<&SignedInUser>,
    ) -> Result<Value, AdapterError> {
        let (name, display_name, exclude) = match (target, member) {
            (RegisterFor::User(id), Some(user)) => {
                let name = user
                    .email
                    .clone()
                    .or_else(|| user.name.clone())
                    .unwrap_or_else(|| id.clone());
                let display = user.name.clone().unwrap_or_else(|| name.clone());
                let exclude = self
                    .authenticators
                    .of_user(id)
                    .await?
                    .iter()
                    .filter_map(descriptor)
                    .collect();
                (name, display, exclude)
            }
            (RegisterFor::User(id), None) => (id.clone(), id.clone(), Vec::new()),
            (RegisterFor::Email(email), _) => (email.clone(), email.clone(), Vec::new()),
        };
        // A random handle, not the user id: Auth.js's, and it tells the authenticator nothing.
        let user_handle = crate::csrf::hex(&rand::random::<[u8; 32]>());
        let algorithms: Vec<Value> = verify::ALGORITHMS
            .iter()
            .map(|alg| json!({ "alg": *alg as i64, "type": "public-key" }))
            .collect();
        Ok(json!({
            "challenge": challenge,
            "rp": { "name": self.rp_name, "id": self.rp_id },
            "user": { "id": user_handle, "name": name, "displayName": display_name },
            "pubKeyCredParams": algorithms,
            "timeout": self.timeout_s * 1000,
            "attestation": "none",
            "excludeCredentials": exclude,
            "authenticatorSelection": {
                "residentKey": "required",
                "userVerification": "required",
                "requireResidentKey": true,
            },
            "extensions": { "credProps": true },
        }))
    }

    /// PublicKeyCredentialRequestOptionsJSON. `allowCredentials` only for the signed-in owner of
    /// `email`: Auth.js lists anyone's, which tells strangers which addresses have passkeys and
    /// their credential ids; the passkeys are resident keys, so the browser finds them anyway.
    async fn authenticate_options(
        &self,
        challenge: &str,
        email: Option<&str>,
        member: Option<&SignedInUser>,
    ) -> Result<Value, AdapterError> {
        let mut options = json!({
            "challenge": challenge,
            "timeout": self.timeout_s * 1000,
            "userVerification": "required",
            "rpId": self.rp_id,
        });
        if let (Some(email), Some(member)) = (email, member)
            && let Some(user) = self.adapter.get_user_by_email(email).await?
            && user.id == member.id
        {
            let allow: Vec<Value> = self
                .authenticators
                .of_user(&user.id)
                .await?
                .iter()
                .filter_map(descriptor)
                .collect();
            if !allow.is_empty() {
                options["allowCredentials"] = Value::Array(allow);
            }
        }
        Ok(options)
    }

    /// `POST {base}/callback/{id}` with `action` and `data` (the credential's JSON), the
    /// challenge cookie and the session: the user to sign in, or why not.
    ///
    /// The challenge is marked answered first, so whatever follows, it is answered once.
    pub(crate) async fn finish(
        &self,
        action: Option<&str>,
        data: Option<&str>,
        challenge_cookie: Option<&str>,
        signed_in: Option<SignedInUser>,
    ) -> Result<Finished, PasskeyError> {
        let cookie = challenge_cookie
            .filter(|c| !c.is_empty())
            .ok_or(PasskeyError::MissingChallenge)?;
        let ceremony = self
            .seal
            .open(cookie)
            .map_err(|_| PasskeyError::InvalidChallenge)?;
        let challenge = ceremony
            .challenge_bytes()
            .ok_or(PasskeyError::InvalidChallenge)?;
        let now = (self.clock)();
        if now > ceremony.expires {
            return Err(PasskeyError::ChallengeExpired);
        }
        let mark = ChallengeMark {
            identifier: challenge::record_identifier(self.provider_id),
            token: challenge::record_token(&challenge),
            expires: ceremony.expires,
        };
        let action = action
            .and_then(Action::parse)
            .filter(|action| *action == ceremony.action);
        let data = data.filter(|d| !d.is_empty());
        // A sign-in's answer is read first, so that its passkey is read with the mark, in one
        // visit to the store; the mark comes before any refusal.
        let sign_in = match (action, data) {
            (Some(Action::Authenticate), Some(data)) => Some(verify::parse_authentication(data)),
            _ => None,
        };
        let (first, record) = match &sign_in {
            Some(Ok(Ok((_, raw_id)))) => {
                self.authenticators
                    .answer_and_read(&mark, &STANDARD.encode(raw_id), self.provider_id)
                    .await?
            }
            _ => (self.authenticators.answer_challenge(&mark).await?, None),
        };
        if !first {
            return Err(PasskeyError::ChallengeUsed);
        }
        if self
            .answered
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(FORGET_EVERY)
        {
            // The marks outlive their ceremonies only until here; a failure keeps them a while.
            if let Err(error) = self
                .authenticators
                .forget_answered(&mark.identifier, now)
                .await
            {
                tracing::warn!(%error, "expired passkey challenges were not removed");
            }
        }
        let action = action.ok_or(PasskeyError::InvalidAction)?;
        let data = data.ok_or(DataError("no data"))?;
        // A guest counts as signed out, as in the options.
        let member = signed_in.filter(|user| !user.is_guest);
        match (action, sign_in) {
            (Action::Register, _) => {
                let target = ceremony
                    .register
                    .as_ref()
                    .ok_or(PasskeyError::InvalidChallenge)?;
                self.register(&challenge, target, data, member.as_ref())
                    .await
            }
            (Action::Authenticate, Some(parsed)) => {
                let (answer, raw_id) = parsed??;
                self.authenticate(&challenge, &answer, &raw_id, record, member.as_ref())
                    .await
            }
            (Action::Authenticate, None) => Err(DataError("no data").into()),
        }
    }

    async fn register(
        &self,
        challenge: &[u8],
        target: &RegisterFor,
        data: &str,
        member: Option<&SignedInUser>,
    ) -> Result<Finished, PasskeyError> {
        // The session must be the one the options were given to.
        let existing = match (target, member) {
            (RegisterFor::User(id), Some(user)) if *id == user.id => Some(
                self.adapter
                    .get_user(id)
                    .await?
                    .ok_or(PasskeyError::UnknownUser)?,
            ),
            (RegisterFor::Email(email), None) => {
                if self.adapter.get_user_by_email(email).await?.is_some() {
                    return Err(PasskeyError::EmailTaken);
                }
                None
            }
            _ => return Err(PasskeyError::SessionChanged),
        };
        let registration = verify::parse_registration(data)??;
        let passkey = verify::verify_registration(&self.core, challenge, &registration)?;
        let credential_id = STANDARD.encode(&passkey.credential_id);
        let owner_of = |owner: &str| match &existing {
            Some(user) if user.id == owner => PasskeyError::CredentialRegistered,
            _ => PasskeyError::CredentialOfAnotherUser,
        };
        // A credential belongs to one user: checked before anything is written.
        if let Some(stored) = self.authenticators.by_credential_id(&credential_id).await? {
            return Err(owner_of(&stored.user_id));
        }
        if let Some(owner) = self
            .adapter
            .get_user_by_account(self.provider_id, &credential_id)
            .await?
        {
            return Err(owner_of(&owner.id));
        }
        let mut stored = StoredAuthenticator {
            credential_id: credential_id.clone(),
            user_id: String::new(),
            provider_account_id: credential_id.clone(),
            credential_public_key: STANDARD.encode(&passkey.public_key),
            counter: i64::from(passkey.counter),
            credential_device_type: if passkey.backup_eligible {
                verify::MULTI_DEVICE
            } else {
                verify::SINGLE_DEVICE
            }
            .to_owned(),
            credential_backed_up: passkey.backed_up,
            transports: Some(registration.transports.join(",")).filter(|t| !t.is_empty()),
        };
        let account = AdapterAccount {
            kind: ACCOUNT_TYPE.to_owned(),
            provider: self.provider_id.to_owned(),
            provider_account_id: credential_id.clone(),
            ..AdapterAccount::default()
        };
        let (user, made_user) = match existing {
            Some(user) => {
                let account = AdapterAccount {
                    user_id: user.id.clone(),
                    ..account
                };
                self.adapter
                    .link_account(account)
                    .await
                    .map_err(|e| taken_or(e, PasskeyError::CredentialRegistered))?;
                stored.user_id = user.id.clone();
                if let Err(error) = self.authenticators.create(&stored).await {
                    // Undo the link: no account without its passkey.
                    let _ = self
                        .adapter
                        .unlink_account(self.provider_id, &credential_id)
                        .await;
                    return Err(created(error, &user.id));
                }
                (user, false)
            }
            None => {
                let RegisterFor::Email(email) = target else {
                    return Err(PasskeyError::SessionChanged);
                };
                let fields = UserFields {
                    email: Some(email.clone()),
                    ..UserFields::default()
                };
                let user = self
                    .adapter
                    .create_user_with_account(fields, account)
                    .await
                    .map_err(|e| taken_or(e, PasskeyError::CredentialOfAnotherUser))?;
                stored.user_id = user.id.clone();
                if let Err(error) = self.authenticators.create(&stored).await {
                    // Undo the user: no user without the passkey it was made for.
                    let _ = self.adapter.delete_user(&user.id).await;
                    return Err(created(error, &user.id));
                }
                (user, true)
            }
        };
        Ok(Finished::Registered {
            user: to_user(user),
            credential_id,
            made_user,
        })
    }

    /// Checks a sign-in's `answer` with the passkey `record` read for it.
    async fn authenticate(
        &self,
        challenge: &[u8],
        answer: &PublicKeyCredential,
        raw_id: &[u8],
        record: Option<SignInRecord>,
        member: Option<&SignedInUser>,
    ) -> Result<Finished, PasskeyError> {
        let credential_id = STANDARD.encode(raw_id);
        let record = record.ok_or(PasskeyError::UnknownCredential)?;
        let stored = record.authenticator;
        let credential = verify::stored_credential(&stored).ok_or_else(|| {
            PasskeyError::Store(AdapterError::Corrupt {
                what: "passkey",
                detail: format!("the passkey {credential_id} cannot be read"),
            })
        })?;
        let counter = assertion::verify(&self.expected, challenge, answer, &credential)?;
        // As Auth.js: the user is the one the provider's account names.
        let user = record.user.ok_or(PasskeyError::UnknownUser)?;
        if member.is_some_and(|member| member.id != user.id) {
            return Err(PasskeyError::AccountNotLinked);
        }
        // An authenticator that does not count (both zero) has nothing to record.
        let counts = counter != 0 || stored.counter != 0;
        if counts
            && !self
                .authenticators
                .update_counter(&credential_id, i64::from(counter))
                .await?
        {
            return Err(PasskeyError::CounterNotAdvanced);
        }
        Ok(Finished::Authenticated {
            user: to_user(user),
            credential_id,
        })
    }
}

/// A stored passkey as a credential descriptor (`excludeCredentials`, `allowCredentials`).
fn descriptor(stored: &StoredAuthenticator) -> Option<Value> {
    let id = STANDARD.decode(&stored.credential_id).ok()?;
    let mut descriptor = json!({ "id": URL_SAFE_NO_PAD.encode(id), "type": "public-key" });
    let transports: Vec<&str> = stored
        .transports
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter(|t| !t.is_empty())
        .collect();
    if !transports.is_empty() {
        descriptor["transports"] = json!(transports);
    }
    Some(descriptor)
}

/// An account insert refused as linked already means the credential is someone's.
fn taken_or(error: AdapterError, taken: PasskeyError) -> PasskeyError {
    match error {
        AdapterError::Conflict(_) => taken,
        error => PasskeyError::Store(error),
    }
}

/// A refused passkey insert for the user `user_id`.
fn created(error: CreateAuthenticatorError, user_id: &str) -> PasskeyError {
    match error {
        CreateAuthenticatorError::Taken { owner: Some(owner) } if owner == user_id => {
            PasskeyError::CredentialRegistered
        }
        CreateAuthenticatorError::Taken { .. } => PasskeyError::CredentialOfAnotherUser,
        CreateAuthenticatorError::Store(error) => PasskeyError::Store(error),
    }
}

fn to_user(user: AdapterUser) -> User {
    User {
        id: user.id,
        name: user.name,
        email: user.email,
        image: user.image,
    }
}

fn invalid_origin(base: &BaseUrl, reason: &dyn std::fmt::Display) -> ConfigError {
    ConfigError::InvalidSetting {
        name: "url",
        reason: format!("passkeys need a host in {:?}: {reason}", base.origin()),
    }
}

/// An e-mail address as the store keeps it (trimmed, lower-cased), if it looks like one.
fn normalize_email(email: &str) -> Option<String> {
    let email = email.trim().to_lowercase();
    let (local, domain) = email.rsplit_once('@')?;
    let fine = email.len() <= MAX_EMAIL_LEN
        && !local.is_empty()
        && !domain.is_empty()
        && !email
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>');
    fine.then_some(email)
}
