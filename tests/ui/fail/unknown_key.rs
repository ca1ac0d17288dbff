use auth_runtime::{User, next_auth};

next_auth! {
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(Some(User::with_id("a"))) },
    ],
    sesion: |session, _token| session,
}

fn main() {
    let _: Option<Auth> = None;
}
