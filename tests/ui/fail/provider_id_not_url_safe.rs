// A provider id is part of URLs (`/api/auth/callback/<id>`): letters, digits, `-` and `_` only.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials { id: "guest login", credentials: {}, authorize: |_c| Ok(None) },
    ],
}

fn main() {}
