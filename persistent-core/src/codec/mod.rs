//! Encoding of object states: the field codec used by generated code and hand-written
//! `Persistent` impls (`fields`), the persistent-reference codec (`reference`: a `P<T>`
//! inside a state is stored as its oid), and the record envelope (`envelope`: format
//! version, type name, state), which only the connection reads and writes.

pub(crate) mod envelope;
pub(crate) mod fields;
pub(crate) mod reference;

pub use envelope::references_of;
pub use fields::{decode_field, decode_value, encode_field, encode_value, finish_decode};
pub use reference::{with_context, ReferenceContext};
