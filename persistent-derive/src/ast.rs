//! The parsed model of a `#[derive(Persistent)]` input: a struct with named fields, its
//! attributes, and for each field whether it is volatile. Shapes the derive does not
//! support (tuple and unit structs, enums, unions) are reported here.

use syn::ext::IdentExt;
use syn::{
    Data, DeriveInput, Fields, GenericArgument, Generics, Ident, PathArguments, Type, Visibility,
};

use crate::attr::{self, FieldAttrs, StructAttrs};
use crate::errors::Errors;

const SHAPE_MESSAGE: &str = "#[derive(Persistent)] supports structs with named fields";

/// The struct being derived.
pub(crate) struct Input<'a> {
    /// The struct's name.
    pub(crate) ident: &'a Ident,
    /// The struct's visibility, given to the generated object type.
    pub(crate) vis: &'a Visibility,
    /// Its generics (refused by `valid` unless empty).
    pub(crate) generics: &'a Generics,
    /// Its `#[persistent(...)]` keys.
    pub(crate) attrs: StructAttrs,
    /// Its fields in declaration order.
    pub(crate) fields: Vec<Field<'a>>,
}

impl Input<'_> {
    /// The path of the generated code's support module: `<crate>::__private`, where the
    /// crate is `#[persistent(crate = "...")]` or the facade `::persistent`.
    pub(crate) fn private(&self) -> proc_macro2::TokenStream {
        private_path(self.attrs.krate.as_ref())
    }
}

/// `<krate>::__private`, `::persistent::__private` by default.
pub(crate) fn private_path(krate: Option<&syn::Path>) -> proc_macro2::TokenStream {
    if let Some(path) = krate {
        quote::quote!(#path::__private)
    } else {
        quote::quote!(::persistent::__private)
    }
}

/// One named field.
pub(crate) struct Field<'a> {
    /// The field's name as written (possibly a raw identifier).
    pub(crate) ident: &'a Ident,
    /// The field's visibility, given to its accessors.
    pub(crate) vis: &'a Visibility,
    /// The field's type.
    pub(crate) ty: &'a Type,
    /// Its `#[persistent(...)]` keys and `#[serde(...)]` keys.
    pub(crate) attrs: FieldAttrs,
}

impl<'a> Input<'a> {
    /// Reads `node`; `None` (with an error reported) when it is not a struct with named
    /// fields.
    pub(crate) fn from_syn(node: &'a DeriveInput, errors: &mut Errors) -> Option<Input<'a>> {
        let named = match &node.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named,
                Fields::Unnamed(fields) => {
                    errors.push(syn::Error::new_spanned(fields, SHAPE_MESSAGE));
                    return None;
                }
                Fields::Unit => {
                    errors.push(syn::Error::new(node.ident.span(), SHAPE_MESSAGE));
                    return None;
                }
            },
            Data::Enum(data) => {
                errors.push(syn::Error::new(data.enum_token.span, SHAPE_MESSAGE));
                return None;
            }
            Data::Union(data) => {
                errors.push(syn::Error::new(data.union_token.span, SHAPE_MESSAGE));
                return None;
            }
        };
        let attrs = attr::struct_attrs(&node.attrs, errors);
        let fields = named
            .named
            .iter()
            .filter_map(|field| {
                Some(Field {
                    ident: field.ident.as_ref()?,
                    vis: &field.vis,
                    ty: &field.ty,
                    attrs: attr::field_attrs(&field.attrs, errors),
                })
            })
            .collect();
        Some(Input { ident: &node.ident, vis: &node.vis, generics: &node.generics, attrs, fields })
    }
}

