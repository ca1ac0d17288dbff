// Declared session fields must not reuse a standard field.
use auth_runtime::next_auth;

next_auth! {
    pub struct Session {
        expires: u64,
    }
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
    session: |session, _token| Session { ..session },
}

fn main() {}
