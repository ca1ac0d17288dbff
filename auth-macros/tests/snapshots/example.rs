/// Claims carried in the session token, on top of the standard ones.
#[derive(
    ::core::fmt::Debug,
    ::core::clone::Clone,
    ::core::default::Default,
    ::auth_runtime::__private::serde::Serialize,
    ::auth_runtime::__private::serde::Deserialize,
)]
#[serde(crate = "::auth_runtime::__private::serde")]
#[serde(default, rename_all = "camelCase")]
pub struct Token {
    /// The subject: the id of the signed-in user.
    #[serde(skip_serializing_if = "::core::option::Option::is_none")]
    pub sub: ::core::option::Option<::std::string::String>,
    /// The user's display name.
    #[serde(skip_serializing_if = "::core::option::Option::is_none")]
    pub name: ::core::option::Option<::std::string::String>,
    /// The user's email address.
    #[serde(skip_serializing_if = "::core::option::Option::is_none")]
    pub email: ::core::option::Option<::std::string::String>,
    /// The user's avatar URL.
    #[serde(skip_serializing_if = "::core::option::Option::is_none")]
    pub picture: ::core::option::Option<::std::string::String>,
    /// Issued at, in seconds since the Unix epoch.
    #[serde(skip_serializing_if = "::core::option::Option::is_none")]
    pub iat: ::core::option::Option<i64>,
    /// Expires at, in seconds since the Unix epoch.
    #[serde(skip_serializing_if = "::core::option::Option::is_none")]
    pub exp: ::core::option::Option<i64>,
    /// The token's unique id, new at every encode.
    #[serde(skip_serializing_if = "::core::option::Option::is_none")]
    pub jti: ::core::option::Option<::std::string::String>,
    /// The third party's token.
    third_party_token: Option<String>,
}
/// What GET /api/auth/session returns.
#[derive(
    ::core::fmt::Debug,
    ::core::clone::Clone,
    ::auth_runtime::__private::serde::Serialize,
    ::auth_runtime::__private::serde::Deserialize,
)]
#[serde(crate = "::auth_runtime::__private::serde")]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// The signed-in user: `{ name, email, image }`.
    pub user: ::auth_runtime::SessionUser,
    /// When the session expires, as an ISO 8601 timestamp.
    pub expires: ::std::string::String,
    #[serde(default)]
    is_logged_in: bool,
}
/// The configured providers: one variant per provider id, in declaration order.
#[derive(
    ::core::fmt::Debug,
    ::core::clone::Clone,
    ::core::marker::Copy,
    ::core::cmp::PartialEq,
    ::core::cmp::Eq,
    ::core::hash::Hash,
)]
pub enum Provider {
    /// Anonymous (provider id `anon`).
    Anon,
}
#[allow(dead_code)]
impl Provider {
    /// Every configured provider, in declaration order.
    pub const ALL: &'static [Provider] = &[Provider::Anon];
    /// The provider id, as written in the configuration.
    pub const fn id(self) -> &'static str {
        match self {
            Provider::Anon => "anon",
        }
    }
}
impl ::auth_runtime::ProviderId for Provider {
    fn id(self) -> &'static str {
        Provider::id(self)
    }
    fn from_id(id: &str) -> ::core::option::Option<Self> {
        if id == "anon" {
            return ::core::option::Option::Some(Provider::Anon);
        }
        ::core::option::Option::None
    }
}
/// The fields the sign-in form of the `anon` provider submits; a missing field is empty.
#[derive(::core::clone::Clone)]
#[allow(dead_code, non_snake_case)]
pub struct AnonCredentials {}
#[allow(dead_code)]
impl AnonCredentials {
    /// Reads the fields from a request body.
    #[doc(hidden)]
    pub fn from_body(_body: &::auth_runtime::RequestBody) -> Self {
        AnonCredentials {}
    }
}
/// Prints the field names only: the values (passwords) never reach logs.
impl ::core::fmt::Debug for AnonCredentials {
    fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
        f.debug_struct("AnonCredentials").finish()
    }
}
/// Why the `jwt` callback runs, with this application's [`Provider`] and token types.
#[allow(dead_code)]
pub type JwtEvent = ::auth_runtime::JwtEvent<Provider, Token>;
/// The typed form a Credentials sign-in submitted, by provider (the `sign_in` callback's
/// `attempt.credentials`).
#[allow(dead_code)]
#[derive(Debug)]
pub enum SubmittedCredentials {
    ///The form of `anon`.
    Anon(AnonCredentials),
}
/// What the `sign_in` callback receives, with this application's [`Provider`] and
/// [`SubmittedCredentials`].
#[allow(dead_code)]
pub type SignInAttempt<'a> = ::auth_runtime::SignInAttempt<
    'a,
    Provider,
    SubmittedCredentials,
