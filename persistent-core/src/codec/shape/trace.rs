//! Finding the [`Shape`] of a type by driving its `Deserialize` impl with a deserializer
//! that records what is asked of it. What does not live here: comparing shapes
//! (`schema.rs`) and reading bytes by shape (`value.rs`).
//!
//! # How
//!
//! One *run* deserializes one sample value: numbers 0, `false`, `'a'`, empty strings and
//! byte strings (and when a visitor rejects one, the next sample set: 1, `true`, and strings
//! such as a date, a UUID or an address that common types parse), one element per sequence and one entry per map,
//! `Some` for every option, and for a persistent reference the oid 0 (or 1), which a tracing
//! reference context turns into a detached handle. A run takes one variant per enum, so
//! runs are repeated until every enum met has had each of its variants deserialized.
//!
//! A struct, tuple struct, newtype struct or enum is recorded once per Rust type (its serde
//! name and the type name of its visitor, which carries the generic parameters) in a
//! registry kept across runs; where one is used, the shape being built holds a reference to
//! it (internally a `Shape::Recursive` of its registry id). A type met again inside itself
//! is a recursion: that occurrence is deserialized as small as possible and not recorded
//! (options `None`, sequences and maps empty, enums a unit variant or one without nested
//! types if known), and a variant that nests too deep there is avoided in the next run.
//! Otherwise an enum takes a variant not yet seen first, then one whose content leads to an
//! enum with a variant not yet seen, then the smallest. The result inlines the registry from
//! the root, with [`Shape::Recursive`] naming the type where a type contains itself.
//!
//! A type is [`Shape::Opaque`] when its impl asks for a self-describing format
//! (`deserialize_any`, `deserialize_identifier`, `deserialize_ignored_any`), rejects the
//! samples, deserializes differently from one run to the next, nests too deep outside a
//! recursion, or does not converge.

use std::any::{type_name, TypeId};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::rc::Rc;
use std::sync::{Mutex, OnceLock, PoisonError};

use serde::de::value::U32Deserializer;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, MapAccess, SeqAccess, VariantAccess,
    Visitor,
};

use super::{Shape, Variant, REFERENCE};
use crate::any_object::ObjectRef;
use crate::codec::reference::{with_context, ReferenceContext};
use crate::error::Error;
use crate::oid::Oid;

/// Runs after which a type whose enums are still not all explored is opaque.
const MAX_RUNS: usize = 500;

/// Levels of nesting (options, sequences, struct fields, variant contents, ...) beyond which
/// a run fails: far more than any type's own structure has, so in practice only reached
/// inside a recursion, by a variant that contains its enum.
const MAX_LEVELS: usize = 64;

/// The shape of `F`, or [`Shape::Opaque`] naming `F` when its `Deserialize` impl cannot be
/// traced. Traces are made once per type and kept.
pub(crate) fn trace<F: DeserializeOwned + 'static>() -> Shape {
    static CACHE: OnceLock<Mutex<HashMap<TypeId, Shape>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let lock = || cache.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(shape) = lock().get(&TypeId::of::<F>()) {
        return shape.clone();
    }
    let shape = trace_uncached::<F>();
    lock().entry(TypeId::of::<F>()).or_insert(shape).clone()
}

/// [`trace`] without the cache.
pub(crate) fn trace_uncached<F: DeserializeOwned>() -> Shape {
    with_context(Rc::new(Detached), || Tracer::default().run::<F>())
        .unwrap_or_else(|| Shape::Opaque(type_name::<F>().to_string()))
}

/// The reference context while tracing: every oid is unknown, and its ghost is taken in by
/// nobody (the handle is dropped with the sample value).
struct Detached;

impl ReferenceContext for Detached {
    fn encode_reference(&self, _obj: &ObjectRef) -> crate::Result<Oid> {
        Err(Error::NoCodecContext)
    }

    fn lookup(&self, _oid: Oid) -> Option<ObjectRef> {
        None
    }

    fn adopt_ghost(&self, _oid: Oid, _obj: &ObjectRef) -> crate::Result<()> {
        Ok(())
    }
}

#[derive(Debug)]
struct TraceError(String);

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TraceError {}

impl de::Error for TraceError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        TraceError(msg.to_string())
    }
}

type Result<T> = std::result::Result<T, TraceError>;

/// Why a run failed.
enum Failure {
    /// A visitor refused a sample value.
    Rejected,
    /// Too deep, inside a recursion if a variant was picked there (the innermost such).
    TooDeep(Option<(String, usize)>),
    /// Nothing to retry.
    Untraceable,
}

/// What the registry holds for one type.
enum Entry {
    /// A struct, tuple struct or newtype struct.
    Done(Shape),
    /// An enum: each variant's content once deserialized, and whether it nested too deep
    /// inside a recursion.
    Enum {
        name: &'static str,
        variants: &'static [&'static str],
        content: Vec<Option<Variant>>,
        deep: Vec<bool>,
    },
}

