// A provider id must not be empty.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials { id: "", credentials: {}, authorize: |_c| Ok(None) },
    ],
}

fn main() {}
