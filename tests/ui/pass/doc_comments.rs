// Doc comments on the structs, their fields and the providers are carried over to the generated
// items (`cargo doc` shows them); `missing_docs` finds nothing undocumented in the expansion.
#![deny(missing_docs)]
//! A documented application.

/// The authentication of this application.
pub mod auth {
    use auth_runtime::{User, next_auth};

    next_auth! {
        /// Claims carried in the session token.
        pub struct Token {
            /// The role of the user.
            pub role: String,
        }
        /// What the session endpoint returns.
        pub struct Session {
            /// Whether the visitor signed in for real.
            pub is_logged_in: bool,
        }
        providers: [
            /// Anyone can sign in as a guest.
            ///
            /// Each sign-in creates a new guest.
            Credentials {
                id: "guest",
                credentials: {},
                authorize: |_credentials| Ok(Some(User::with_id("guest"))),
            },
            /// Members sign in with their password.
            Credentials {
                id: "member",
                credentials: { password: { type: "password" } },
                authorize: |_credentials| Ok(None),
            },
        ],
    }
}

fn main() {
    assert_eq!(auth::Provider::Member.id(), "member");
}
