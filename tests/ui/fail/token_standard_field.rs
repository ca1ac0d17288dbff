// Declared token fields must not reuse a standard claim.
use auth_runtime::next_auth;

next_auth! {
    pub struct Token {
        sub: String,
        role: String,
    }
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
}

fn main() {
    let token = Token::default();
    let _role: &String = &token.role;
}
