//! Turning a [`Value`] into any serde type, as a self-describing format would: structs by
//! field name (so a nested serde struct's `#[serde(default)]`, added, removed and reordered
//! fields work), enum variants by name, and numbers only when the conversion is exact. A
//! value also widens where nothing is lost (into `Some`, into a newtype struct, a char into
//! a string), and a persistent reference becomes a reference and nothing else. What does not
//! live here: reading a `Value` from bytes (`value.rs`).

use std::fmt;

use serde::de::value::{SeqDeserializer, StrDeserializer, U64Deserializer};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, Expected, IntoDeserializer, MapAccess,
    SeqAccess, VariantAccess, Visitor,
};
use serde::Deserializer;

use super::value::VariantValue;
use super::{Value, REFERENCE, WEAK_REFERENCE};
use crate::codec::depth::{too_deep_message, MAX_DEPTH};

/// Builds a `F` from `value`. Persistent references (`Value::Reference`) are resolved
/// through the thread's reference context, as when decoding bytes.
///
/// # Errors
/// A message naming what did not fit (a number out of range or not exact, a missing field
/// without a default, an unknown variant, a kind mismatch), and where (the field path).
pub(crate) fn from_value<F: DeserializeOwned>(value: &Value) -> Result<F, String> {
    F::deserialize(De { value, depth: 0 }).map_err(|error| error.to_string())
}

/// Why a conversion failed, and the path to the part that failed (innermost first).
#[derive(Debug)]
struct Error {
    message: String,
    path: Vec<String>,
}

impl Error {
    fn new(message: String) -> Error {
        Error { message, path: Vec::new() }
    }

    /// The error as seen from the value holding the failed part (`.field` or `[index]`).
    fn within(mut self, step: String) -> Error {
        self.path.push(step);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if !self.path.is_empty() {
            let path: String = self.path.iter().rev().map(String::as_str).collect();
            write!(f, " (at {})", path.trim_start_matches(['.', ':']))?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Error {
        Error::new(message.to_string())
    }
}

/// What a stored value is, for error messages.
fn describe(value: &Value) -> String {
    match value {
        Value::Unit => "()".to_owned(),
        Value::Bool(b) => format!("the bool {b}"),
        Value::Int(n) => format!("the integer {n}"),
        Value::UInt(n) => format!("the integer {n}"),
        Value::F32(x) => format!("the f32 {x}"),
        Value::F64(x) => format!("the f64 {x}"),
        Value::Char(c) => format!("the char {c:?}"),
        Value::Str(_) => "a string".to_owned(),
        Value::Bytes(_) => "a byte string".to_owned(),
        Value::Option(_) => "an Option".to_owned(),
        Value::Seq(items) => format!("a sequence of {} items", items.len()),
        Value::Map(_) => "a map".to_owned(),
        Value::Tuple(items) => format!("a tuple of {} items", items.len()),
        Value::Struct { name, .. } => format!("struct {name}"),
        Value::TupleStruct { name, .. } => format!("tuple struct {name}"),
        Value::UnitStruct { name } => format!("unit struct {name}"),
        Value::Newtype { name, .. } => format!("newtype struct {name}"),
        Value::Variant { name, variant, .. } => format!("variant {variant} of enum {name}"),
        Value::Reference(oid) => format!("a persistent reference (oid {oid})"),
    }
}

/// Whether an integer of this magnitude has at most `bits` significant bits, so that a float
/// with a mantissa of `bits` bits holds it exactly (every `u128` is within their range).
fn fits_mantissa(magnitude: u128, bits: u32) -> bool {
    magnitude == 0 || 128 - magnitude.leading_zeros() - magnitude.trailing_zeros() <= bits
}

/// The level of the values nested in a value at `depth` (as `depth.rs` counts them).
fn below(depth: usize) -> Result<usize, Error> {
    if depth < MAX_DEPTH {
        Ok(depth + 1)
    } else {
        Err(Error::new(too_deep_message()))
    }
}

/// Visits `items` (at `depth`) as a sequence; all must be taken.
fn visit_items<'v, V: Visitor<'v>>(
    items: &'v [Value],
    depth: usize,
    visitor: V,
) -> Result<V::Value, Error> {
    let mut access = Items { rest: items.iter().enumerate(), depth };
    let value = visitor.visit_seq(&mut access)?;
    match access.rest.len() {
        0 => Ok(value),
        left => Err(Error::new(format!("{left} of {} items were left over", items.len()))),
    }
}

/// Visits named fields (at `depth`) as a map with string keys.
fn visit_fields<'v, V: Visitor<'v>>(
    fields: &'v [(String, Value)],
    depth: usize,
    visitor: V,
) -> Result<V::Value, Error> {
    let entries = fields.iter().map(|(name, value)| (name.as_str(), value, Some(name.as_str())));
    visitor.visit_map(Entries { rest: entries, value: None, depth })
}

/// Visits map entries (at `depth`) as a map.
fn visit_entries<'v, V: Visitor<'v>>(
    entries: &'v [(Value, Value)],
    depth: usize,
    visitor: V,
) -> Result<V::Value, Error> {
    let entries = entries.iter().map(|(key, value)| (De { value: key, depth }, value, None));
    visitor.visit_map(Entries { rest: entries, value: None, depth })
}

/// The elements of a sequence, tuple or tuple struct.
struct Items<'v> {
    rest: std::iter::Enumerate<std::slice::Iter<'v, Value>>,
    depth: usize,
}

impl<'v> SeqAccess<'v> for Items<'v> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'v>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        let Some((index, value)) = self.rest.next() else { return Ok(None) };
        let element = seed.deserialize(De { value, depth: self.depth });
        element.map(Some).map_err(|error| error.within(format!("[{index}]")))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.rest.len())
    }
}

