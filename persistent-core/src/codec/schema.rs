//! Record schemas (docs/spec.md §7): the field names and shapes of a derived type's state, and
//! how a state written under another schema is read by field name. What lives here: the
//! [`Schema`] a type declares, the cursor generated code walks over a stored state
//! ([`StoredFields`]), the by-name view an upgrade function receives ([`OldFields`]), and
//! the rule for a field the record lacks. What does not: tracing shapes (`shape/trace.rs`),
//! the per-database registry that numbers schemas (`db/schemas.rs`).

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::fields::decode_field;
use super::reference::take_pending_error;
use super::shape::{convert, trace, value, Shape, Value};
use crate::error::{Error, Result};

/// What the state of a derived type holds: its persistent fields in stored order, each with
/// its name and shape, and the type's version. Stored once per database and named by a
/// small number in each record.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Schema {
    /// The stored type name.
    pub type_name: String,
    /// The version the type declares (`#[persistent(version = N)]`, 1 by default).
    pub version: u32,
    /// The persistent fields, in the order the state holds them.
    pub fields: Vec<FieldSchema>,
}

/// One stored field.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FieldSchema {
    /// The field's name.
    pub name: String,
    /// What its stored value looks like.
    pub shape: Shape,
}

impl Schema {
    /// A schema of `type_name` at `version` with `fields` (name and shape, in stored order).
    #[must_use]
    pub fn new(type_name: &str, version: u32, fields: Vec<(String, Shape)>) -> Schema {
        Schema {
            type_name: type_name.to_string(),
            version,
            fields: fields.into_iter().map(|(name, shape)| FieldSchema { name, shape }).collect(),
        }
    }

    fn field(&self, name: &str) -> Option<&FieldSchema> {
        self.fields.iter().find(|field| field.name == name)
    }

    /// Reads a state written under this schema without its Rust type: each field's name and
    /// [`Value`], in stored order, up to the first field whose shape holds an opaque one
    /// (only its own Rust type knows how long its bytes are), whose bytes and every later
    /// byte are returned unread. For tools that show records (the `persistent`
    /// command-line tool); a program reads its own records through its types.
    ///
    /// # Errors
    /// `Error::Decode` naming the type and field when the bytes do not match the schema, or
    /// when bytes are left after the last field.
    pub fn read_fields(&self, state: &[u8]) -> Result<ReadFields> {
        let mut input = state;
        let mut fields = Vec::with_capacity(self.fields.len());
        for field in &self.fields {
            if field.shape.has_opaque() {
                let unread = UnreadFields {
                    field: field.name.clone(),
                    shape: field.shape.clone(),
                    bytes: input.to_vec(),
                };
                return Ok(ReadFields { fields, unread: Some(unread) });
            }
            fields
                .push((field.name.clone(), read_field_value(&self.type_name, field, &mut input)?));
        }
        super::fields::finish_decode(&self.type_name, input)?;
        Ok(ReadFields { fields, unread: None })
    }
}

/// A state read by [`Schema::read_fields`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ReadFields {
    /// The fields read, by name, in stored order.
    pub fields: Vec<(String, Value)>,
    /// What could not be read, from the first field of an opaque shape on (`None`: every
    /// field was read).
    pub unread: Option<UnreadFields>,
}

/// The bytes of a state from its first field of an opaque shape on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnreadFields {
    /// The name of the first field not read.
    pub field: String,
    /// Its shape (holding an opaque one).
    pub shape: Shape,
    /// Its bytes and those of every later field.
    pub bytes: Vec<u8>,
}

/// Reads the value of stored field `field` of `type_name` from the front of `input`.
fn read_field_value(type_name: &str, field: &FieldSchema, input: &mut &[u8]) -> Result<Value> {
    value::read(&field.shape, input).map_err(|message| Error::Decode {
        type_name: type_name.to_string(),
        message: format!("field {:?}: {message}", field.name),
    })
}

/// The shape of a field of type `F`, traced once per type (generated code calls it).
#[doc(hidden)]
#[must_use]
pub fn shape_of<F: DeserializeOwned + 'static>() -> Shape {
    trace::trace::<F>()
}

/// A state written under `stored`, read by a type whose own schema is `reader`: a cursor over
/// the stored fields in their stored order. Generated code matches each field's name against
/// the reader's fields (and their aliases) and decodes or skips it.
pub struct StoredFields<'a> {
    stored: &'a Schema,
    reader: &'a Schema,
    input: &'a [u8],
    next: usize,
}

