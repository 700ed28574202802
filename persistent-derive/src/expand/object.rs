//! The generated object type: a wrapper around `PObject<Self>` that is the `Object` of the
//! `Persistent` impl (with the struct's visibility, so that a private struct does not leak a
//! private type through a public one), dereferences to `PObject<Self>` (so the `p_*`
//! protocol is reachable from a `P<Self>` handle), and carries a getter and a setter per
//! field.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{Field, Input};

/// The object type, its `ObjectCell` and `Deref` impls, and the accessors.
pub(super) fn expand(input: &Input) -> TokenStream {
    let ident = input.ident;
    let vis = input.vis;
    let object = Ident::new(super::OBJECT, Span::call_site());
    let pobject = quote!(::persistent_core::__private::PObject<#ident>);
    let doc = format!(
        " The persistent object behind a `P<{ident}>` handle: field accessors, and the \
         persistence protocol of `PObject<{ident}>` through `Deref`."
    );
    let accessors = input.fields.iter().map(accessors);
    quote! {
        #[doc = #doc]
        #[doc(hidden)]
        #vis struct #object(#pobject);

        #[automatically_derived]
        impl ::persistent_core::__private::ObjectCell for #object {
            type State = #ident;

            #[inline]
            fn object(&self) -> &#pobject {
                &self.0
            }

            #[inline]
            fn from_object(object: #pobject) -> Self {
                #object(object)
            }
        }

        #[automatically_derived]
        impl ::core::ops::Deref for #object {
            type Target = #pobject;

            #[inline]
            fn deref(&self) -> &#pobject {
                &self.0
            }
        }

        // Accessors nobody calls are not the user's dead code, and `set__v_x` (the setter of
        // `_v_x`) is the documented name even though it is not snake case.
        #[automatically_derived]
        #[allow(dead_code, non_snake_case)]
        impl #object {
            #(#accessors)*
        }
    }
}

/// The getter (unless `no_getter`) and the setter of one field.
fn accessors(field: &Field) -> TokenStream {
    let Field { ident, vis, ty, .. } = field;
    let name = field.name();
    let getter = field.attrs.no_getter.is_none().then(|| {
        let doc = format!(
            " Returns `{name}`, loading a ghost first and touching the object in its cache: \
             a shared persistent handle (a collection) as the same object, any other value \
             as a clone."
        );
        let clone = quote_spanned!(ty.span()=> {
            #[allow(unused_imports)]
            use ::persistent_core::__private::{GetCloned as _, GetShared as _};
            (&::persistent_core::__private::FieldRef(&__state.#ident)).get_field()
        });
        quote! {
            #[doc = #doc]
            #[inline]
            #vis fn #ident(&self) -> ::persistent_core::__private::Result<#ty> {
                self.0.with(|__state| #clone)
            }
        }
    });
    let setter = field.setter();
    let (doc, update) = if field.is_volatile() {
        (
            format!(
                " Sets the volatile field `{name}`, loading a ghost first; never marks the \
                 object changed."
            ),
            quote!(update_volatile),
        )
    } else {
        (
            format!(
                " Sets `{name}`, loading a ghost first; registers the object with its data \
                 manager (once) and marks it changed. If registering fails, nothing is written."
            ),
            quote!(update),
        )
    };
    quote! {
        #getter

        #[doc = #doc]
        #[inline]
        #vis fn #setter(&self, value: #ty) -> ::persistent_core::__private::Result<()> {
            self.0.#update(|__state| __state.#ident = value)
        }
    }
}
