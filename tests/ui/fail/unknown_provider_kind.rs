use auth_runtime::next_auth;

next_auth! {
    providers: [
        Credential { id: "anon", credentials: {}, authorize: |_c| Ok(None) },
    ],
    // The variant still exists, so this callback does not add an error.
    jwt: |token, event| match event {
        JwtEvent::SignIn { provider: Provider::Anon, .. } => Ok(token),
        _ => Ok(token),
    },
}

fn main() {}
