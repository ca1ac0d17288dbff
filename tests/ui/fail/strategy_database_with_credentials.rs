// NextAuth's rule: Credentials providers only work with JWT sessions.
use auth_runtime::next_auth;

next_auth! {
    strategy: "database",
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
}

fn main() {}
