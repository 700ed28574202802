//! Encoding of object states: the field codec used by generated code and hand-written
//! `Persistent` impls (`fields`), the persistent-reference codec (`reference`: a `P<T>`
//! inside a state is stored as its oid), the nesting limit for decoding (`depth`: a hostile
//! record is an error, not a stack overflow) and for encoding (`depth_ser`: what is stored
//! can be loaded), and the record envelope (`envelope`: format version, type name, state),
//! which only the connection reads and writes; `varint`, the LEB128 numbers of the
//! envelope (and of other byte formats of the project's storages). For tools that show records without the
//! program's types (the `persistent` command-line tool): [`record_info`], [`state_of`],
//! [`decode_schema_registry`] and [`Schema::read_fields`].

pub(crate) mod depth;
pub(crate) mod depth_ser;
pub(crate) mod envelope;
pub(crate) mod fields;
pub(crate) mod reference;
pub(crate) mod schema;
#[cfg(test)]
mod schema_props;
pub(crate) mod shape;
pub mod varint;

pub use crate::db::schemas::decode_schema_registry;
pub use crate::weak::weak_reference_oid;
pub use depth::MAX_DEPTH;
pub use envelope::{record_info, references_of, state_of, RecordInfo};
pub use fields::{decode_field, decode_value, encode_field, encode_value, finish_decode};
pub use reference::{with_context, ReferenceContext};
pub use schema::{
    FieldSchema, OldFields, ReadFields, Schema, StoredField, StoredFields, UnreadFields,
};
pub use shape::value::VariantValue;
pub use shape::{Shape, Value, Variant};
