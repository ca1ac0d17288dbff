// A misspelled provider field is reported as such (with a suggestion), not also as missing.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials {
            id: "login",
            credentials: {},
            autorize: |_c| Ok(None),
        },
    ],
}

fn main() {}
