//! The `next_auth!` macro of [`auth-runtime`](https://docs.rs/auth-runtime). Implementation detail:
//! depend on `auth-runtime`, which re-exports it.
//!
//! The crate is split the way thiserror and serde split theirs: `ast` parses the block without
//! judging it, `validate` turns it into a `model` and reports every problem at once through an
//! `errors` context, `expand` generates the code, and `fallback` decides what to emit when
//! there are errors. Provider kinds live in one table, `kinds`.

mod ast;
mod errors;
mod expand;
mod fallback;
mod kinds;
mod model;
mod validate;

#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

/// Declares an application's authentication: its providers, the claims of its session token, the
/// shape of its session and its callbacks, checked at compile time.
///
/// ```
/// use auth_runtime::{next_auth, CallbackError, User};
///
/// /// What the callbacks receive as `state`.
/// pub struct AppState;
///
/// impl AppState {
///     async fn create_guest(&self) -> Result<String, CallbackError> {
///         Ok("guest-1".to_owned())
///     }
/// }
///
/// next_auth! {
///     /// Claims carried in the session token, on top of the standard ones.
///     pub struct Token {
///         third_party_token: Option<String>,
///     }
///     /// What `GET /api/auth/session` returns.
///     pub struct Session {
///         is_logged_in: bool,
///     }
///
///     state: AppState,
///     max_age: 30 * 24 * 60 * 60,
///
///     providers: [
///         Credentials {
///             id: "anon",
///             name: "Anonymous",
///             credentials: {},
///             authorize: async |_credentials, state| {
///                 let id = state.create_guest().await?;
///                 Ok(Some(User::with_id(id)))
///             },
///         },
///     ],
///
///     jwt: async |token, event| match event {
///         JwtEvent::SignIn { provider: Provider::Anon, .. } => Ok(Token { third_party_token: None, ..token }),
///         _ => Ok(token),
///     },
///     session: |session, token| Session { is_logged_in: token.sub.is_some(), ..session },
/// }
/// // Generated: `Token`, `Session`, `Provider` (one variant per provider id, here `Provider::Anon`),
/// // `AnonCredentials`, `JwtEvent`, `NextAuth` (implements `auth_runtime::AuthDefinition`) and
/// // `type Auth = auth_runtime::Auth<NextAuth>`.
/// assert_eq!(Provider::Anon.id(), "anon");
/// let auth = Auth::builder(AppState).secret("a-secret-of-at-least-32-characters!!").build().unwrap();
/// assert_eq!(auth.settings().max_age(), 30 * 24 * 60 * 60);
/// ```
///
/// # Grammar
///
/// The block is a list of items separated by commas: at most two `struct` declarations, then
/// `key: value` entries in any order. Every key may appear once.
///
/// ```text
/// next_auth! {
///     [/// docs] [#[attrs]] [vis] struct <Name>Token { [/// docs] [vis] field: Type, .. }
///     [/// docs] [#[attrs]] [vis] struct <Name>Session { [/// docs] [vis] field: Type, .. }
///
///     state: Type,                  // optional, default `()`; callbacks receive `&Type`
///     max_age: <seconds>,           // optional, > 0; default 30 days
///     update_age: <seconds>,        // optional, >= 0 and <= max_age; default 24 hours
///     strategy: "jwt",              // optional; "jwt" is the only strategy served
///     base_path: "/api/auth",       // optional; starts with `/`, no trailing `/`
///     token_format: "nextauth-v4",  // optional, the default; or "authjs-v5", "jws"; AUTH_TOKEN_FORMAT overrides it
///     debug: true,                  // optional; log each protocol step (AUTH_DEBUG overrides it)
///     guest_limit_per_hour: <count>,  // optional guest creation limits (0: off); defaults 30,
///     guest_limit_burst: <count>,     //   30 per client (IPv4, IPv6 /64), 10,000 and 1,000
///     guest_global_per_hour: <count>, //   over all clients; AUTH_GUEST_LIMIT_PER_HOUR,
///     guest_global_burst: <count>,    //   .._BURST, AUTH_GUEST_GLOBAL_.. override them
///     credentials_limit_per_hour: <count>,      // optional Credentials attempt limits (0: off);
///     credentials_limit_burst: <count>,         //   defaults 30 and 10 per client, 60 and 20
///     credentials_identifier_per_hour: <count>, //   per submitted identifier; right attempts
///     credentials_identifier_burst: <count>,    //   are given back; AUTH_CREDENTIALS_.. override
///     providers: [ <provider>, .. ], // required, at least one
///     sign_in: <closure>,           // optional, default: every sign-in allowed
///     redirect: <closure>,          // optional, default: the requested URL (always checked)
///     jwt: <closure>,               // optional, default: the token unchanged
///     events: { <event>: <closure>, .. }, // optional; sign_in, sign_out, create_user,
///                                   //   update_user, link_account, session, guest_created,
///                                   //   guest_upgraded
///     session: <closure>,           // optional, default: the session unchanged
/// }
///
/// <provider> := [/// docs] Credentials {
///     id: "anon",                   // required: non-empty, starts with a letter, [A-Za-z0-9_-]
///     name: "Anonymous",            // optional display name, default: the id
///     credentials: { <field>: { label: "..", type: "..", placeholder: ".." }, .. },
///                                   // required; `{}` for none; each option optional
///     authorize: <closure>,         // required
/// }
/// ```
///
/// **Structs.** The token struct is the one named `…Token` or `…Claims` (otherwise the first
/// declared), the session struct the one named `…Session` (otherwise the second). Either may be
/// left out; the default is a `pub struct Token` / `pub struct Session` with only the standard
/// fields. Declared fields come after the standard ones, which they must not redeclare: the token
/// has `sub`, `name`, `email`, `picture`, `iat`, `exp`, `jti`; the session has `user` and
/// `expires`. Token fields are `Default` (a sign-in starts with them at their default); both
/// structs serialise camelCase. They cannot be generic, tuple structs, or take a generated name
/// (`Provider`, `NextAuth`, `Auth`, `JwtEvent`, `…Credentials`).
///
/// **Durations** (`max_age`, `update_age`) are seconds: an unsuffixed integer literal, or `+` and
/// `*` of them (`30 * 24 * 60 * 60`).
///
/// **Strategy.** `"database"` is refused: with a Credentials provider for NextAuth's reason
/// (users signed in with credentials are not persisted, so their session lives in the token),
/// otherwise because database sessions need an adapter, which this version does not have.
///
/// **Closures.** Every callback is a closure, in any of these forms: `|a, b| expr`,
/// `|a, b| -> Type { .. }`, `async |a, b| ..`, `async move |a, b| ..`, or `|a, b| async move { .. }`.
/// Parameters may be patterns and may carry their type (`|token: Token, _| ..`); trailing
/// optional parameters may be left out.
///
/// | key         | parameters                                         | returns                                  |
/// |-------------|----------------------------------------------------|------------------------------------------|
/// | `authorize` | `credentials: <Id>Credentials` [, `state: &State`] | `Result<Option<User>, CallbackError>`    |
/// | `jwt`       | `token: Token`, `event: JwtEvent` [, `state: &State`] | `Result<Token, CallbackError>`        |
/// | `session`   | `session: Session`, `token: &Token` [, `state: &State`] | `Session`                           |
///
/// Each closure becomes a private `async fn` with your tokens as its body, so `?` and `.await`
/// work, and type errors are rustc's, pointing at your code. In a callback, a string literal
/// compared (`==`, `!=`) with a provider id (`account.provider`, `provider`, `….as_str()`,
/// `provider.id()`) or used as a pattern of a `match` on one must be a configured id.
///
/// # Generated items
///
/// In the calling module, with the narrower of the two structs' visibilities: the token and
/// session structs; `enum Provider` (one variant per id, `"my-app"` → `Provider::MyApp`, with
/// `Provider::ALL` and `id()`); `<Variant>Credentials` (the typed form fields of each provider);
/// `type JwtEvent = auth_runtime::JwtEvent<Provider>`; `enum NextAuth` (implements
/// `auth_runtime::AuthDefinition`); and `type Auth = auth_runtime::Auth<NextAuth>`. Because the
/// macro defines `JwtEvent` in your module, do not also import `auth_runtime::JwtEvent` there.
/// Doc comments on the structs, their fields and the providers are carried over, so `cargo doc`
/// shows the providers, token claims and session fields.
///
/// # Errors
///
/// Every mistake in the block is reported in one compile, each on the offending token, and the
/// macro still expands to the valid part of the configuration, so one mistake gives one error.
#[proc_macro]
pub fn next_auth(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    entry(input.into()).into()
}

/// The macro on `proc_macro2` tokens: parse, validate, expand, and on errors the fallback.
fn entry(input: TokenStream) -> TokenStream {
    let errors = errors::Errors::new();
    let model = match syn::parse2::<ast::Input>(input) {
        Ok(input) => validate::validate(&input, &errors),
        Err(error) => {
            errors.push(error);
            model::Model::empty()
        }
    };
    let expansion = expand::expand(&model);
    match errors.finish() {
        None => expansion,
        Some(error) => fallback::with_errors(expansion, &error),
    }
}
