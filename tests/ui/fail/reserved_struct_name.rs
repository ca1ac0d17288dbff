// The token and session structs cannot take a name the macro generates.
use auth_runtime::next_auth;

next_auth! {
    pub struct Provider {
        role: String,
    }
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
}

fn main() {}
