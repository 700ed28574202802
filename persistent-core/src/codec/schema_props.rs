//! Property: a record read under a changed struct shape (docs/spec.md §7.3) is either exactly
//! right or a typed error, never a wrong value. A random writer struct (distinct field names,
//! each of a kind from a fixed menu of serde types, with random values) is encoded field by
//! field; a reader struct made from it by random edits (drop, add, move, change a kind,
//! rename with or without an alias) reads the bytes through [`StoredFields`] as generated
//! code does (`decode_evolved`: decode a stored field whose name or alias is a reader's
//! field, skip the rest, default what is missing). An oracle computes, independently of the
//! codec, what each reader field must get: its kind's `Default` when the record lacks it, the
//! written value for the same kind, an exact conversion where one exists, and otherwise
//! `Error::SchemaMismatch` naming the first stored field that cannot convert.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, subsequence, Index};
use serde::{Deserialize, Serialize};

use super::encode_field;
use super::schema::{shape_of, Schema, StoredField, StoredFields};
use super::shape::Shape;
use crate::error::{Error, Result};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Inner {
    a: u32,
    b: String,
}

/// `Inner` in a later release: one more field, with a default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Inner")]
struct InnerExt {
    a: u32,
    b: String,
    #[serde(default)]
    c: u16,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
enum Colour {
    #[default]
    Red,
    Rgb(u8, u8, u8),
    Named {
        name: String,
    },
}

/// `Colour` in a later release: a variant inserted in the middle (the indices shift).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename = "Colour")]
enum Colour2 {
    #[default]
    Red,
    Green,
    Rgb(u8, u8, u8),
    Named {
        name: String,
    },
}

fn text() -> impl Strategy<Value = String> {
    "[a-zé]{0,4}"
}

fn colour() -> impl Strategy<Value = Colour> {
    prop_oneof![
        Just(Colour::Red),
        any::<(u8, u8, u8)>().prop_map(|(r, g, b)| Colour::Rgb(r, g, b)),
        text().prop_map(|name| Colour::Named { name }),
    ]
}

/// The menu of field kinds: the kind, its Rust type, and a strategy for its values. Defines
/// `Kind`, the typed values `Val`, and the dispatch from a kind to its type.
macro_rules! kinds {
    ($($kind:ident: $ty:ty = $values:expr;)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum Kind { $($kind),* }

        #[derive(Clone, Debug, PartialEq)]
        enum Val { $($kind($ty)),* }

        const KINDS: &[Kind] = &[$(Kind::$kind),*];

        impl Kind {
            fn shape(self) -> Shape {
                match self { $(Kind::$kind => shape_of::<$ty>()),* }
            }

            fn default_value(self) -> Val {
                match self { $(Kind::$kind => Val::$kind(<$ty>::default())),* }
            }

            fn values(self) -> BoxedStrategy<Val> {
                match self { $(Kind::$kind => ($values).prop_map(Val::$kind).boxed()),* }
            }

            /// What generated code does for a reader field of this kind.
            fn decode(self, field: StoredField<'_, '_>, name: &str) -> Result<Val> {
                match self { $(Kind::$kind => field.decode::<$ty>(name).map(Val::$kind)),* }
            }
        }

        impl Val {
            fn kind(&self) -> Kind {
                match self { $(Val::$kind(_) => Kind::$kind),* }
            }

            fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
                match self { $(Val::$kind(value) => encode_field("T", value, out)),* }
            }
        }
    };
}

kinds! {
    U8: u8 = any::<u8>();
    I32: i32 = prop_oneof![any::<i32>(), -300..300i32];
    U64: u64 = prop_oneof![any::<u64>(), 0..300u64, Just(1 << 24), Just((1 << 53) + 1)];
    I64: i64 = prop_oneof![any::<i64>(), -300..300i64, Just(-(1 << 24) - 1)];
    F32: f32 = prop_oneof![any::<f32>(), (-100..100i16).prop_map(f32::from)];
    F64: f64 = prop_oneof![any::<f64>(), any::<f32>().prop_map(f64::from)];
    Bool: bool = any::<bool>();
    Str: String = text();
    OptU32: Option<u32> = any::<Option<u32>>();
    VecI16: Vec<i16> = vec(any::<i16>(), 0..4);
    Inner: Inner = (any::<u32>(), text()).prop_map(|(a, b)| Inner { a, b });
    InnerExt: InnerExt = (any::<u32>(), text(), any::<u16>())
        .prop_map(|(a, b, c)| InnerExt { a, b, c });
    Colour: Colour = colour();
    Colour2: Colour2 = prop_oneof![
        colour().prop_map(|colour| colour_to_2(&colour)),
        Just(Colour2::Green),
    ];
}

fn colour_to_2(colour: &Colour) -> Colour2 {
    match colour.clone() {
        Colour::Red => Colour2::Red,
        Colour::Rgb(r, g, b) => Colour2::Rgb(r, g, b),
        Colour::Named { name } => Colour2::Named { name },
    }
}

