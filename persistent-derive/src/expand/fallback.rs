//! The stand-in `Persistent` impl emitted next to compile errors, so that uses of the type
//! elsewhere do not add "trait not implemented" errors to the real ones (as thiserror-impl
//! does). Generic inputs get none: an impl for them would add errors of its own.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

/// A `Persistent` impl whose methods are never meant to run.
pub(super) fn expand(node: &DeriveInput) -> TokenStream {
    let generics = &node.generics;
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        return TokenStream::new();
    }
    let ident = &node.ident;
    quote! {
        const _: () = {
            #[automatically_derived]
            impl ::persistent_core::__private::Persistent for #ident {
                type Object = ::persistent_core::__private::PObject<Self>;
                const TYPE_NAME: &'static str = ::core::stringify!(#ident);

                fn encode_state(
                    &self,
                    _: &mut ::std::vec::Vec<u8>,
                ) -> ::persistent_core::__private::Result<()> {
                    ::core::unreachable!()
                }

                fn decode_state(_: &[u8]) -> ::persistent_core::__private::Result<Self> {
                    ::core::unreachable!()
                }
            }
        };
    }
}
