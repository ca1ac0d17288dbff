// Providers without an `id` have their kind's: `Anonymous {}` is `anon`, the `GitHub` preset is
// `github`. Strings naming them are checked like the written ids, and these all exist.
use auth_runtime::next_auth;

next_auth! {
    pub struct Token {
        pub via: Option<String>,
    }
    providers: [
        Anonymous {},
        GitHub {},
        Credentials { id: "password", credentials: {}, authorize: |_c| Ok(None) },
    ],
    jwt: |token, event| {
        if let JwtEvent::SignIn { provider, account, .. } = &event {
            let via = match provider.id() {
                "anon" => "guest",
                "github" => "github",
                "password" => "password",
                _ => "other",
            };
            if account.provider == "anon" {
                return Ok(Token { via: None, ..token });
            }
            return Ok(Token { via: Some(via.to_owned()), ..token });
        }
        Ok(token)
    },
}

fn main() {}