>;
/// The authentication definition written in `next_auth!`: providers `anon` (Anonymous).
///
/// It is never instantiated; serve it with [`Auth`].
#[allow(dead_code)]
pub enum NextAuth {}
/// The authentication engine for this application's [`NextAuth`] definition.
#[allow(dead_code)]
pub type Auth = ::auth_runtime::Auth<NextAuth>;
#[allow(unused_qualifications)]
const _: () = {
    #[allow(clippy::misnamed_getters)]
    impl ::auth_runtime::TokenClaims for Token {
        fn from_user(user: &::auth_runtime::User) -> Self {
            Token {
                sub: ::core::option::Option::Some(::core::clone::Clone::clone(&user.id)),
                name: ::core::clone::Clone::clone(&user.name),
                email: ::core::clone::Clone::clone(&user.email),
                picture: ::core::clone::Clone::clone(&user.image),
                iat: ::core::option::Option::None,
                exp: ::core::option::Option::None,
                jti: ::core::option::Option::None,
                third_party_token: ::core::default::Default::default(),
            }
        }
        fn sub(&self) -> ::core::option::Option<&str> {
            ::core::option::Option::as_deref(&self.sub)
        }
        fn name(&self) -> ::core::option::Option<&str> {
            ::core::option::Option::as_deref(&self.name)
        }
        fn email(&self) -> ::core::option::Option<&str> {
            ::core::option::Option::as_deref(&self.email)
        }
        fn picture(&self) -> ::core::option::Option<&str> {
            ::core::option::Option::as_deref(&self.picture)
        }
        fn issued_at(&self) -> ::core::option::Option<i64> {
            self.iat
        }
        fn expires_at(&self) -> ::core::option::Option<i64> {
            self.exp
        }
        fn stamp(
            &mut self,
            issued_at: i64,
            expires_at: i64,
            jti: ::std::string::String,
        ) {
            self.iat = ::core::option::Option::Some(issued_at);
            self.exp = ::core::option::Option::Some(expires_at);
            self.jti = ::core::option::Option::Some(jti);
        }
    }
    impl ::auth_runtime::SessionShape for Session {
        fn from_parts(
            user: ::auth_runtime::SessionUser,
            expires: ::std::string::String,
        ) -> Self {
            Session {
                user,
                expires,
                is_logged_in: ::core::default::Default::default(),
            }
        }
    }
    #[allow(
        non_snake_case,
        clippy::unused_async,
        clippy::unnecessary_wraps,
        clippy::needless_pass_by_value,
        clippy::trivially_copy_pass_by_ref,
        clippy::used_underscore_binding,
    )]
    async fn __next_auth_authorize_Anon(
        credentials: AnonCredentials,
        state: &AppState,
    ) -> ::core::result::Result<
        ::core::option::Option<::auth_runtime::User>,
        ::auth_runtime::CallbackError,
    > {
        {
            let id = state.create_guest().await?;
            Ok(Some(User::with_id(id)))
        }
    }
    #[allow(
        non_snake_case,
        clippy::unused_async,
        clippy::unnecessary_wraps,
        clippy::needless_pass_by_value,
        clippy::trivially_copy_pass_by_ref,
        clippy::used_underscore_binding,
    )]
    async fn __next_auth_jwt(
        token: Token,
        event: JwtEvent,
        state: &AppState,
    ) -> ::core::result::Result<Token, ::auth_runtime::CallbackError> {
        {
            match event {
                JwtEvent::SignIn { provider: Provider::Anon, .. } => {
                    Ok(Token {
                        third_party_token: Some("x".into()),
                        ..token
                    })
                }
                _ => Ok(token),
            }
        }
    }
    #[allow(
        non_snake_case,
        clippy::unused_async,
        clippy::unnecessary_wraps,
        clippy::needless_pass_by_value,
        clippy::trivially_copy_pass_by_ref,
        clippy::used_underscore_binding,
    )]
    async fn __next_auth_session(
        session: Session,
        token: &Token,
        _: &AppState,
    ) -> Session {
        Session {
            is_logged_in: false,
            ..session
        }
    }
    #[allow(clippy::used_underscore_items)]
    impl ::auth_runtime::AuthDefinition for NextAuth {
        type State = AppState;
        type Token = Token;
        type Session = Session;
        type Provider = Provider;
        type Credentials = SubmittedCredentials;
        const PROVIDERS: &'static [::auth_runtime::definition::ProviderInfo] = &[
            ::auth_runtime::definition::ProviderInfo {
                id: "anon",
                name: "Anonymous",
                kind: ::auth_runtime::definition::ProviderKind::Credentials,
                credentials: &[],
                oauth: ::core::option::Option::None,
                optional: false,
            },
        ];
        const SETTINGS: ::auth_runtime::definition::DefinedSettings = ::auth_runtime::definition::DefinedSettings {
            max_age: ::core::option::Option::Some(2592000u64),
            update_age: ::core::option::Option::Some(86400u64),
            base_path: ::core::option::Option::Some("/api/auth"),
            token_format: ::core::option::Option::None,
            guest_limits: ::auth_runtime::definition::GuestLimitSettings {
                per_client_per_hour: ::core::option::Option::None,
                per_client_burst: ::core::option::Option::None,
                global_per_hour: ::core::option::Option::None,
                global_burst: ::core::option::Option::None,
            },
            attempt_limits: ::auth_runtime::definition::AttemptLimitSettings {
                per_client_per_hour: ::core::option::Option::None,
                per_client_burst: ::core::option::Option::None,
                per_identifier_per_hour: ::core::option::Option::None,
                per_identifier_burst: ::core::option::Option::None,
            },
            pages: ::auth_runtime::definition::PageSettings {
                sign_in: ::core::option::Option::None,
                sign_out: ::core::option::Option::None,
                error: ::core::option::Option::None,
                verify_request: ::core::option::Option::None,
                new_user: ::core::option::Option::None,
            },
            debug: ::core::option::Option::None,
            strategy: ::core::option::Option::None,
            theme: ::auth_runtime::definition::ThemeSettings {
                color_scheme: ::core::option::Option::None,
                brand_color: ::core::option::Option::None,
                logo: ::core::option::Option::None,
                button_text: ::core::option::Option::None,
            },
            captcha: ::auth_runtime::definition::CaptchaSettings {
                provider: ::core::option::Option::None,
                mode: ::core::option::Option::None,
                min_score_percent: ::core::option::Option::None,
            },
        };
        fn authorize<'a>(
            provider: Provider,
            body: &'a ::auth_runtime::RequestBody,
            state: &'a AppState,
        ) -> impl ::core::future::Future<
            Output = ::core::result::Result<
                ::core::option::Option<::auth_runtime::User>,
                ::auth_runtime::CallbackError,
            >,
        > + ::core::marker::Send + 'a {
            async move {
                match provider {
                    Provider::Anon => {
                        __next_auth_authorize_Anon(
                                AnonCredentials::from_body(body),
                                state,
                            )
                            .await
                    }
                }
            }
        }
        fn credentials(
            provider: Provider,
            body: &::auth_runtime::RequestBody,
        ) -> ::core::option::Option<SubmittedCredentials> {
            let _ = body;
            #[allow(unreachable_patterns)]
            match provider {
                Provider::Anon => {
                    ::core::option::Option::Some(
                        SubmittedCredentials::Anon(AnonCredentials::from_body(body)),
                    )
                }
                _ => ::core::option::Option::None,
            }
        }
        fn jwt<'a>(
            token: Token,
            event: ::auth_runtime::JwtEvent<Provider, Token>,
            state: &'a AppState,
        ) -> impl ::core::future::Future<
            Output = ::core::result::Result<Token, ::auth_runtime::CallbackError>,
        > + ::core::marker::Send + 'a {
            __next_auth_jwt(token, event, state)
        }
        fn session<'a>(
            session: Session,
            token: &'a Token,
            state: &'a AppState,
        ) -> impl ::core::future::Future<Output = Session> + ::core::marker::Send + 'a {
            __next_auth_session(session, token, state)
        }
    }
};
