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

/// Derives `Persistent` for a struct with named fields. Reach it through the `persistent`
/// crate (`use persistent::prelude::*;`).
///
/// Generated, all inside `const _: () = { ... };`:
///
/// * an object type with the struct's visibility (the `Object` of the `Persistent` impl)
///   that dereferences to `PObject<Self>`, so the `p_*` protocol is called right on a
///   `P<Self>` handle;
/// * on that object, for each field `f: F`, a getter and a setter `set_f(&self, F) ->
///   Result<()>` (a persistent field registers the object once and marks it changed; a
///   volatile field never does). Both load a ghost first and touch the object. The getter of
///   a primitive `Copy` field (integers, floats, `bool`, `char`, and `Option`s, tuples and
///   arrays of them) or of a field marked `#[persistent(copy)]` returns `Result<F>`; the
///   getter of a persistent handle (a type named `P`, `PersistentList`, `PersistentMapping`
///   or `PersistentCollection`, or an `Option` of one) returns another handle to the same
///   object (`SharedHandle::share`); every other getter returns
///   `Result<FieldGuard<'_, F>>`, a read guard on the stored field, so that
///   `p.meta()?.count += 1` (which would change a copy) does not compile. Accessors have the field's
///   visibility. A field named like a method of `PObject` (`with`, `read`, `write`,
///   `update`) hides that method on the handle; reach it with `p.as_object().read()`;
/// * `impl Persistent`: the persistent fields encoded with postcard in declaration order,
///   volatile fields rebuilt with `Default` on decode.
///
/// A field is volatile when its name starts with `_v_` or it carries
/// `#[persistent(volatile)]`. Other attributes: on a field, `no_getter` (no getter), `copy`
/// (the getter returns a copy) and `guard` (the getter returns a guard even for a type named
/// like a handle); on the struct, `name = "stable::Name"` (the stored
/// type name, by default module path and struct name), `repr = path::to::function` (a
/// custom Debug representation, `fn(&PObject<Self>) -> Result<String, String>`) and
/// `crate = "path"` (where the generated code finds the library, `::persistent` by default;
/// `"persistent_core"` for code that depends on that crate alone).
///
/// ```
/// mod bank {
///     use persistent::prelude::*;
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
/// use persistent::P;
///
/// let account = P::new(bank::Account { owner: "ann".into(), balance: 0, _v_views: 0 });
/// account.set_balance(10)?;
/// account.set__v_views(1)?;
/// assert_eq!(account.balance()?, 10);
/// assert_eq!(account.owner()?, "ann");
/// assert_eq!(account.p_status(), "unsaved");
/// # Ok::<(), persistent::Error>(())
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
