//! `PersistentMapping<K, V>`: the handle type, its construction and its identity as a
//! persistent object (handle access, erasure, serde as a reference). Reads are in `read`,
//! writes in `write`, the std traits in `traits`, the stored state in `state`.

mod read;
mod state;
mod traits;
mod write;

use std::collections::BTreeMap;
use std::ops::Deref;

use persistent_core::{ObjectRef, PObject, P};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::element::Element;

pub use read::MapRef;
pub use state::MapState;

/// A persistent `BTreeMap<K, V>`: a persistent object with its own oid and record that marks
/// itself changed when its content changes (docs/spec.md §4, mapping table).
///
/// * Order: iteration is in key order, and two mappings with the same content encode to
///   identical bytes whatever the order of insertion (the record is the `BTreeMap`).
/// * Reads: [`read`](Self::read) gives a guard that dereferences to `BTreeMap<K, V>`; reads
///   never mark the mapping changed.
/// * Writes: methods named as in `BTreeMap` (`insert`, `remove`, `retain`, ...), each
///   returning a `persistent_core::Result`; they mark the mapping changed (registering it
///   once with its data manager) exactly when the table says so, and an operation that fails
///   marks nothing.
/// * Identity: the mapping is a handle. [`handle`](Self::handle) gives the `P` handle, whose
///   `clone()` shares identity; `PersistentMapping::clone()` makes a new unsaved mapping with
///   a copy of the content. The `p_*` protocol is reached through `Deref` to the handle.
/// * As a field of another persistent object, or an element of a collection, it is stored as
///   a reference (its oid), like any `P<T>`.
pub struct PersistentMapping<K: Element + Ord, V: Element>(P<MapState<K, V>>);

impl<K: Element + Ord, V: Element> PersistentMapping<K, V> {
    /// A new empty unsaved mapping (no jar, no oid).
    pub fn new() -> Self {
        Self::from_map(BTreeMap::new())
    }

    /// A new unsaved mapping holding `entries`.
    pub fn from_map(entries: BTreeMap<K, V>) -> Self {
        PersistentMapping(P::new(MapState::from(entries)))
    }

    /// The mapping for an existing handle (for example a ghost a data manager made with
    /// `P::uninitialized()`); the mapping and the handle are the same object.
    pub fn from_handle(handle: P<MapState<K, V>>) -> Self {
        PersistentMapping(handle)
    }

    /// Another handle to this same mapping (identity shared, nothing copied). `clone()`, by
    /// contrast, makes a new unsaved copy.
    pub fn share(&self) -> Self {
        Self::from_handle(self.0.clone())
    }

    /// The handle of this mapping; cloning it shares identity.
    pub fn handle(&self) -> &P<MapState<K, V>> {
        &self.0
    }

    /// The handle of this mapping, consuming the mapping.
    pub fn into_handle(self) -> P<MapState<K, V>> {
        self.0
    }

    /// A type-erased handle to the same object, for a cache or a data manager.
    pub fn erase(&self) -> ObjectRef {
        self.0.erase()
    }

    fn object(&self) -> &PObject<MapState<K, V>> {
        self.0.as_object()
    }

    /// Reads the content through `f` (loads a ghost and touches; never marks).
    fn inspect<R>(&self, f: impl FnOnce(&BTreeMap<K, V>) -> R) -> persistent_core::Result<R> {
        self.object().with(|state| f(state.entries()))
    }

    /// Changes the content through `f`, marking the mapping changed first: `PObject::update`,
    /// core's single write path (refuses under a live read guard and marks nothing if
    /// loading or registering fails).
    #[inline]
    fn change<R>(&self, f: impl FnOnce(&mut BTreeMap<K, V>) -> R) -> persistent_core::Result<R> {
        self.object().update(|state| f(state.entries_mut()))
    }
}

/// The persistence protocol (`p_oid`, `p_state`, `p_set_jar`, ...) is the handle's.
impl<K: Element + Ord, V: Element> Deref for PersistentMapping<K, V> {
    type Target = P<MapState<K, V>>;

    fn deref(&self) -> &P<MapState<K, V>> {
        &self.0
    }
}

/// Stored as a persistent reference (the oid), through the thread's reference context.
impl<K: Element + Ord, V: Element> Serialize for PersistentMapping<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// A stored reference comes back as the known object or a ghost, without a storage read.
impl<'de, K: Element + Ord, V: Element> Deserialize<'de> for PersistentMapping<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        P::deserialize(deserializer).map(PersistentMapping)
    }
}

/// The type-erased handle of the same object.
impl<K: Element + Ord, V: Element> From<PersistentMapping<K, V>> for ObjectRef {
    fn from(mapping: PersistentMapping<K, V>) -> ObjectRef {
        mapping.0.into()
    }
}

/// The type-erased handle of the same object.
impl<K: Element + Ord, V: Element> From<&PersistentMapping<K, V>> for ObjectRef {
    fn from(mapping: &PersistentMapping<K, V>) -> ObjectRef {
        mapping.0.erase()
    }
}

/// A mapping field's generated getter returns the same mapping (`share`), not a copy.
impl<K: Element + Ord, V: Element> persistent_core::SharedField for PersistentMapping<K, V> {
    fn share(&self) -> Self {
        PersistentMapping::share(self)
    }
}
