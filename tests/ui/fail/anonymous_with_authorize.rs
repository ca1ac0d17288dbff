// An Anonymous provider takes no code: its guests are created by the engine's guest store.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Anonymous {
            id: "anon",
            authorize: |_c| Ok(None),
        },
    ],
}

fn main() {}
