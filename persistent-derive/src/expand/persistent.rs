//! The generated `Persistent` impl: the object type, the stored type name, the state codec
//! (persistent fields with postcard in declaration order, volatile fields rebuilt with
//! `Default`), the schema (field names and shapes, version) with the by-name decoding of a
//! record written under another schema, and the optional custom representation hook.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use crate::ast::Input;

/// `impl Persistent for #ident`.
pub(super) fn expand(input: &Input) -> TokenStream {
    let private = input.private();
    let ident = input.ident;
    let object = Ident::new(super::OBJECT, Span::call_site());
    // The default stored name is the struct's name alone: it does not change when the struct
    // moves to another module, crate or binary. Records written under the first release's
    // default (module path and name) are still read.
    let ident_name = ident.unraw().to_string();
    let type_name =
        input.attrs.name.as_ref().map_or_else(|| quote!(#ident_name), |name| quote!(#name));
    let legacy =
        input.attrs.name.is_none().then(|| {
            quote!(|| __name == ::core::concat!(::core::module_path!(), "::", #ident_name))
        });
    let aliases = input.attrs.aliases.iter();
    let reads = quote! {
        fn reads_type_name(__name: &str) -> bool {
            __name == <Self as #private::Persistent>::TYPE_NAME
                #(|| __name == #aliases)*
                #legacy
        }

        fn claim_type_name() -> #private::Result<()> {
            static CLAIM: ::std::sync::OnceLock<::core::option::Option<&'static str>> =
                ::std::sync::OnceLock::new();
            let __rust_name = ::core::any::type_name::<Self>();
            match CLAIM.get_or_init(|| {
                #private::claim_type_name(<Self as #private::Persistent>::TYPE_NAME, __rust_name)
            }) {
                ::core::option::Option::None => ::core::result::Result::Ok(()),
                ::core::option::Option::Some(__other) => {
                    ::core::result::Result::Err(#private::type_name_clash(
                        <Self as #private::Persistent>::TYPE_NAME,
                        __other,
                        __rust_name,
                    ))
                }
            }
        }
    };
    let encode = encode_state(input);
    let decode = decode_state(input);
    let schema = schema(input);
    let evolved = decode_evolved(input);
    let repr = input.attrs.repr.as_ref().map(|path| {
        quote! {
            fn p_repr(
                __object: &#private::PObject<Self>,
            ) -> ::core::option::Option<
                ::core::result::Result<::std::string::String, ::std::string::String>,
            > {
                ::core::option::Option::Some(#path(__object))
            }
        }
    });
    let resolve = input.attrs.resolve.as_ref().map(|path| {
        quote! {
            const RESOLVES_CONFLICTS: bool = true;

            fn resolve_conflict(
                __old: &Self,
                __committed: &Self,
                __mine: &Self,
            ) -> ::core::option::Option<Self> {
                #path(__old, __committed, __mine)
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #private::Persistent for #ident {
            type Object = #object;
            const TYPE_NAME: &'static str = #type_name;
            #resolve
            #reads
            #encode
            #decode
            #schema
            #evolved
            #repr
        }
    }
}

fn encode_state(input: &Input) -> TokenStream {
    let private = input.private();
    let fields: Vec<TokenStream> = input
        .fields
        .iter()
        .filter(|f| !f.is_volatile())
        .map(|field| {
            let ident = field.ident;
            quote_spanned! {field.ty.span()=>
                #private::encode_field(Self::TYPE_NAME, &self.#ident, __out)?;
            }
        })
        .collect();
    let out = if fields.is_empty() { quote!(_) } else { quote!(__out) };
    quote! {
        fn encode_state(
            &self,
            #out: &mut ::std::vec::Vec<u8>,
        ) -> #private::Result<()> {
            #(#fields)*
            ::core::result::Result::Ok(())
        }
    }
}

fn decode_state(input: &Input) -> TokenStream {
    let private = input.private();
    let mut decode = Vec::new();
    let mut build = Vec::new();
    for (index, field) in input.fields.iter().enumerate() {
        let ident = field.ident;
        let ty = field.ty;
        if field.is_volatile() {
            build.push(rebuilt_volatile(field, &private));
        } else {
            let local = format_ident!("__field{}", index);
            decode.push(quote_spanned! {ty.span()=>
                let #local = #private::decode_field::<#ty>(
                    Self::TYPE_NAME,
                    &mut __input,
                )?;
            });
            build.push(quote!(#ident: #local));
        }
    }
    let input_binding = if decode.is_empty() { quote!(__input) } else { quote!(mut __input) };
    quote! {
        fn decode_state(__bytes: &[u8]) -> #private::Result<Self> {
            let #input_binding = __bytes;
            #(#decode)*
            #private::finish_decode(Self::TYPE_NAME, __input)?;
            ::core::result::Result::Ok(Self { #(#build),* })
        }
    }
}

/// `fn schema()`: the persistent fields' names and traced shapes, made once.
fn schema(input: &Input) -> TokenStream {
    let private = input.private();
    let version = version(input);
    let fields = input.fields.iter().filter(|f| !f.is_volatile()).map(|field| {
        let name = field.name();
        let ty = field.ty;
        quote_spanned! {ty.span()=>
            (::std::string::String::from(#name), #private::shape_of::<#ty>())
        }
    });
    quote! {
        fn schema() -> ::core::option::Option<&'static #private::Schema> {
            static SCHEMA: ::std::sync::OnceLock<#private::Schema> = ::std::sync::OnceLock::new();
            ::core::option::Option::Some(SCHEMA.get_or_init(|| {
                #private::Schema::new(
                    <Self as #private::Persistent>::stored_type_name(),
                    #version,
                    ::std::vec![#(#fields),*],
                )
            }))
        }
    }
}

fn version(input: &Input) -> TokenStream {
    input.attrs.version.as_ref().map_or_else(
        || quote!(1u32),
        |lit| {
            let value = lit.base10_parse::<u32>().unwrap_or(1);
            quote!(#value)
        },
    )
}

/// `fn decode_evolved`: an upgrade for an older version, else each stored field into the
/// field of the same name (or alias), a missing field from its default.
fn decode_evolved(input: &Input) -> TokenStream {
    let private = input.private();
    let version = version(input);
    let upgrade = input.attrs.upgrade.as_ref().map(|path| {
        quote! {
            if __stored.version() < #version {
                return #path(&__stored.into_old_fields()?);
            }
        }
    });
    let mut slots = Vec::new();
    let mut arms = Vec::new();
    let mut build = Vec::new();
    for (index, field) in input.fields.iter().enumerate() {
        let ident = field.ident;
        let ty = field.ty;
        if field.is_volatile() {
            build.push(rebuilt_volatile(field, &private));
            continue;
        }
        let slot = format_ident!("__field{}", index);
        let name = field.name();
        let aliases = field.attrs.aliases.iter();
        slots.push(quote! {
            let mut #slot: ::core::option::Option<#ty> = ::core::option::Option::None;
        });
        arms.push(quote_spanned! {ty.span()=>
            #name #(| #aliases)* => {
                #slot = ::core::option::Option::Some(__field.decode::<#ty>(#name)?);
            }
        });
        let missing = field.attrs.default.as_ref().map_or_else(
            || {
                quote_spanned! {ty.span()=>
                    (&#private::Missing::<#ty>::new()).missing_field(
                        <Self as #private::Persistent>::stored_type_name(),
                        #name,
                    )?
                }
            },
            |path| quote!(#path()),
        );
        build.push(quote! {
            #ident: match #slot {
                ::core::option::Option::Some(__value) => __value,
                ::core::option::Option::None => #missing,
            }
        });
    }
    quote! {
        #[allow(unused_imports)]
        fn decode_evolved(
            mut __stored: #private::StoredFields<'_>,
        ) -> #private::Result<Self> {
            use #private::{MissingByDefault as _, MissingIsError as _};
            #upgrade
            #(#slots)*
            while let ::core::option::Option::Some(__field) = __stored.next_field()? {
                match __field.name() {
                    #(#arms)*
                    _ => __field.skip()?,
                }
            }
            ::core::result::Result::Ok(Self { #(#build),* })
        }
    }
}

/// The initializer of a volatile field when a state is decoded: its `Default`, through
/// `VolatileField` (whose compile error names the rule).
fn rebuilt_volatile(field: &crate::ast::Field, private: &TokenStream) -> TokenStream {
    let (ident, ty) = (field.ident, field.ty);
    quote_spanned! {ty.span()=>
        #ident: <#ty as #private::VolatileField>::rebuilt()
    }
}