/// The entries of a map (keys are values) or of a struct (keys are field names, which
/// errors in the values are located by).
struct Entries<'v, I> {
    rest: I,
    value: Option<(&'v Value, Option<&'v str>)>,
    depth: usize,
}

impl<'v, K, I> MapAccess<'v> for Entries<'v, I>
where
    K: IntoDeserializer<'v, Error>,
    I: Iterator<Item = (K, &'v Value, Option<&'v str>)>,
{
    type Error = Error;

    fn next_key_seed<S: DeserializeSeed<'v>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        let Some((key, value, field)) = self.rest.next() else { return Ok(None) };
        self.value = Some((value, field));
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'v>>(&mut self, seed: S) -> Result<S::Value, Error> {
        let Some((value, field)) = self.value.take() else {
            return Err(Error::new("a map value was asked for before its key".to_owned()));
        };
        let value = seed.deserialize(De { value, depth: self.depth });
        value.map_err(|error| match field {
            Some(field) => error.within(format!(".{field}")),
            None => error,
        })
    }
}

/// An enum's variant: identified by its name, with its content.
struct Enum<'v> {
    name: &'v str,
    variant: &'v str,
    content: &'v VariantValue,
    depth: usize,
}

impl Enum<'_> {
    fn mismatch(&self, expected: &str) -> Error {
        let content = match self.content {
            VariantValue::Unit => "a unit variant",
            VariantValue::Newtype(_) => "a newtype variant",
            VariantValue::Tuple(_) => "a tuple variant",
            VariantValue::Struct(_) => "a struct variant",
        };
        let (name, variant) = (self.name, self.variant);
        Error::new(format!(
            "variant {variant} of enum {name} is stored as {content}, not {expected}"
        ))
    }
}

impl<'v> EnumAccess<'v> for Enum<'v> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'v>>(self, seed: S) -> Result<(S::Value, Self), Error> {
        let variant: StrDeserializer<'v, Error> = self.variant.into_deserializer();
        Ok((seed.deserialize(variant)?, self))
    }
}

impl<'v> VariantAccess<'v> for Enum<'v> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        match self.content {
            VariantValue::Unit => Ok(()),
            _ => Err(self.mismatch("a unit variant")),
        }
    }

    fn newtype_variant_seed<S: DeserializeSeed<'v>>(self, seed: S) -> Result<S::Value, Error> {
        match self.content {
            VariantValue::Newtype(value) => seed.deserialize(De { value, depth: self.depth }),
            _ => Err(self.mismatch("a newtype variant")),
        }
    }

    fn tuple_variant<V: Visitor<'v>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        match self.content {
            VariantValue::Tuple(items) if items.len() == len => {
                visit_items(items, below(self.depth)?, visitor)
            }
            _ => Err(self.mismatch(&format!("a tuple variant of {len} fields"))),
        }
    }

    fn struct_variant<V: Visitor<'v>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.content {
            VariantValue::Struct(fields) => visit_fields(fields, below(self.depth)?, visitor),
            _ => Err(self.mismatch("a struct variant")),
        }
    }
}

