// Every closure form, on every callback: sync, sync with a return type, `async`, `async move`,
// returning an `async` block, typed parameters, `_` patterns, with and without the optional
// `state` parameter.
use auth_runtime::{CallbackError, User, next_auth};

pub struct AppState {
    pub greeting: &'static str,
}

next_auth! {
    state: AppState,
    providers: [
        Credentials {
            id: "sync",
            credentials: {},
            authorize: |_credentials| Ok(None),
        },
        Credentials {
            id: "sync-typed",
            credentials: { code: {} },
            authorize: |credentials: SyncTypedCredentials, _: &AppState| -> Result<Option<User>, CallbackError> {
                Ok(Some(User::with_id(credentials.code)))
            },
        },
        Credentials {
            id: "async",
            credentials: {},
            authorize: async |_credentials, state| Ok(Some(User::with_id(state.greeting))),
        },
        Credentials {
            id: "async-move",
            credentials: {},
            authorize: async move |_credentials| Ok(None),
        },
        Credentials {
            id: "async-block",
            credentials: {},
            authorize: |_, state| async move { Ok(Some(User::with_id(state.greeting))) },
        },
    ],
    jwt: |token, event, state: &AppState| async move {
        let _ = (event, state.greeting);
        Ok(token)
    },
    session: |session, _token| -> Session { session },
}

fn main() {
    assert_eq!(Provider::ALL.len(), 5);
    assert_eq!(Provider::AsyncBlock.id(), "async-block");
}
