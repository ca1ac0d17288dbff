// A required provider field left out.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials { id: "guest", authorize: |_c| Ok(None) },
    ],
}

fn main() {
    let _ = GuestCredentials {};
}
