// Runs the generated code: serialization of the token and session, the provider table, form
// parsing, redacted `Debug`, and the callbacks through `AuthDefinition`.
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use auth_runtime::__private::serde_json::{self, json};
use auth_runtime::{
    AuthDefinition, CallbackError, ProviderId, RequestBody, SessionShape, SessionUser, TokenClaims,
    User, next_auth,
};

pub struct AppState {
    pub admin_password: &'static str,
}

next_auth! {
    pub struct Token {
        pub third_party_token: Option<String>,
        pub is_admin: bool,
    }
    pub struct Session {
        pub is_admin: bool,
    }

    state: AppState,
    max_age: 60 * 60,
    update_age: 5 * 60,
    base_path: "/auth",

    providers: [
        Credentials {
            id: "admin",
            name: "Administrator",
            credentials: {
                password: { label: "Password", type: "password" },
            },
            authorize: |credentials, state| {
                if credentials.password == state.admin_password {
                    Ok(Some(User::with_id("admin").name("Admin")))
                } else {
                    Err(CallbackError::message("Wrong password"))
                }
            },
        },
    ],

    jwt: async |token, event, _state| match event {
        JwtEvent::SignIn { provider: Provider::Admin, .. } => Ok(Token { is_admin: true, ..token }),
        JwtEvent::Refresh | JwtEvent::Update { .. } => Ok(token),
    },
    session: |session, token| Session { is_admin: token.is_admin, ..session },
}

/// Polls a future that never waits.
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future waited"),
    }
}

fn main() {
    let state = AppState {
        admin_password: "hunter2",
    };

    // Settings and providers.
    assert_eq!(NextAuth::SETTINGS.max_age, Some(3600));
    assert_eq!(NextAuth::SETTINGS.update_age, Some(300));
    assert_eq!(NextAuth::SETTINGS.base_path, Some("/auth"));
    let info = NextAuth::PROVIDERS[0];
    assert_eq!(
        (info.id, info.name, info.kind.as_str()),
        ("admin", "Administrator", "credentials")
    );
    assert_eq!(
        (info.credentials[0].name, info.credentials[0].label),
        ("password", "Password")
    );
    assert_eq!(
        <Provider as ProviderId>::from_id("admin"),
        Some(Provider::Admin)
    );
    assert_eq!(<Provider as ProviderId>::from_id("nope"), None);
    assert_eq!(ProviderId::id(Provider::Admin), "admin");

    // Credentials: a missing field is empty; Debug never shows values.
    let body = RequestBody::from_form(b"password=hunter2&csrfToken=x").unwrap();
    let credentials = AdminCredentials::from_body(&body);
    assert_eq!(credentials.password, "hunter2");
    assert_eq!(
        format!("{credentials:?}"),
        "AdminCredentials { password: <redacted> }"
    );
    assert_eq!(
        AdminCredentials::from_body(&RequestBody::default()).password,
        ""
    );

    // authorize
    let user = ready(NextAuth::authorize(Provider::Admin, &body, &state))
        .unwrap()
        .unwrap();
    assert_eq!(user.id, "admin");
    let wrong = RequestBody::from_form(b"password=guess").unwrap();
    let error = ready(NextAuth::authorize(Provider::Admin, &wrong, &state)).unwrap_err();
    assert_eq!(error.public_message(), Some("Wrong password"));

    // The token: standard claims first, absent ones left out (a smaller cookie to verify on
    // every read), camelCase fields.
    let mut token = Token::from_user(&user);
    assert_eq!(token.sub(), Some("admin"));
    assert_eq!(
        serde_json::to_value(&token).unwrap(),
        json!({ "sub": "admin", "name": "Admin", "thirdPartyToken": null, "isAdmin": false }),
    );
    token.stamp(10, 20, "j".into());
    assert_eq!(
        (token.issued_at(), token.expires_at()),
        (Some(10), Some(20))
    );
    let parsed: Token = serde_json::from_value(json!({ "sub": "x", "exp": 5 })).unwrap();
    assert_eq!(
        (parsed.sub.as_deref(), parsed.exp, parsed.is_admin),
        (Some("x"), Some(5), false)
    );

    // jwt and session callbacks.
    let event = JwtEvent::SignIn {
        provider: Provider::Admin,
        user: user.clone(),
        account: auth_runtime::Account::new("admin", "credentials", "admin"),
        profile: None,
        previous: None,
        upgrade: None,
    };
    let token = ready(NextAuth::jwt(token, event, &state)).unwrap();
    assert!(token.is_admin);
    let session = Session::from_parts(SessionUser::default(), "2030-01-01T00:00:00.000Z".into());
    assert!(!session.is_admin);
    let session = ready(NextAuth::session(session, &token, &state));
    assert_eq!(
        serde_json::to_value(&session).unwrap(),
        json!({ "user": { "name": null, "email": null, "image": null },
                "expires": "2030-01-01T00:00:00.000Z", "isAdmin": true }),
    );
}
