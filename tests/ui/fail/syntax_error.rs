// A value that does not parse is reported, and the rest of the block is still checked; the
// generated types still exist, so `main` adds no error of its own.
use auth_runtime::next_auth;

next_auth! {
    max_age: 60 *,
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
    sesion: |session, _token| session,
}

fn main() {
    assert_eq!(Provider::Anon.id(), "anon");
    let _: Option<Auth> = None;
}
