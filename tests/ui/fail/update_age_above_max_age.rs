// Sessions would expire before they are renewed.
use auth_runtime::next_auth;

next_auth! {
    max_age: 60 * 60,
    update_age: 2 * 60 * 60,
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
}

fn main() {}
