//! The validated configuration that `expand` turns into code. Everything here has been checked.

use proc_macro2::{Span, TokenStream};
use syn::{Attribute, Field, Ident, Pat, ReturnType, Type, Visibility};

use crate::kinds::Kind;

pub(crate) struct Model {
    pub token: StructDef,
    pub session: StructDef,
    /// `state: Type`, or `()`.
    pub state: Type,
    pub settings: Settings,
    pub providers: Vec<Provider>,
    /// `None`: the default (`Ok(token)`).
    pub jwt: Option<Callback>,
    /// `None`: the default (the session unchanged).
    pub session_callback: Option<Callback>,
    /// `None`: the default (every sign-in allowed).
    pub sign_in: Option<Callback>,
    /// `None`: the default (the requested URL, checked).
    pub redirect: Option<Callback>,
    /// `events: { .. }`: each handler with its index in `kinds::EVENTS`.
    pub events: Vec<(usize, Callback)>,
}

/// A declared (or default) `Token` / `Session` struct.
pub(crate) struct StructDef {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    /// The declared fields, after the standard ones.
    pub fields: Vec<Field>,
}

#[derive(Default)]
pub(crate) struct Settings {
    pub max_age: Option<u64>,
    pub update_age: Option<u64>,
    pub base_path: Option<String>,
    /// `token_format: ".."`: how session tokens are written and read.
    pub token_format: Option<TokenFormat>,
    /// `guest_limit_per_hour`, `guest_limit_burst`, `guest_global_per_hour`, `guest_global_burst`.
    pub guest_limits: GuestLimits,
    /// `credentials_limit_per_hour`, `credentials_limit_burst`,
    /// `credentials_identifier_per_hour`, `credentials_identifier_burst`.
    pub attempt_limits: AttemptLimits,
    /// `pages: { .. }`: the app's own pages, paths or absolute URLs.
    pub pages: Pages,
    /// `theme: { .. }`: how the built-in pages look.
    pub theme: Theme,
    /// `captcha: { .. }`: which CAPTCHA guards guest creation and limited sign-ins.
    pub captcha: Captcha,
    /// `debug: true`: log each protocol step.
    pub debug: Option<bool>,
    /// `strategy: "database"` (`Some(true)`) or `"jwt"` (`Some(false)`).
    pub database_sessions: Option<bool>,
}

/// The app's own pages, as `auth_runtime::definition::PageSettings` has them.
#[derive(Default)]
pub(crate) struct Pages {
    pub sign_in: Option<String>,
    pub sign_out: Option<String>,
    pub error: Option<String>,
    pub verify_request: Option<String>,
    pub new_user: Option<String>,
}

