//! `#[derive(Persistent)]`: the entry point. The work happens in four steps, each in its own
//! module: `ast` reads the input into a model (with `attr` parsing `#[persistent(...)]`),
//! `valid` checks what the model cannot express, and `expand` writes the generated code.
//! Errors of every step are collected (`errors`) and reported together, with spans.

mod ast;
mod attr;
mod errors;
mod expand;
mod valid;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Derives `persistent_core::Persistent` for a struct with named fields.
///
/// Generated, all inside `const _: () = { ... };`:
///
/// * an object type with the struct's visibility (the `Object` of the `Persistent` impl)
///   that dereferences to `PObject<Self>`, so the `p_*` protocol is called right on a
///   `P<Self>` handle;
/// * on that object, for each field `f: F`, a getter `f(&self) -> Result<F>` returning a clone,
///   or, for a field whose type is a shared persistent handle (`SharedField`: the persistent
///   collections), the same collection (it loads a ghost and touches the object) and a setter `set_f(&self, F) -> Result<()>`
///   (a persistent field registers the object once and marks it changed; a volatile field
///   never does). Accessors have the field's visibility: a field without `pub` gets accessors
///   callable only from the module that defines the struct. A field named like a method of
///   `PObject` (`with`, `read`, `write`, `update`) hides that method on the handle; reach it
///   with `p.as_object().read()`;
/// * `impl Persistent`: the persistent fields encoded with postcard in declaration order,
///   volatile fields rebuilt with `Default` on decode.
///
/// A field is volatile when its name starts with `_v_` or it carries
/// `#[persistent(volatile)]`. Other attributes: `#[persistent(no_getter)]` on a field (no
/// getter, for types that are not `Clone`: read them with `p.read()?`);
/// `#[persistent(name = "stable::Name")]` on the struct (the stored type name, by default
/// module path and struct name); `#[persistent(repr = path::to::function)]` on the struct
/// (a custom Debug representation, `fn(&PObject<Self>) -> Result<String, String>`).
///
/// ```
/// mod bank {
///     use persistent_core::Persistent;
///
///     #[derive(Persistent)]
///     #[persistent(name = "bank::Account")]
///     pub struct Account {
///         pub owner: String,
///         pub balance: i64,
///         pub _v_views: u32,
///     }
/// }
///
/// use persistent_core::P;
///
/// let account = P::new(bank::Account { owner: "ann".into(), balance: 0, _v_views: 0 });
/// account.set_balance(10)?;
/// account.set__v_views(1)?;
/// assert_eq!(account.balance()?, 10);
/// assert_eq!(account.p_status(), "unsaved");
/// # Ok::<(), persistent_core::Error>(())
/// ```
///
/// Refused with a compile error: tuple and unit structs, enums, unions, generic parameters,
/// `#[serde(...)]` on fields, unknown `#[persistent(...)]` keys and field names starting with
/// `p_` (they would shadow the persistence protocol on the handle).
#[proc_macro_derive(Persistent, attributes(persistent))]
pub fn derive_persistent(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input).into()
}
