use auth_runtime::next_auth;

next_auth! {
    providers: [
        OAuth {
            id: "sso",
            authorization_url: "sso.example.com/authorize",
            token_url: "https://sso.example.com/token",
            userinfo_url: "https://sso.example.com/me",
            client_secret: "",
        },
        Oidc { id: "user", issuer: "ftp://idp.example.com", clientid: "x" },
        OAuth { id: "half" },
    ],
}

fn main() {}
