// Type errors in callbacks are rustc's: the typed credentials have no such field.
use auth_runtime::{User, next_auth};

next_auth! {
    providers: [
        Credentials {
            id: "login",
            credentials: { username: { label: "Username" } },
            authorize: |credentials| Ok(Some(User::with_id(credentials.usrname))),
        },
    ],
}

fn main() {}
