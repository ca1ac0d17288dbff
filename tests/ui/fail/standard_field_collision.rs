use auth_runtime::next_auth;

next_auth! {
    pub struct Token {
        sub: String,
        role: String,
    }
    pub struct Session {
        expires: u64,
    }
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
    session: |session, _token| Session { ..session },
}

fn main() {
    let token = Token::default();
    let _role: &String = &token.role;
}
