//! The std traits of `PersistentMapping`: construction (`From`, `FromIterator`),
//! content clone and content equality. What does not live here: `Default` and `Debug`
//! (shared with the list, in `crate::handle`).

use std::collections::BTreeMap;

use persistent_core::P;

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

/// A NEW unsaved mapping (no jar, no oid) with clones of the entries; the original is not
/// marked. To share identity, clone the handle (`map.handle().clone()`) instead.
///
/// # Panics
/// If the mapping is a ghost that cannot load; use [`PersistentMapping::try_clone`] to get
/// the error instead.
impl<K: Element + Ord + Clone, V: Element + Clone> Clone for PersistentMapping<K, V> {
    fn clone(&self) -> Self {
        match self.try_clone() {
            Ok(copy) => copy,
            Err(error) => panic!("cannot clone {:?}: {error}", self.object()),
        }
    }
}

/// Content equality. The same object always equals itself; otherwise both are read (loading
/// ghosts), and a mapping that cannot be read compares unequal.
impl<K: Element + Ord, V: Element + PartialEq> PartialEq for PersistentMapping<K, V> {
    fn eq(&self, other: &Self) -> bool {
        if P::ptr_eq(self.handle(), other.handle()) {
            return true;
        }
        match (self.read(), other.read()) {
            (Ok(a), Ok(b)) => *a == *b,
            _ => false,
        }
    }
}

/// Content equality with a plain `BTreeMap`; a mapping that cannot be read compares unequal.
impl<K: Element + Ord, V: Element + PartialEq> PartialEq<BTreeMap<K, V>>
    for PersistentMapping<K, V>
{
    fn eq(&self, other: &BTreeMap<K, V>) -> bool {
        self.inspect(|entries| entries == other).unwrap_or(false)
    }
}

/// Content equality, plain `BTreeMap` on the left.
impl<K: Element + Ord, V: Element + PartialEq> PartialEq<PersistentMapping<K, V>>
    for BTreeMap<K, V>
{
    fn eq(&self, other: &PersistentMapping<K, V>) -> bool {
        *other == *self
    }
}
