// Provider ids written as strings in callbacks are checked against the configuration; these are
// all configured, and strings that are not compared with a provider id are never judged.
use auth_runtime::next_auth;

next_auth! {
    pub struct Token {
        pub via: Option<String>,
    }
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
        Credentials { id: "github-login", credentials: {}, authorize: |_c| Ok(None) },
    ],
    jwt: |token, event| {
        let anno = "anno";
        if let JwtEvent::SignIn { provider, account, .. } = &event {
            if account.provider == "anon" || "github-login" != account.provider.as_str() {
                return Ok(Token { via: Some(anno.to_owned()), ..token });
            }
            let via = match provider.id() {
                "anon" => "guest",
                "github-login" => "github",
                _ => "other",
            };
            return Ok(Token { via: Some(via.to_owned()), ..token });
        }
        Ok(token)
    },
}

fn main() {}
