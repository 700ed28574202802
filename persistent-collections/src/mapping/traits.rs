//! The std traits particular to `PersistentMapping`: construction (`From`, `FromIterator`).
//! What does not live here: `Default` and `Debug` (shared with the list, in `crate::handle`).
//! There is deliberately no `Clone` (copying can fail: `try_clone`) and no content
//! `PartialEq` (reading can fail: compare through the guard, `*map.read()? == m`).

use std::collections::BTreeMap;

use super::PersistentMapping;
use crate::element::Element;

/// A new unsaved mapping holding the map's entries.
impl<K: Element + Ord, V: Element> From<BTreeMap<K, V>> for PersistentMapping<K, V> {
    fn from(entries: BTreeMap<K, V>) -> Self {
        Self::from_map(entries)
    }
}

/// A new unsaved mapping holding the array's entries (a later duplicate key wins).
impl<K: Element + Ord, V: Element, const N: usize> From<[(K, V); N]> for PersistentMapping<K, V> {
    fn from(entries: [(K, V); N]) -> Self {
        Self::from_map(BTreeMap::from(entries))
    }
}

/// A new unsaved mapping holding the iterator's entries (a later duplicate key wins).
impl<K: Element + Ord, V: Element> FromIterator<(K, V)> for PersistentMapping<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self::from_map(iter.into_iter().collect())
    }
}
