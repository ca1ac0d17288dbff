// Type errors in callbacks are rustc's: the token has no such field.
use auth_runtime::next_auth;

next_auth! {
    pub struct Token {
        guest_id: Option<String>,
    }
    pub struct Session {
        is_logged_in: bool,
    }
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
    session: |session, token| Session {
        is_logged_in: token.logged_in,
        ..session
    },
}

fn main() {}
