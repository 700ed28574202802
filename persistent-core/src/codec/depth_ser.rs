//! The nesting limit for encoding, so that everything stored can be loaded again. Decoding
//! refuses a value nested deeper than `MAX_DEPTH` (`depth.rs`); without the same check
//! here, such a value would encode, commit, and then never load. So every state is encoded
//! through `Counting`, a `Serializer` adapter around postcard's that counts levels exactly
//! as `depth.rs` does, with the same `Depth`:
//!
//! * the content of a `Some`, a newtype struct or a newtype variant, the elements of a
//!   sequence or tuple (or tuple struct), the fields of a struct, and the keys and values
//!   of a map are one level below the value holding them;
//! * an enum is a level of its own for decoding (its content is one level below it), and a
//!   tuple or struct variant's content is a sequence there, one more level: so a unit
//!   variant needs one level more than its own, a newtype variant's content is one level
//!   below the enum, and a tuple or struct variant's fields two;
//! * a `None`, a unit, a unit struct and the primitives (numbers, strings, bytes) hold
//!   nothing nested and pass straight to postcard, uncounted.
//!
//! A value that would nest a level beyond `MAX_DEPTH` fails before anything below it is
//! written, so encoding a deep value does not recurse deeper than the limit either. The
//! wrappers are generic and inlined: counting costs one comparison per compound value.
//!
//! Both sides count the calls a type makes to serde, so they agree for every type whose
//! `Serialize` and `Deserialize` describe the same shape (all derived impls, the standard
//! library's, anything postcard can round-trip through its own data model). A hand-written
//! pair that serializes a newtype but deserializes its content bare would be one level off.

use std::cell::Cell;
use std::fmt::Display;

use serde::ser::{
    self, Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant,
    SerializeTuple, SerializeTupleStruct, SerializeTupleVariant, Serializer,
};

use super::depth::{too_deep_message, Depth};

/// `value` (a field, or a whole value), to serialize with the nesting limit: a part nested
/// beyond `MAX_DEPTH` fails with a custom error (which postcard reports without its message)
/// and raises `tripped`.
#[inline]
pub(crate) fn limited<'a, T: Serialize + ?Sized>(
    value: &'a T,
    tripped: &'a Cell<bool>,
) -> impl Serialize + 'a {
    Nested { value, depth: Depth::top(tripped) }
}

/// The level of the values nested in the one at `depth`, or the limit's error.
#[inline]
fn nested<E: ser::Error>(depth: Depth<'_>) -> Result<Depth<'_>, E> {
    depth.deeper().ok_or_else(|| E::custom(too_deep_message()))
}

/// A value serialized through `Counting` at `depth`.
struct Nested<'a, T: ?Sized> {
    value: &'a T,
    depth: Depth<'a>,
}

impl<T: Serialize + ?Sized> Serialize for Nested<'_, T> {
    #[inline]
    fn serialize<S: Serializer>(&self, inner: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(Counting { inner, depth: self.depth })
    }
}

/// A serializer that hands the values nested in its own to `inner` one level deeper.
struct Counting<'a, S> {
    inner: S,
    depth: Depth<'a>,
}

/// A sequence, tuple, map or struct being serialized: its parts go one level deeper.
struct Compound<'a, C> {
    inner: C,
    /// The level of the parts.
    depth: Depth<'a>,
}

/// Generates `Serializer` methods that pass a leaf value straight to the inner serializer.
macro_rules! forward_leaf {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            #[inline]
            fn $method(self, $($arg: $ty),*) -> Result<Self::Ok, Self::Error> {
                self.inner.$method($($arg),*)
            }
        )*
    };
}

