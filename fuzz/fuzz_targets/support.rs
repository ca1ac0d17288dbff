// Shared by the engine-level targets: one application and a tiny executor.

use std::future::Future;
use std::pin::pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};

use auth_runtime::{TokenFormat, User, next_auth};

next_auth! {
    pub struct Token { guest_id: Option<String> }
    pub struct Session { is_logged_in: bool }
    providers: [
        Credentials {
            id: "anon",
            name: "Anonymous",
            credentials: {},
            authorize: |_credentials| Ok(Some(User::with_id("guest-1"))),
        },
    ],
    jwt: |token, event| match event {
        JwtEvent::SignIn { user, .. } => Ok(Token { guest_id: Some(user.id), ..token }),
        _ => Ok(token),
    },
    session: |session, token| Session { is_logged_in: token.sub.is_some(), ..session },
}

pub const SECRET: &str = "fuzzing-secret-0123456789abcdef0123456789";

/// One engine for the whole run (building it derives keys), in the default token format.
pub fn auth() -> &'static Auth {
    &engines()[0]
}

/// One engine per token format, the default first.
pub fn engines() -> &'static [Auth] {
    static ENGINES: OnceLock<Vec<Auth>> = OnceLock::new();
    ENGINES.get_or_init(|| {
        TokenFormat::ALL
            .into_iter()
            .map(|format| {
                Auth::builder(())
                    .secret(SECRET)
                    .url("http://127.0.0.1:3000/api/auth")
                    .token_format(format)
                    .build()
                    .expect("engine")
            })
            .collect()
    })
}

/// The handlers only await the callbacks, which are ready at once here.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}