/// What one type's deserialization found.
enum Found {
    Shape(Shape),
    Variant(usize, Variant),
}

#[derive(Default)]
struct Tracer {
    /// Types by id, kept across runs.
    entries: HashMap<String, Entry>,
    /// Which sample set a run feeds: 0 is the first (numbers 0, `false`, empty strings);
    /// after a rejection the next ones feed 1, `true`, and strings and byte strings that
    /// common parsing types accept ([`STRINGS`], [`BYTES`]).
    sample: usize,
    /// The shapes found at each open level of the current run.
    frames: Vec<Vec<Shape>>,
    /// The ids of the types being recorded.
    stack: Vec<String>,
    /// Inside a recursion: nothing is recorded.
    cut: bool,
    /// The variants picked inside a recursion, innermost last.
    picked: Vec<(String, usize)>,
    /// The content of the variant just deserialized.
    content: Option<Variant>,
    failure: Option<Failure>,
}

impl Tracer {
    fn run<F: DeserializeOwned>(mut self) -> Option<Shape> {
        for _ in 0..MAX_RUNS {
            self.frames = vec![Vec::new()];
            self.stack.clear();
            self.cut = false;
            self.picked.clear();
            self.failure = None;
            let ok = F::deserialize(&mut self).is_ok();
            match self.failure.take() {
                None if ok => {}
                None | Some(Failure::Rejected) if self.sample + 1 < STRINGS.len() => {
                    self.sample += 1;
                }
                Some(Failure::TooDeep(Some((id, index)))) => {
                    if let Some(Entry::Enum { deep, .. }) = self.entries.get_mut(&id) {
                        deep[index] = true;
                    }
                }
                _ => return None,
            }
            let explored = |entry: &Entry| match entry {
                Entry::Done(_) => true,
                Entry::Enum { content, .. } => content.iter().all(Option::is_some),
            };
            if ok && self.entries.values().all(explored) {
                let root = one(self.frames.pop()?)?;
                return self.inline(&root, &mut Vec::new());
            }
        }
        None
    }

    fn fail<T>(&mut self, failure: Failure, message: &str) -> Result<T> {
        self.failure.get_or_insert(failure);
        Err(de::Error::custom(message))
    }

    /// Adds `shape` to the level being built (unless inside a recursion).
    fn record(&mut self, shape: Shape) {
        if let (false, Some(frame)) = (self.cut, self.frames.last_mut()) {
            frame.push(shape);
        }
    }

    /// Records a container built from its content, `None` if the content did not fit.
    fn built(&mut self, shape: Option<Shape>) -> Result<()> {
        match shape {
            _ if self.cut => Ok(()),
            Some(shape) => {
                self.record(shape);
                Ok(())
            }
            None => self.fail(Failure::Untraceable, "unexpected content"),
        }
    }

    /// Runs `visit` one level deeper; returns what it produced and the shapes found there.
    fn nest<T>(&mut self, visit: impl FnOnce(&mut Self) -> Result<T>) -> Result<(T, Vec<Shape>)> {
        if self.frames.len() > MAX_LEVELS {
            let culprit = self.picked.last().cloned();
            return self.fail(Failure::TooDeep(culprit), "too deep");
        }
        self.frames.push(Vec::new());
        let value = visit(self);
        let shapes = self.frames.pop().unwrap_or_default();
        if value.is_err() {
            // Noted here too, so that a visitor that swallows the error cannot hide it.
            self.failure.get_or_insert(Failure::Rejected);
        }
        Ok((value?, shapes))
    }

    /// Deserializes the type `id` with `visit`, recording what it finds once per type, and
    /// records a reference to it in its place.
    fn named<T>(
        &mut self,
        id: String,
        visit: impl FnOnce(&mut Self) -> Result<(T, Option<Found>)>,
    ) -> Result<T> {
        if self.cut {
            return visit(self).map(|(value, _)| value);
        }
        let recursion = self.stack.contains(&id);
        if recursion {
            self.cut = true;
        } else {
            self.stack.push(id.clone());
        }
        let (value, found) = visit(self)?;
        if recursion {
            self.cut = false;
        } else {
            self.stack.pop();
            let stored = match (found, self.entries.get_mut(&id)) {
                (Some(Found::Shape(shape)), None) => {
                    self.entries.insert(id.clone(), Entry::Done(shape));
                    true
                }
                (Some(Found::Shape(shape)), Some(Entry::Done(known))) => shape == *known,
                (Some(Found::Variant(index, variant)), Some(Entry::Enum { content, .. })) => {
                    *content[index].get_or_insert_with(|| variant.clone()) == variant
                }
                _ => false,
            };
            if !stored {
                return self.fail(Failure::Untraceable, "inconsistent deserialization");
            }
        }
        self.record(Shape::Recursive(id));
        Ok(value)
    }