/// A stored value as a self-describing deserializer; `depth` is its level.
#[derive(Clone, Copy)]
struct De<'v> {
    value: &'v Value,
    depth: usize,
}

impl<'v> IntoDeserializer<'v, Error> for De<'v> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'v> De<'v> {
    /// `value` as a part of this value (one level deeper).
    fn part(self, value: &'v Value) -> Result<De<'v>, Error> {
        Ok(De { value, depth: below(self.depth)? })
    }

    fn mismatch(self, expected: &dyn Expected) -> Error {
        Error::new(format!("{} cannot become {expected}", describe(self.value)))
    }

    fn inexact(self, target: &str) -> Error {
        Error::new(format!("{} does not fit exactly in {target}", describe(self.value)))
    }

    /// A tuple (or tuple struct) of `len` fields, from a sequence of that length.
    fn visit_tuple<V: Visitor<'v>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Seq(items) | Value::Tuple(items) | Value::TupleStruct { fields: items, .. }
                if items.len() == len =>
            {
                visit_items(items, below(self.depth)?, visitor)
            }
            _ => Err(self.mismatch(&visitor)),
        }
    }
}

/// Deserializer methods for integer targets: the stored integer converted exactly.
macro_rules! integers {
    ($($method:ident $visit:ident $ty:ty;)*) => {
        $(
            fn $method<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
                let exact = match *self.value {
                    Value::Int(n) => <$ty>::try_from(n).ok(),
                    Value::UInt(n) => <$ty>::try_from(n).ok(),
                    _ => return Err(self.mismatch(&visitor)),
                };
                match exact {
                    Some(n) => visitor.$visit(n),
                    None => Err(self.inexact(stringify!($ty))),
                }
            }
        )*
    };
}

