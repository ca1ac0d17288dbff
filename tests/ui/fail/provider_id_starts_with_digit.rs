// A provider id starts with a letter, so that it has a Rust variant name.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials { id: "2fa", credentials: {}, authorize: |_c| Ok(None) },
    ],
}

fn main() {}