/// The value `from` must become when read as `to`, or `None` when it must not convert.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::float_cmp,
    reason = "the oracle checks exactness by converting back and comparing"
)]
fn convert(from: &Val, to: Kind) -> Option<Val> {
    if from.kind() == to {
        return Some(from.clone());
    }
    let int = match *from {
        Val::U8(n) => Some(i128::from(n)),
        Val::I32(n) => Some(i128::from(n)),
        Val::U64(n) => Some(i128::from(n)),
        Val::I64(n) => Some(i128::from(n)),
        _ => None,
    };
    if let Some(n) = int {
        return match to {
            Kind::U8 => u8::try_from(n).ok().map(Val::U8),
            Kind::I32 => i32::try_from(n).ok().map(Val::I32),
            Kind::U64 => u64::try_from(n).ok().map(Val::U64),
            Kind::I64 => i64::try_from(n).ok().map(Val::I64),
            Kind::F32 => Some(n as f32).filter(|x| *x as i128 == n).map(Val::F32),
            Kind::F64 => Some(n as f64).filter(|x| *x as i128 == n).map(Val::F64),
            Kind::OptU32 => u32::try_from(n).ok().map(|n| Val::OptU32(Some(n))),
            _ => None,
        };
    }
    match (from, to) {
        (Val::F32(x), Kind::F64) => Some(Val::F64(f64::from(*x))),
        (Val::F64(x), Kind::F32) => {
            Some(*x as f32).filter(|y| f64::from(*y) == *x || x.is_nan()).map(Val::F32)
        }
        (Val::Inner(Inner { a, b }), Kind::InnerExt) => {
            Some(Val::InnerExt(InnerExt { a: *a, b: b.clone(), c: 0 }))
        }
        (Val::InnerExt(InnerExt { a, b, .. }), Kind::Inner) => {
            Some(Val::Inner(Inner { a: *a, b: b.clone() }))
        }
        (Val::Colour(colour), Kind::Colour2) => Some(Val::Colour2(colour_to_2(colour))),
        (Val::Colour2(colour), Kind::Colour) => match colour.clone() {
            Colour2::Red => Some(Colour::Red),
            Colour2::Green => None,
            Colour2::Rgb(r, g, b) => Some(Colour::Rgb(r, g, b)),
            Colour2::Named { name } => Some(Colour::Named { name }),
        }
        .map(Val::Colour),
        _ => None,
    }
}

