//! Reading stored bytes by [`Shape`] into a generic [`Value`]: postcard's wire format
//! interpreted without the Rust type that wrote it (used when a record's schema differs from
//! the reader's, and by upgrade functions that look at old fields). What does not live
//! here: turning a `Value` into a Rust type (`convert.rs`).

use std::fmt;

use serde::Deserialize;

use super::{Shape, Variant};
use crate::codec::depth::{too_deep_message, MAX_DEPTH};

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
    Struct {
        /// The Rust name serde gives the type.
        name: String,
        /// The fields, in stored order.
        fields: Vec<(String, Value)>,
    },
    /// A tuple struct.
    TupleStruct {
        /// The Rust name serde gives the type.
        name: String,
        /// The fields, in stored order.
        fields: Vec<Value>,
    },
    /// A unit struct.
    UnitStruct {
        /// The Rust name serde gives the type.
        name: String,
    },
    /// A newtype struct.
    Newtype {
        /// The Rust name serde gives the type.
        name: String,
        /// The wrapped value.
        inner: Box<Value>,
    },
    /// One variant of an enum.
    Variant {
        /// The Rust name serde gives the type.
        name: String,
        /// The variant's name.
        variant: String,
        /// The variant's index.
        index: u32,
        /// The variant's content.
        content: VariantValue,
    },
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
/// `input` past it. Values nest by the levels of `depth.rs` (a level beyond `MAX_DEPTH` is an
/// error, not a stack overflow), so whatever the typed decoder accepts is read here too.
///
/// # Errors
/// A message when the bytes do not hold a `shape` (truncated, invalid UTF-8, a variant index
/// out of range, ...) or when `shape` is [`Shape::Opaque`] (its bytes cannot be interpreted).
pub(crate) fn read(shape: &Shape, input: &mut &[u8]) -> Result<Value, String> {
    let mut reader = Reader { input, named: Vec::new(), empty_items: EMPTY_ITEMS_LIMIT };
    let value = reader.value(shape, 0).map_err(|failure| failure.to_string())?;
    *input = reader.input;
    Ok(value)
}

/// How many items of sequences and maps whose items may take no bytes (`Vec<()>`) one read
/// accepts in all: other items take a byte each at least, so their number is bounded by the
/// input, and these are bounded by this.
const EMPTY_ITEMS_LIMIT: usize = 1 << 16;

/// The state of one read: the bytes left, the named shapes being read (for
/// [`Shape::Recursive`]), and how many more items that take no bytes may come.
struct Reader<'s, 'i> {
    input: &'i [u8],
    named: Vec<&'s Shape>,
    empty_items: usize,
}

/// Why a read failed, and where: the innermost named field or type being read.
struct Failure {
    message: String,
    place: Option<String>,
}

impl Failure {
    /// Names where the failure happened, unless a more precise place is known already.
    fn at(mut self, place: impl FnOnce() -> String) -> Failure {
        self.place.get_or_insert_with(place);
        self
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { message, place: None }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Some(place) => write!(f, "{} (in {place})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The level of the values nested in a value at `depth` (as `depth.rs` counts them).
fn below(depth: usize) -> Result<usize, Failure> {
    if depth < MAX_DEPTH {
        Ok(depth + 1)
    } else {
        Err(too_deep_message().into())
    }
}

/// The name of a struct or enum shape that [`Shape::Recursive`] may refer to.
fn name_of(shape: &Shape) -> Option<&str> {
    match shape {
        Shape::Struct { name, .. }
        | Shape::TupleStruct { name, .. }
        | Shape::Newtype { name, .. }
        | Shape::Enum { name, .. } => Some(name),
        _ => None,
    }
}

/// The nearest of `named` (innermost last) called `name`.
fn find<'s>(named: &[&'s Shape], name: &str) -> Option<&'s Shape> {
    named.iter().rev().copied().find(|shape| name_of(shape) == Some(name))
}

