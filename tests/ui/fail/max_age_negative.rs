// Durations are seconds, not negative.
use auth_runtime::next_auth;

next_auth! {
    max_age: -60,
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
}

fn main() {}