/// Equal, with floats compared by bits (any NaN equals any NaN).
fn same(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::F32(x), Val::F32(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (Val::F64(x), Val::F64(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

const NAMES: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

/// A reader's field: its name, the older names it reads too, its kind.
#[derive(Clone, Debug)]
struct Field {
    name: &'static str,
    aliases: Vec<&'static str>,
    kind: Kind,
}

/// The reader field that reads a stored field named `name`.
fn position(reader: &[Field], name: &str) -> Option<usize> {
    reader.iter().position(|field| field.name == name || field.aliases.contains(&name))
}

/// One change from the writer's struct to the reader's; indices are taken modulo the number
/// of fields (or of places).
#[derive(Clone, Debug)]
enum Edit {
    Drop(usize),
    Add {
        name: usize,
        kind: Kind,
        at: usize,
    },
    Move(usize, usize),
    /// A field's kind becomes another (`near`: one it may convert from).
    Retype {
        field: usize,
        kind: Index,
        near: bool,
    },
    Rename {
        field: usize,
        name: usize,
        alias: bool,
    },
}

fn edit() -> impl Strategy<Value = Edit> {
    let index = || 0..NAMES.len();
    let kind = || select(KINDS);
    prop_oneof![
        1 => index().prop_map(Edit::Drop),
        1 => (index(), kind(), index()).prop_map(|(name, kind, at)| Edit::Add { name, kind, at }),
        1 => (index(), index()).prop_map(|(from, to)| Edit::Move(from, to)),
        2 => (index(), any::<Index>(), any::<bool>())
            .prop_map(|(field, kind, near)| Edit::Retype { field, kind, near }),
        1 => (index(), index(), any::<bool>())
            .prop_map(|(field, name, alias)| Edit::Rename { field, name, alias }),
    ]
}

/// The kinds a value of `kind` may convert to, `kind` among them.
fn related(kind: Kind) -> &'static [Kind] {
    use Kind::{Colour, Colour2, Inner, InnerExt, OptU32, F32, F64, I32, I64, U64, U8};
    match kind {
        U8 | I32 | U64 | I64 | F32 | F64 => &[U8, I32, U64, I64, F32, F64, OptU32],
        Inner | InnerExt => &[Inner, InnerExt],
        Colour | Colour2 => &[Colour, Colour2],
        _ => KINDS,
    }
}

/// Applies `edit`, keeping names and aliases distinct (as a compiling struct has them).
fn apply(reader: &mut Vec<Field>, edit: &Edit) {
    let taken = |reader: &[Field], name: &str| position(reader, name).is_some();
    let len = reader.len();
    match *edit {
        Edit::Add { name, kind, at } if !taken(reader, NAMES[name]) => {
            reader.insert(at % (len + 1), Field { name: NAMES[name], aliases: Vec::new(), kind });
        }
        Edit::Add { .. } => {}
        _ if len == 0 => {}
        Edit::Drop(field) => drop(reader.remove(field % len)),
        Edit::Move(from, to) => {
            let field = reader.remove(from % len);
            reader.insert(to % len, field);
        }
        Edit::Retype { field, kind, near } => {
            let field = &mut reader[field % len];
            let kinds = if near { related(field.kind) } else { KINDS };
            field.kind = kinds[kind.index(kinds.len())];
        }
        Edit::Rename { field, name, alias } if !taken(reader, NAMES[name]) => {
            let field = &mut reader[field % len];
            let old = std::mem::replace(&mut field.name, NAMES[name]);
            if alias {
                field.aliases.push(old);
            }
        }
        Edit::Rename { .. } => {}
    }
}

/// A writer struct: distinct field names in stored order, with values.
fn writer() -> impl Strategy<Value = Vec<(&'static str, Val)>> {
    (subsequence(NAMES.to_vec(), 0..=6).prop_shuffle(), vec(select(KINDS), 6)).prop_flat_map(
        |(names, kinds)| {
            let fields = names.into_iter().zip(kinds);
            fields
                .map(|(name, kind)| kind.values().prop_map(move |value| (name, value)))
                .collect::<Vec<_>>()
        },
    )
}

fn schema(version: u32, fields: impl Iterator<Item = (&'static str, Kind)>) -> Schema {
    Schema::new("T", version, fields.map(|(name, kind)| (name.to_owned(), kind.shape())).collect())
}

/// Encodes the writer's values and reads them as generated code does for `reader`.
fn read(writer: &[(&'static str, Val)], reader: &[Field]) -> Result<Vec<Val>> {
    let mut bytes = Vec::new();
    for (_, value) in writer {
        value.encode(&mut bytes)?;
    }
    let stored = schema(1, writer.iter().map(|(name, value)| (*name, value.kind())));
    let own = schema(2, reader.iter().map(|field| (field.name, field.kind)));
    let mut slots = vec![None; reader.len()];
    let mut cursor = StoredFields::new(&stored, &own, &bytes);
    while let Some(field) = cursor.next_field()? {
        match position(reader, field.name()) {
            Some(index) => {
                let mine = &reader[index];
                slots[index] = Some(mine.kind.decode(field, mine.name)?);
            }
            None => field.skip()?,
        }
    }
    Ok(with_defaults(slots, reader))
}

/// The oracle: the same walk, with [`convert`] in place of the codec. `Err` names the stored
/// field that must fail.
fn expected(writer: &[(&'static str, Val)], reader: &[Field]) -> Result<Vec<Val>, &'static str> {
    let mut slots = vec![None; reader.len()];
    for (name, value) in writer {
        if let Some(index) = position(reader, name) {
            slots[index] = Some(convert(value, reader[index].kind).ok_or(*name)?);
        }
    }
    Ok(with_defaults(slots, reader))
}

fn with_defaults(slots: Vec<Option<Val>>, reader: &[Field]) -> Vec<Val> {
    let values = slots.into_iter().zip(reader);
    values.map(|(slot, field)| slot.unwrap_or_else(|| field.kind.default_value())).collect()
}

/// The reader fields of the struct that wrote `writer`.
fn same_fields(writer: &[(&'static str, Val)]) -> Vec<Field> {
    let field = |(name, value): &(&'static str, Val)| Field {
        name,
        aliases: Vec::new(),
        kind: value.kind(),
    };
    writer.iter().map(field).collect()
}

fn check(writer: &[(&'static str, Val)], reader: &[Field]) -> Result<(), TestCaseError> {
    match (read(writer, reader), expected(writer, reader)) {
        (Ok(read), Ok(expected)) => prop_assert!(
            read.len() == expected.len() && read.iter().zip(&expected).all(|(r, e)| same(r, e)),
            "read {read:?}, expected {expected:?}"
        ),
        (Err(Error::SchemaMismatch { type_name, field, .. }), Err(name)) => {
            prop_assert!(type_name == "T" && field == name, "mismatch on {field}, not {name}");
        }
        (read, expected) => prop_assert!(false, "read {read:?}, expected {expected:?}"),
    }
    Ok(())
}

proptest! {
    // A case takes some microseconds: many cases reach the rarer conversions.
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn the_same_schema_reads_every_value_back(writer in writer()) {
        check(&writer, &same_fields(&writer))?;
    }

    #[test]
    fn a_changed_schema_reads_exactly_or_fails_typed(
        writer in writer(),
        edits in vec(edit(), 0..6),
    ) {
        let mut reader = same_fields(&writer);
        for edit in &edits {
            apply(&mut reader, edit);
        }
        check(&writer, &reader)?;
    }
}
