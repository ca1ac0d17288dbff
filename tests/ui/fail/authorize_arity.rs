// `authorize` takes (credentials[, state]).
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c, _state, _extra| Ok(None) },
    ],
}

fn main() {}
