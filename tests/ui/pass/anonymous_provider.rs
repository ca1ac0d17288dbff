//! The `Anonymous` kind: no code from the user, defaults `"anon"` / `"Anonymous"`, NextAuth type
//! `"credentials"` (so `signIn('anon', { redirect: false })` posts to `callback/anon`); a second
//! one with its own id and name.

use auth_runtime::definition::{AuthDefinition, ProviderKind};
use auth_runtime::next_auth;

next_auth! {
    providers: [
        Anonymous {},
        /// Guests of the kiosk.
        Anonymous { id: "kiosk", name: "Kiosk guest" },
    ],

    jwt: |token, event| match event {
        JwtEvent::SignIn { provider: Provider::Anon | Provider::Kiosk, .. } => Ok(token),
        JwtEvent::Refresh | JwtEvent::Update { .. } => Ok(token),
    },
}

fn main() {
    let anon = &NextAuth::PROVIDERS[0];
    assert_eq!((anon.id, anon.name, anon.kind), ("anon", "Anonymous", ProviderKind::Anonymous));
    assert_eq!(anon.kind.as_str(), "credentials");
    assert!(anon.credentials.is_empty() && anon.oauth.is_none());
    let kiosk = &NextAuth::PROVIDERS[1];
    assert_eq!((kiosk.id, kiosk.name), ("kiosk", "Kiosk guest"));
    assert_eq!(Provider::Kiosk.id(), "kiosk");
}
