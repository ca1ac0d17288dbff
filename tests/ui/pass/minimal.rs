// The smallest definition: no structs, no state, one zero-field provider, a sync closure, default
// callbacks and settings.
use auth_runtime::{User, next_auth};

next_auth! {
    providers: [
        Credentials {
            id: "guest",
            credentials: {},
            authorize: |_credentials| Ok(Some(User::with_id("guest"))),
        },
    ],
}

fn main() {
    let _ = GuestCredentials {};
    assert_eq!(Provider::Guest.id(), "guest");
    let settings = <NextAuth as auth_runtime::AuthDefinition>::SETTINGS;
    assert_eq!(
        settings,
        auth_runtime::definition::DefinedSettings::default()
    );
    let infos = <NextAuth as auth_runtime::AuthDefinition>::PROVIDERS;
    assert_eq!(infos[0].name, "guest");
}
