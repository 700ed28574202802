//! `MapState<K, V>`: the state of a `PersistentMapping`, its content for the shared handle
//! (`CollectionState`), and how it is stored (the whole `BTreeMap` as one postcard value, in
//! key order, so equal contents give equal bytes). What does not live here: the mapping's
//! methods.

use std::collections::BTreeMap;
use std::ops::Deref;

use persistent_core::codec::{decode_value, encode_field};
use persistent_core::{interned_type_name, PObject, Persistent, Result};

use crate::element::Element;
use crate::handle::CollectionState;

/// The state behind a `PersistentMapping<K, V>` handle: the entries. It dereferences to
/// `BTreeMap<K, V>` for reading only; change it through the mapping's methods, which mark
/// the mapping changed.
#[derive(Debug, Default)]
pub struct MapState<K, V>(BTreeMap<K, V>);

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
/// identical bytes. The stored type name names the key and value types
/// (`persistent::PersistentMapping<String, i64>`); records written under the older name
/// without them still load.
impl<K: Element + Ord, V: Element> Persistent for MapState<K, V> {
    type Object = PObject<MapState<K, V>>;
    const TYPE_NAME: &'static str = "persistent_collections::PersistentMapping";

    fn stored_type_name() -> &'static str {
        interned_type_name::<Self>(|| {
            format!(
                "persistent::PersistentMapping<{}, {}>",
                crate::element::element_name::<K>(),
                crate::element::element_name::<V>()
            )
        })
    }

    fn reads_type_name(name: &str) -> bool {
        name == Self::stored_type_name() || name == Self::TYPE_NAME
    }

    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        encode_field(Self::TYPE_NAME, &self.0, out)
    }

    /// Reads the entries as a sequence of pairs (the same bytes as the map: a length, then
    /// key and value after one another) and builds the tree in bulk from them: the stored
    /// keys are in order, so this is linear, where inserting them one by one searches the
    /// tree for each. A repeated key keeps its last value, as inserting would.
    fn decode_state(bytes: &[u8]) -> Result<Self> {
        decode_value::<Vec<(K, V)>>(Self::TYPE_NAME, bytes)
            .map(|entries| MapState(entries.into_iter().collect()))
    }
}

/// The content of a mapping is its `BTreeMap<K, V>`.
impl<K: Element + Ord, V: Element> CollectionState for MapState<K, V> {
    type Content = BTreeMap<K, V>;

    fn content(&self) -> &BTreeMap<K, V> {
        &self.0
    }

    fn content_mut(&mut self) -> &mut BTreeMap<K, V> {
        &mut self.0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use persistent_core::codec::encode_value;
    use persistent_core::Persistent;

    use super::MapState;

    #[test]
    fn a_map_and_its_pairs_are_the_same_bytes() {
        let map: BTreeMap<u64, String> = (0..300).map(|n| (n, format!("v{n}"))).collect();
        let pairs: Vec<(u64, String)> = map.clone().into_iter().collect();
        let bytes = encode_value("t", &map).unwrap();
        assert_eq!(bytes, encode_value("t", &pairs).unwrap());
        assert_eq!(MapState::<u64, String>::decode_state(&bytes).unwrap().0, map);
    }

    #[test]
    fn unordered_and_repeated_keys_decode_as_inserts_would() {
        let bytes = encode_value("t", &vec![(2u8, 1u8), (1, 1), (2, 7), (0, 5)]).unwrap();
        let decoded = MapState::<u8, u8>::decode_state(&bytes).unwrap().0;
        assert_eq!(decoded, BTreeMap::from([(0, 5), (1, 1), (2, 7)]));
    }
}
