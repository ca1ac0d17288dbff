// The session strategy is "jwt" or "database".
use auth_runtime::next_auth;

next_auth! {
    strategy: "jwts",
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
}

fn main() {}
