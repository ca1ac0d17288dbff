use auth_runtime::next_auth;

next_auth! {
    providers: [],
}

fn main() {}