    /// The variant to deserialize of the enum `id`.
    fn pick(&self, id: &str) -> Option<usize> {
        let Some(Entry::Enum { content, deep, .. }) = self.entries.get(id) else {
            return None;
        };
        let size = |index: usize| match &content[index] {
            Some(Variant::Unit) => 0,
            Some(variant) if variant_refs(variant).is_empty() => 1,
            _ => 2,
        };
        let smallest = (0..content.len())
            .filter(|&index| !(self.cut && deep[index]))
            .min_by_key(|&index| (size(index), index));
        if self.cut {
            return smallest;
        }
        content
            .iter()
            .position(Option::is_none)
            .or_else(|| content.iter().position(|c| c.as_ref().is_some_and(|v| self.leads_on(v))))
            .or(smallest)
    }

    /// Whether `variant`'s content leads to an enum with a variant not yet deserialized
    /// (not counting the types being deserialized, which are met again only in recursion).
    fn leads_on(&self, variant: &Variant) -> bool {
        let mut todo = variant_refs(variant);
        let mut seen = HashSet::new();
        while let Some(id) = todo.pop() {
            if !seen.insert(id) || self.stack.iter().any(|open| open == id) {
                continue;
            }
            match self.entries.get(id) {
                None => {}
                Some(Entry::Done(shape)) => refs(shape, &mut todo),
                Some(Entry::Enum { content, .. }) => {
                    for variant in content {
                        let Some(variant) = variant else { return true };
                        todo.extend(variant_refs(variant));
                    }
                }
            }
        }
        false
    }

    /// `shape` with every reference to a type replaced by the type's shape, or by
    /// [`Shape::Recursive`] inside itself. `open`: the types being inlined.
    fn inline<'a>(&'a self, shape: &'a Shape, open: &mut Vec<&'a str>) -> Option<Shape> {
        Some(match shape {
            Shape::Recursive(id) => return self.inline_type(id, open),
            Shape::Option(inner) => Shape::Option(Box::new(self.inline(inner, open)?)),
            Shape::Seq(inner) => Shape::Seq(Box::new(self.inline(inner, open)?)),
            Shape::Map(key, value) => {
                Shape::Map(Box::new(self.inline(key, open)?), Box::new(self.inline(value, open)?))
            }
            Shape::Tuple(items) => Shape::Tuple(self.inline_all(items, open)?),
            Shape::TupleStruct { name, fields } => {
                Shape::TupleStruct { name: name.clone(), fields: self.inline_all(fields, open)? }
            }
            Shape::Struct { name, fields } => {
                Shape::Struct { name: name.clone(), fields: self.inline_named(fields, open)? }
            }
            Shape::Newtype { name, inner } => {
                Shape::Newtype { name: name.clone(), inner: Box::new(self.inline(inner, open)?) }
            }
            leaf => leaf.clone(),
        })
    }

    fn inline_all<'a>(&'a self, items: &'a [Shape], open: &mut Vec<&'a str>) -> Option<Vec<Shape>> {
        items.iter().map(|item| self.inline(item, open)).collect()
    }

    fn inline_named<'a>(
        &'a self,
        fields: &'a [(String, Shape)],
        open: &mut Vec<&'a str>,
    ) -> Option<Vec<(String, Shape)>> {
        fields.iter().map(|(name, shape)| Some((name.clone(), self.inline(shape, open)?))).collect()
    }

    /// The serde name of the type `id`.
    fn name(&self, id: &str) -> Option<&str> {
        match self.entries.get(id)? {
            Entry::Done(
                Shape::Struct { name, .. }
                | Shape::TupleStruct { name, .. }
                | Shape::Newtype { name, .. },
            ) => Some(name),
            Entry::Enum { name, .. } => Some(name),
            Entry::Done(_) => None,
        }
    }

    fn inline_type<'a>(&'a self, id: &'a str, open: &mut Vec<&'a str>) -> Option<Shape> {
        if let Some(at) = open.iter().rposition(|&outer| outer == id) {
            // `Recursive(name)` means the nearest enclosing type of that name.
            let name = self.name(id)?;
            let nearest = open[at + 1..].iter().all(|&inner| self.name(inner) != Some(name));
            return nearest.then(|| Shape::Recursive(name.to_string()));
        }
        open.push(id);
        let shape = match self.entries.get(id)? {
            Entry::Done(shape) => self.inline(shape, open)?,
            Entry::Enum { name, variants, content, .. } => {
                let mut inlined = Vec::with_capacity(variants.len());
                for (variant, content) in variants.iter().zip(content) {
                    let content = match content.as_ref()? {
                        Variant::Unit => Variant::Unit,
                        Variant::Newtype(inner) => Variant::Newtype(self.inline(inner, open)?),
                        Variant::Tuple(items) => Variant::Tuple(self.inline_all(items, open)?),
                        Variant::Struct(fields) => {
                            Variant::Struct(self.inline_named(fields, open)?)
                        }
                    };
                    inlined.push(((*variant).to_string(), content));
                }
                Shape::Enum { name: (*name).to_string(), variants: inlined }
            }
        };
        open.pop();
        Some(shape)
    }
}

