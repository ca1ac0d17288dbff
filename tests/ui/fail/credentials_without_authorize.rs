// A Credentials provider needs the closure that checks its credentials.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials { id: "guest", credentials: {} },
    ],
}

fn main() {
    assert_eq!(Provider::Guest.id(), "guest");
}