impl<'a> StoredFields<'a> {
    /// A cursor over `state`, written under `stored`, for a reader whose schema is `reader`.
    #[must_use]
    pub fn new(stored: &'a Schema, reader: &'a Schema, state: &'a [u8]) -> StoredFields<'a> {
        StoredFields { stored, reader, input: state, next: 0 }
    }

    /// The version of the type that wrote the state.
    #[must_use]
    pub fn version(&self) -> u32 {
        self.stored.version
    }

    /// The next stored field, or `None` after the last (when every byte must be used).
    ///
    /// # Errors
    /// `Error::Decode` when bytes are left after the last field.
    pub fn next_field(&mut self) -> Result<Option<StoredField<'_, 'a>>> {
        if self.next == self.stored.fields.len() {
            return super::fields::finish_decode(&self.reader.type_name, self.input).map(|()| None);
        }
        self.next += 1;
        Ok(Some(StoredField { fields: self }))
    }

    /// Every stored field read into a [`Value`], for an upgrade function.
    ///
    /// # Errors
    /// `Error::SchemaMismatch` for a field whose stored shape cannot be read without its Rust
    /// type (an opaque shape); `Error::Decode` for bytes that do not match the stored schema.
    pub fn into_old_fields(mut self) -> Result<OldFields> {
        let mut fields = Vec::with_capacity(self.stored.fields.len());
        while let Some(field) = self.next_field()? {
            let name = field.name().to_string();
            let value = field.read_value()?;
            fields.push((name, value));
        }
        Ok(OldFields {
            type_name: self.reader.type_name.clone(),
            version: self.stored.version,
            fields,
        })
    }
}

/// One stored field under the cursor: decode it into the reader's field, or skip it.
pub struct StoredField<'c, 'a> {
    fields: &'c mut StoredFields<'a>,
}

impl StoredField<'_, '_> {
    fn schema(&self) -> &FieldSchema {
        &self.fields.stored.fields[self.fields.next - 1]
    }

    /// The stored field's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.schema().name
    }

    /// Decodes the field as the reader's field `reader_field` of type `F`: directly when the
    /// stored shape is the reader's (the same bytes), else through its [`Value`] by name, with
    /// exact conversions only.
    ///
    /// # Errors
    /// `Error::SchemaMismatch` naming the type, the field and both shapes when the stored
    /// value does not convert; `Error::Decode` for bytes that do not match the stored schema.
    pub fn decode<F: DeserializeOwned + 'static>(self, reader_field: &str) -> Result<F> {
        let reader = self.fields.reader;
        let type_name = reader.type_name.as_str();
        let same = reader.field(reader_field).is_some_and(|mine| mine.shape == self.schema().shape);
        if same {
            return decode_field::<F>(type_name, &mut self.fields.input);
        }
        let expected = reader.field(reader_field).map(|mine| mine.shape.to_string());
        let stored = self.schema().shape.to_string();
        let field = self.name().to_string();
        let value = self.read_value()?;
        convert::from_value::<F>(&value).map_err(|message| {
            take_pending_error().unwrap_or_else(|| Error::SchemaMismatch {
                type_name: type_name.to_string(),
                field,
                stored,
                expected: expected.unwrap_or_else(|| std::any::type_name::<F>().to_string()),
                message,
            })
        })
    }

    /// Skips a stored field the reader no longer has (an opaque one only if it is the last).
    ///
    /// # Errors
    /// As [`StoredFields::into_old_fields`].
    pub fn skip(self) -> Result<()> {
        let is_last = self.fields.next == self.fields.stored.fields.len();
        if is_last && self.schema().shape.has_opaque() {
            // The last field's bytes are the rest of the state, whatever its shape.
            self.fields.input = &[];
            return Ok(());
        }
        self.read_value().map(drop)
    }

    fn read_value(self) -> Result<Value> {
        let schema = &self.fields.stored.fields[self.fields.next - 1];
        let type_name = self.fields.reader.type_name.as_str();
        if schema.shape.has_opaque() {
            return Err(Error::SchemaMismatch {
                type_name: type_name.to_string(),
                field: schema.name.clone(),
                stored: schema.shape.to_string(),
                expected: "a field of the same Rust type".to_string(),
                message: "a value of an opaque shape can only be read by its own Rust type"
                    .to_string(),
            });
        }
        read_field_value(type_name, schema, &mut self.fields.input)
    }
}

/// The fields of a record written by an older version of a type, by name: what an upgrade
/// function (`#[persistent(version = N, upgrade = "path")]`) receives.
#[derive(Clone, Debug, PartialEq)]
pub struct OldFields {
    type_name: String,
    version: u32,
    fields: Vec<(String, Value)>,
}