impl Pages {
    /// Every key `pages` accepts, in documentation order.
    pub(crate) const KEYS: [&'static str; 5] =
        ["sign_in", "sign_out", "error", "verify_request", "new_user"];

    pub(crate) fn slot(&mut self, key: &str) -> Option<&mut Option<String>> {
        Some(match key {
            "sign_in" => &mut self.sign_in,
            "sign_out" => &mut self.sign_out,
            "error" => &mut self.error,
            "verify_request" => &mut self.verify_request,
            "new_user" => &mut self.new_user,
            _ => return None,
        })
    }
}

/// The built-in pages' look, as `auth_runtime::definition::ThemeSettings` has it.
#[derive(Default)]
pub(crate) struct Theme {
    pub color_scheme: Option<String>,
    pub brand_color: Option<String>,
    pub logo: Option<String>,
    pub button_text: Option<String>,
}

impl Theme {
    /// Every key `theme` accepts, in documentation order.
    pub(crate) const KEYS: [&'static str; 4] =
        ["color_scheme", "brand_color", "logo", "button_text"];
    /// The values of `color_scheme`.
    pub(crate) const SCHEMES: [&'static str; 3] = ["auto", "light", "dark"];
}

/// The CAPTCHA, as `auth_runtime::definition::CaptchaSettings` has it (its secret is read from
/// the environment, never written in code).
#[derive(Default)]
pub(crate) struct Captcha {
    pub provider: Option<String>,
    pub mode: Option<String>,
    /// reCAPTCHA v3's minimum score, in hundredths.
    pub min_score_percent: Option<u8>,
}

impl Captcha {
    /// Every key `captcha` accepts, in documentation order.
    pub(crate) const KEYS: [&'static str; 3] = ["provider", "mode", "min_score"];
    /// The values of `provider`.
    pub(crate) const PROVIDERS: [&'static str; 3] = ["turnstile", "hcaptcha", "recaptcha"];
    /// The values of `mode`.
    pub(crate) const MODES: [&'static str; 2] = ["always", "when-limited"];
}

/// Guest creation limits, as `auth_runtime::definition::GuestLimitSettings` has them.
#[derive(Default)]
pub(crate) struct GuestLimits {
    pub per_client_per_hour: Option<u32>,
    pub per_client_burst: Option<u32>,
    pub global_per_hour: Option<u32>,
    pub global_burst: Option<u32>,
}

/// Credentials attempt limits, as `auth_runtime::definition::AttemptLimitSettings` has them.
#[derive(Default)]
pub(crate) struct AttemptLimits {
    pub per_client_per_hour: Option<u32>,
    pub per_client_burst: Option<u32>,
    pub per_identifier_per_hour: Option<u32>,
    pub per_identifier_burst: Option<u32>,
}

impl Settings {
    /// The field a limit key sets, if `key` is one.
    pub(crate) fn limit_mut(&mut self, key: &str) -> Option<&mut Option<u32>> {
        let (guests, attempts) = (&mut self.guest_limits, &mut self.attempt_limits);
        Some(match key {
            "guest_limit_per_hour" => &mut guests.per_client_per_hour,
            "guest_limit_burst" => &mut guests.per_client_burst,
            "guest_global_per_hour" => &mut guests.global_per_hour,
            "guest_global_burst" => &mut guests.global_burst,
            "credentials_limit_per_hour" => &mut attempts.per_client_per_hour,
            "credentials_limit_burst" => &mut attempts.per_client_burst,
            "credentials_identifier_per_hour" => &mut attempts.per_identifier_per_hour,
            "credentials_identifier_burst" => &mut attempts.per_identifier_burst,
            _ => return None,
        })
    }
}

/// A session token format, as `auth_runtime::TokenFormat` has them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenFormat {
    NextAuthV4,
    AuthJsV5,
    Jws,
}

impl TokenFormat {
    /// Every format with its name in `token_format: ".."`, in documentation order.
    pub(crate) const ALL: [(&'static str, TokenFormat); 3] = [
        ("nextauth-v4", TokenFormat::NextAuthV4),
        ("authjs-v5", TokenFormat::AuthJsV5),
        ("jws", TokenFormat::Jws),
    ];

    /// The `auth_runtime::TokenFormat` variant.
    pub(crate) fn variant(self) -> &'static str {
        match self {
            TokenFormat::NextAuthV4 => "NextAuthV4",
            TokenFormat::AuthJsV5 => "AuthJsV5",
            TokenFormat::Jws => "Jws",
        }
    }
}

pub(crate) struct Provider {
    /// The id as written (`"anon"`).
    pub id: String,
    /// The display name (`"Anonymous"`, default: the id).
    pub name: String,
    /// The `Provider` variant (`Anon`).
    pub variant: Ident,
    /// The doc comments written on the provider.
    pub docs: Vec<Attribute>,
    pub kind: Kind,
    pub config: ProviderConfig,
    /// `optional: true`: enabled at run time only where configured.
    pub optional: bool,
}

pub(crate) enum ProviderConfig {
    Credentials(Credentials),
    OAuth(OAuth),
    /// Nothing to configure in the block: the engine's parts do the work (the guest store for
    /// `Anonymous`, the mailer for `Email`, the authenticators' store for `Passkey`).
    Engine,
}

impl OAuth {
    /// The field a string key of an OAuth provider sets, if `key` is one.
    pub(crate) fn slot(&mut self, key: &str) -> Option<&mut Option<String>> {
        Some(match key {
            "issuer" => &mut self.issuer,
            "authorization_url" => &mut self.authorization_url,
            "token_url" => &mut self.token_url,
            "userinfo_url" => &mut self.userinfo_url,
            "client_id" => &mut self.client_id,
            "client_secret" => &mut self.client_secret,
            "scope" => &mut self.scope,
            _ => return None,
        })
    }
}

/// `Oidc`, `OAuth` and the presets: the string fields as written (`None`: read at run time, or
/// the preset's default).
#[derive(Default)]
pub(crate) struct OAuth {
    pub issuer: Option<String>,
    pub authorization_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
}

pub(crate) struct Credentials {
    pub fields: Vec<CredentialField>,
    /// `None` only when the block has errors: the expansion then authorizes nobody.
    pub authorize: Option<Callback>,
}

pub(crate) struct CredentialField {
    pub ident: Ident,
    /// The form field name (the ident, unraw).
    pub name: String,
    pub label: String,
    pub input_type: String,
    pub placeholder: Option<String>,
}

/// A user closure, ready to be rewritten into an `async fn`.
pub(crate) struct Callback {
    /// The user's parameter patterns (with their type annotation, if any), in order.
    pub params: Vec<Pat>,
    /// The user's return type annotation, if any (sync closures only).
    pub output: ReturnType,
    /// The `async fn` body, braces included: the closure body in a block, or the block of an
    /// `async` block the closure returned.
    pub body: TokenStream,
    /// The span of the closure's first token, for the generated signature.
    pub span: Span,
}

impl Model {
    /// The configuration of an empty block, used when the input could not be parsed at all.
    pub(crate) fn empty() -> Self {
        let call_site = Span::call_site();
        Model {
            token: StructDef::default_named("Token"),
            session: StructDef::default_named("Session"),
            state: syn::parse_quote_spanned!(call_site=> ()),
            settings: Settings::default(),
            providers: Vec::new(),
            jwt: None,
            session_callback: None,
            sign_in: None,
            redirect: None,
            events: Vec::new(),
        }
    }
}

impl StructDef {
    pub(crate) fn default_named(name: &str) -> Self {
        StructDef {
            attrs: Vec::new(),
            vis: syn::parse_quote!(pub),
            ident: Ident::new(name, Span::call_site()),
            fields: Vec::new(),
        }
    }
}
