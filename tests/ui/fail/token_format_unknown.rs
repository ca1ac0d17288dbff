// The token format is "nextauth-v4", "authjs-v5" or "jws".
use auth_runtime::next_auth;

next_auth! {
    token_format: "nextauth-4",
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
}

fn main() {}