impl OldFields {
    /// The version of the type that wrote the record.
    #[must_use]
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The stored field names, in stored order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(name, _)| name.as_str())
    }

    /// The stored value of field `name`, if the record has one.
    #[must_use]
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(field, _)| field == name).map(|(_, value)| value)
    }

    /// The stored field `name` as a `F` (structs by field name, exact number conversions).
    ///
    /// # Errors
    /// `Error::MissingField` if the record has no such field; `Error::SchemaMismatch` if its
    /// value does not convert to `F`.
    pub fn get<F: DeserializeOwned>(&self, name: &str) -> Result<F> {
        let value = self.value(name).ok_or_else(|| Error::MissingField {
            type_name: self.type_name.clone(),
            field: name.to_string(),
        })?;
        convert::from_value::<F>(value).map_err(|message| {
            take_pending_error().unwrap_or_else(|| Error::SchemaMismatch {
                type_name: self.type_name.clone(),
                field: name.to_string(),
                stored: format!("{value:?}"),
                expected: std::any::type_name::<F>().to_string(),
                message,
            })
        })
    }

    /// The stored field `name` as a `F`, or `F::default()` when the record has none.
    ///
    /// # Errors
    /// As [`get`](Self::get), except that a missing field is not one.
    pub fn get_or_default<F: DeserializeOwned + Default>(&self, name: &str) -> Result<F> {
        if self.value(name).is_some() {
            self.get(name)
        } else {
            Ok(F::default())
        }
    }
}

/// The value of a field the stored record lacks: its type's `Default` when it has one, else
/// `Error::MissingField` (chosen at compile time for the field's concrete type, by method
/// resolution: `MissingByDefault` applies to `Missing<F>` when `F: Default`, and
/// `MissingIsError` to `&Missing<F>` always).
#[doc(hidden)]
pub struct Missing<F>(PhantomData<F>);

impl<F> Missing<F> {
    #[must_use]
    pub const fn new() -> Missing<F> {
        Missing(PhantomData)
    }
}

impl<F> Default for Missing<F> {
    fn default() -> Self {
        Missing::new()
    }
}

#[doc(hidden)]
pub trait MissingByDefault<F> {
    /// `F::default()`.
    ///
    /// # Errors
    /// Never.
    fn missing_field(&self, type_name: &str, field: &str) -> Result<F>;
}

impl<F: Default> MissingByDefault<F> for Missing<F> {
    fn missing_field(&self, _type_name: &str, _field: &str) -> Result<F> {
        Ok(F::default())
    }
}

#[doc(hidden)]
pub trait MissingIsError<F> {
    /// `Error::MissingField`.
    ///
    /// # Errors
    /// Always.
    fn missing_field(&self, type_name: &str, field: &str) -> Result<F>;
}

impl<F> MissingIsError<F> for &Missing<F> {
    fn missing_field(&self, type_name: &str, field: &str) -> Result<F> {
        Err(Error::MissingField { type_name: type_name.to_string(), field: field.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::encode_field;

    fn state(name: &str, count: u32, target: u64, tail: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_field("t", name, &mut out).unwrap();
        encode_field("t", &count, &mut out).unwrap();
        encode_field("t", &target, &mut out).unwrap();
        out.extend_from_slice(tail);
        out
    }

    #[test]
    fn read_fields_names_every_value() {
        let schema = Schema::new(
            "app::Note",
            1,
            vec![
                ("name".into(), Shape::Str),
                ("count".into(), Shape::UInt(32)),
                ("next".into(), Shape::Reference),
            ],
        );
        let read = schema.read_fields(&state("x", 7, 12, &[])).unwrap();
        assert_eq!(
            read.fields,
            [
                ("name".to_string(), Value::Str("x".into())),
                ("count".to_string(), Value::UInt(7)),
                ("next".to_string(), Value::Reference(12)),
            ]
        );
        assert_eq!(read.unread, None);
        // Trailing bytes and truncated bytes are errors, not values.
        assert!(matches!(schema.read_fields(&state("x", 7, 12, &[0])), Err(Error::Decode { .. })));
        assert!(matches!(schema.read_fields(&[3, b'a']), Err(Error::Decode { .. })));
    }

    #[test]
    fn read_fields_stops_at_an_opaque_field() {
        let schema = Schema::new(
            "app::Note",
            1,
            vec![
                ("name".into(), Shape::Str),
                ("when".into(), Shape::Opaque("chrono::DateTime".into())),
                ("count".into(), Shape::UInt(32)),
            ],
        );
        let bytes = state("x", 7, 12, &[]);
        let read = schema.read_fields(&bytes).unwrap();
        assert_eq!(read.fields, [("name".to_string(), Value::Str("x".into()))]);
        let unread = read.unread.unwrap();
        assert_eq!(unread.field, "when");
        assert_eq!(unread.bytes, bytes[2..]);
    }
}
