//! What happened, told to the application after the fact: the `events` of `next_auth!`, as
//! NextAuth's `events` option has them, plus the guest lifecycle.
//!
//! The engine awaits each event's handler before it answers, in the order things happened; a
//! handler's error is logged with the event's name and never changes the response.

use crate::user::{Account, GuestUpgrade, User};

/// A sign-in went through: the session was issued.
#[derive(Debug)]
#[non_exhaustive]
pub struct SignIn<'a, P> {
    /// The provider used.
    pub provider: P,
    /// The user signed in as (its id is the guest store's, after an upgrade).
    pub user: &'a User,
    /// How the user signed in.
    pub account: &'a Account,
    /// Whether this sign-in made the user: a guest promoted to a user.
    pub is_new_user: bool,
    /// Whether this signs a guest in (an Anonymous provider).
    pub as_guest: bool,
}

/// A browser signed out.
#[derive(Debug)]
#[non_exhaustive]
pub struct SignOut<'a, T> {
    /// The session's token, when it was still valid.
    pub token: Option<&'a T>,
}

/// A user came into being: a guest promoted to a user by its first real sign-in, or a user
/// row the adapter made (an e-mail sign-in of a new address).
#[derive(Debug)]
#[non_exhaustive]
pub struct CreateUser<'a> {
    /// The new user's id (the guest's, or the adapter's row id).
    pub user_id: &'a str,
}

/// The adapter changed a user row: an e-mail sign-in marked an existing user's address as
/// verified (NextAuth's `updateUser`).
#[derive(Debug)]
#[non_exhaustive]
pub struct UpdateUser<'a> {
    /// The user's row id.
    pub user_id: &'a str,
    /// The address now verified.
    pub email: &'a str,
}

/// An account (a provider's identity) was linked to a user.
#[derive(Debug)]
#[non_exhaustive]
pub struct LinkAccount<'a> {
    /// The user it now belongs to.
    pub user_id: &'a str,
    /// The account.
    pub account: &'a Account,
}

/// A session was read (`GET /api/auth/session`).
#[derive(Debug)]
#[non_exhaustive]
pub struct Session<'a, T> {
    /// The session's token, after the `jwt` callback.
    pub token: &'a T,
}

/// A guest was created (not handed back to the browser that already had it).
#[derive(Debug)]
#[non_exhaustive]
pub struct GuestCreated<'a> {
    /// The guest's id.
    pub guest_id: &'a str,
}

/// A guest signed in for real and was promoted to a user or merged into one.
#[derive(Debug)]
#[non_exhaustive]
pub struct GuestUpgraded<'a> {
    /// What happened to it.
    pub upgrade: &'a GuestUpgrade,
}

/// One event, as the engine hands it to the `events` of `next_auth!`. `P` is the `Provider`
/// enum and `T` the `Token` type.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a, P, T> {
    /// See [`SignIn`].
    SignIn(SignIn<'a, P>),
    /// See [`SignOut`].
    SignOut(SignOut<'a, T>),
    /// See [`CreateUser`].
    CreateUser(CreateUser<'a>),
    /// See [`LinkAccount`].
    LinkAccount(LinkAccount<'a>),
    /// See [`UpdateUser`].
    UpdateUser(UpdateUser<'a>),
    /// See [`Session`].
    Session(Session<'a, T>),
    /// See [`GuestCreated`].
    GuestCreated(GuestCreated<'a>),
    /// See [`GuestUpgraded`].
    GuestUpgraded(GuestUpgraded<'a>),
}

impl<P, T> Event<'_, P, T> {
    /// The event's key in `events: { .. }`.
    pub fn name(&self) -> &'static str {
        match self {
            Event::SignIn(_) => "sign_in",
            Event::SignOut(_) => "sign_out",
            Event::CreateUser(_) => "create_user",
            Event::LinkAccount(_) => "link_account",
            Event::UpdateUser(_) => "update_user",
            Event::Session(_) => "session",
            Event::GuestCreated(_) => "guest_created",
            Event::GuestUpgraded(_) => "guest_upgraded",
        }
    }
}
