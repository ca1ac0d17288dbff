// A provider field written twice.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials {
            id: "login",
            name: "Login",
            credentials: {},
            name: "Sign in",
            authorize: |_c| Ok(None),
        },
    ],
}

fn main() {}
