// Several providers with form fields, custom struct names and visibility, serde attributes, a
// generic state type, closures of every form and an exhaustive match on `Provider`.
use std::collections::HashMap;
use std::sync::Arc;

use auth_runtime::{CallbackError, User, next_auth};

pub struct Users {
    passwords: HashMap<String, String>,
}

next_auth! {
    #[derive(PartialEq)]
    pub(crate) struct AppClaims {
        #[serde(rename = "role")]
        pub(crate) user_role: String,
        pub provider_id: Option<String>,
    }
    pub(crate) struct AppSession {
        pub role: String,
    }

    state: Arc<Users>,

    providers: [
        Credentials {
            id: "password",
            name: "Username and password",
            credentials: {
                username: { label: "Username", type: "text", placeholder: "jsmith" },
                password: { label: "Password", type: "password" },
            },
            authorize: |credentials: PasswordCredentials, users: &Arc<Users>| async move {
                match users.passwords.get(&credentials.username) {
                    Some(password) if *password == credentials.password => {
                        Ok(Some(User::with_id(credentials.username).name("Ada")))
                    }
                    Some(_) => Err(CallbackError::message("Wrong password")),
                    None => Ok(None),
                }
            },
        },
        Credentials {
            id: "magic-link",
            name: "Magic link",
            credentials: { email: { label: "Email", type: "email" } },
            authorize: async move |credentials| {
                let id: u32 = "7".parse()?;
                Ok(Some(User::with_id(id.to_string()).email(credentials.email)))
            },
        },
        Credentials {
            id: "guest_user",
            credentials: {},
            authorize: |_, _| Ok(Some(User::with_id("guest"))),
        },
    ],

    jwt: |mut token, event| async move {
        if let JwtEvent::SignIn { provider, .. } = event {
            token.provider_id = Some(provider.id().to_owned());
            token.user_role = match provider {
                Provider::Password => "member".into(),
                Provider::MagicLink => "reader".into(),
                Provider::GuestUser => "guest".into(),
            };
        }
        Ok(token)
    },
    session: async |session: AppSession, token: &AppClaims, _users: &Arc<Users>| AppSession {
        role: token.user_role.clone(),
        ..session
    },
}

fn main() {
    assert_eq!(
        Provider::ALL,
        &[Provider::Password, Provider::MagicLink, Provider::GuestUser]
    );
    let infos = <NextAuth as auth_runtime::AuthDefinition>::PROVIDERS;
    assert_eq!(infos.len(), 3);
    assert_eq!(infos[0].credentials[1].input_type, "password");
    assert_eq!(infos[1].id, "magic-link");
    let _ = AppClaims::default() == AppClaims::default();
    let _: Option<Auth> = None;
}
