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
/// ```ignore
/// use auth_runtime::{next_auth, CallbackError, User};
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
/// ```
///
/// Keys: `state` (a type, default `()`), `max_age` and `update_age` (seconds: an integer literal,
/// or `+`/`*` of integer literals), `base_path` (`"/api/auth"`), `providers` (required), `jwt`
/// (`|token, event[, state]|`) and `session` (`|session, token[, state]|`). Closures may be sync,
/// `async`, or return an `async` block; a Credentials provider's `authorize` takes
/// `|credentials[, state]|`.
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
