// A credential field declared twice.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials {
            id: "login",
            credentials: {
                username: { label: "Username" },
                username: { label: "Email" },
            },
            authorize: |_c| Ok(None),
        },
    ],
}

fn main() {}
