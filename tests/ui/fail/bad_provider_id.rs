use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials { id: "guest login", credentials: {}, authorize: |_c| Ok(None) },
        Credentials { id: "my-app", credentials: {}, authorize: |_c| Ok(None) },
        Credentials { id: "my_app", credentials: {}, authorize: |_c| Ok(None) },
    ],
}

fn main() {}
