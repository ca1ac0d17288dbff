use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
        Credentials { id: "anon", name: "Again", credentials: {}, authorize: |_c| Ok(None) },
    ],
}

fn main() {}
