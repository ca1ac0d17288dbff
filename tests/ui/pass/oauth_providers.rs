//! OAuth and OpenID Connect providers next to a Credentials one: settings written, left to the
//! environment, or taken from a preset; the jwt callback reads the profile, the account's tokens
//! and the previous (guest) token.

use auth_runtime::definition::{AuthDefinition, ProviderKind, Protocol};
use auth_runtime::{User, next_auth};

next_auth! {
    pub struct Token {
        third_party_token: Option<String>,
        guest_token: Option<String>,
    }

    providers: [
        Credentials {
            id: "anon",
            credentials: {},
            authorize: |_credentials| Ok(Some(User::with_id("guest"))),
        },
        /// The company's identity provider.
        Oidc {
            id: "user",
            name: "Logged In Users",
            scope: "openid profile email offline_access",
        },
        Oidc {
            id: "corp",
            issuer: "https://idp.example.com",
            client_id: "corp-client",
            client_secret: "corp-secret",
        },
        OAuth {
            id: "legacy-sso",
            name: "Legacy SSO",
            authorization_url: "https://sso.example.com/authorize",
            token_url: "https://sso.example.com/token",
            userinfo_url: "https://sso.example.com/me",
        },
        GitHub {},
        Google { client_id: "google-client" },
    ],

    jwt: |token, event| match event {
        JwtEvent::SignIn { provider: Provider::User | Provider::Corp, profile: Some(profile), account, previous, .. } => Ok(Token {
            sub: Some(profile.sub),
            third_party_token: account.id_token,
            guest_token: previous.and_then(|guest| guest.third_party_token),
            ..token
        }),
        JwtEvent::SignIn { provider: Provider::Github | Provider::Google | Provider::LegacySso, account, .. } => Ok(Token {
            third_party_token: account.access_token,
            ..token
        }),
        JwtEvent::SignIn { .. } | JwtEvent::Refresh | JwtEvent::Update { .. } => Ok(token),
    },
}

fn main() {
    let ids: Vec<&str> = NextAuth::PROVIDERS.iter().map(|p| p.id).collect();
    assert_eq!(ids, ["anon", "user", "corp", "legacy-sso", "github", "google"]);
    let user = &NextAuth::PROVIDERS[1];
    assert_eq!((user.kind, user.name), (ProviderKind::OAuth, "Logged In Users"));
    let spec = user.oauth.unwrap();
    assert_eq!(spec.protocol, Protocol::Oidc { issuer: None });
    assert_eq!(spec.scope, "openid profile email offline_access");
    assert_eq!(NextAuth::PROVIDERS[2].oauth.unwrap().client_id, Some("corp-client"));
    assert!(matches!(NextAuth::PROVIDERS[3].oauth.unwrap().protocol, Protocol::OAuth2 { .. }));
    assert_eq!(NextAuth::PROVIDERS[4].name, "GitHub");
    assert_eq!(NextAuth::PROVIDERS[5].oauth.unwrap().client_id, Some("google-client"));
    assert_eq!(Provider::LegacySso.id(), "legacy-sso");
}