/// The registry id of the type named `name` whose visitor is a `V`.
fn id<V>(name: &str) -> String {
    format!("{name} {}", type_name::<V>())
}

fn one(mut shapes: Vec<Shape>) -> Option<Shape> {
    (shapes.len() == 1).then(|| shapes.pop()).flatten()
}

fn named_fields(names: &[&str], shapes: Vec<Shape>) -> Option<Vec<(String, Shape)>> {
    (names.len() == shapes.len())
        .then(|| names.iter().map(ToString::to_string).zip(shapes).collect())
}

/// The registry ids `shape` refers to (not through other types).
fn refs<'a>(shape: &'a Shape, out: &mut Vec<&'a str>) {
    match shape {
        Shape::Recursive(id) => out.push(id),
        Shape::Option(inner) | Shape::Seq(inner) | Shape::Newtype { inner, .. } => refs(inner, out),
        Shape::Map(key, value) => {
            refs(key, out);
            refs(value, out);
        }
        Shape::Tuple(items) | Shape::TupleStruct { fields: items, .. } => {
            for item in items {
                refs(item, out);
            }
        }
        Shape::Struct { fields, .. } => {
            for (_, shape) in fields {
                refs(shape, out);
            }
        }
        _ => {}
    }
}

fn variant_refs(variant: &Variant) -> Vec<&str> {
    let mut out = Vec::new();
    match variant {
        Variant::Unit => {}
        Variant::Newtype(inner) => refs(inner, &mut out),
        Variant::Tuple(items) => items.iter().for_each(|item| refs(item, &mut out)),
        Variant::Struct(fields) => fields.iter().for_each(|(_, shape)| refs(shape, &mut out)),
    }
    out
}

/// Hands out `left` more elements (or map entries).
struct Items<'a> {
    tracer: &'a mut Tracer,
    left: usize,
}

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = TraceError;

    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(&mut *self.tracer).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

impl<'de> MapAccess<'de> for Items<'_> {
    type Error = TraceError;

    fn next_key_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        seed.deserialize(&mut *self.tracer).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value> {
        self.left = self.left.saturating_sub(1);
        seed.deserialize(&mut *self.tracer)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// The variant `index` of an enum.
struct Picked<'a> {
    tracer: &'a mut Tracer,
    index: usize,
}

impl<'de> EnumAccess<'de> for Picked<'_> {
    type Error = TraceError;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self)> {
        let index = u32::try_from(self.index).map_err(de::Error::custom)?;
        Ok((seed.deserialize(U32Deserializer::new(index))?, self))
    }
}

impl<'de> VariantAccess<'de> for Picked<'_> {
    type Error = TraceError;

    fn unit_variant(self) -> Result<()> {
        self.tracer.content = Some(Variant::Unit);
        Ok(())
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value> {
        let (value, shapes) = self.tracer.nest(|t| seed.deserialize(t))?;
        self.tracer.content = one(shapes).map(Variant::Newtype);
        Ok(value)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        let (value, shapes) =
            self.tracer.nest(|tracer| visitor.visit_seq(Items { tracer, left: len }))?;
        self.tracer.content = (shapes.len() == len).then_some(Variant::Tuple(shapes));
        Ok(value)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let left = fields.len();
        let (value, shapes) =
            self.tracer.nest(|tracer| visitor.visit_seq(Items { tracer, left }))?;
        self.tracer.content = named_fields(fields, shapes).map(Variant::Struct);
        Ok(value)
    }
}

/// The strings fed to `deserialize_str`, one per sample set: empty, then forms that common
/// types parse from a string (a number, a date and time, a UUID, an address, a path).
const STRINGS: [&str; 6] =
    ["", "1", "1970-01-01T00:00:00Z", "00000000-0000-0000-0000-000000000000", "127.0.0.1:1", "/"];

/// The byte strings fed to `deserialize_bytes`, one per sample set (16 bytes: a UUID).
const BYTES: [&[u8]; 6] = [&[], &[0], &[0; 16], &[0; 16], &[0; 4], &[0; 8]];

