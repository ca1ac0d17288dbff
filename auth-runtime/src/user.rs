//! Users, accounts and the events the `jwt` callback receives.

use serde::{Deserialize, Serialize};

/// The user an `authorize` closure returns, and that a sign-in puts in the token.
///
/// ```
/// use auth_runtime::User;
///
/// let user = User::with_id("guest-42").name("Ada");
/// assert_eq!(user.id, "guest-42");
/// assert_eq!(user.name.as_deref(), Some("Ada"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user id; it becomes the token's `sub`.
    pub id: String,
    /// Display name (`name` claim).
    pub name: Option<String>,
    /// Email address (`email` claim).
    pub email: Option<String>,
    /// Avatar URL (`picture` claim, `session.user.image`).
    pub image: Option<String>,
}

impl User {
    /// A user with only an id.
    pub fn with_id(id: impl Into<String>) -> Self {
        User {
            id: id.into(),
            ..User::default()
        }
    }

    /// Sets the display name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the email address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the avatar URL.
    pub fn image(mut self, image: impl Into<String>) -> Self {
        self.image = Some(image.into());
        self
    }
}

/// How the user signed in, as NextAuth's `account` argument describes it.
///
/// Credentials sign-ins fill the first three fields; OAuth and OpenID Connect sign-ins also carry
/// the tokens the provider issued. `Debug` never prints a token.
///
/// ```
/// use auth_runtime::Account;
///
/// let account = Account::new("anon", "credentials", "guest-1");
/// assert_eq!(account.access_token, None);
/// assert_eq!(
///     serde_json::to_value(&account).unwrap(),
///     serde_json::json!({ "provider": "anon", "type": "credentials", "providerAccountId": "guest-1" })
/// );
/// ```
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The provider id (`"anon"`).
    pub provider: String,
    /// The provider's kind (`"credentials"`, `"oauth"`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The user's id at the provider: for Credentials the id `authorize` returned, for OAuth and
    /// OpenID Connect the profile's `sub`.
    #[serde(rename = "providerAccountId")]
    pub provider_account_id: String,
    /// The provider's access token (OAuth), e.g. to call its API on the user's behalf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// The access token's type, usually `"bearer"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// When the access token expires, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The refresh token, if the provider issued one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The scopes granted, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The raw, validated OpenID Connect ID token (a JWT), for proving the sign-in to a third
    /// party.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl Account {
    /// An account without tokens, as a Credentials sign-in produces.
    pub fn new(
        provider: impl Into<String>,
        kind: impl Into<String>,
        provider_account_id: impl Into<String>,
    ) -> Self {
        Account {
            provider: provider.into(),
            kind: kind.into(),
            provider_account_id: provider_account_id.into(),
            ..Account::default()
        }
    }
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |token: &Option<String>| token.as_ref().map(|_| "<redacted>");
        f.debug_struct("Account")
            .field("provider", &self.provider)
            .field("kind", &self.kind)
            .field("provider_account_id", &self.provider_account_id)
            .field("access_token", &redacted(&self.access_token))
            .field("token_type", &self.token_type)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &redacted(&self.refresh_token))
            .field("scope", &self.scope)
            .field("id_token", &redacted(&self.id_token))
            .finish()
    }
}

/// The user's profile at an OAuth or OpenID Connect provider: the standard OpenID Connect claims
/// (from the validated ID token and the userinfo endpoint) and every claim as received.
///
/// For plain OAuth providers the userinfo JSON is mapped onto the standard claims: `sub` or
/// `id` (a string or a number) becomes `sub`, `avatar_url` fills `picture` and `login` fills
/// `preferred_username`, as GitHub names them.
///
/// ```
/// use auth_runtime::Profile;
///
/// let profile = Profile::from_json(serde_json::json!({
///     "id": 583231, "login": "octocat", "name": "The Octocat", "avatar_url": "https://a.example/o.png"
/// }))
/// .unwrap();
/// assert_eq!(profile.sub, "583231");
/// assert_eq!(profile.preferred_username.as_deref(), Some("octocat"));
/// assert_eq!(profile.picture.as_deref(), Some("https://a.example/o.png"));
/// assert_eq!(profile.raw["login"], "octocat");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The subject: the user's stable id at the provider.
    pub sub: String,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// The short name the user goes by (GitHub's `login`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// Email address, as the provider gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the provider verified the email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    /// Avatar URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// Locale, e.g. `en-GB`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Every claim as the provider sent it (ID token claims merged with userinfo).
    #[serde(default)]
    pub raw: serde_json::Value,
}

/// Why a provider's profile JSON could not be read.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ProfileError {
    /// The profile is not a JSON object.
    #[error("the provider's profile is not a JSON object")]
    NotAnObject,
    /// Neither `sub` nor `id` is a non-empty string or a number.
    #[error("the provider's profile has no `sub` or `id`")]
    MissingSubject,
}

