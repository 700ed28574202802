//! A nesting limit for decoding. Serde decodes a nested value by recursion, one group of
//! stack frames per level, so a hostile or corrupt record that nests (say) an
//! `Option<Box<Self>>` hundreds of thousands of times deep would overflow the thread's
//! stack and abort the process. Every state is therefore decoded through `Limited`, a
//! `Deserializer` adapter around postcard's that counts how deep the value being decoded
//! is: a value handing out nested values (`Some`, a newtype, a sequence or tuple or struct,
//! a map, an enum variant's content) makes them one level deeper, and a level beyond
//! `MAX_DEPTH` is refused with an error instead of a recursion. The depth is carried by
//! value from each level to the next; the only shared state is a flag that tells the field
//! codec that a failure was the limit (postcard drops the message of a custom error).
//! Encoding counts with the same `Depth` (`depth_ser.rs`), so a value too deep to decode is
//! refused before it is stored.
//!
//! # The limit
//!
//! `MAX_DEPTH` is 256 levels. A struct's fields are one level below the struct, the value
//! in a `Some` or a newtype one level below it, the elements of a sequence or map one level
//! below it, an enum variant's content one level below the enum. So a self-referencing
//! `struct Chain { next: Option<Box<Chain>>, .. }` field holds 128 links, and a JSON-like
//! tree of enum values and containers 128 containers deep (`serde_json`'s default limit is
//! 128 such levels): far more than any sensible state. Larger structures belong in separate
//! persistent objects, which are decoded one at a time.
//!
//! Measured on a thread with a 2 MiB stack (a spawned thread's default), with this adapter
//! and no limit, decoding overflowed at (in links of the `Chain` above; in containers of a
//! tree enum of six variants whose `Seq(Vec<Tree>)` was nested):
//!
//! | build                  | `Chain` links | tree containers | stack per level |
//! |------------------------|---------------|-----------------|-----------------|
//! | unoptimised (dev)      | 1,410         | 865             | 0.7 to 1.2 KiB  |
//! | `opt-level = 1` (tests)| 8,700         | 4,200           | 120 to 250 B    |
//! | release                | 13,000        | 5,440           | 80 to 190 B     |
//!
//! (Without the adapter, postcard alone reached 1.8 to 2.5 times as many `Chain` links
//! and 1.2 to 1.8 times as many tree containers: the adapter's frames cost stack too.) The
//! worst case, the unoptimised tree, takes 1.2 KiB a level; 256 levels of it are about
//! 310 KiB, 15% of a 2 MiB stack, which leaves the rest to the caller (a load runs inside
//! the application's own call stack) and to types with larger frames.

use std::cell::Cell;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// How deep an encoded or decoded value may nest: a field of a state is level 0, its own
/// fields, elements, `Some` or newtype content, map entries or enum variant content level 1,
/// and so on. A stored state nesting deeper is `Error::Decode` ("nesting limit ...
/// exceeded") instead of a stack overflow, and a state nesting deeper is refused when it is
/// encoded (`Error::Encode`, the same message), so it is never stored: whatever encodes
/// decodes. 256 levels (a recursive `Option<Box<Self>>` field holds 128 links) take at most
/// about 310 KiB of stack in the unoptimised builds measured, 15% of a spawned thread's
/// 2 MiB.
pub const MAX_DEPTH: usize = 256;

/// Why a limited decode failed.
pub(crate) enum Failure {
    /// The value nests deeper than `MAX_DEPTH`.
    TooDeep,
    /// Postcard's own error (bad bytes, or a custom error such as a failed reference).
    Postcard(postcard::Error),
}

/// The message of the error for a value nested too deeply.
pub(crate) fn too_deep_message() -> String {
    format!("values nest deeper than the nesting limit of {MAX_DEPTH} levels (limit exceeded)")
}

/// Decodes one `T` from the front of `bytes` with the nesting limit; returns it and the
/// bytes after it.
pub(crate) fn take_from_bytes<'de, T: de::Deserialize<'de>>(
    bytes: &'de [u8],
) -> Result<(T, &'de [u8]), Failure> {
    let tripped = Cell::new(false);
    let mut deserializer = postcard::Deserializer::from_bytes(bytes);
    let limited = Limited { inner: &mut deserializer, depth: Depth::top(&tripped) };
    match T::deserialize(limited) {
        Ok(value) => match deserializer.finalize() {
            Ok(rest) => Ok((value, rest)),
            Err(error) => Err(Failure::Postcard(error)),
        },
        Err(_) if tripped.get() => Err(Failure::TooDeep),
        Err(error) => Err(Failure::Postcard(error)),
    }
}

/// The level of the value at hand, and the flag to raise when the limit is hit. Encoding
/// (`depth_ser.rs`) counts with the same type, so both sides agree on every level.
#[derive(Clone, Copy)]
pub(super) struct Depth<'a> {
    level: usize,
    tripped: &'a Cell<bool>,
}

impl<'a> Depth<'a> {
    /// Level 0, the level of a field (or of a whole value), raising `tripped` at the limit.
    #[inline]
    pub(super) fn top(tripped: &'a Cell<bool>) -> Depth<'a> {
        Depth { level: 0, tripped }
    }

    /// The level of the values nested in this one, or `None` (with the flag raised) if
    /// they would lie beyond `MAX_DEPTH`.
    #[inline]
    pub(super) fn deeper(self) -> Option<Depth<'a>> {
        if self.level >= MAX_DEPTH {
            self.tripped.set(true);
            None
        } else {
            Some(Depth { level: self.level + 1, tripped: self.tripped })
        }
    }

