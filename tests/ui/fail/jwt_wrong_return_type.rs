// Type errors in callbacks are rustc's, on the user's tokens: `jwt` returns `Result<Token, _>`.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
    jwt: |token, _event| token,
}

fn main() {}
