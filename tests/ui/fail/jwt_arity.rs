// `jwt` takes (token, event[, state]).
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
    jwt: async |token| Ok(token),
}

fn main() {}
