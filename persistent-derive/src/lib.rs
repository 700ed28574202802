//! `#[derive(Persistent)]`. STUB: being implemented.

use proc_macro::TokenStream;

/// Derives `persistent_core::Persistent` for a struct with named fields.
#[proc_macro_derive(Persistent, attributes(persistent))]
pub fn derive_persistent(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
