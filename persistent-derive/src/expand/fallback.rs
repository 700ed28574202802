//! The stand-in `Persistent` impl emitted next to compile errors, so that uses of the type
//! elsewhere do not add "trait not implemented" errors to the real ones (as thiserror-impl
//! does). Generic inputs get none: an impl for them would add errors of its own.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

/// A `Persistent` impl whose methods are never meant to run.
pub(super) fn expand(node: &DeriveInput, private: &TokenStream) -> TokenStream {
    let generics = &node.generics;
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        return TokenStream::new();
    }
    let ident = &node.ident;
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #private::Persistent for #ident {
                type Object = #private::PObject<Self>;
                const TYPE_NAME: &'static str = ::core::stringify!(#ident);

                fn encode_state(
                    &self,
                    _: &mut ::std::vec::Vec<u8>,
                ) -> #private::Result<()> {
                    ::core::unreachable!()
                }

                fn decode_state(_: &[u8]) -> #private::Result<Self> {
                    ::core::unreachable!()
                }
            }
        };
    }
}
