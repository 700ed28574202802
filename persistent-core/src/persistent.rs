//! The `Persistent` trait a type implements (usually by `#[derive(Persistent)]`) to live in
//! a persistent object, and the `ObjectCell` trait of the object type behind a handle.

use crate::error::Result;
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

    /// Appends the encoded persistent fields to `out`.
    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()>;

    /// Rebuilds a value from bytes written by `encode_state`; volatile fields are `Default`.
    fn decode_state(bytes: &[u8]) -> Result<Self>;

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