/// Whether every value of `shape` takes at least one byte. A recursive shape is looked
/// into once (a type that nests itself with no bytes in between has no finite values).
fn takes_bytes(shape: &Shape, named: &[&Shape]) -> bool {
    match shape {
        Shape::Unit | Shape::UnitStruct { .. } => false,
        Shape::Tuple(items) | Shape::TupleStruct { fields: items, .. } => {
            items.iter().any(|item| takes_bytes(item, named))
        }
        Shape::Struct { fields, .. } => fields.iter().any(|(_, field)| takes_bytes(field, named)),
        Shape::Newtype { inner, .. } => takes_bytes(inner, named),
        Shape::Recursive(name) => find(named, name).is_none_or(|shape| takes_bytes(shape, &[])),
        _ => true,
    }
}

/// Postcard's error when reading `what`, said in words.
fn postcard_error(error: &postcard::Error, what: &str) -> String {
    match error {
        postcard::Error::DeserializeUnexpectedEnd => format!("truncated input: it ends in {what}"),
        postcard::Error::DeserializeBadVarint => {
            format!("the varint of {what} is longer than its width allows")
        }
        postcard::Error::DeserializeBadBool => format!("{what} is a byte other than 0 or 1"),
        postcard::Error::DeserializeBadUtf8 => format!("{what} is not valid UTF-8"),
        postcard::Error::DeserializeBadChar => format!("{what} is not exactly one character"),
        other => format!("{what} cannot be read: {other}"),
    }
}

