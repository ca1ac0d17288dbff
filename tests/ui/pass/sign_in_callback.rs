// `sign_in` takes (attempt[, state]) and answers a `SignInDecision` (or a `CallbackError`), as
// a sync or async closure; the attempt carries the typed provider and the typed form.
use auth_runtime::{AuthDefinition, SignInDecision, next_auth};

pub struct Db {
    closed: Vec<String>,
}

next_auth! {
    state: Db,
    providers: [
        Anonymous {},
        Credentials {
            id: "password",
            credentials: { username: { type: "text" }, password: { type: "password" } },
            authorize: |c| Ok(Some(auth_runtime::User::with_id(c.username))),
        },
    ],
    sign_in: async |attempt, db| {
        if attempt.as_guest {
            return Ok(SignInDecision::Allow);
        }
        let name = match attempt.credentials {
            Some(SubmittedCredentials::Password(form)) => Some(form.username.as_str()),
            None => None,
        };
        Ok(match (attempt.provider, name) {
            (Provider::Password, Some(name)) if db.closed.iter().any(|c| c == name) => {
                SignInDecision::DenyWith("AccountClosed".to_owned())
            }
            (Provider::Password, _) => true.into(),
            (Provider::Anon, _) => SignInDecision::Redirect("/welcome".to_owned()),
        })
    },
}

mod sync_form {
    use auth_runtime::{SignInDecision, next_auth};

    next_auth! {
        providers: [Anonymous {}],
        sign_in: |attempt| Ok(SignInDecision::from(attempt.user.id != "banned")),
    }
}

fn typed(_: fn(SignInAttempt<'_>)) {}

fn main() {
    typed(|attempt| assert_eq!(attempt.provider, Provider::Password));
    let _ = sync_form::NextAuth::PROVIDERS;
}
