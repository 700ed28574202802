//! Shapes: what a stored value looks like on the wire, described without the Rust type that
//! wrote it. A record's schema lists each field's name and shape (`schema.rs` builds and
//! compares them); shapes are found by tracing a type's `Deserialize` impl (`trace.rs`),
//! stored bytes are read back by shape into a generic [`Value`] (`value.rs`), and a
//! `Value` is turned into any serde type by field and variant *name*, with exact number
//! conversions only (`convert.rs`). What does not live here: the record envelope
//! (`envelope.rs`) and the per-database registry of schemas (`db/schemas.rs`).

pub(crate) mod convert;
pub(crate) mod trace;
pub(crate) mod value;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use value::Value;

/// The name under which a persistent reference (`P<T>`) presents itself to serde: a
/// newtype struct around the oid (postcard writes it as the bare oid, as format 1 did).
pub(crate) const REFERENCE: &str = "persistent::Reference";

/// The name under which a weak reference (`WeakRef<T>`) presents itself to serde: a newtype
/// struct around the oid. Its shape is `Shape::Newtype` of this name around a `u64`, which
/// tells it from a strong reference and from a plain number without a new `Shape` variant
/// (a variant inserted in the enum would renumber those stored in schema registries).
pub(crate) const WEAK_REFERENCE: &str = "persistent::WeakReference";

/// The stored form of a value: postcard's wire format, with the names that make it
/// matchable by name. Two fields with equal shapes are written with the same bytes for the
/// same value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Shape {
    /// `()`.
    Unit,
    /// `bool`.
    Bool,
    /// A signed integer of this many bits.
    Int(u8),
    /// An unsigned integer of this many bits.
    UInt(u8),
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `char`.
    Char,
    /// A string.
    Str,
    /// A byte string.
    Bytes,
    /// `Option<T>`.
    Option(Box<Shape>),
    /// A sequence with its length first (`Vec`, sets, slices).
    Seq(Box<Shape>),
    /// A map with its length first.
    Map(Box<Shape>, Box<Shape>),
    /// A fixed number of values (tuples, arrays).
    Tuple(Vec<Shape>),
    /// A struct with named fields, in stored order.
    Struct {
        /// The Rust name serde gives the type.
        name: String,
        /// The fields, in stored order.
        fields: Vec<(String, Shape)>,
    },
    /// A tuple struct.
    TupleStruct {
        /// The Rust name serde gives the type.
        name: String,
        /// The fields, in stored order.
        fields: Vec<Shape>,
    },
    /// A unit struct.
    UnitStruct {
        /// The Rust name serde gives the type.
        name: String,
    },
    /// A newtype struct (stored as its content).
    Newtype {
        /// The Rust name serde gives the type.
        name: String,
        /// The wrapped value.
        inner: Box<Shape>,
    },
    /// An enum: its variants in index order (the index is what is stored).
    Enum {
        /// The Rust name serde gives the type.
        name: String,
        /// The variants, in index order.
        variants: Vec<(String, Variant)>,
    },
    /// A persistent reference (`P<T>`, a persistent collection): the oid.
    Reference,
    /// The enclosing struct or enum of this name (a recursive type).
    Recursive(String),
    /// A type whose `Deserialize` impl could not be traced (for example, one that parses a
    /// string): known only by its Rust type name, compared by that name.
    Opaque(String),
}

/// The content of one enum variant.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Variant {
    /// `A`.
    Unit,
    /// `A(T)`.
    Newtype(Shape),
    /// `A(T, U)`.
    Tuple(Vec<Shape>),
    /// `A { x: T }`.
    Struct(Vec<(String, Shape)>),
}

impl Shape {
    /// Whether this shape, or one inside it, is [`Shape::Opaque`].
    #[must_use]
    pub fn has_opaque(&self) -> bool {
        match self {
            Shape::Opaque(_) => true,
            Shape::Option(inner) | Shape::Seq(inner) | Shape::Newtype { inner, .. } => {
                inner.has_opaque()
            }
            Shape::Map(key, value) => key.has_opaque() || value.has_opaque(),
            Shape::Tuple(items) | Shape::TupleStruct { fields: items, .. } => {
                items.iter().any(Shape::has_opaque)
            }
            Shape::Struct { fields, .. } => fields.iter().any(|(_, shape)| shape.has_opaque()),
            Shape::Enum { variants, .. } => variants.iter().any(|(_, variant)| match variant {
                Variant::Unit => false,
                Variant::Newtype(shape) => shape.has_opaque(),
                Variant::Tuple(items) => items.iter().any(Shape::has_opaque),
                Variant::Struct(fields) => fields.iter().any(|(_, shape)| shape.has_opaque()),
            }),
            _ => false,
        }
    }
}

/// Shapes print as Rust-like type expressions: `u32`, `Vec<str>`,
/// `struct Address { street: str, city: str }`, `enum Kind { A, B(u8) }`.
impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Unit => f.write_str("()"),
            Shape::Bool => f.write_str("bool"),
            Shape::Int(bits) => write!(f, "i{bits}"),
            Shape::UInt(bits) => write!(f, "u{bits}"),
            Shape::F32 => f.write_str("f32"),
            Shape::F64 => f.write_str("f64"),
            Shape::Char => f.write_str("char"),
            Shape::Str => f.write_str("str"),
            Shape::Bytes => f.write_str("bytes"),
            Shape::Option(inner) => write!(f, "Option<{inner}>"),
            Shape::Seq(inner) => write!(f, "Seq<{inner}>"),
            Shape::Map(key, value) => write!(f, "Map<{key}, {value}>"),
            Shape::Tuple(items) => {
                f.write_str("(")?;
                list(f, items)?;
                f.write_str(")")
            }
            Shape::Struct { name, fields } => {
                write!(f, "struct {name} {{ ")?;
                named(f, fields)?;
                f.write_str(" }")
            }
            Shape::TupleStruct { name, fields } => {
                write!(f, "struct {name}(")?;
                list(f, fields)?;
                f.write_str(")")
            }
            Shape::UnitStruct { name } => write!(f, "struct {name}"),
            Shape::Newtype { name, inner } => write!(f, "struct {name}({inner})"),
            Shape::Enum { name, variants } => {
                write!(f, "enum {name} {{ ")?;
                for (index, (variant, content)) in variants.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(variant)?;
                    match content {
                        Variant::Unit => {}
                        Variant::Newtype(shape) => write!(f, "({shape})")?,
                        Variant::Tuple(items) => {
                            f.write_str("(")?;
                            list(f, items)?;
                            f.write_str(")")?;
                        }
                        Variant::Struct(fields) => {
                            f.write_str(" { ")?;
                            named(f, fields)?;
                            f.write_str(" }")?;
                        }
                    }
                }
                f.write_str(" }")
            }
            Shape::Reference => f.write_str("reference"),
            Shape::Recursive(name) => f.write_str(name),
            Shape::Opaque(rust) => write!(f, "opaque {rust}"),
        }
    }
}

fn list(f: &mut fmt::Formatter<'_>, items: &[Shape]) -> fmt::Result {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

fn named(f: &mut fmt::Formatter<'_>, fields: &[(String, Shape)]) -> fmt::Result {
    for (index, (name, shape)) in fields.iter().enumerate() {
        if index > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{name}: {shape}")?;
    }
    Ok(())
}
