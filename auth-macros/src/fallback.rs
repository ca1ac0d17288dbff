//! What to emit when the block has errors.
//!
//! The errors become `compile_error!`s, and the expansion of the best-effort model (invalid parts
//! left out or replaced by defaults) is emitted next to them. The generated `Token`, `Session`,
//! `Provider`, `NextAuth` and `Auth` therefore still exist, so code elsewhere that uses them type
//! checks and one mistake in the block gives one error, not a cascade.

use proc_macro2::TokenStream;

pub(crate) fn with_errors(expansion: TokenStream, error: &syn::Error) -> TokenStream {
    let mut out = error.to_compile_error();
    out.extend(expansion);
    out
}
