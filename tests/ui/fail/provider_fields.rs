use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials {
            id: "login",
            credentials: { username: { lable: "Username" } },
            autorize: |_c| Ok(None),
        },
        Credentials { id: "guest" },
    ],
}

fn main() {}
