//! Reading stored bytes by [`Shape`] into a generic [`Value`]: postcard's wire format
//! interpreted without the Rust type that wrote it (used when a record's schema differs from
//! the reader's, and by upgrade functions that look at old fields). What does not live
//! here: turning a `Value` into a Rust type (`convert.rs`).

use super::Shape;

/// A stored value read without its Rust type: numbers keep their sign class, structs and
/// enums keep their field and variant names.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// `()`.
    Unit,
    /// A `bool`.
    Bool(bool),
    /// A signed integer (any width).
    Int(i128),
    /// An unsigned integer (any width).
    UInt(u128),
    /// An `f32`.
    F32(f32),
    /// An `f64`.
    F64(f64),
    /// A `char`.
    Char(char),
    /// A string.
    Str(String),
    /// A byte string.
    Bytes(Vec<u8>),
    /// An `Option`.
    Option(Option<Box<Value>>),
    /// A sequence.
    Seq(Vec<Value>),
    /// A map, in stored order.
    Map(Vec<(Value, Value)>),
    /// A tuple or array.
    Tuple(Vec<Value>),
    /// A struct with named fields.
    Struct { name: String, fields: Vec<(String, Value)> },
    /// A tuple struct.
    TupleStruct { name: String, fields: Vec<Value> },
    /// A unit struct.
    UnitStruct { name: String },
    /// A newtype struct.
    Newtype { name: String, inner: Box<Value> },
    /// One variant of an enum.
    Variant { name: String, variant: String, index: u32, content: VariantValue },
    /// A persistent reference: the oid.
    Reference(u64),
}

/// The content of an enum variant.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum VariantValue {
    /// `A`.
    Unit,
    /// `A(x)`.
    Newtype(Box<Value>),
    /// `A(x, y)`.
    Tuple(Vec<Value>),
    /// `A { x: .. }`.
    Struct(Vec<(String, Value)>),
}

/// Reads one value of `shape` from the front of `input` (postcard's wire format), advancing
/// `input` past it. Nesting deeper than `MAX_DEPTH` is an error, not a stack overflow.
///
/// # Errors
/// A message when the bytes do not hold a `shape` (truncated, invalid UTF-8, a variant index
/// out of range, ...) or when `shape` is [`Shape::Opaque`] (its bytes cannot be interpreted).
pub(crate) fn read(shape: &Shape, input: &mut &[u8]) -> Result<Value, String> {
    let _ = (shape, input);
    todo!("helper")
}
