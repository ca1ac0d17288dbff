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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The provider id (`"anon"`).
    pub provider: String,
    /// The provider's kind (`"credentials"`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The user's id at the provider; for Credentials, the id `authorize` returned.
    pub provider_account_id: String,
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

/// Why the `jwt` callback runs. `P` is the `Provider` enum `next_auth!` generates; the macro also
/// generates `type JwtEvent = auth_runtime::JwtEvent<Provider>` so callbacks can name it directly.
#[derive(Debug, Clone, PartialEq)]
pub enum JwtEvent<P> {
    /// A sign-in just succeeded.
    SignIn {
        /// The provider used; matching on it is checked for exhaustiveness by rustc.
        provider: P,
        /// The user the provider returned.
        user: User,
        /// The account linking the user to the provider.
        account: Account,
    },
    /// An existing session is read (`GET /api/auth/session`).
    Refresh,
    /// The client called `update(data)` (`POST /api/auth/session`). `data` is untrusted input.
    Update {
        /// What the client sent, as JSON.
        data: serde_json::Value,
    },
}
