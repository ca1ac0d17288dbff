// The example of the `next_auth!` documentation, with every optional setting.
use auth_runtime::{CallbackError, User, next_auth};

pub struct AppState {
    guests: std::sync::atomic::AtomicU64,
}

impl AppState {
    async fn create_guest(&self) -> Result<String, CallbackError> {
        let n = self
            .guests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(format!("guest-{n}"))
    }
}

next_auth! {
    /// Claims carried in the session token, on top of the standard ones.
    pub struct Token {
        /// The third party's token.
        third_party_token: Option<String>,
    }
    /// What GET /api/auth/session returns.
    pub struct Session {
        is_logged_in: bool,
    }

    state: AppState,
    max_age: 30 * 24 * 60 * 60,
    update_age: 24 * 60 * 60,
    base_path: "/api/auth",

    providers: [
        Credentials {
            id: "anon",
            name: "Anonymous",
            credentials: {},
            authorize: async |_credentials, state| {
                let id = state.create_guest().await?;
                Ok(Some(User::with_id(id)))
            },
        },
    ],

    jwt: async |token, event, _state| {
        match event {
            JwtEvent::SignIn { provider: Provider::Anon, .. } => {
                Ok(Token { third_party_token: Some("x".into()), ..token })
            }
            _ => Ok(token),
        }
    },
    session: |session, token| Session { is_logged_in: token.sub.is_some(), ..session },
}

fn assert_definition<D: auth_runtime::AuthDefinition>() {}

fn main() {
    assert_definition::<NextAuth>();
    let _auth: Option<Auth> = None;
    assert_eq!(Provider::ALL, &[Provider::Anon]);
    assert_eq!(Provider::Anon.id(), "anon");
    let _ = AnonCredentials {};
}
