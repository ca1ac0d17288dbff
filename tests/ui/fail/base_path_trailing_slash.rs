// `base_path` is a plain path like "/api/auth".
use auth_runtime::next_auth;

next_auth! {
    base_path: "/api/auth/",
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
}

fn main() {}
