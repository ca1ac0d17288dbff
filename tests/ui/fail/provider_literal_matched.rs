// A string pattern in a `match` on a provider id must be a configured id.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
        Credentials { id: "github-login", credentials: {}, authorize: |_c| Ok(None) },
    ],
    jwt: |token, event| {
        if let JwtEvent::SignIn { account, .. } = &event {
            match account.provider.as_str() {
                "anon" => {}
                "github" => {}
                _ => {}
            }
        }
        Ok(token)
    },
}

fn main() {}
