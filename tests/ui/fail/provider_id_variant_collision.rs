// Two ids that become the same `Provider` variant.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials { id: "my-app", credentials: {}, authorize: |_c| Ok(None) },
        Credentials { id: "my_app", credentials: {}, authorize: |_c| Ok(None) },
    ],
}

fn main() {
    assert_eq!(Provider::MyApp.id(), "my-app");
}
