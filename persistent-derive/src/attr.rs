//! Parsing of the `#[persistent(...)]` attributes (on the struct: `name`, `alias`, `repr`,
//! `crate`, `version`, `upgrade`, `resolve`; on a field: `volatile`, `no_getter`, `copy`, `guard`,
//! `alias`, `default`) and the recording of `#[serde(...)]` keys on fields, which
//! `valid` refuses. Unknown and duplicate keys are reported and parsing goes on, so that one
//! compilation lists every mistake.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ExprPath, Lit, LitStr, Token};

use crate::errors::Errors;

/// The `#[persistent(...)]` keys of the struct.
#[derive(Default)]
pub(crate) struct StructAttrs {
    /// `name = "..."`: the stored type name.
    pub(crate) name: Option<LitStr>,
    /// `repr = path` or `repr = "path"`: the custom representation function.
    pub(crate) repr: Option<ExprPath>,
    /// `crate = "path"`: the path of the crate the generated code refers to (default
    /// `::persistent`, the facade).
    pub(crate) krate: Option<syn::Path>,
    /// `alias = "..."` (repeatable): older stored names whose records this type still reads.
    pub(crate) aliases: Vec<LitStr>,
    /// `version = N`: the version of the type's schema (1 when absent).
    pub(crate) version: Option<syn::LitInt>,
    /// `upgrade = path`: the function that builds the state from a record of an older
    /// version.
    pub(crate) upgrade: Option<ExprPath>,
    /// `resolve = path`: the function that merges a write conflict (docs/spec.md §8).
    pub(crate) resolve: Option<ExprPath>,
}

/// The `#[persistent(...)]` keys of a field, and its `#[serde(...)]` keys.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    /// `volatile`: the field is left out of the stored state.
    pub(crate) volatile: Option<Span>,
    /// `no_getter`: no getter is generated.
    pub(crate) no_getter: Option<Span>,
    /// `copy`: the getter returns the value (the type is `Copy`) instead of a guard.
    pub(crate) copy: Option<Span>,
    /// `guard`: the getter returns a read guard even for a type named like a handle.
    pub(crate) guard: Option<Span>,
    /// `alias = "..."` (repeatable): older names of the field, read from records.
    pub(crate) aliases: Vec<LitStr>,
    /// `default = path`: the function giving the field's value when a record lacks it.
    pub(crate) default: Option<ExprPath>,
    /// The keys found in `#[serde(...)]` attributes (an empty name for an attribute whose
    /// content could not be read).
    pub(crate) serde: Vec<SerdeKey>,
}

/// One key of a `#[serde(...)]` attribute on a field.
pub(crate) struct SerdeKey {
    /// The key, e.g. `flatten`.
    pub(crate) name: String,
    /// Where it is written.
    pub(crate) span: Span,
}

/// Reads the struct's `#[persistent(...)]` attributes.
pub(crate) fn struct_attrs(attrs: &[Attribute], errors: &mut Errors) -> StructAttrs {
    let mut out = StructAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("persistent")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                let value = meta.value()?.parse::<Expr>()?;
                match name_literal(value) {
                    Ok(lit) => set_once(&mut out.name, lit, &meta, errors),
                    Err(error) => errors.push(error),
                }
            } else if meta.path.is_ident("repr") {
                let value = meta.value()?.parse::<Expr>()?;
                match repr_path(value) {
                    Ok(path) => set_once(&mut out.repr, path, &meta, errors),
                    Err(error) => errors.push(error),
                }
            } else if meta.path.is_ident("alias") {
                let value = meta.value()?.parse::<Expr>()?;
                match name_literal(value) {
                    Ok(lit) => out.aliases.push(lit),
                    Err(error) => errors.push(error),
                }
            } else if meta.path.is_ident("version") {
                let value = meta.value()?.parse::<Expr>()?;
                match version_literal(value) {
                    Ok(lit) => set_once(&mut out.version, lit, &meta, errors),
                    Err(error) => errors.push(error),
                }
            } else if meta.path.is_ident("upgrade") {
                let value = meta.value()?.parse::<Expr>()?;
                match function_path(value, UPGRADE_MESSAGE) {
                    Ok(path) => set_once(&mut out.upgrade, path, &meta, errors),
                    Err(error) => errors.push(error),
                }
            } else if meta.path.is_ident("resolve") {
                let value = meta.value()?.parse::<Expr>()?;
                match function_path(value, RESOLVE_MESSAGE) {
                    Ok(path) => set_once(&mut out.resolve, path, &meta, errors),
                    Err(error) => errors.push(error),
                }
            } else if meta.path.is_ident("crate") {
                let value = meta.value()?.parse::<Expr>()?;
                match crate_path(value) {
                    Ok(path) => set_once(&mut out.krate, path, &meta, errors),
                    Err(error) => errors.push(error),
                }
            } else {
                errors.push(unknown_key(
                    &meta,
                    "on a struct; expected `name`, `alias`, `repr`, `crate`, `version`, `upgrade` or \
                     `resolve`",
                ));
                skip_value(&meta)?;
            }
            Ok(())
        });
        errors.push_result(result);
    }
    out
}

