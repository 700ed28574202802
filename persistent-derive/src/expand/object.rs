//! The generated object type: a wrapper around `PObject<Self>` that is the `Object` of the
//! `Persistent` impl (with the struct's visibility, so that a private struct does not leak a
//! private type through a public one), dereferences to `PObject<Self>` (so the `p_*`
//! protocol is reachable from a `P<Self>` handle), and carries a getter and a setter per
//! field.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::ast::{Field, GetterKind, Input};

/// The object type, its `ObjectCell` and `Deref` impls, and the accessors.
pub(super) fn expand(input: &Input) -> TokenStream {
    let ident = input.ident;
    let vis = input.vis;
    let object = Ident::new(super::OBJECT, Span::call_site());
    let private = input.private();
    let pobject = quote!(#private::PObject<#ident>);
    let doc = format!(
        " The persistent object behind a `P<{ident}>` handle: field accessors, and the \
         persistence protocol of `PObject<{ident}>` through `Deref`."
    );
    let accessors = input.fields.iter().map(|field| accessors(field, &private));
    quote! {
        #[doc = #doc]
        #[doc(hidden)]
        #vis struct #object(#pobject);

        #[automatically_derived]
        impl #private::ObjectCell for #object {
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

        /// The persistence protocol's representation (docs/spec.md §2.9).
        #[automatically_derived]
        impl ::core::fmt::Debug for #object {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Debug::fmt(&self.0, f)
            }
        }

        // Accessors nobody calls are not the user's dead code, and `set__v_x` (the setter of
        // `_v_x`) is the documented name even though it is not snake case.
        // (`#[automatically_derived]` is for trait impls only.)
        #[allow(dead_code, non_snake_case)]
        impl #object {
            #(#accessors)*
        }
    }
}

/// The getter (unless `no_getter`) and the setter of one field. The getter of a `Copy`
/// field returns the value; any other getter returns a `FieldGuard` borrowing the field, so
/// that writing through a getter's result does not compile.
fn accessors(field: &Field, private: &TokenStream) -> TokenStream {
    let Field { ident, vis, ty, .. } = field;
    let name = field.name();
    let getter = field.attrs.no_getter.is_none().then(|| {
        let (doc, returns, body) = match field.getter_kind() {
            GetterKind::Copy => (
                format!(
                    " Returns `{name}` (a copy), loading a ghost first and touching the object \
                     in its cache."
                ),
                quote!(#ty),
                quote!(self.0.with(|__state| __state.#ident)),
            ),
            GetterKind::Handle => (
                format!(
                    " Returns another handle to the persistent object in `{name}` (the stored \
                     one: writes through it are stored), loading this object first and \
                     touching it in its cache."
                ),
                quote!(#ty),
                quote!(self.0.with(|__state| #private::SharedHandle::share(&__state.#ident))),
            ),
            GetterKind::OptionalHandle => (
                format!(
                    " Returns another handle to the persistent object in `{name}`, if any (the \
                     stored one: writes through it are stored), loading this object first and \
                     touching it in its cache."
                ),
                quote!(#ty),
                quote!(self.0.with(|__state| {
                    __state.#ident.as_ref().map(#private::SharedHandle::share)
                })),
            ),
            GetterKind::Guard => (
                format!(
                    " Borrows `{name}`, loading a ghost first and touching the object in its \
                     cache. While the guard lives the object is borrowed (sticky); clone the \
                     value to keep it longer."
                ),
                quote!(#private::FieldGuard<'_, #ty>),
                quote!(#private::field_guard(&self.0, |__state| &__state.#ident)),
            ),
        };
        quote! {
            #[doc = #doc]
            #[inline]
            #vis fn #ident(&self) -> #private::Result<#returns> {
                #body
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
        #vis fn #setter(&self, value: #ty) -> #private::Result<()> {
            self.0.#update(|__state| __state.#ident = value)
        }
    }
}