impl<'s, 'i> Reader<'s, 'i> {
    /// One `T` read by postcard itself (a number, a string, ...), called `what` in errors.
    fn take<T: Deserialize<'i>>(&mut self, what: &str) -> Result<T, Failure> {
        let (value, rest) =
            postcard::take_from_bytes(self.input).map_err(|error| postcard_error(&error, what))?;
        self.input = rest;
        Ok(value)
    }

    /// The length of a sequence or map whose items have the shape(s) `items`, checked
    /// against the bytes left (or the limit of items that take no bytes).
    fn len(&mut self, items: &[&Shape], what: &str) -> Result<usize, Failure> {
        let len: usize = self.take(&format!("the length of {what}"))?;
        let left = self.input.len();
        if items.iter().any(|item| takes_bytes(item, &self.named)) {
            if len > left {
                return Err(
                    format!("truncated input: {what} of {len} items in {left} bytes").into()
                );
            }
        } else {
            let limit = EMPTY_ITEMS_LIMIT;
            self.empty_items = self.empty_items.checked_sub(len).ok_or_else(|| {
                format!("{what} of {len} items that take no bytes passes the limit of {limit}")
            })?;
        }
        Ok(len)
    }

    fn value(&mut self, shape: &'s Shape, depth: usize) -> Result<Value, Failure> {
        Ok(match shape {
            Shape::Unit => Value::Unit,
            Shape::Bool => Value::Bool(self.take("a bool")?),
            Shape::Int(bits) => Value::Int(self.int(*bits)?),
            Shape::UInt(bits) => Value::UInt(self.uint(*bits)?),
            Shape::F32 => Value::F32(self.take("an f32")?),
            Shape::F64 => Value::F64(self.take("an f64")?),
            Shape::Char => Value::Char(self.take("a char")?),
            Shape::Str => Value::Str(self.take::<&str>("a string")?.to_owned()),
            Shape::Bytes => Value::Bytes(self.take::<&[u8]>("a byte string")?.to_vec()),
            Shape::Option(inner) => match self.take::<u8>("an Option")? {
                0 => Value::Option(None),
                1 => Value::Option(Some(Box::new(self.value(inner, below(depth)?)?))),
                tag => return Err(format!("an Option's tag is {tag}, not 0 or 1").into()),
            },
            Shape::Seq(item) => {
                let len = self.len(&[item], "a sequence")?;
                let depth = below(depth)?;
                Value::Seq((0..len).map(|_| self.value(item, depth)).collect::<Result<_, _>>()?)
            }
            Shape::Map(key, value) => {
                let len = self.len(&[key, value], "a map")?;
                let depth = below(depth)?;
                let entries =
                    (0..len).map(|_| Ok((self.value(key, depth)?, self.value(value, depth)?)));
                Value::Map(entries.collect::<Result<_, Failure>>()?)
            }
            Shape::Tuple(items) => Value::Tuple(self.values(items, below(depth)?)?),
            Shape::UnitStruct { name } => Value::UnitStruct { name: name.clone() },
            Shape::Struct { name, fields } => self.within(shape, |reader| {
                let fields = reader.fields(fields, below(depth)?, &format!("struct {name}"))?;
                Ok(Value::Struct { name: name.clone(), fields })
            })?,
            Shape::TupleStruct { name, fields } => self.within(shape, |reader| {
                let fields = reader.values(fields, below(depth)?);
                let fields = fields.map_err(|failure| failure.at(|| format!("struct {name}")))?;
                Ok(Value::TupleStruct { name: name.clone(), fields })
            })?,
            Shape::Newtype { name, inner } => self.within(shape, |reader| {
                let inner = reader.value(inner, below(depth)?);
                let inner = inner.map_err(|failure| failure.at(|| format!("struct {name}")))?;
                Ok(Value::Newtype { name: name.clone(), inner: Box::new(inner) })
            })?,
            Shape::Enum { name, variants } => {
                self.within(shape, |reader| reader.variant(name, variants, depth))?
            }
            Shape::Reference => {
                below(depth)?; // the oid is a newtype's content to the typed decoder
                Value::Reference(self.take("a reference's oid")?)
            }
            Shape::Recursive(name) => {
                let target = find(&self.named, name).ok_or_else(|| {
                    format!("a recursive shape names {name}, which does not enclose it")
                })?;
                return self.value(target, depth);
            }
            Shape::Opaque(rust) => {
                return Err(
                    format!("a value of the opaque type {rust} cannot be read by shape").into()
                )
            }
        })
    }

    /// Reads with `shape` (a named one) in scope for [`Shape::Recursive`].
    fn within(
        &mut self,
        shape: &'s Shape,
        read: impl FnOnce(&mut Self) -> Result<Value, Failure>,
    ) -> Result<Value, Failure> {
        self.named.push(shape);
        let value = read(self);
        self.named.pop();
        value
    }

    fn int(&mut self, bits: u8) -> Result<i128, Failure> {
        Ok(match bits {
            8 => self.take::<i8>("an i8")?.into(),
            16 => self.take::<i16>("an i16")?.into(),
            32 => self.take::<i32>("an i32")?.into(),
            64 => self.take::<i64>("an i64")?.into(),
            128 => self.take("an i128")?,
            _ => return Err(format!("no signed integer has {bits} bits").into()),
        })
    }

    fn uint(&mut self, bits: u8) -> Result<u128, Failure> {
        Ok(match bits {
            8 => self.take::<u8>("a u8")?.into(),
            16 => self.take::<u16>("a u16")?.into(),
            32 => self.take::<u32>("a u32")?.into(),
            64 => self.take::<u64>("a u64")?.into(),
            128 => self.take("a u128")?,
            _ => return Err(format!("no unsigned integer has {bits} bits").into()),
        })
    }

    /// Values of `shapes`, back to back (a tuple's or a tuple struct's).
    fn values(&mut self, shapes: &'s [Shape], depth: usize) -> Result<Vec<Value>, Failure> {
        shapes.iter().map(|shape| self.value(shape, depth)).collect()
    }

    /// Named fields, back to back; errors name the field of `owner`.
    fn fields(
        &mut self,
        fields: &'s [(String, Shape)],
        depth: usize,
        owner: &str,
    ) -> Result<Vec<(String, Value)>, Failure> {
        let field = |(field, shape): &'s (String, Shape)| {
            let at = || format!("field {field} of {owner}");
            let value = self.value(shape, depth).map_err(|failure| failure.at(at))?;
            Ok((field.clone(), value))
        };
        fields.iter().map(field).collect()
    }

    /// One variant of the enum `name`: its index, then its content.
    fn variant(
        &mut self,
        name: &str,
        variants: &'s [(String, Variant)],
        depth: usize,
    ) -> Result<Value, Failure> {
        let index: u32 = self.take(&format!("the variant index of enum {name}"))?;
        let Some((variant, content)) = usize::try_from(index).ok().and_then(|i| variants.get(i))
        else {
            let count = variants.len();
            return Err(format!(
                "variant index {index} is out of range for enum {name} of {count} variants"
            )
            .into());
        };
        let owner = || format!("variant {variant} of enum {name}");
        let depth = below(depth)?;
        let content = match content {
            Variant::Unit => Ok(VariantValue::Unit),
            Variant::Newtype(shape) => {
                self.value(shape, depth).map(|v| VariantValue::Newtype(Box::new(v)))
            }
            Variant::Tuple(items) => {
                below(depth).and_then(|depth| self.values(items, depth)).map(VariantValue::Tuple)
            }
            Variant::Struct(fields) => below(depth)
                .and_then(|depth| self.fields(fields, depth, &owner()))
                .map(VariantValue::Struct),
        };
        let content = content.map_err(|failure| failure.at(owner))?;
        Ok(Value::Variant { name: name.to_owned(), variant: variant.clone(), index, content })
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Serialize};

    use super::{read, Value, VariantValue, EMPTY_ITEMS_LIMIT};
    use crate::codec::shape::{Shape, Variant};
    use crate::codec::MAX_DEPTH;

    // Shapes and values built by hand, shared with `convert.rs`'s tests.

    pub(crate) fn uint(bits: u8) -> Shape {
        Shape::UInt(bits)
    }

    pub(crate) fn boxed(shape: Shape) -> Box<Shape> {
        Box::new(shape)
    }

    pub(crate) fn structure(name: &str, fields: &[(&str, Shape)]) -> Shape {
        let fields = fields.iter().map(|(field, shape)| ((*field).to_owned(), shape.clone()));
        Shape::Struct { name: name.to_owned(), fields: fields.collect() }
    }

    pub(crate) fn enumeration(name: &str, variants: &[(&str, Variant)]) -> Shape {
        let variants =
            variants.iter().map(|(variant, content)| ((*variant).to_owned(), content.clone()));
        Shape::Enum { name: name.to_owned(), variants: variants.collect() }
    }

    pub(crate) fn struct_value(name: &str, fields: Vec<(&str, Value)>) -> Value {
        let fields = fields.into_iter().map(|(field, value)| (field.to_owned(), value));
        Value::Struct { name: name.to_owned(), fields: fields.collect() }
    }

    pub(crate) fn variant_value(
        name: &str,
        variant: &str,
        index: u32,
        content: VariantValue,
    ) -> Value {
        Value::Variant { name: name.to_owned(), variant: variant.to_owned(), index, content }
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    pub(crate) struct Point {
        pub(crate) x: i32,
        pub(crate) y: i32,
    }

    pub(crate) fn point_shape() -> Shape {
        structure("Point", &[("x", Shape::Int(32)), ("y", Shape::Int(32))])
    }

    fn point_value(x: i128, y: i128) -> Value {
        struct_value("Point", vec![("x", Value::Int(x)), ("y", Value::Int(y))])
    }

    /// Every kind of variant.
    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    pub(crate) enum Kind {
        Empty,
        Wrap(u16),
        Pair(u8, String),
        Named { id: u64, tag: Option<char> },
    }

    pub(crate) fn kind_shape() -> Shape {
        enumeration(
            "Kind",
            &[
                ("Empty", Variant::Unit),
                ("Wrap", Variant::Newtype(uint(16))),
                ("Pair", Variant::Tuple(vec![uint(8), Shape::Str])),
                (
                    "Named",
                    Variant::Struct(vec![
                        ("id".to_owned(), uint(64)),
                        ("tag".to_owned(), Shape::Option(boxed(Shape::Char))),
                    ]),
                ),
            ],
        )
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    pub(crate) struct Meters(pub(crate) f64);

    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    pub(crate) struct Pair(pub(crate) u8, pub(crate) bool);

    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    pub(crate) struct Marker;

    /// A bit of everything postcard writes.
    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    pub(crate) struct Everything {
        pub(crate) point: Point,
        pub(crate) kinds: Vec<Kind>,
        pub(crate) maybe: Option<Point>,
        pub(crate) nothing: Option<u8>,
        pub(crate) map: BTreeMap<String, u32>,
        pub(crate) tuple: (i8, u128, i128, i16),
        pub(crate) array: [u16; 3],
        pub(crate) bytes: Vec<u8>,
        pub(crate) ratio: f32,
        pub(crate) letter: char,
        pub(crate) text: String,
        pub(crate) flag: bool,
        pub(crate) unit: (),
        pub(crate) marker: Marker,
        pub(crate) meters: Meters,
        pub(crate) pair: Pair,
    }

    pub(crate) fn everything() -> Everything {
        Everything {
            point: Point { x: -3, y: 70_000 },
            kinds: vec![
                Kind::Empty,
                Kind::Wrap(65_535),
                Kind::Pair(7, "sept".to_owned()),
                Kind::Named { id: u64::MAX, tag: Some('é') },
                Kind::Named { id: 0, tag: None },
            ],
            maybe: Some(Point { x: i32::MIN, y: i32::MAX }),
            nothing: None,
            map: BTreeMap::from([("a".to_owned(), 1), ("bb".to_owned(), 300)]),
            tuple: (-128, u128::MAX, i128::MIN, -129),
            array: [0, 128, 65_535],
            bytes: vec![0, 255, 128],
            ratio: 0.1,
            letter: '€',
            text: "héllo".to_owned(),
            flag: true,
            unit: (),
            marker: Marker,
            meters: Meters(-2.5),
            pair: Pair(200, false),
        }
    }

    pub(crate) fn everything_shape() -> Shape {
        structure(
            "Everything",
            &[
                ("point", point_shape()),
                ("kinds", Shape::Seq(boxed(kind_shape()))),
                ("maybe", Shape::Option(boxed(point_shape()))),
                ("nothing", Shape::Option(boxed(uint(8)))),
                ("map", Shape::Map(boxed(Shape::Str), boxed(uint(32)))),
                (
                    "tuple",
                    Shape::Tuple(vec![Shape::Int(8), uint(128), Shape::Int(128), Shape::Int(16)]),
                ),
                ("array", Shape::Tuple(vec![uint(16), uint(16), uint(16)])),
                ("bytes", Shape::Seq(boxed(uint(8)))),
                ("ratio", Shape::F32),
                ("letter", Shape::Char),
                ("text", Shape::Str),
                ("flag", Shape::Bool),
                ("unit", Shape::Unit),
                ("marker", Shape::UnitStruct { name: "Marker".to_owned() }),
                ("meters", Shape::Newtype { name: "Meters".to_owned(), inner: boxed(Shape::F64) }),
                (
                    "pair",
                    Shape::TupleStruct {
                        name: "Pair".to_owned(),
                        fields: vec![uint(8), Shape::Bool],
                    },
                ),
            ],
        )
    }

    /// A recursive struct: two levels a link (the struct's fields, the `Some`).
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    pub(crate) struct Chain {
        pub(crate) value: u8,
        pub(crate) next: Option<Box<Chain>>,
    }

    pub(crate) fn chain_shape() -> Shape {
        structure(
            "Chain",
            &[
                ("value", uint(8)),
                ("next", Shape::Option(boxed(Shape::Recursive("Chain".to_owned())))),
            ],
        )
    }

    /// A recursive enum: two levels a node (the variant's content, the sequence).
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    pub(crate) enum Tree {
        Leaf(u32),
        Node(Vec<Tree>),
    }

    pub(crate) fn tree_shape() -> Shape {
        enumeration(
            "Tree",
            &[
                ("Leaf", Variant::Newtype(uint(32))),
                ("Node", Variant::Newtype(Shape::Seq(boxed(Shape::Recursive("Tree".to_owned()))))),
            ],
        )
    }

    /// Reads all of `bytes` as `shape`.
    pub(crate) fn read_all(shape: &Shape, bytes: &[u8]) -> Result<Value, String> {
        let mut input = bytes;
        let value = read(shape, &mut input)?;
        assert!(input.is_empty(), "{} bytes left after {value:?}", input.len());
        Ok(value)
    }

    /// `value` encoded by postcard reads back as `expected`, and every truncation of its
    /// bytes is an error.
    fn check<T: Serialize>(value: &T, shape: &Shape, expected: &Value) {
        let bytes = postcard::to_allocvec(value).unwrap();
        assert_eq!(&read_all(shape, &bytes).unwrap(), expected, "{shape}");
        for end in 0..bytes.len() {
            let error = read(shape, &mut &bytes[..end]).expect_err("a truncation reads");
            assert!(error.contains("truncated"), "{end} of {} bytes: {error}", bytes.len());
        }
    }

    fn fails(shape: &Shape, bytes: &[u8]) -> String {
        read(shape, &mut &bytes[..]).expect_err("the bytes read")
    }

    #[test]
    fn numbers_read_at_their_width_and_sign() {
        check(&0u8, &uint(8), &Value::UInt(0));
        check(&255u8, &uint(8), &Value::UInt(255));
        check(&-128i8, &Shape::Int(8), &Value::Int(-128));
        check(&u16::MAX, &uint(16), &Value::UInt(65_535));
        check(&i16::MIN, &Shape::Int(16), &Value::Int(-32_768));
        check(&u32::MAX, &uint(32), &Value::UInt(u32::MAX.into()));
        check(&-1i32, &Shape::Int(32), &Value::Int(-1));
        check(&u64::MAX, &uint(64), &Value::UInt(u64::MAX.into()));
        check(&i64::MIN, &Shape::Int(64), &Value::Int(i64::MIN.into()));
        check(&u128::MAX, &uint(128), &Value::UInt(u128::MAX));
        check(&i128::MIN, &Shape::Int(128), &Value::Int(i128::MIN));
        check(&i128::MAX, &Shape::Int(128), &Value::Int(i128::MAX));
        check(&1.5f32, &Shape::F32, &Value::F32(1.5));
        check(&f64::MIN_POSITIVE, &Shape::F64, &Value::F64(f64::MIN_POSITIVE));
        check(&300usize, &uint(64), &Value::UInt(300));
        check(&-300isize, &Shape::Int(64), &Value::Int(-300));
    }

    #[test]
    fn scalars_strings_and_options() {
        check(&true, &Shape::Bool, &Value::Bool(true));
        check(&false, &Shape::Bool, &Value::Bool(false));
        check(&'€', &Shape::Char, &Value::Char('€'));
        check(&"ünï", &Shape::Str, &Value::Str("ünï".to_owned()));
        check(&"", &Shape::Str, &Value::Str(String::new()));
        check(&(), &Shape::Unit, &Value::Unit);
        check(
            &Some(5u8),
            &Shape::Option(boxed(uint(8))),
            &Value::Option(Some(Box::new(Value::UInt(5)))),
        );
        check(&None::<u8>, &Shape::Option(boxed(uint(8))), &Value::Option(None));
        // A byte string is written as postcard writes `serialize_bytes`: length, then bytes.
        let bytes = [3, 1, 2, 255];
        assert_eq!(read_all(&Shape::Bytes, &bytes).unwrap(), Value::Bytes(vec![1, 2, 255]));
        let oid = postcard::to_allocvec(&300u64).unwrap();
        assert_eq!(read_all(&Shape::Reference, &oid).unwrap(), Value::Reference(300));
    }

    #[test]
    fn every_kind_of_variant() {
        let shape = kind_shape();
        check(&Kind::Empty, &shape, &variant_value("Kind", "Empty", 0, VariantValue::Unit));
        let wrap = VariantValue::Newtype(Box::new(Value::UInt(9)));
        check(&Kind::Wrap(9), &shape, &variant_value("Kind", "Wrap", 1, wrap));
        let pair = VariantValue::Tuple(vec![Value::UInt(7), Value::Str("sept".to_owned())]);
        check(&Kind::Pair(7, "sept".to_owned()), &shape, &variant_value("Kind", "Pair", 2, pair));
        let named = VariantValue::Struct(vec![
            ("id".to_owned(), Value::UInt(1 << 40)),
            ("tag".to_owned(), Value::Option(Some(Box::new(Value::Char('x'))))),
        ]);
        let value = Kind::Named { id: 1 << 40, tag: Some('x') };
        check(&value, &shape, &variant_value("Kind", "Named", 3, named));
    }

    #[test]
    fn a_struct_of_everything_reads_field_by_field() {
        let value =
            read_all(&everything_shape(), &postcard::to_allocvec(&everything()).unwrap()).unwrap();
        let Value::Struct { name, fields } = &value else { panic!("{value:?}") };
        assert_eq!(name, "Everything");
        let field = |name: &str| &fields.iter().find(|(field, _)| field == name).unwrap().1;
        assert_eq!(field("point"), &point_value(-3, 70_000));
        let Value::Seq(kinds) = field("kinds") else { panic!() };
        assert_eq!(kinds.len(), 5);
        assert_eq!(
            field("maybe"),
            &Value::Option(Some(Box::new(point_value(i32::MIN.into(), i32::MAX.into()))))
        );
        assert_eq!(field("nothing"), &Value::Option(None));
        let map = vec![
            (Value::Str("a".to_owned()), Value::UInt(1)),
            (Value::Str("bb".to_owned()), Value::UInt(300)),
        ];
        assert_eq!(field("map"), &Value::Map(map));
        let tuple =
            vec![Value::Int(-128), Value::UInt(u128::MAX), Value::Int(i128::MIN), Value::Int(-129)];
        assert_eq!(field("tuple"), &Value::Tuple(tuple));
        assert_eq!(
            field("array"),
            &Value::Tuple(vec![Value::UInt(0), Value::UInt(128), Value::UInt(65_535)])
        );
        assert_eq!(
            field("bytes"),
            &Value::Seq(vec![Value::UInt(0), Value::UInt(255), Value::UInt(128)])
        );
        assert_eq!(field("ratio"), &Value::F32(0.1));
        assert_eq!(field("letter"), &Value::Char('€'));
        assert_eq!(field("text"), &Value::Str("héllo".to_owned()));
        assert_eq!(field("flag"), &Value::Bool(true));
        assert_eq!(field("unit"), &Value::Unit);
        assert_eq!(field("marker"), &Value::UnitStruct { name: "Marker".to_owned() });
        let meters =
            Value::Newtype { name: "Meters".to_owned(), inner: Box::new(Value::F64(-2.5)) };
        assert_eq!(field("meters"), &meters);
        let pair = Value::TupleStruct {
            name: "Pair".to_owned(),
            fields: vec![Value::UInt(200), Value::Bool(false)],
        };
        assert_eq!(field("pair"), &pair);
    }

    #[test]
    fn every_truncation_of_a_struct_of_everything_is_an_error() {
        let bytes = postcard::to_allocvec(&everything()).unwrap();
        let shape = everything_shape();
        for end in 0..bytes.len() {
            let error = fails(&shape, &bytes[..end]);
            assert!(error.contains("truncated") && error.contains("(in "), "{end}: {error}");
        }
    }

    #[test]
    fn recursive_shapes_read_the_enclosing_shape() {
        let chain = Chain { value: 1, next: Some(Box::new(Chain { value: 2, next: None })) };
        let inner =
            struct_value("Chain", vec![("value", Value::UInt(2)), ("next", Value::Option(None))]);
        let outer = struct_value(
            "Chain",
            vec![("value", Value::UInt(1)), ("next", Value::Option(Some(Box::new(inner))))],
        );
        check(&chain, &chain_shape(), &outer);

        let tree = Tree::Node(vec![Tree::Leaf(4), Tree::Node(vec![])]);
        let node = |items| {
            variant_value("Tree", "Node", 1, VariantValue::Newtype(Box::new(Value::Seq(items))))
        };
        let leaf =
            variant_value("Tree", "Leaf", 0, VariantValue::Newtype(Box::new(Value::UInt(4))));
        check(&tree, &tree_shape(), &node(vec![leaf, node(vec![])]));
    }

    /// Bytes of a chain of `links` links: each `value: 0, next: Some(..)`, then the last.
    pub(crate) fn deep_chain(links: usize) -> Vec<u8> {
        let mut bytes = [0, 1].repeat(links);
        bytes.extend([0, 0]);
        bytes
    }

    /// Bytes of a tree of `nodes` nested one-child nodes around a leaf.
    fn deep_tree(nodes: usize) -> Vec<u8> {
        let mut bytes = [1, 1].repeat(nodes);
        bytes.extend([0, 4]);
        bytes
    }

    #[test]
    fn nesting_is_limited_as_the_typed_decoder_limits_it() {
        use crate::codec::depth::take_from_bytes;
        for n in MAX_DEPTH / 2 - 4..MAX_DEPTH / 2 + 4 {
            let bytes = deep_chain(n);
            let typed = take_from_bytes::<Chain>(&bytes).is_ok();
            assert_eq!(read_all(&chain_shape(), &bytes).is_ok(), typed, "chain of {n}");
            let bytes = deep_tree(n);
            let typed = take_from_bytes::<Tree>(&bytes).is_ok();
            assert_eq!(read_all(&tree_shape(), &bytes).is_ok(), typed, "tree of {n}");
        }
        assert!(read_all(&chain_shape(), &deep_chain(MAX_DEPTH / 2 - 1)).is_ok());
        assert!(read_all(&chain_shape(), &deep_chain(MAX_DEPTH / 2)).is_err());
    }

    #[test]
    fn a_hostile_deep_recursion_is_an_error() {
        for (shape, bytes) in
            [(chain_shape(), deep_chain(1_000_000)), (tree_shape(), deep_tree(1_000_000))]
        {
            let error = fails(&shape, &bytes);
            assert!(error.contains("nesting limit"), "{error}");
        }
    }

    #[test]
    fn bad_bytes_are_errors_that_say_what_was_wrong() {
        let cases: [(Shape, &[u8], &str); 10] = [
            (Shape::Bool, &[2], "bool is a byte other than 0 or 1"),
            (Shape::Option(boxed(Shape::Unit)), &[2], "tag is 2"),
            (uint(16), &[0xff, 0xff, 0x04], "longer than its width"),
            (uint(32), &[0xff, 0xff, 0xff, 0xff, 0x10], "longer than its width"),
            (Shape::Int(64), &[0xff; 11], "longer than its width"),
            (Shape::Str, &[2, 0xff, 0xfe], "not valid UTF-8"),
            (Shape::Char, &[2, b'a', b'b'], "not exactly one character"),
            (kind_shape(), &[4], "variant index 4 is out of range for enum Kind of 4 variants"),
            (Shape::Opaque("url::Url".to_owned()), &[0], "opaque type url::Url"),
            (Shape::Recursive("Nowhere".to_owned()), &[0], "Nowhere"),
        ];
        for (shape, bytes, message) in cases {
            let error = fails(&shape, bytes);
            assert!(error.contains(message), "{shape}: {error}");
        }
        assert!(fails(&Shape::Int(7), &[0]).contains("7 bits"));
        let error = fails(&point_shape(), &[0, 0xff]);
        assert!(
            error.contains("truncated") && error.contains("(in field y of struct Point)"),
            "{error}"
        );
        let error = fails(&kind_shape(), &[3, 1, 2]);
        assert!(error.contains("(in field tag of variant Named of enum Kind)"), "{error}");
    }

    #[test]
    fn lengths_beyond_the_input_are_errors_without_allocating() {
        let huge = postcard::to_allocvec(&(1u64 << 60)).unwrap();
        for shape in [Shape::Seq(boxed(uint(32))), Shape::Map(boxed(Shape::Unit), boxed(uint(8)))] {
            let error = fails(&shape, &huge);
            assert!(error.contains("truncated"), "{error}");
        }
        let error = fails(&Shape::Seq(boxed(Shape::Unit)), &huge);
        assert!(error.contains("take no bytes"), "{error}");
        let units = Shape::Seq(boxed(Shape::Tuple(vec![Shape::Unit, Shape::Unit])));
        assert_eq!(
            read_all(&units, &[3]).unwrap(),
            Value::Seq(vec![Value::Tuple(vec![Value::Unit, Value::Unit]); 3])
        );
        let many = postcard::to_allocvec(&(EMPTY_ITEMS_LIMIT + 1)).unwrap();
        assert!(fails(&units, &many).contains("take no bytes"));
        // Recursive items that take bytes are bounded by the input, not by the limit.
        let trees = postcard::to_allocvec(&Tree::Node(
            (0..=u32::try_from(EMPTY_ITEMS_LIMIT).unwrap()).map(Tree::Leaf).collect(),
        ))
        .unwrap();
        assert!(read_all(&tree_shape(), &trees).is_ok());
    }
}
