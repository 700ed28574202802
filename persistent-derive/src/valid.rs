//! Checks of what the parsed model can express but the derive refuses: generic parameters,
//! `#[serde(...)]` on fields (the field codec ignores serde attributes; `flatten` and
//! `skip_serializing_if` could not even be decoded by postcard), field names starting with
//! `p_` (they would shadow the persistence protocol on the handle) and accessor names that
//! collide, plus an empty `name`, an `upgrade` without a `version` above 1, a field alias
//! that names another field, and `alias`/`default` on a volatile field.

use std::collections::HashMap;

use crate::ast::{Field, Input};
use crate::errors::Errors;

/// Reports every problem of `input`.
pub(crate) fn check(input: &Input, errors: &mut Errors) {
    let generics = input.generics;
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        errors
            .push(syn::Error::new_spanned(generics, "generic persistent types are not supported"));
    }
    if let Some(name) = &input.attrs.name {
        if name.value().is_empty() {
            errors
                .push(syn::Error::new(name.span(), "#[persistent(name = ...)] must not be empty"));
        }
    }
    if let Some(upgrade) = &input.attrs.upgrade {
        let version = input.attrs.version.as_ref().and_then(|v| v.base10_parse::<u32>().ok());
        if version.unwrap_or(1) < 2 {
            errors.push(syn::Error::new_spanned(
                upgrade,
                "an `upgrade` function runs for records of older versions: give the type \
                 #[persistent(version = N)] with N of at least 2",
            ));
        }
    }
    for field in &input.fields {
        check_field(field, errors);
    }
    check_collisions(&input.fields, errors);
    check_field_names(&input.fields, errors);
}

/// Each stored name (a field's name or alias) reads into one field only; a volatile field
/// is never read from a record, so it takes no `alias` or `default`.
fn check_field_names(fields: &[Field], errors: &mut Errors) {
    let mut owner: HashMap<String, String> = HashMap::new();
    for field in fields.iter().filter(|f| !f.is_volatile()) {
        owner.insert(field.name(), field.name());
    }
    for field in fields {
        if field.is_volatile() {
            if let Some(alias) = field.attrs.aliases.first() {
                errors.push(syn::Error::new(alias.span(), "a volatile field takes no `alias`"));
            }
            if let Some(default) = &field.attrs.default {
                errors.push(syn::Error::new_spanned(
                    default,
                    "a volatile field takes no `default`: it is rebuilt with `Default`",
                ));
            }
            continue;
        }
        for alias in &field.attrs.aliases {
            if let Some(other) = owner.insert(alias.value(), field.name()) {
                errors.push(syn::Error::new(
                    alias.span(),
                    format!(
                        "the stored name {:?} already reads into field `{other}`",
                        alias.value()
                    ),
                ));
            }
        }
    }
}

fn check_field(field: &Field, errors: &mut Errors) {
    if field.name().starts_with("p_") {
        errors.push(syn::Error::new(
            field.ident.span(),
            "field names starting with p_ would collide with the persistence protocol",
        ));
    }
    for key in &field.attrs.serde {
        let message = match key.name.as_str() {
            "flatten" => "#[serde(flatten)] is not supported: postcard cannot decode a flattened \
                          field"
                .to_string(),
            "skip_serializing_if" => "#[serde(skip_serializing_if = ...)] is not supported: \
                                      postcard cannot decode a field that may be missing; \
                                      make the field volatile or always store it"
                .to_string(),
            "skip" | "skip_serializing" | "skip_deserializing" | "default" => format!(
                "#[serde({})] on a field is not supported: to leave a field out of the stored \
                 state, make it volatile (name it `_v_...` or add #[persistent(volatile)]); it \
                 is then rebuilt with `Default` when the object loads",
                key.name
            ),
            "" => "#[serde(...)] on a field is not supported: the state codec ignores serde \
                   field attributes"
                .to_string(),
            other => format!(
                "#[serde({other})] on a field is not supported: the state codec ignores serde \
                 field attributes; implement Serialize for the field's type instead"
            ),
        };
        errors.push(syn::Error::new(key.span, message));
    }
}

/// A setter `set_x` must not have the name of another field's getter.
fn check_collisions(fields: &[Field], errors: &mut Errors) {
    let getters: HashMap<String, &Field> =
        fields.iter().filter(|f| f.attrs.no_getter.is_none()).map(|f| (f.name(), f)).collect();
    for field in fields {
        let setter = field.setter().to_string();
        if let Some(other) = getters.get(&setter) {
            errors.push(syn::Error::new(
                other.ident.span(),
                format!("field `{setter}` collides with the setter of field `{}`", field.name()),
            ));
        }
    }
}
