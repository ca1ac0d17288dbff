// Type errors inside callbacks are rustc's, and point at the user's tokens.
use auth_runtime::next_auth;

pub struct AppState;

next_auth! {
    pub struct Token {
        role: String,
    }
    state: AppState,
    providers: [
        Credentials {
            id: "login",
            credentials: { username: { label: "Username", type: "text" } },
            authorize: async |credentials, state| {
                state.find_user(&credentials.usrname).await
            },
        },
    ],
    jwt: |token, _event| token,
}

fn main() {}
