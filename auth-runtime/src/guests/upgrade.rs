//! Upgrade: a guest signs in, and becomes a user in one transaction.
//!
//! The transition, in the store's transaction:
//!
//! 1. claim the guest with a conditional update (`... WHERE id = $1 AND upgraded_to IS NULL`):
//!    of concurrent upgrades of one guest, one claims it and the others find it claimed (on
//!    PostgreSQL they wait on the row lock, then see the winner's row; on SQLite writers are
//!    serialised by `BEGIN IMMEDIATE`) and get [`GuestError::AlreadyUpgraded`](super::GuestError);
//! 2. link the identity to the guest (`INSERT ... ON CONFLICT DO NOTHING`): inserted means the
//!    identity was new, [`UpgradeOutcome::Promoted`]; not inserted means it belongs to a user
//!    already, [`UpgradeOutcome::Merged`] into that user;
//! 3. run the application's [`UpgradeHook`] on the same transaction (move the cart);
//! 4. commit, or roll everything back if the hook failed.

use super::{GuestTx, HookFuture};

/// A real sign-in identity: a provider and the user's id at that provider (OAuth `sub`, the
/// verified email of an email provider, ...).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identity {
    /// The provider id (`"google"`, `"user"`).
    pub provider: String,
    /// The user's stable id at the provider.
    pub subject: String,
}

impl Identity {
    /// The identity `subject` at `provider`.
    pub fn new(provider: impl Into<String>, subject: impl Into<String>) -> Self {
        Identity {
            provider: provider.into(),
            subject: subject.into(),
        }
    }
}

/// What an upgrade did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeOutcome {
    /// The identity was new: the guest became the user, with the same id. The application's data
    /// keyed by the guest id needs no move.
    Promoted {
        /// The user's id, which is the guest's.
        user_id: String,
    },
    /// The identity already belonged to a user: the guest was merged into it. Move the guest's
    /// data from `guest_id` to `into` (and merge what collides, e.g. two carts).
    Merged {
        /// The guest's id.
        guest_id: String,
        /// The existing user's id.
        into: String,
    },
}

impl UpgradeOutcome {
    /// The id of the user to sign in as.
    pub fn user_id(&self) -> &str {
        match self {
            UpgradeOutcome::Promoted { user_id } => user_id,
            UpgradeOutcome::Merged { into, .. } => into,
        }
    }

    pub(super) fn label(&self) -> &'static str {
        match self {
            UpgradeOutcome::Promoted { .. } => "promoted",
            UpgradeOutcome::Merged { .. } => "merged",
        }
    }
}

/// The application's part of an upgrade: moves its data (the cart) inside the store's
/// transaction. An error rolls the whole upgrade back.
///
/// The hook carries whatever application state it needs (it is the application's own type).
/// Inside it, write through the transaction only: on SQLite the store's writer connection is the
/// transaction's, so a write through another connection to the same file waits for it.
///
/// ```
/// use auth_runtime::guests::{GuestTx, HookFuture, UpgradeHook, UpgradeOutcome};
///
/// /// Gives the guest's cart to the user it was merged into.
/// struct MoveCart;
///
/// impl UpgradeHook for MoveCart {
///     fn on_upgrade<'a>(&'a self, outcome: &'a UpgradeOutcome, tx: GuestTx<'a>) -> HookFuture<'a> {
///         Box::pin(async move {
///             let UpgradeOutcome::Merged { guest_id, into } = outcome else {
///                 return Ok(()); // promoted: same id, nothing to move
///             };
///             let GuestTx::Sqlite(tx) = tx else {
///                 return Err("this app keeps carts in SQLite".into());
///             };
///             sqlx::query("UPDATE carts SET owner = $1 WHERE owner = $2")
///                 .bind(into)
///                 .bind(guest_id)
///                 .execute(&mut **tx)
///                 .await?;
///             Ok(())
///         })
///     }
/// }
/// ```
pub trait UpgradeHook: Send + Sync {
    /// Called once per successful upgrade, before commit.
    fn on_upgrade<'a>(&'a self, outcome: &'a UpgradeOutcome, tx: GuestTx<'a>) -> HookFuture<'a>;
}

/// A hook that does nothing (the application keeps no data of its own per guest, or moves it
/// elsewhere).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHook;

impl UpgradeHook for NoHook {
    fn on_upgrade<'a>(&'a self, _: &'a UpgradeOutcome, _: GuestTx<'a>) -> HookFuture<'a> {
        Box::pin(async { Ok(()) })
    }
}
