//! `MapState<K, V>`: the state of a `PersistentMapping`, and how it is stored (the whole
//! `BTreeMap` as one postcard value, in key order, so equal contents give equal bytes).

use std::collections::BTreeMap;
use std::ops::Deref;

use persistent_core::codec::fields::{decode_value, encode_field};
use persistent_core::{PObject, Persistent, Result};

use crate::element::Element;

/// The state behind a `PersistentMapping<K, V>` handle: the entries. It dereferences to
/// `BTreeMap<K, V>` for reading only; change it through the mapping's methods, which mark
/// the mapping changed.
#[derive(Debug, Default)]
pub struct MapState<K, V>(BTreeMap<K, V>);

impl<K, V> MapState<K, V> {
    pub(crate) fn entries(&self) -> &BTreeMap<K, V> {
        &self.0
    }

    pub(crate) fn entries_mut(&mut self) -> &mut BTreeMap<K, V> {
        &mut self.0
    }
}

/// A state holding `entries`, for building a handle by hand.
impl<K, V> From<BTreeMap<K, V>> for MapState<K, V> {
    fn from(entries: BTreeMap<K, V>) -> Self {
        MapState(entries)
    }
}

/// Read-only view of the entries.
impl<K, V> Deref for MapState<K, V> {
    type Target = BTreeMap<K, V>;

    fn deref(&self) -> &BTreeMap<K, V> {
        &self.0
    }
}

/// The record is the `BTreeMap` as one value, entries in key order: identical content gives
/// identical bytes. The type name does not depend on `K` or `V`.
impl<K: Element + Ord, V: Element> Persistent for MapState<K, V> {
    type Object = PObject<MapState<K, V>>;
    const TYPE_NAME: &'static str = "persistent_collections::PersistentMapping";

    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        encode_field(Self::TYPE_NAME, &self.0, out)
    }

    fn decode_state(bytes: &[u8]) -> Result<Self> {
        decode_value(Self::TYPE_NAME, bytes).map(MapState)
    }
}
