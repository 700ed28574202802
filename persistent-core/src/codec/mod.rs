//! Encoding of object states: the field codec used by generated code (`fields`), the
//! persistent-reference codec (`reference`: a `P<T>` inside a state is stored as its oid),
//! and the record envelope (`envelope`: type name, format version, state).

pub mod envelope;
pub mod fields;
pub mod reference;
