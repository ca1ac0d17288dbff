// A string compared with a provider id must be a configured id.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credentials { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
    jwt: |token, event| {
        if let JwtEvent::SignIn { account, .. } = &event
            && account.provider == "anno"
        {
            return Ok(token);
        }
        Ok(token)
    },
}

fn main() {}