impl Profile {
    /// Reads a profile from claims JSON (userinfo or ID token claims).
    pub fn from_json(raw: serde_json::Value) -> Result<Self, ProfileError> {
        let object = raw.as_object().ok_or(ProfileError::NotAnObject)?;
        let text = |key: &str| {
            object
                .get(key)
                .and_then(serde_json::Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let id = |key: &str| match object.get(key) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let sub = id("sub")
            .or_else(|| id("id"))
            .ok_or(ProfileError::MissingSubject)?;
        let email_verified = match object.get("email_verified") {
            Some(serde_json::Value::Bool(b)) => Some(*b),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        };
        Ok(Profile {
            sub,
            name: text("name"),
            given_name: text("given_name"),
            family_name: text("family_name"),
            preferred_username: text("preferred_username").or_else(|| text("login")),
            email: text("email"),
            email_verified,
            picture: text("picture").or_else(|| text("avatar_url")),
            locale: text("locale"),
            raw,
        })
    }

    /// The user a sign-in with this profile puts in the token: `sub`, `name`, the email
    /// lower-cased (as NextAuth does) and `picture`.
    pub fn to_user(&self) -> User {
        User {
            id: self.sub.clone(),
            name: self
                .name
                .clone()
                .or_else(|| self.preferred_username.clone()),
            email: self.email.as_ref().map(|e| e.to_lowercase()),
            image: self.picture.clone(),
        }
    }
}

/// The standard `session.user` object: `{ name, email, image }`, nulls kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    /// From the token's `name` claim.
    pub name: Option<String>,
    /// From the token's `email` claim.
    pub email: Option<String>,
    /// From the token's `picture` claim.
    pub image: Option<String>,
}

/// What a sign-in did to the guest the browser was (see `auth_runtime::guests`): the same
/// transition as `guests::UpgradeOutcome`, available without the `guests` feature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestUpgrade {
    /// The identity was new: the guest became the user, with the same id.
    Promoted {
        /// The user's id, which is the guest's.
        user_id: String,
    },
    /// The identity already belonged to a user: the guest was merged into it.
    Merged {
        /// The guest's id.
        guest_id: String,
        /// The existing user's id, which the session now belongs to.
        into: String,
    },
}

impl GuestUpgrade {
    /// The id of the user signed in as.
    pub fn user_id(&self) -> &str {
        match self {
            GuestUpgrade::Promoted { user_id } => user_id,
            GuestUpgrade::Merged { into, .. } => into,
        }
    }
}

/// Why the `jwt` callback runs. `P` is the `Provider` enum and `T` the `Token` type that
/// `next_auth!` generates; the macro also generates `type JwtEvent = auth_runtime::JwtEvent<Provider,
/// Token>` so callbacks can name it directly.
///
/// ```
/// use auth_runtime::{Account, JwtEvent, User};
///
/// #[derive(Debug, Clone, Copy, PartialEq)]
/// enum Provider { Anon }
/// #[derive(Debug, Clone, PartialEq)]
/// struct Token { guest: Option<String> }
///
/// let event: JwtEvent<Provider, Token> = JwtEvent::SignIn {
///     provider: Provider::Anon,
///     user: User::with_id("guest-2"),
///     account: Account::new("anon", "credentials", "guest-2"),
///     profile: None,
///     previous: Some(Token { guest: Some("guest-1".into()) }),
///     upgrade: None,
/// };
/// if let JwtEvent::SignIn { previous: Some(old), .. } = &event {
///     assert_eq!(old.guest.as_deref(), Some("guest-1"));
/// }
/// ```
// One event is built per callback run and moved into it; boxing the sign-in's fields would only
// make the user's patterns (`profile: Some(profile)`) clumsier.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum JwtEvent<P, T> {
    /// A sign-in just succeeded.
    SignIn {
        /// The provider used; matching on it is checked for exhaustiveness by rustc.
        provider: P,
        /// The user the provider returned.
        user: User,
        /// The account linking the user to the provider (with its tokens for OAuth).
        account: Account,
        /// The user's profile at an OAuth or OpenID Connect provider; `None` for Credentials.
        profile: Option<Profile>,
        /// The verified token of the session the browser already had (a guest, typically), so
        /// its data can be carried over; `None` when there was no valid session.
        previous: Option<T>,
        /// When the browser was a guest of the engine's guest store: what the sign-in did to it
        /// (promoted to this user, or merged into an existing one). `None` otherwise, and for
        /// a concurrent double-submit that lost (the winner's request carried the outcome).
        upgrade: Option<GuestUpgrade>,
    },
    /// An existing session is read (`GET /api/auth/session`).
    Refresh,
    /// The client called `update(data)` (`POST /api/auth/session`). `data` is untrusted input.
    Update {
        /// What the client sent, as JSON.
        data: serde_json::Value,
    },
}
