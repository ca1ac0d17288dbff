// Every optional key and option: state, max_age, update_age (0: renew on every read), strategy,
// base_path, token_format, the guest creation limits and the credentials attempt limits (0:
// off), the app's pages and the built-in pages' theme, the CAPTCHA, a provider's name,
// credential fields with label, type and placeholder.
use auth_runtime::definition::{
    AttemptLimitSettings, CaptchaSettings, CredentialField, DefinedSettings, GuestLimitSettings,
    PageSettings, ThemeSettings,
};
use auth_runtime::{AuthDefinition, SessionStrategy, TokenFormat, next_auth};

pub struct AppState;

next_auth! {
    state: AppState,
    max_age: 7 * 24 * 60 * 60,
    update_age: 0,
    strategy: "jwt",
    base_path: "/auth",
    token_format: "authjs-v5",
    debug: true,
    guest_limit_per_hour: 60,
    guest_limit_burst: 10,
    guest_global_per_hour: 100 * 1000,
    guest_global_burst: 0,
    credentials_limit_per_hour: 120,
    credentials_limit_burst: 5,
    credentials_identifier_per_hour: 0,
    credentials_identifier_burst: 3,
    pages: {
        sign_in: "/login",
        sign_out: "/goodbye?from=auth",
        error: "https://help.example/sign-in-trouble",
        verify_request: "/check-your-mail",
        new_user: "/welcome",
    },
    theme: { color_scheme: "dark", brand_color: "#0f766e", logo: "/logo.svg", button_text: "#FFF" },
    captcha: { provider: "recaptcha", mode: "when-limited", min_score: 0.75 },
    providers: [
        Credentials {
            id: "login",
            name: "Username and password",
            credentials: {
                username: { label: "Username", type: "text", placeholder: "jsmith" },
                password: { type: "password", label: "Password" },
                code: {},
            },
            authorize: |_credentials, _state| Ok(None),
        },
    ],
}

fn main() {
    assert_eq!(
        NextAuth::SETTINGS,
        DefinedSettings {
            max_age: Some(604_800),
            update_age: Some(0),
            base_path: Some("/auth"),
            token_format: Some(TokenFormat::AuthJsV5),
            guest_limits: GuestLimitSettings {
                per_client_per_hour: Some(60),
                per_client_burst: Some(10),
                global_per_hour: Some(100_000),
                global_burst: Some(0),
            },
            attempt_limits: AttemptLimitSettings {
                per_client_per_hour: Some(120),
                per_client_burst: Some(5),
                per_identifier_per_hour: Some(0),
                per_identifier_burst: Some(3),
            },
            pages: PageSettings {
                sign_in: Some("/login"),
                sign_out: Some("/goodbye?from=auth"),
                error: Some("https://help.example/sign-in-trouble"),
                verify_request: Some("/check-your-mail"),
                new_user: Some("/welcome"),
            },
            debug: Some(true),
            strategy: Some(SessionStrategy::Jwt),
            theme: ThemeSettings {
                color_scheme: Some("dark"),
                brand_color: Some("#0f766e"),
                logo: Some("/logo.svg"),
                button_text: Some("#FFF"),
            },
            captcha: CaptchaSettings {
                provider: Some("recaptcha"),
                mode: Some("when-limited"),
                min_score_percent: Some(75),
            },
        }
    );
    let login = NextAuth::PROVIDERS[0];
    assert_eq!(login.name, "Username and password");
    assert_eq!(
        login.credentials,
        &[
            CredentialField {
                name: "username",
                label: "Username",
                input_type: "text",
                placeholder: Some("jsmith"),
            },
            CredentialField {
                name: "password",
                label: "Password",
                input_type: "password",
                placeholder: None,
            },
            CredentialField {
                name: "code",
                label: "code",
                input_type: "text",
                placeholder: None,
            },
        ]
    );
}
