//! The parsed model of a `#[derive(Persistent)]` input: a struct with named fields, its
//! attributes, and for each field whether it is volatile. Shapes the derive does not
//! support (tuple and unit structs, enums, unions) are reported here.

use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Generics, Ident, Type, Visibility};

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

    /// The setter's name: `set_` followed by the field's name.
    pub(crate) fn setter(&self) -> Ident {
        Ident::new(&format!("set_{}", self.name()), self.ident.span())
    }
}
