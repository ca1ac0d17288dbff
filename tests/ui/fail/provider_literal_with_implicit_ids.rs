// With `Anonymous {}` and a preset present (their ids are implicit), a string that names no
// provider is still an error.
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Anonymous {},
        GitHub {},
        Credentials { id: "user", credentials: {}, authorize: |_c| Ok(None) },
    ],
    jwt: |token, event| {
        if let JwtEvent::SignIn { provider, account, .. } = &event
            && (provider.id() == "usr" || account.provider == "githb")
        {
            return Ok(token);
        }
        Ok(token)
    },
}

fn main() {}
