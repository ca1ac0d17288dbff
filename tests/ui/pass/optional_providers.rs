// `optional: true` on any kind: the `Provider` enum keeps every variant, and the definition says
// which are optional (the engine turns them on where they are configured).
use auth_runtime::{AuthDefinition, next_auth};

next_auth! {
    providers: [
        Anonymous {},
        Credentials {
            id: "staff",
            optional: true,
            credentials: { code: { type: "password" } },
            authorize: |_c| Ok(None),
        },
        GitHub { optional: true },
        Oidc { id: "corp", optional: false },
    ],
}

fn main() {
    let optional: Vec<bool> = NextAuth::PROVIDERS.iter().map(|p| p.optional).collect();
    assert_eq!(optional, [false, true, true, false]);
    match Provider::Github {
        Provider::Anon | Provider::Staff | Provider::Github | Provider::Corp => {}
    }
}