/// Reads a field's `#[persistent(...)]` attributes and records its `#[serde(...)]` keys.
pub(crate) fn field_attrs(attrs: &[Attribute], errors: &mut Errors) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    for attr in attrs {
        if attr.path().is_ident("persistent") {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("volatile") {
                    flag(&meta, errors)?;
                    set_once(&mut out.volatile, meta.path.span(), &meta, errors);
                } else if meta.path.is_ident("no_getter") {
                    flag(&meta, errors)?;
                    set_once(&mut out.no_getter, meta.path.span(), &meta, errors);
                } else if meta.path.is_ident("copy") {
                    flag(&meta, errors)?;
                    set_once(&mut out.copy, meta.path.span(), &meta, errors);
                } else if meta.path.is_ident("guard") {
                    flag(&meta, errors)?;
                    set_once(&mut out.guard, meta.path.span(), &meta, errors);
                } else if meta.path.is_ident("alias") {
                    let value = meta.value()?.parse::<Expr>()?;
                    match name_literal(value) {
                        Ok(lit) => out.aliases.push(lit),
                        Err(error) => errors.push(error),
                    }
                } else if meta.path.is_ident("default") {
                    let value = meta.value()?.parse::<Expr>()?;
                    match function_path(value, DEFAULT_MESSAGE) {
                        Ok(path) => set_once(&mut out.default, path, &meta, errors),
                        Err(error) => errors.push(error),
                    }
                } else {
                    errors.push(unknown_key(
                        &meta,
                        "on a field; expected `volatile`, `no_getter`, `copy`, `guard`, `alias` \
                         or `default`",
                    ));
                    skip_value(&meta)?;
                }
                Ok(())
            });
            errors.push_result(result);
        } else if attr.path().is_ident("serde") {
            out.serde.extend(serde_keys(attr));
        }
    }
    out
}

/// The value of `name = "..."`: a string literal.
fn name_literal(value: Expr) -> syn::Result<LitStr> {
    match value {
        Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) => Ok(lit),
        other => Err(syn::Error::new_spanned(
            other,
            "`name` must be a string literal, e.g. #[persistent(name = \"app::Account\")]",
        )),
    }
}

/// The value of `repr = path::to::function` or `repr = "path::to::function"`.
fn repr_path(value: Expr) -> syn::Result<ExprPath> {
    function_path(
        value,
        "`repr` must be the path of a function `fn(&PObject<Self>) -> Result<String, String>`",
    )
}

const UPGRADE_MESSAGE: &str =
    "`upgrade` must be the path of a function `fn(&OldFields) -> persistent::Result<Self>`";

const RESOLVE_MESSAGE: &str = "`resolve` must be the path of a function \
     `fn(old: &Self, committed: &Self, mine: &Self) -> Option<Self>`";

const DEFAULT_MESSAGE: &str =
    "`default` must be the path of a function returning the field's value, e.g. \
     #[persistent(default = \"default_limit\")]";

/// The value of `version = N`: an integer literal of at least 1.
fn version_literal(value: Expr) -> syn::Result<syn::LitInt> {
    const MESSAGE: &str = "`version` must be an integer of at least 1, e.g. version = 2";
    match value {
        Expr::Lit(ExprLit { lit: Lit::Int(lit), .. }) => match lit.base10_parse::<u32>() {
            Ok(version) if version >= 1 => Ok(lit),
            _ => Err(syn::Error::new(lit.span(), MESSAGE)),
        },
        other => Err(syn::Error::new_spanned(other, MESSAGE)),
    }
}

/// The value of a key naming a function: `key = path::to::function` or `key = "path"`.
fn function_path(value: Expr, message: &str) -> syn::Result<ExprPath> {
    match value {
        Expr::Path(path) => Ok(path),
        Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) => {
            lit.parse::<ExprPath>().map_err(|_| syn::Error::new(lit.span(), message))
        }
        other => Err(syn::Error::new_spanned(other, message)),
    }
}

/// The value of `crate = "path"`: a string literal holding a path, as serde's `crate`.
fn crate_path(value: Expr) -> syn::Result<syn::Path> {
    const MESSAGE: &str =
        "`crate` must be a string literal holding a path, e.g. #[persistent(crate = \"persistent_core\")]";
    match value {
        Expr::Lit(ExprLit { lit: Lit::Str(lit), .. }) => lit
            .parse_with(syn::Path::parse_mod_style)
            .map_err(|_| syn::Error::new(lit.span(), MESSAGE)),
        other => Err(syn::Error::new_spanned(other, MESSAGE)),
    }
}

/// A key that takes no value; a value is reported and skipped.
fn flag(meta: &ParseNestedMeta, errors: &mut Errors) -> syn::Result<()> {
    if meta.input.is_empty() || meta.input.peek(Token![,]) {
        return Ok(());
    }
    let name = path_name(&meta.path);
    errors.push(meta.error(format!("`{name}` takes no value")));
    skip_value(meta)
}

/// Stores a key's value, reporting a second occurrence.
fn set_once<T>(slot: &mut Option<T>, value: T, meta: &ParseNestedMeta, errors: &mut Errors) {
    if slot.is_some() {
        let name = path_name(&meta.path);
        errors.push(syn::Error::new_spanned(
            &meta.path,
            format!("duplicate #[persistent({name})] attribute"),
        ));
    } else {
        *slot = Some(value);
    }
}

fn unknown_key(meta: &ParseNestedMeta, context: &str) -> syn::Error {
    let name = path_name(&meta.path);
    syn::Error::new_spanned(&meta.path, format!("unknown #[persistent] key `{name}` {context}"))
}

/// Consumes `= value` or `(...)` after a key, so that parsing can go on after an error.
fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip_value(&inner))?;
    }
    Ok(())
}

/// The keys of one `#[serde(...)]` attribute; one unnamed key if it cannot be read.
fn serde_keys(attr: &Attribute) -> Vec<SerdeKey> {
    let mut keys = Vec::new();
    let result = attr.parse_nested_meta(|meta| {
        keys.push(SerdeKey { name: path_name(&meta.path), span: meta.path.span() });
        skip_value(&meta)
    });
    if result.is_err() || keys.is_empty() {
        keys = vec![SerdeKey { name: String::new(), span: attr.span() }];
    }
    keys
}

fn path_name(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments.join("::")
}
