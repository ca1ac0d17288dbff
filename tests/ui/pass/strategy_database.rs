// Database sessions for every provider, Credentials and Anonymous included (NextAuth allows them
// for OAuth and e-mail only); the adapter is given at run time.
use auth_runtime::{AuthDefinition, next_auth};

next_auth! {
    strategy: "database",
    providers: [
        Credentials { id: "password", credentials: {}, authorize: |_c| Ok(None) },
        Anonymous { id: "guest" },
    ],
}

fn main() {
    assert_eq!(
        NextAuth::SETTINGS.strategy,
        Some(auth_runtime::SessionStrategy::Database)
    );
}