    /// The level of the values nested in this one, or the limit's error.
    #[inline]
    fn nested<E: de::Error>(self) -> Result<Depth<'a>, E> {
        self.deeper().ok_or_else(|| E::custom(too_deep_message()))
    }
}

/// A deserializer that hands its visitor's nested values out with the limit.
struct Limited<'a, D> {
    inner: D,
    depth: Depth<'a>,
}

/// A visitor that wraps what it is given to visit nested values (one level deeper).
struct Counted<'a, V> {
    visitor: V,
    depth: Depth<'a>,
}

/// A seed that deserializes its value through `Limited`.
struct Seed<'a, S> {
    seed: S,
    depth: Depth<'a>,
}

/// Access to the parts of a compound value, each deserialized through `Limited` at
/// `depth`: the elements of a sequence, the keys and values of a map, or an enum's variant
/// content (one type, implementing each access trait for the matching inner access).
struct Nested<'a, A> {
    access: A,
    depth: Depth<'a>,
}

/// Generates `Deserializer` methods that pass a counted visitor to the inner deserializer.
macro_rules! forward_deserialize {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            #[inline]
            fn $method<V: Visitor<'de>>(
                self,
                $($arg: $ty,)*
                visitor: V,
            ) -> Result<V::Value, Self::Error> {
                self.inner.$method($($arg,)* Counted { visitor, depth: self.depth })
            }
        )*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Limited<'_, D> {
    type Error = D::Error;

    forward_deserialize! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }

    #[inline]
    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

/// Generates `Visitor` methods that pass a leaf value straight to the wrapped visitor.
macro_rules! forward_visit {
    ($($method:ident($ty:ty);)*) => {
        $(
            #[inline]
            fn $method<E: de::Error>(self, value: $ty) -> Result<Self::Value, E> {
                self.visitor.$method(value)
            }
        )*
    };
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Counted<'_, V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(formatter)
    }

    forward_visit! {
        visit_bool(bool);
        visit_i8(i8);
        visit_i16(i16);
        visit_i32(i32);
        visit_i64(i64);
        visit_i128(i128);
        visit_u8(u8);
        visit_u16(u16);
        visit_u32(u32);
        visit_u64(u64);
        visit_u128(u128);
        visit_f32(f32);
        visit_f64(f64);
        visit_char(char);
        visit_str(&str);
        visit_borrowed_str(&'de str);
        visit_string(String);
        visit_bytes(&[u8]);
        visit_borrowed_bytes(&'de [u8]);
        visit_byte_buf(Vec<u8>);
    }

    #[inline]
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_none()
    }

    #[inline]
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.visitor.visit_unit()
    }

    #[inline]
    fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
        let depth = self.depth.nested()?;
        self.visitor.visit_some(Limited { inner, depth })
    }

    #[inline]
    fn visit_newtype_struct<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
        let depth = self.depth.nested()?;
        self.visitor.visit_newtype_struct(Limited { inner, depth })
    }

    #[inline]
    fn visit_seq<A: SeqAccess<'de>>(self, access: A) -> Result<Self::Value, A::Error> {
        let depth = self.depth.nested()?;
        self.visitor.visit_seq(Nested { access, depth })
    }

    #[inline]
    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<Self::Value, A::Error> {
        let depth = self.depth.nested()?;
        self.visitor.visit_map(Nested { access, depth })
    }

    #[inline]
    fn visit_enum<A: EnumAccess<'de>>(self, access: A) -> Result<Self::Value, A::Error> {
        let depth = self.depth.nested()?;
        self.visitor.visit_enum(Nested { access, depth })
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Seed<'_, S> {
    type Value = S::Value;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, inner: D) -> Result<Self::Value, D::Error> {
        self.seed.deserialize(Limited { inner, depth: self.depth })
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Nested<'_, A> {
    type Error = A::Error;

    #[inline]
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.access.next_element_seed(Seed { seed, depth: self.depth })
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        self.access.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Nested<'_, A> {
    type Error = A::Error;

    #[inline]
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        self.access.next_key_seed(Seed { seed, depth: self.depth })
    }

    #[inline]
    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        self.access.next_value_seed(Seed { seed, depth: self.depth })
    }

    #[inline]
    fn size_hint(&self) -> Option<usize> {
        self.access.size_hint()
    }
}

/// The variant tag is a plain identifier and is decoded as it is; the variant's content
/// goes through `Limited`.
impl<'a, 'de, A: EnumAccess<'de>> EnumAccess<'de> for Nested<'a, A> {
    type Error = A::Error;
    type Variant = Nested<'a, A::Variant>;

    #[inline]
    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, Self::Variant), Self::Error> {
        let (tag, access) = self.access.variant_seed(seed)?;
        Ok((tag, Nested { access, depth: self.depth }))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Nested<'_, A> {
    type Error = A::Error;

    #[inline]
    fn unit_variant(self) -> Result<(), Self::Error> {
        self.access.unit_variant()
    }

    #[inline]
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        self.access.newtype_variant_seed(Seed { seed, depth: self.depth })
    }

    #[inline]
    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.access.tuple_variant(len, Counted { visitor, depth: self.depth })
    }

    #[inline]
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.access.struct_variant(fields, Counted { visitor, depth: self.depth })
    }
}
