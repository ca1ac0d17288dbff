// A credential field accepts `label`, `type` and `placeholder`.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials {
            id: "login",
            credentials: { username: { lable: "Username" } },
            authorize: |_c| Ok(None),
        },
    ],
}

fn main() {}