/// Deserializer methods of values without parts: `$sample` is fed, with `$set` the sample
/// set's number.
macro_rules! leaves {
    ($($method:ident: $shape:expr => |$set:ident| $visit:ident($sample:expr);)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            self.record($shape);
            let $set = self.sample;
            visitor.$visit($sample)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &mut Tracer {
    type Error = TraceError;

    leaves! {
        deserialize_bool: Shape::Bool => |set| visit_bool(set > 0);
        deserialize_i8: Shape::Int(8) => |set| visit_i8((set > 0).into());
        deserialize_i16: Shape::Int(16) => |set| visit_i16((set > 0).into());
        deserialize_i32: Shape::Int(32) => |set| visit_i32((set > 0).into());
        deserialize_i64: Shape::Int(64) => |set| visit_i64((set > 0).into());
        deserialize_i128: Shape::Int(128) => |set| visit_i128((set > 0).into());
        deserialize_u8: Shape::UInt(8) => |set| visit_u8((set > 0).into());
        deserialize_u16: Shape::UInt(16) => |set| visit_u16((set > 0).into());
        deserialize_u32: Shape::UInt(32) => |set| visit_u32((set > 0).into());
        deserialize_u64: Shape::UInt(64) => |set| visit_u64((set > 0).into());
        deserialize_u128: Shape::UInt(128) => |set| visit_u128((set > 0).into());
        deserialize_f32: Shape::F32 => |set| visit_f32(u8::from(set > 0).into());
        deserialize_f64: Shape::F64 => |set| visit_f64(u8::from(set > 0).into());
        deserialize_char: Shape::Char => |_set| visit_char('a');
        deserialize_str: Shape::Str => |set| visit_str(STRINGS[set]);
        deserialize_string: Shape::Str => |set| visit_string(STRINGS[set].to_string());
        deserialize_bytes: Shape::Bytes => |set| visit_bytes(BYTES[set]);
        deserialize_byte_buf: Shape::Bytes => |set| visit_byte_buf(BYTES[set].to_vec());
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.record(Shape::Unit);
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.record(Shape::UnitStruct { name: name.to_string() });
        visitor.visit_unit()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.cut {
            return visitor.visit_none();
        }
        let (value, shapes) = self.nest(|tracer| visitor.visit_some(tracer))?;
        self.built(one(shapes).map(|inner| Shape::Option(Box::new(inner))))?;
        Ok(value)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let left = usize::from(!self.cut);
        let (value, shapes) = self.nest(|tracer| visitor.visit_seq(Items { tracer, left }))?;
        self.built(one(shapes).map(|element| Shape::Seq(Box::new(element))))?;
        Ok(value)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let left = usize::from(!self.cut);
        let (value, shapes) = self.nest(|tracer| visitor.visit_map(Items { tracer, left }))?;
        let entry = <[Shape; 2]>::try_from(shapes).ok();
        self.built(entry.map(|[key, value]| Shape::Map(Box::new(key), Box::new(value))))?;
        Ok(value)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        let (value, shapes) = self.nest(|tracer| visitor.visit_seq(Items { tracer, left: len }))?;
        self.built((shapes.len() == len).then_some(Shape::Tuple(shapes)))?;
        Ok(value)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == REFERENCE {
            let (value, _oid) = self.nest(|tracer| visitor.visit_newtype_struct(tracer))?;
            self.record(Shape::Reference);
            return Ok(value);
        }
        self.named(id::<V>(name), |tracer| {
            let (value, shapes) = tracer.nest(|tracer| visitor.visit_newtype_struct(tracer))?;
            let inner = one(shapes).map(Box::new);
            Ok((
                value,
                inner.map(|inner| Found::Shape(Shape::Newtype { name: name.into(), inner })),
            ))
        })
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.named(id::<V>(name), |tracer| {
            let (value, fields) =
                tracer.nest(|tracer| visitor.visit_seq(Items { tracer, left: len }))?;
            let fit = fields.len() == len;
            Ok((value, fit.then(|| Found::Shape(Shape::TupleStruct { name: name.into(), fields }))))
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        self.named(id::<V>(name), |tracer| {
            let left = fields.len();
            let (value, shapes) =
                tracer.nest(|tracer| visitor.visit_seq(Items { tracer, left }))?;
            let fields = named_fields(fields, shapes);
            Ok((
                value,
                fields.map(|fields| Found::Shape(Shape::Struct { name: name.into(), fields })),
            ))
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let id = id::<V>(name);
        let entry = self.entries.entry(id.clone()).or_insert_with(|| Entry::Enum {
            name,
            variants,
            content: vec![None; variants.len()],
            deep: vec![false; variants.len()],
        });
        if !matches!(entry, Entry::Enum { variants: known, .. } if *known == variants) {
            return self.fail(Failure::Untraceable, "inconsistent enum");
        }
        self.named(id.clone(), |tracer| {
            let Some(index) = tracer.pick(&id) else {
                return tracer.fail(Failure::Untraceable, "no variant ends");
            };
            let cut = tracer.cut;
            if cut {
                tracer.picked.push((id, index));
            }
            let value = visitor.visit_enum(Picked { tracer: &mut *tracer, index })?;
            if cut {
                tracer.picked.pop();
            }
            Ok((value, tracer.content.take().map(|content| Found::Variant(index, content))))
        })
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        self.fail(Failure::Untraceable, "deserialize_any is not traceable")
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        self.fail(Failure::Untraceable, "deserialize_identifier is not traceable")
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value> {
        self.fail(Failure::Untraceable, "deserialize_ignored_any is not traceable")
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashMap};

    use serde::de::{Deserializer, Visitor};
    use serde::Deserialize;

    use super::{trace, trace_uncached};
    use crate::codec::shape::{Shape, Variant};

    fn seq(element: Shape) -> Shape {
        Shape::Seq(Box::new(element))
    }

    fn opt(inner: Shape) -> Shape {
        Shape::Option(Box::new(inner))
    }

    fn fields(list: &[(&str, Shape)]) -> Vec<(String, Shape)> {
        list.iter().map(|(name, shape)| ((*name).to_string(), shape.clone())).collect()
    }

    fn strukt(name: &str, list: &[(&str, Shape)]) -> Shape {
        Shape::Struct { name: name.into(), fields: fields(list) }
    }

    fn enumm(name: &str, variants: &[(&str, Variant)]) -> Shape {
        let variants = variants.iter().map(|(n, v)| ((*n).to_string(), v.clone())).collect();
        Shape::Enum { name: name.into(), variants }
    }

    #[test]
    fn primitives_have_their_widths() {
        assert_eq!(trace::<bool>(), Shape::Bool);
        assert_eq!(trace::<i8>(), Shape::Int(8));
        assert_eq!(trace::<i16>(), Shape::Int(16));
        assert_eq!(trace::<i32>(), Shape::Int(32));
        assert_eq!(trace::<i64>(), Shape::Int(64));
        assert_eq!(trace::<i128>(), Shape::Int(128));
        assert_eq!(trace::<u8>(), Shape::UInt(8));
        assert_eq!(trace::<u16>(), Shape::UInt(16));
        assert_eq!(trace::<u32>(), Shape::UInt(32));
        assert_eq!(trace::<u64>(), Shape::UInt(64));
        assert_eq!(trace::<u128>(), Shape::UInt(128));
        assert_eq!(trace::<f32>(), Shape::F32);
        assert_eq!(trace::<f64>(), Shape::F64);
        assert_eq!(trace::<char>(), Shape::Char);
        assert_eq!(trace::<()>(), Shape::Unit);
        assert_eq!(trace::<String>(), Shape::Str);
    }

    #[test]
    fn std_containers() {
        assert_eq!(trace::<Vec<u8>>(), seq(Shape::UInt(8)));
        assert_eq!(trace::<Option<u32>>(), opt(Shape::UInt(32)));
        assert_eq!(
            trace::<HashMap<String, u64>>(),
            Shape::Map(Box::new(Shape::Str), Box::new(Shape::UInt(64)))
        );
        assert_eq!(trace::<BTreeSet<i16>>(), seq(Shape::Int(16)));
        assert_eq!(trace::<(u8, String)>(), Shape::Tuple(vec![Shape::UInt(8), Shape::Str]));
        assert_eq!(trace::<[u16; 3]>(), Shape::Tuple(vec![Shape::UInt(16); 3]));
        assert_eq!(trace::<Box<i8>>(), Shape::Int(8));
        assert_eq!(
            trace::<std::marker::PhantomData<u8>>(),
            Shape::UnitStruct { name: "PhantomData".into() }
        );
    }

    #[derive(Deserialize, Default)]
    #[allow(dead_code, reason = "only traced")]
    struct Address {
        street: String,
        number: u16,
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    struct Person {
        name: String,
        address: Address,
        tags: Vec<String>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    #[serde(rename = "Person")]
    struct PersonWithDefault {
        name: String,
        #[serde(default)]
        address: Address,
        tags: Vec<String>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    struct Skips {
        a: u8,
        #[serde(skip)]
        b: u16,
        c: bool,
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    struct Meters(f64);

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    struct Point(i32, i32);

    #[test]
    fn structs_list_their_fields_in_order_with_names() {
        let address = strukt("Address", &[("street", Shape::Str), ("number", Shape::UInt(16))]);
        let person = strukt(
            "Person",
            &[("name", Shape::Str), ("address", address), ("tags", seq(Shape::Str))],
        );
        assert_eq!(trace::<Person>(), person);
        assert_eq!(trace::<PersonWithDefault>(), person, "#[serde(default)] changes nothing");
        let skips = strukt("Skips", &[("a", Shape::UInt(8)), ("c", Shape::Bool)]);
        assert_eq!(trace::<Skips>(), skips, "skipped fields are not stored");
        assert_eq!(
            trace::<Meters>(),
            Shape::Newtype { name: "Meters".into(), inner: Box::new(Shape::F64) }
        );
        assert_eq!(
            trace::<Point>(),
            Shape::TupleStruct { name: "Point".into(), fields: vec![Shape::Int(32); 2] }
        );
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    enum Kind {
        A,
        B(u8),
        C(u16, String),
        D { x: i64, y: bool },
    }

    fn kind() -> Shape {
        enumm(
            "Kind",
            &[
                ("A", Variant::Unit),
                ("B", Variant::Newtype(Shape::UInt(8))),
                ("C", Variant::Tuple(vec![Shape::UInt(16), Shape::Str])),
                ("D", Variant::Struct(fields(&[("x", Shape::Int(64)), ("y", Shape::Bool)]))),
            ],
        )
    }

    #[test]
    fn enums_list_all_variants_in_index_order() {
        assert_eq!(trace::<Kind>(), kind());
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    enum Outer {
        Plain,
        Holds(Kind),
        Many { kinds: Vec<Option<Kind>>, last: Inner },
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    enum Inner {
        X,
        Y(Deepest),
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    enum Deepest {
        P,
        Q,
        R(u8),
    }

    #[test]
    fn nested_enums_are_explored_in_every_position() {
        let deepest = enumm(
            "Deepest",
            &[("P", Variant::Unit), ("Q", Variant::Unit), ("R", Variant::Newtype(Shape::UInt(8)))],
        );
        let inner = enumm("Inner", &[("X", Variant::Unit), ("Y", Variant::Newtype(deepest))]);
        let many = fields(&[("kinds", seq(opt(kind()))), ("last", inner)]);
        let outer = enumm(
            "Outer",
            &[
                ("Plain", Variant::Unit),
                ("Holds", Variant::Newtype(kind())),
                ("Many", Variant::Struct(many)),
            ],
        );
        assert_eq!(trace::<Outer>(), outer);
        assert_eq!(trace::<Vec<Option<Kind>>>(), seq(opt(kind())));
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    enum Tree {
        Leaf(u8),
        Node(Vec<Tree>),
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    struct List {
        value: u32,
        next: Option<Box<List>>,
    }

    /// Recursion straight through a box, recursive variant first: its first trace nests
    /// past the depth limit.
    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    enum Expr {
        Neg(Box<Expr>),
        Add(Box<Expr>, Box<Expr>),
        Lit(i32),
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    struct Forest {
        trees: Vec<Tree>,
        list: List,
    }

    #[test]
    fn recursive_types_name_themselves_at_the_recursion() {
        let tree = enumm(
            "Tree",
            &[
                ("Leaf", Variant::Newtype(Shape::UInt(8))),
                ("Node", Variant::Newtype(seq(Shape::Recursive("Tree".into())))),
            ],
        );
        assert_eq!(trace::<Tree>(), tree);
        let list = strukt(
            "List",
            &[("value", Shape::UInt(32)), ("next", opt(Shape::Recursive("List".into())))],
        );
        assert_eq!(trace::<List>(), list);
        let expr = Shape::Recursive("Expr".into());
        let expected = enumm(
            "Expr",
            &[
                ("Neg", Variant::Newtype(expr.clone())),
                ("Add", Variant::Tuple(vec![expr.clone(), expr])),
                ("Lit", Variant::Newtype(Shape::Int(32))),
            ],
        );
        assert_eq!(trace::<Expr>(), expected);
        let forest = strukt("Forest", &[("trees", seq(tree)), ("list", list)]);
        assert_eq!(trace::<Forest>(), forest);
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    struct Wrapper<T> {
        value: T,
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    struct Pairs {
        small: Wrapper<u8>,
        text: Wrapper<String>,
        nested: Wrapper<Wrapper<bool>>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    struct Dir {
        name: String,
        entries: Vec<Node>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    enum Node {
        File(u64),
        Dir(Dir),
    }

    #[test]
    fn mutually_recursive_types_name_the_outer_one() {
        let node = |dir: Shape| {
            enumm(
                "Node",
                &[("File", Variant::Newtype(Shape::UInt(64))), ("Dir", Variant::Newtype(dir))],
            )
        };
        let dir =
            |entries: Shape| strukt("Dir", &[("name", Shape::Str), ("entries", seq(entries))]);
        assert_eq!(trace::<Dir>(), dir(node(Shape::Recursive("Dir".into()))));
        assert_eq!(trace::<Node>(), node(dir(Shape::Recursive("Node".into()))));
    }

    #[test]
    fn generic_types_of_one_name_are_told_apart() {
        let wrapper = |inner: Shape| strukt("Wrapper", &[("value", inner)]);
        let pairs = strukt(
            "Pairs",
            &[
                ("small", wrapper(Shape::UInt(8))),
                ("text", wrapper(Shape::Str)),
                ("nested", wrapper(wrapper(Shape::Bool))),
            ],
        );
        assert_eq!(trace::<Pairs>(), pairs);
    }

    struct Thing;

    impl crate::Persistent for Thing {
        type Object = crate::PObject<Thing>;
        const TYPE_NAME: &'static str = "codec::shape::trace::tests::Thing";

        fn encode_state(&self, _out: &mut Vec<u8>) -> crate::Result<()> {
            Ok(())
        }

        fn decode_state(_bytes: &[u8]) -> crate::Result<Self> {
            Ok(Thing)
        }
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    struct Holder {
        one: crate::P<Thing>,
        maybe: Option<crate::P<Thing>>,
        many: Vec<crate::P<Thing>>,
    }

    #[test]
    fn persistent_references_are_references() {
        assert_eq!(trace::<crate::P<Thing>>(), Shape::Reference);
        assert_eq!(trace::<Option<crate::P<Thing>>>(), opt(Shape::Reference));
        let holder = strukt(
            "Holder",
            &[
                ("one", Shape::Reference),
                ("maybe", opt(Shape::Reference)),
                ("many", seq(Shape::Reference)),
            ],
        );
        assert_eq!(trace::<Holder>(), holder);
    }

    /// Asks for a self-describing format.
    struct Anything;

    impl<'de> Deserialize<'de> for Anything {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct Any;
            impl Visitor<'_> for Any {
                type Value = Anything;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("anything")
                }
            }
            deserializer.deserialize_any(Any)
        }
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    #[serde(untagged)]
    enum Untagged {
        A(u8),
        B(String),
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    struct Flattened {
        id: u8,
        #[serde(flatten)]
        address: Address,
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "only traced")]
    struct HasAnything {
        id: u8,
        any: Anything,
    }

    /// Parses a string that none of the samples is.
    struct Parsed;

    impl<'de> Deserialize<'de> for Parsed {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let text = String::deserialize(deserializer)?;
            (text == "a password").then_some(Parsed).ok_or_else(|| serde::de::Error::custom(text))
        }
    }

    /// Parses a date and time, as date types do from their string form.
    struct Moment;

    impl<'de> Deserialize<'de> for Moment {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let text = String::deserialize(deserializer)?;
            let date = text.len() == 20 && text.ends_with('Z') && text.as_bytes()[10] == b'T';
            date.then_some(Moment).ok_or_else(|| serde::de::Error::custom("not a date"))
        }
    }

    /// Takes exactly 16 bytes, as UUID types do in binary formats.
    struct Id;

    impl<'de> Deserialize<'de> for Id {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            let bytes = serde_bytes_like(deserializer)?;
            (bytes == 16).then_some(Id).ok_or_else(|| serde::de::Error::custom("not 16 bytes"))
        }
    }

    fn serde_bytes_like<'de, D: Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
        struct Length;
        impl serde::de::Visitor<'_> for Length {
            type Value = usize;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<usize, E> {
                Ok(bytes.len())
            }
        }
        deserializer.deserialize_bytes(Length)
    }

    #[test]
    fn types_parsing_common_string_and_byte_forms_trace_as_strings_and_bytes() {
        assert_eq!(trace::<Moment>(), Shape::Str);
        assert_eq!(trace::<Id>(), Shape::Bytes);
        assert_eq!(trace::<Vec<Moment>>(), Shape::Seq(Box::new(Shape::Str)));
    }

    #[test]
    fn untraceable_types_are_opaque_by_type_name() {
        let opaque = |name: &str| Shape::Opaque(name.to_string());
        assert_eq!(trace::<Anything>(), opaque(std::any::type_name::<Anything>()));
        assert_eq!(trace::<Untagged>(), opaque(std::any::type_name::<Untagged>()));
        assert_eq!(trace::<HasAnything>(), opaque(std::any::type_name::<HasAnything>()));
        assert_eq!(trace::<Flattened>(), opaque(std::any::type_name::<Flattened>()));
        assert_eq!(trace::<Parsed>(), opaque(std::any::type_name::<Parsed>()));
        assert_eq!(trace::<Vec<Parsed>>(), opaque(std::any::type_name::<Vec<Parsed>>()));
    }

    #[test]
    fn std_types_trace_as_their_binary_form() {
        use std::net::{IpAddr, Ipv4Addr};
        use std::num::NonZeroU32;
        use std::time::Duration;

        assert_eq!(trace::<Ipv4Addr>(), Shape::Tuple(vec![Shape::UInt(8); 4]));
        let ip = trace::<IpAddr>();
        assert!(
            ip == Shape::Opaque(std::any::type_name::<IpAddr>().into())
                || matches!(&ip, Shape::Enum { name, variants } if name == "IpAddr" && variants.len() == 2),
            "{ip}"
        );
        assert_eq!(trace::<NonZeroU32>(), Shape::UInt(32), "retried with 1");
        let duration = strukt("Duration", &[("secs", Shape::UInt(64)), ("nanos", Shape::UInt(32))]);
        assert_eq!(trace::<Duration>(), duration);
    }

    #[test]
    fn traces_are_cached() {
        assert_eq!(trace::<Kind>(), trace::<Kind>());
        assert_eq!(trace::<Kind>(), trace_uncached::<Kind>());
        let cache_hit = trace::<Tree>();
        assert_eq!(cache_hit, trace::<Tree>());
    }
}
