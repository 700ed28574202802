//! The `Persistent` trait a type implements (usually by `#[derive(Persistent)]`) to live in
//! a persistent object, and the `ObjectCell` trait of the object type behind a handle.

use crate::codec::schema::{Schema, StoredFields};
use crate::error::{Error, Result};
use crate::object::PObject;

/// A type whose values can be the state of a persistent object.
///
/// `#[derive(Persistent)]` implements it for structs with named fields; implement it by hand
/// for custom layouts. The rules: `encode_state` writes the persistent fields only (volatile
/// fields are left out), `decode_state` rebuilds a value from those bytes with every volatile
/// field at its `Default`, and `decode_state(encode_state(v))` equals `v` on the persistent
/// fields. Bytes that do not decode are an `Error::Decode`, never a panic.
pub trait Persistent: Sized + 'static {
    /// The object type behind a `P<Self>` handle. The derive generates a wrapper around
    /// `PObject<Self>` that carries the field accessors; a hand-written implementation
    /// usually uses `PObject<Self>` itself.
    type Object: ObjectCell<State = Self>;

    /// The stable type name stored with each record (the derive's default is the module
    /// path and struct name; `#[persistent(name = "...")]` overrides it).
    const TYPE_NAME: &'static str;

    /// The type name written into each record: `TYPE_NAME` unless the type overrides it. A
    /// generic type (the persistent collections) names its parameters here, so that a list of
    /// references is never read back as a list of numbers; [`interned_type_name`] makes the
    /// `&'static str` once per type.
    #[must_use]
    fn stored_type_name() -> &'static str {
        Self::TYPE_NAME
    }

    /// Whether a record stored under the type name `name` holds a `Self`: by default only
    /// `stored_type_name()`; a type that was stored under other names lists them here.
    #[must_use]
    fn reads_type_name(name: &str) -> bool {
        name == Self::stored_type_name()
    }

    /// Checks that no other type of this process is stored under this type's name (two
    /// types claiming one name would read each other's records). The derive checks once per
    /// type and process (`claim_type_name`); the default accepts, for hand-written impls that
    /// choose their names themselves.
    ///
    /// # Errors
    /// `Error::TypeNameClash` naming both Rust types.
    fn claim_type_name() -> Result<()> {
        Ok(())
    }

    /// Appends the encoded persistent fields to `out`.
    ///
    /// # Errors
    ///
    /// `Error::Encode` when a field does not encode.
    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()>;

    /// Rebuilds a value from bytes written by `encode_state`; volatile fields are `Default`.
    ///
    /// # Errors
    ///
    /// `Error::Decode` when `bytes` are not a valid encoding of `Self`.
    fn decode_state(bytes: &[u8]) -> Result<Self>;

    /// The schema of this type's records: the persistent fields' names and shapes and the
    /// type's version (docs/spec.md §7.2). With one, records name it and a record written under
    /// another schema is read by field name (`decode_evolved`); without one (the default,
    /// for hand-written layouts and the collections) records are read by `decode_state` only.
    #[must_use]
    fn schema() -> Option<&'static Schema> {
        None
    }

    /// Rebuilds a value from a state written under another schema of this type (an older or
    /// newer shape): fields by name, an added field from its default, a removed field
    /// skipped, a changed field converted exactly or refused; an upgrade function for a
    /// record of an older version. The derive generates it.
    ///
    /// # Errors
    ///
    /// `Error::SchemaMismatch`, `Error::MissingField`, `Error::Decode`, or the upgrade
    /// function's error. The default (a type without a schema) is `Error::Decode`.
    fn decode_evolved(stored: StoredFields<'_>) -> Result<Self> {
        let _ = stored;
        Err(Error::Decode {
            type_name: Self::stored_type_name().to_string(),
            message: "the record has a schema but the type reads its state by position only"
                .to_string(),
        })
    }

    /// Whether [`resolve_conflict`](Self::resolve_conflict) may merge (so that the connection
    /// reads the three states of a conflict only for types that can use them). `false` by
    /// default.
    const RESOLVES_CONFLICTS: bool = false;

    /// Merges a write conflict (docs/spec.md §8, the reference's `_p_resolveConflict`): `old`
    /// is the state this transaction read, `committed` the state another transaction
    /// committed since, `mine` this transaction's state. `Some(merged)` is written instead of
    /// `mine` and the commit goes on; `None` (the default) keeps the `Error::Conflict`.
    /// References inside the states are the connection's objects or ghosts: compare them by
    /// oid. A merge that refers to an object not stored yet is refused. The connection calls
    /// this only when `RESOLVES_CONFLICTS` is `true`, and only with states written under the
    /// type's own schema (or none).
    ///
    /// Resolution weakens consistency: the merged state is one that no transaction saw, so
    /// merge only what commutes (a counter's deltas, changes to different keys).
    #[must_use]
    fn resolve_conflict(old: &Self, committed: &Self, mine: &Self) -> Option<Self> {
        let _ = (old, committed, mine);
        None
    }

    /// A custom Debug representation (the reference's `_p_repr`). `None` (the default) uses
    /// the standard `<Type object at 0x... oid ... in ...>`; `Some(Err(_))` uses the standard
    /// one with the failure appended.
    fn p_repr(_object: &PObject<Self>) -> Option<std::result::Result<String, String>> {
        None
    }
}

/// The object type a `P<T>` handle points to: a `PObject<T>`, possibly wrapped in a type of
/// the user's crate that adds field accessors.
pub trait ObjectCell: 'static {
    /// The state type.
    type State: Persistent<Object = Self>;

    /// The persistent object inside.
    fn object(&self) -> &PObject<Self::State>;

    /// Wraps a persistent object.
    fn from_object(object: PObject<Self::State>) -> Self;
}

impl<T: Persistent<Object = PObject<T>>> ObjectCell for PObject<T> {
    type State = T;

    fn object(&self) -> &PObject<T> {
        self
    }

    fn from_object(object: PObject<T>) -> Self {
        object
    }
}

/// The type name of `T` built by `build`, made once per type and kept for the life of the
/// process (one small allocation per type): for `Persistent::stored_type_name` of generic
/// types.
pub fn interned_type_name<T: 'static>(build: impl FnOnce() -> String) -> &'static str {
    use std::any::TypeId;
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashMap<TypeId, &'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(Default::default);
    let mut names = names.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    names.entry(TypeId::of::<T>()).or_insert_with(|| Box::leak(build().into_boxed_str()))
}

/// Claims the stored type name `name` for the Rust type `rust_name` in this process: `None`
/// if it was free (or already this type's), else the Rust name of the type that holds it.
/// Used by the derive's `Persistent::claim_type_name`, once per type.
#[doc(hidden)]
#[must_use]
pub fn claim_type_name(name: &'static str, rust_name: &'static str) -> Option<&'static str> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CLAIMS: OnceLock<Mutex<HashMap<&'static str, &'static str>>> = OnceLock::new();
    let claims = CLAIMS.get_or_init(Default::default);
    let mut claims = claims.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let holder = *claims.entry(name).or_insert(rust_name);
    (holder != rust_name).then_some(holder)
}

/// The error for two Rust types stored under one name.
#[doc(hidden)]
#[must_use]
pub fn type_name_clash(name: &str, first: &str, second: &str) -> crate::error::Error {
    crate::error::Error::TypeNameClash {
        name: name.to_owned(),
        first: first.to_owned(),
        second: second.to_owned(),
    }
}
