use proc_macro::TokenStream;
#[proc_macro]
pub fn next_auth(input: TokenStream) -> TokenStream { input }