impl Field<'_> {
    /// The field's name without a raw-identifier prefix.
    pub(crate) fn name(&self) -> String {
        self.ident.unraw().to_string()
    }

    /// Whether the field is left out of the stored state: its name starts with `_v_` or it
    /// carries `#[persistent(volatile)]`.
    pub(crate) fn is_volatile(&self) -> bool {
        self.attrs.volatile.is_some() || self.name().starts_with("_v_")
    }

    /// What the getter returns: `copy` or a primitive `Copy` type gives the value; a type
    /// named like a persistent handle (or an `Option` of one) gives a shared handle; anything
    /// else (or a field marked `guard`) gives a read guard.
    pub(crate) fn getter_kind(&self) -> GetterKind {
        if self.attrs.copy.is_some() || (self.attrs.guard.is_none() && is_plain_copy(self.ty)) {
            GetterKind::Copy
        } else if self.attrs.guard.is_some() {
            GetterKind::Guard
        } else if is_handle(self.ty) {
            GetterKind::Handle
        } else if option_inner(self.ty).is_some_and(is_handle) {
            GetterKind::OptionalHandle
        } else {
            GetterKind::Guard
        }
    }

    /// The setter's name: `set_` followed by the field's name.
    pub(crate) fn setter(&self) -> Ident {
        Ident::new(&format!("set_{}", self.name()), self.ident.span())
    }
}

/// What a generated getter returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GetterKind {
    /// The value (a `Copy` type).
    Copy,
    /// Another handle to the same persistent object (`SharedHandle::share`).
    Handle,
    /// `Option` of another handle to the same persistent object.
    OptionalHandle,
    /// A `FieldGuard` borrowing the field.
    Guard,
}

/// Type names the derive takes for persistent handles (`SharedHandle`).
const HANDLE_NAMES: &[&str] = &[
    "P",
    "PersistentList",
    "PersistentMapping",
    "PersistentWeakKeyMapping",
    "PersistentCollection",
    "PersistentBTreeMap",
    "PersistentBTreeSet",
];

/// Whether `ty` is written as a persistent handle: a path whose last segment is one of
/// [`HANDLE_NAMES`] with generic arguments.
fn is_handle(ty: &Type) -> bool {
    match ty {
        Type::Paren(inner) => is_handle(&inner.elem),
        Type::Group(inner) => is_handle(&inner.elem),
        Type::Path(path) if path.qself.is_none() => path.path.segments.last().is_some_and(|last| {
            matches!(last.arguments, PathArguments::AngleBracketed(_))
                && HANDLE_NAMES.contains(&last.ident.to_string().as_str())
        }),
        _ => false,
    }
}

/// The `T` of a type written as `Option<T>`.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    let mut types = args.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty),
        _ => None,
    });
    match (types.next(), types.next()) {
        (Some(inner), None) => Some(inner),
        _ => None,
    }
}

/// Primitive types the getter returns by value; everything else gets a read guard.
const COPY_PRIMITIVES: &[&str] = &[
    "bool", "char", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128",
    "isize", "f32", "f64",
];

/// Whether `ty` is written as a primitive `Copy` type (a bare name of [`COPY_PRIMITIVES`],
/// optionally under `std::`/`core::` paths), or an `Option`, tuple or array of such. A
/// type alias or a user's `Copy` struct is not recognised: mark such a field `copy`.
pub(crate) fn is_plain_copy(ty: &Type) -> bool {
    match ty {
        Type::Paren(inner) => is_plain_copy(&inner.elem),
        Type::Group(inner) => is_plain_copy(&inner.elem),
        Type::Tuple(tuple) => tuple.elems.iter().all(is_plain_copy),
        Type::Array(array) => is_plain_copy(&array.elem),
        Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return false;
            };
            let name = last.ident.to_string();
            match &last.arguments {
                PathArguments::None => {
                    let prefix_ok = path.path.segments.len() == 1
                        || path.path.segments.iter().take(path.path.segments.len() - 1).all(|s| {
                            matches!(s.ident.to_string().as_str(), "std" | "core" | "primitive")
                        });
                    prefix_ok && COPY_PRIMITIVES.contains(&name.as_str())
                }
                PathArguments::AngleBracketed(args) if name == "Option" => {
                    let mut types = args.args.iter().filter_map(|arg| match arg {
                        GenericArgument::Type(ty) => Some(ty),
                        _ => None,
                    });
                    matches!((types.next(), types.next()), (Some(inner), None) if is_plain_copy(inner))
                }
                _ => false,
            }
        }
        _ => false,
    }
}