impl<'a, S: Serializer> Serializer for Counting<'a, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<'a, S::SerializeSeq>;
    type SerializeTuple = Compound<'a, S::SerializeTuple>;
    type SerializeTupleStruct = Compound<'a, S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<'a, S::SerializeTupleVariant>;
    type SerializeMap = Compound<'a, S::SerializeMap>;
    type SerializeStruct = Compound<'a, S::SerializeStruct>;
    type SerializeStructVariant = Compound<'a, S::SerializeStructVariant>;

    forward_leaf! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_i128(v: i128);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_u128(v: u128);
        serialize_f32(v: f32);
        serialize_f64(v: f64);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_bytes(v: &[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(name: &'static str);
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        let depth = nested(self.depth)?;
        self.inner.serialize_some(&Nested { value, depth })
    }

    /// Decoding counts the enum as a level even when its variant holds nothing.
    #[inline]
    fn serialize_unit_variant(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        nested::<S::Error>(self.depth)?;
        self.inner.serialize_unit_variant(name, variant_index, variant)
    }

    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let depth = nested(self.depth)?;
        self.inner.serialize_newtype_struct(name, &Nested { value, depth })
    }

    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let depth = nested(self.depth)?;
        self.inner.serialize_newtype_variant(name, variant_index, variant, &Nested { value, depth })
    }

    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        let depth = nested(self.depth)?;
        Ok(Compound { inner: self.inner.serialize_seq(len)?, depth })
    }

    #[inline]
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        let depth = nested(self.depth)?;
        Ok(Compound { inner: self.inner.serialize_tuple(len)?, depth })
    }

    #[inline]
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        let depth = nested(self.depth)?;
        Ok(Compound { inner: self.inner.serialize_tuple_struct(name, len)?, depth })
    }

    /// Two levels: the enum's, then the sequence of fields decoding reads.
    #[inline]
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        let depth = nested(nested(self.depth)?)?;
        let inner = self.inner.serialize_tuple_variant(name, variant_index, variant, len)?;
        Ok(Compound { inner, depth })
    }

    #[inline]
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        let depth = nested(self.depth)?;
        Ok(Compound { inner: self.inner.serialize_map(len)?, depth })
    }

    #[inline]
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        let depth = nested(self.depth)?;
        Ok(Compound { inner: self.inner.serialize_struct(name, len)?, depth })
    }

    /// Two levels, as for a tuple variant.
    #[inline]
    fn serialize_struct_variant(
        self,
        name: &'static str,
        variant_index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        let depth = nested(nested(self.depth)?)?;
        let inner = self.inner.serialize_struct_variant(name, variant_index, variant, len)?;
        Ok(Compound { inner, depth })
    }

    /// A string written from its `Display`: a leaf, written by postcard's own method.
    #[inline]
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.inner.collect_str(value)
    }

    #[inline]
    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

impl<C: SerializeSeq> SerializeSeq for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.inner.serialize_element(&Nested { value, depth: self.depth })
    }

    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: SerializeTuple> SerializeTuple for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.inner.serialize_element(&Nested { value, depth: self.depth })
    }

    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: SerializeTupleStruct> SerializeTupleStruct for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.inner.serialize_field(&Nested { value, depth: self.depth })
    }

    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: SerializeTupleVariant> SerializeTupleVariant for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.inner.serialize_field(&Nested { value, depth: self.depth })
    }

    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: SerializeMap> SerializeMap for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        self.inner.serialize_key(&Nested { value: key, depth: self.depth })
    }

    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        self.inner.serialize_value(&Nested { value, depth: self.depth })
    }

    #[inline]
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), C::Error> {
        self.inner.serialize_entry(
            &Nested { value: key, depth: self.depth },
            &Nested { value, depth: self.depth },
        )
    }

    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: SerializeStruct> SerializeStruct for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        self.inner.serialize_field(key, &Nested { value, depth: self.depth })
    }

    #[inline]
    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        self.inner.skip_field(key)
    }

    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: SerializeStructVariant> SerializeStructVariant for Compound<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        self.inner.serialize_field(key, &Nested { value, depth: self.depth })
    }

    #[inline]
    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        self.inner.skip_field(key)
    }

    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}