impl<'v> Deserializer<'v> for De<'v> {
    type Error = Error;

    integers! {
        deserialize_i8 visit_i8 i8;
        deserialize_i16 visit_i16 i16;
        deserialize_i32 visit_i32 i32;
        deserialize_i64 visit_i64 i64;
        deserialize_i128 visit_i128 i128;
        deserialize_u8 visit_u8 u8;
        deserialize_u16 visit_u16 u16;
        deserialize_u32 visit_u32 u32;
        deserialize_u64 visit_u64 u64;
        deserialize_u128 visit_u128 u128;
    }

    fn deserialize_any<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Unit | Value::UnitStruct { .. } => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(n) => match i64::try_from(*n) {
                Ok(n) => visitor.visit_i64(n),
                Err(_) => visitor.visit_i128(*n),
            },
            Value::UInt(n) => match u64::try_from(*n) {
                Ok(n) => visitor.visit_u64(n),
                Err(_) => visitor.visit_u128(*n),
            },
            Value::F32(x) => visitor.visit_f32(*x),
            Value::F64(x) => visitor.visit_f64(*x),
            Value::Char(c) => visitor.visit_char(*c),
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Bytes(b) => visitor.visit_borrowed_bytes(b),
            Value::Option(None) => visitor.visit_none(),
            Value::Option(Some(inner)) => visitor.visit_some(self.part(inner)?),
            Value::Seq(items) | Value::Tuple(items) | Value::TupleStruct { fields: items, .. } => {
                visit_items(items, below(self.depth)?, visitor)
            }
            Value::Map(entries) => visit_entries(entries, below(self.depth)?, visitor),
            Value::Struct { fields, .. } => visit_fields(fields, below(self.depth)?, visitor),
            Value::Newtype { inner, .. } => visitor.visit_newtype_struct(self.part(inner)?),
            Value::Variant { .. } => self.deserialize_enum("", &[], visitor),
            Value::Reference(_) => Err(self.mismatch(&visitor)),
        }
    }

    fn deserialize_bool<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Bool(b) => visitor.visit_bool(*b),
            _ => Err(self.mismatch(&visitor)),
        }
    }

    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        reason = "each cast is made only when it is exact"
    )]
    fn deserialize_f32<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
        let exact = match *self.value {
            Value::F32(x) => Some(x),
            Value::F64(x) => {
                Some(x as f32).filter(|y| f64::from(*y).to_bits() == x.to_bits() || x.is_nan())
            }
            Value::Int(n) => {
                fits_mantissa(n.unsigned_abs(), f32::MANTISSA_DIGITS).then_some(n as f32)
            }
            Value::UInt(n) => fits_mantissa(n, f32::MANTISSA_DIGITS).then_some(n as f32),
            _ => return Err(self.mismatch(&visitor)),
        };
        exact.map_or_else(|| Err(self.inexact("f32")), |x| visitor.visit_f32(x))
    }

    #[allow(clippy::cast_precision_loss, reason = "each cast is made only when it is exact")]
    fn deserialize_f64<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
        let exact = match *self.value {
            Value::F32(x) => Some(f64::from(x)),
            Value::F64(x) => Some(x),
            Value::Int(n) => {
                fits_mantissa(n.unsigned_abs(), f64::MANTISSA_DIGITS).then_some(n as f64)
            }
            Value::UInt(n) => fits_mantissa(n, f64::MANTISSA_DIGITS).then_some(n as f64),
            _ => return Err(self.mismatch(&visitor)),
        };
        exact.map_or_else(|| Err(self.inexact("f64")), |x| visitor.visit_f64(x))
    }

    fn deserialize_char<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Char(c) => visitor.visit_char(*c),
            Value::Str(s) => {
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => visitor.visit_char(c),
                    _ => Err(Error::new(format!("the string {s:?} is not one char"))),
                }
            }
            _ => Err(self.mismatch(&visitor)),
        }
    }

    fn deserialize_str<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Str(s) => visitor.visit_borrowed_str(s),
            Value::Char(c) => visitor.visit_str(c.encode_utf8(&mut [0; 4])),
            _ => Err(self.mismatch(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Bytes(b) => visitor.visit_borrowed_bytes(b),
            Value::Seq(items) => {
                let byte = |item: &Value| match *item {
                    Value::UInt(n) => u8::try_from(n).ok(),
                    _ => None,
                };
                match items.iter().map(byte).collect::<Option<Vec<u8>>>() {
                    Some(bytes) => visitor.visit_byte_buf(bytes),
                    None => Err(self.mismatch(&visitor)),
                }
            }
            _ => Err(self.mismatch(&visitor)),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    /// A stored value that is not an `Option` becomes `Some` (widening is exact).
    fn deserialize_option<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Option(None) => visitor.visit_none(),
            Value::Option(Some(inner)) => visitor.visit_some(self.part(inner)?),
            value => visitor.visit_some(self.part(value)?),
        }
    }

    fn deserialize_unit<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Unit | Value::UnitStruct { .. } => visitor.visit_unit(),
            _ => Err(self.mismatch(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'v>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    /// A persistent reference only becomes one (or a weak reference); a weak reference only
    /// a weak one; any other stored value becomes the content of a newtype struct that was
    /// not one when it was stored.
    fn deserialize_newtype_struct<V: Visitor<'v>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Value::Reference(oid) if name == REFERENCE => {
                let oid: U64Deserializer<Error> = oid.into_deserializer();
                visitor.visit_newtype_struct(oid)
            }
            value if name == REFERENCE => {
                Err(Error::new(format!("{} cannot become a persistent reference", describe(value))))
            }
            // A weak reference reads a stored weak reference, or a strong one (a field changed
            // from `P<T>` to `WeakRef<T>`), and nothing else: never a number as an oid.
            Value::Newtype { name: stored, inner } if name == WEAK_REFERENCE && stored == name => {
                visitor.visit_newtype_struct(self.part(inner)?)
            }
            Value::Reference(oid) if name == WEAK_REFERENCE => {
                let oid: U64Deserializer<Error> = oid.into_deserializer();
                visitor.visit_newtype_struct(oid)
            }
            value if name == WEAK_REFERENCE => {
                Err(Error::new(format!("{} cannot become a weak reference", describe(value))))
            }
            Value::Newtype { inner, .. } => visitor.visit_newtype_struct(self.part(inner)?),
            value => visitor.visit_newtype_struct(self.part(value)?),
        }
    }

    fn deserialize_seq<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Seq(items) | Value::Tuple(items) | Value::TupleStruct { fields: items, .. } => {
                visit_items(items, below(self.depth)?, visitor)
            }
            Value::Bytes(bytes) => {
                let mut access = SeqDeserializer::<_, Error>::new(bytes.iter().copied());
                let value = visitor.visit_seq(&mut access)?;
                access.end().map(|()| value)
            }
            _ => Err(self.mismatch(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'v>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        self.visit_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'v>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.visit_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Map(entries) => visit_entries(entries, below(self.depth)?, visitor),
            Value::Struct { fields, .. } => visit_fields(fields, below(self.depth)?, visitor),
            _ => Err(self.mismatch(&visitor)),
        }
    }

    /// Fields are matched by name (a map with string keys), whatever their stored order.
    fn deserialize_struct<V: Visitor<'v>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    /// The variant is identified by its name, not its stored index.
    fn deserialize_enum<V: Visitor<'v>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Value::Variant { name, variant, content, .. } => {
                let depth = below(self.depth)?;
                let access = Enum { name, variant, content, depth };
                visitor.visit_enum(access).map_err(|error| error.within(format!("::{variant}")))
            }
            _ => Err(self.mismatch(&visitor)),
        }
    }

    fn deserialize_identifier<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_any(visitor)
    }

    /// Nothing to check in a part the target ignores (a removed field, say).
    fn deserialize_ignored_any<V: Visitor<'v>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::fmt::Debug;
    use std::rc::Rc;

    use serde::de::DeserializeOwned;
    use serde::{Deserialize, Serialize};

    use super::from_value;
    use crate::codec::shape::value::tests::{
        boxed, chain_shape, enumeration, everything, everything_shape, kind_shape, point_shape,
        read_all, structure, tree_shape, uint, Chain, Kind, Point, Tree,
    };
    use crate::codec::shape::{Shape, Value, Variant};
    use crate::codec::{with_context, ReferenceContext};
    use crate::{ObjectRef, Oid, Persistent, Result, P};

    /// `stored`, written as `shape`, read back by shape, then converted to a `T`.
    fn convert<S: Serialize, T: DeserializeOwned>(stored: &S, shape: &Shape) -> Result<T, String> {
        let value = read_all(shape, &postcard::to_allocvec(stored).unwrap()).unwrap();
        from_value(&value)
    }

    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T, shape: &Shape) {
        assert_eq!(&convert::<T, T>(value, shape).unwrap(), value, "{shape}");
    }

    fn fails<S: Serialize, T: DeserializeOwned + Debug>(stored: &S, shape: &Shape, message: &str) {
        let error = convert::<S, T>(stored, shape).expect_err("converts");
        assert!(error.contains(message), "{shape}: {error}");
    }

    #[test]
    fn values_round_trip_to_the_type_that_wrote_them() {
        round_trip(&everything(), &everything_shape());
        round_trip(&Point { x: -1, y: 2 }, &point_shape());
        for kind in everything().kinds {
            round_trip(&kind, &kind_shape());
        }
        let chain = Chain { value: 1, next: Some(Box::new(Chain { value: 2, next: None })) };
        round_trip(&chain, &chain_shape());
        round_trip(
            &Tree::Node(vec![Tree::Leaf(3), Tree::Node(vec![Tree::Leaf(4)])]),
            &tree_shape(),
        );
        round_trip(
            &BTreeMap::from([(7u32, 'x'), (9, 'y')]),
            &Shape::Map(boxed(uint(32)), boxed(Shape::Char)),
        );
        round_trip(
            &(i128::MAX, u128::MAX, -0.0f64),
            &Shape::Tuple(vec![Shape::Int(128), uint(128), Shape::F64]),
        );
        round_trip(&f32::NAN.to_bits(), &uint(32));
        round_trip(&Some(None::<u8>), &Shape::Option(boxed(Shape::Option(boxed(uint(8))))));
        round_trip(
            &vec![[1u8, 2], [3, 4]],
            &Shape::Seq(boxed(Shape::Tuple(vec![uint(8), uint(8)]))),
        );
    }

    #[derive(Serialize)]
    struct OldAddress {
        street: String,
        city: String,
    }

    #[derive(Serialize)]
    struct OldPerson {
        name: String,
        address: OldAddress,
        age: u8,
    }

    fn old_person_shape() -> Shape {
        let address = structure("Address", &[("street", Shape::Str), ("city", Shape::Str)]);
        structure("Person", &[("name", Shape::Str), ("address", address), ("age", uint(8))])
    }

    /// The address lost its street, gained a zip code with a default; the person's fields
    /// are reordered and the age widened.
    #[derive(Deserialize, Debug, PartialEq)]
    struct Address {
        #[serde(default)]
        zip: u32,
        city: String,
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Person {
        age: u64,
        address: Address,
        name: String,
    }

    #[test]
    fn structs_match_fields_by_name() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code, reason = "only the error is looked at")]
        struct Strict {
            name: String,
            email: String,
        }

        let old = OldPerson {
            name: "Ada".to_owned(),
            address: OldAddress { street: "Main".to_owned(), city: "Paris".to_owned() },
            age: 36,
        };
        let person: Person = convert(&old, &old_person_shape()).unwrap();
        let address = Address { zip: 0, city: "Paris".to_owned() };
        assert_eq!(person, Person { age: 36, address, name: "Ada".to_owned() });

        fails::<_, Strict>(&old, &old_person_shape(), "missing field `email`");
    }

    #[derive(Serialize)]
    enum OldColor {
        Red,
        Blue,
        Mix { amount: u8 },
    }

    #[derive(Deserialize, Debug, PartialEq)]
    enum Color {
        Red,
        Green,
        Blue,
        Mix { amount: u16 },
    }

    fn old_color_shape() -> Shape {
        let mix = Variant::Struct(vec![("amount".to_owned(), uint(8))]);
        enumeration("Color", &[("Red", Variant::Unit), ("Blue", Variant::Unit), ("Mix", mix)])
    }

    #[test]
    fn enums_match_variants_by_name() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code, reason = "only the error is looked at")]
        enum Changed {
            Blue(u8),
        }

        #[derive(Deserialize, Debug)]
        enum Fewer {
            Red,
        }

        assert_eq!(convert::<_, Color>(&OldColor::Blue, &old_color_shape()), Ok(Color::Blue));
        assert_eq!(convert::<_, Color>(&OldColor::Red, &old_color_shape()), Ok(Color::Red));
        let mix = convert::<_, Color>(&OldColor::Mix { amount: 9 }, &old_color_shape());
        assert_eq!(mix, Ok(Color::Mix { amount: 9 }));

        fails::<_, Fewer>(&OldColor::Blue, &old_color_shape(), "unknown variant `Blue`");
        assert!(matches!(convert::<_, Fewer>(&OldColor::Red, &old_color_shape()), Ok(Fewer::Red)));

        fails::<_, Changed>(
            &OldColor::Blue,
            &old_color_shape(),
            "stored as a unit variant, not a newtype",
        );
    }

    #[test]
    fn integers_convert_only_when_in_range() {
        assert_eq!(convert::<_, u64>(&36i32, &Shape::Int(32)), Ok(36));
        assert_eq!(convert::<_, i8>(&127u64, &uint(64)), Ok(127));
        assert_eq!(convert::<_, u128>(&i128::MAX, &Shape::Int(128)), Ok(i128::MAX.unsigned_abs()));
        fails::<_, u64>(&-1i32, &Shape::Int(32), "the integer -1 does not fit exactly in u64");
        fails::<_, u8>(&300u64, &uint(64), "the integer 300 does not fit exactly in u8");
        fails::<_, i64>(&u64::MAX, &uint(64), "does not fit exactly in i64");
        fails::<_, u32>(&1.0f64, &Shape::F64, "the f64 1 cannot become u32");
        fails::<_, u32>(&"12", &Shape::Str, "a string cannot become u32");
        fails::<_, bool>(&1u8, &uint(8), "cannot become a boolean");
    }

    #[test]
    fn floats_convert_only_when_exact() {
        fails::<_, f32>(&0.1f64, &Shape::F64, "the f64 0.1 does not fit exactly in f32");
        assert_eq!(convert::<_, f32>(&0.5f64, &Shape::F64), Ok(0.5));
        assert_eq!(convert::<_, f32>(&f64::INFINITY, &Shape::F64), Ok(f32::INFINITY));
        assert!(convert::<_, f32>(&f64::NAN, &Shape::F64).unwrap().is_nan());
        fails::<_, f32>(&f64::MAX, &Shape::F64, "does not fit exactly in f32");
        assert_eq!(convert::<_, f64>(&0.1f32, &Shape::F32), Ok(f64::from(0.1f32)));
        assert_eq!(convert::<_, f64>(&(1u64 << 53), &uint(64)), Ok(9_007_199_254_740_992.0));
        fails::<_, f64>(&((1u64 << 53) + 1), &uint(64), "does not fit exactly in f64");
        assert_eq!(convert::<_, f32>(&i128::MIN, &Shape::Int(128)), Ok(-(2f32.powi(127))));
        fails::<_, f32>(&u128::MAX, &uint(128), "does not fit exactly in f32");
        fails::<_, f64>(&u128::MAX, &uint(128), "does not fit exactly in f64");
        assert_eq!(convert::<_, f32>(&-16_777_216i32, &Shape::Int(32)), Ok(-16_777_216.0));
        fails::<_, f32>(&16_777_217i32, &Shape::Int(32), "does not fit exactly in f32");
    }

    #[test]
    fn options_widen_but_do_not_narrow() {
        assert_eq!(convert::<_, Option<u32>>(&7u32, &uint(32)), Ok(Some(7)));
        assert_eq!(
            convert::<_, Option<u64>>(&Some(7u32), &Shape::Option(boxed(uint(32)))),
            Ok(Some(7))
        );
        fails::<_, u32>(
            &Some(7u32),
            &Shape::Option(boxed(uint(32))),
            "an Option cannot become u32",
        );
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct Count(u32);

    #[test]
    fn kinds_convert_where_nothing_is_lost() {
        assert_eq!(convert::<_, Count>(&5u16, &uint(16)), Ok(Count(5)), "a field became a newtype");
        assert_eq!(convert::<_, String>(&'é', &Shape::Char), Ok("é".to_owned()));
        assert_eq!(convert::<_, char>(&"é", &Shape::Str), Ok('é'));
        fails::<_, char>(&"ab", &Shape::Str, "not one char");
        let pair = Shape::Seq(boxed(uint(8)));
        assert_eq!(convert::<_, (u8, u16)>(&vec![1u8, 2], &pair), Ok((1, 2)));
        fails::<_, (u8, u8, u8)>(&vec![1u8, 2], &pair, "cannot become a tuple of size 3");
        let point: BTreeMap<String, i64> = convert(&Point { x: 1, y: 2 }, &point_shape()).unwrap();
        assert_eq!(point, BTreeMap::from([("x".to_owned(), 1), ("y".to_owned(), 2)]));
        assert_eq!(
            convert::<_, ()>(
                &super::super::value::tests::Marker,
                &Shape::UnitStruct { name: "Marker".to_owned() }
            ),
            Ok(())
        );
    }

    /// A byte string target (as `serde_bytes` would be).
    #[derive(Debug, PartialEq)]
    struct Blob(Vec<u8>);

    impl<'de> Deserialize<'de> for Blob {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Blob, D::Error> {
            struct Bytes;
            impl serde::de::Visitor<'_> for Bytes {
                type Value = Blob;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Blob, E> {
                    Ok(Blob(bytes.to_vec()))
                }
            }
            deserializer.deserialize_byte_buf(Bytes)
        }
    }

    #[test]
    fn byte_strings_and_sequences_of_bytes_convert_both_ways() {
        assert_eq!(from_value::<Blob>(&Value::Bytes(vec![1, 2])), Ok(Blob(vec![1, 2])));
        assert_eq!(
            convert::<_, Blob>(&vec![1u8, 255], &Shape::Seq(boxed(uint(8)))),
            Ok(Blob(vec![1, 255]))
        );
        assert!(convert::<_, Blob>(&vec![1u16, 256], &Shape::Seq(boxed(uint(16)))).is_err());
        assert_eq!(from_value::<Vec<u8>>(&Value::Bytes(vec![3, 4])), Ok(vec![3, 4]));
    }

    #[derive(Serialize)]
    struct OldItem {
        count: i32,
    }

    #[derive(Deserialize, Debug)]
    #[allow(dead_code, reason = "only the error is looked at")]
    struct Item {
        count: u32,
    }

    #[test]
    fn errors_say_where_the_value_did_not_fit() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code, reason = "only the error is looked at")]
        enum Smaller {
            Named { id: u8, tag: Option<char> },
        }

        let shape = Shape::Seq(boxed(structure("Item", &[("count", Shape::Int(32))])));
        let items = vec![OldItem { count: 1 }, OldItem { count: -1 }];
        fails::<_, Vec<Item>>(
            &items,
            &shape,
            "the integer -1 does not fit exactly in u32 (at [1].count)",
        );
        let kinds = Shape::Seq(boxed(kind_shape()));
        let stored = vec![Kind::Named { id: 300, tag: None }];
        fails::<_, Vec<Smaller>>(
            &stored,
            &kinds,
            "300 does not fit exactly in u8 (at [0]::Named.id)",
        );
    }

    /// A persistent object for the reference tests.
    #[derive(Debug)]
    struct Thing;

    impl Persistent for Thing {
        type Object = crate::PObject<Thing>;
        const TYPE_NAME: &'static str = "convert::tests::Thing";

        fn encode_state(&self, _out: &mut Vec<u8>) -> Result<()> {
            Ok(())
        }

        fn decode_state(_bytes: &[u8]) -> Result<Self> {
            Ok(Thing)
        }
    }

    /// Knows one object, under oid 5.
    struct OneObject(ObjectRef);

    impl ReferenceContext for OneObject {
        fn encode_reference(&self, obj: &ObjectRef) -> Result<Oid> {
            Ok(obj.p_oid().unwrap())
        }

        fn lookup(&self, oid: Oid) -> Option<ObjectRef> {
            (oid == Oid(5)).then(|| self.0.clone())
        }

        fn adopt_ghost(&self, _oid: Oid, _obj: &ObjectRef) -> Result<()> {
            Err(crate::Error::NoCodecContext)
        }
    }

    #[derive(Deserialize)]
    struct Holder {
        owner: P<Thing>,
        size: u64,
    }

    #[test]
    fn references_resolve_through_the_context_and_become_nothing_else() {
        let thing = P::new(Thing);
        thing.p_set_oid(Some(Oid(5))).unwrap();
        let context = Rc::new(OneObject(thing.erase()));
        let shape = structure(
            "Holder",
            &[("size", uint(8)), ("owner", Shape::Reference), ("gone", Shape::Reference)],
        );
        let holder: Holder =
            with_context(context.clone(), || convert(&(4u8, 5u64, 6u64), &shape)).unwrap();
        assert!(P::ptr_eq(&holder.owner, &thing));
        assert_eq!(holder.size, 4);
        let unknown = with_context(context, || convert::<_, P<Thing>>(&7u64, &Shape::Reference));
        assert!(
            unknown
                .is_err_and(|error| error.contains("only be encoded or decoded by a connection")),
            "the context's error"
        );

        fails::<_, u64>(
            &5u64,
            &Shape::Reference,
            "a persistent reference (oid 5) cannot become u64",
        );
        fails::<_, Option<String>>(
            &5u64,
            &Shape::Reference,
            "a persistent reference (oid 5) cannot become a string",
        );
        fails::<_, P<Thing>>(
            &5u64,
            &uint(64),
            "the integer 5 cannot become a persistent reference",
        );
    }

    #[test]
    fn deep_values_are_errors_not_stack_overflows() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code, reason = "only the error is looked at")]
        struct Loop(Option<Box<Loop>>);

        let mut chain = Value::Option(None);
        for _ in 0..1_000 {
            let fields = vec![("value".to_owned(), Value::UInt(0)), ("next".to_owned(), chain)];
            chain =
                Value::Option(Some(Box::new(Value::Struct { name: "Chain".to_owned(), fields })));
        }
        let error = from_value::<Option<Chain>>(&chain).expect_err("converts");
        assert!(error.contains("nesting limit"), "{error}");
        // Widening (to `Some`, to a newtype) nests the target, not the value: still limited.
        let error = from_value::<Loop>(&Value::UInt(1)).expect_err("converts");
        assert!(error.contains("nesting limit"), "{error}");
    }
}
