//! Unit tests on `proc_macro2` tokens: no rustc involved.

use proc_macro2::TokenStream;
use quote::quote;

use crate::entry;

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as a file");
    prettyplease::unparse(&file)
}

#[test]
fn print_example() {
    let out = entry(quote! {
        /// Claims carried in the session token, on top of the standard ones.
        pub struct Token {
            /// The third party's token.
            third_party_token: Option<String>,
        }
        /// What GET /api/auth/session returns.
        pub struct Session {
            is_logged_in: bool,
        }
        state: AppState,
        max_age: 30 * 24 * 60 * 60,
        update_age: 24 * 60 * 60,
        base_path: "/api/auth",
        providers: [
            Credentials {
                id: "anon",
                name: "Anonymous",
                credentials: {},
                authorize: async |credentials, state| {
                    let id = state.create_guest().await?;
                    Ok(Some(User::with_id(id)))
                },
            },
        ],
        jwt: async |token, event, state| {
            match event {
                JwtEvent::SignIn { provider: Provider::Anon, .. } => Ok(Token { third_party_token: Some("x".into()), ..token }),
                _ => Ok(token),
            }
        },
        session: |session, token| Session { is_logged_in: false, ..session },
    });
    println!("{}", pretty(out));
}
