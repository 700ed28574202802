//! `PersistentBTreeSet`: a sorted set stored as a B-tree, a `PersistentBTreeMap` of keys
//! to `()` (the reference's `OOTreeSet`). What does not live here: the tree itself.

use std::ops::RangeBounds;

use persistent_core::Result;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::node::{Key, Sizes};
use super::PersistentBTreeMap;

/// A sorted set of keys stored as a B-tree of persistent buckets: for large sets. Methods
/// read like `std::collections::BTreeSet`'s and return `Result`.
pub struct PersistentBTreeSet<K: Key>(PersistentBTreeMap<K, ()>);

impl<K: Key> PersistentBTreeSet<K> {
    /// A new empty unsaved set with the default sizes.
    #[must_use]
    pub fn new() -> Self {
        PersistentBTreeSet(PersistentBTreeMap::new())
    }

    /// A new empty unsaved set with the given sizes.
    #[must_use]
    pub fn with_sizes(sizes: Sizes) -> Self {
        PersistentBTreeSet(PersistentBTreeMap::with_sizes(sizes))
    }

    /// The tree behind the set.
    #[must_use]
    pub fn as_map(&self) -> &PersistentBTreeMap<K, ()> {
        &self.0
    }

    /// Adds `key`; whether it was absent.
    ///
    /// # Errors
    /// As [`PersistentBTreeMap::insert`].
    pub fn insert(&self, key: K) -> Result<bool> {
        Ok(self.0.insert(key, ())?.is_none())
    }

    /// Removes `key`; whether it was present.
    ///
    /// # Errors
    /// As [`PersistentBTreeMap::remove`].
    pub fn remove(&self, key: &K) -> Result<bool> {
        Ok(self.0.remove(key)?.is_some())
    }

    /// Whether `key` is in the set.
    ///
    /// # Errors
    /// As [`PersistentBTreeMap::contains_key`].
    pub fn contains(&self, key: &K) -> Result<bool> {
        self.0.contains_key(key)
    }

    /// The keys within `bounds`, in order, loading buckets as the iterator advances.
    ///
    /// # Errors
    /// As [`PersistentBTreeMap::range`].
    pub fn range(&self, bounds: impl RangeBounds<K>) -> Result<impl Iterator<Item = Result<K>>> {
        Ok(self.0.range(bounds)?.map(|entry| entry.map(|(key, ())| key)))
    }

    /// Every key, in order.
    ///
    /// # Errors
    /// As [`PersistentBTreeMap::range`].
    #[allow(
        clippy::iter_not_returning_iterator,
        reason = "reaching the first bucket can fail; the iterator follows"
    )]
    pub fn iter(&self) -> Result<impl Iterator<Item = Result<K>>> {
        self.range(..)
    }

    /// The smallest key.
    ///
    /// # Errors
    /// As [`PersistentBTreeMap::first`].
    pub fn first(&self) -> Result<Option<K>> {
        Ok(self.0.first()?.map(|(key, ())| key))
    }

    /// The largest key.
    ///
    /// # Errors
    /// As [`PersistentBTreeMap::last`].
    pub fn last(&self) -> Result<Option<K>> {
        Ok(self.0.last()?.map(|(key, ())| key))
    }

    /// Removes and returns the smallest key.
    ///
    /// # Errors
    /// As [`PersistentBTreeMap::pop_first`].
    pub fn pop_first(&self) -> Result<Option<K>> {
        Ok(self.0.pop_first()?.map(|(key, ())| key))
    }

    /// Removes and returns the largest key.
    ///
    /// # Errors
    /// As [`PersistentBTreeMap::pop_last`].
    pub fn pop_last(&self) -> Result<Option<K>> {
        Ok(self.0.pop_last()?.map(|(key, ())| key))
    }

    /// The number of keys (walks every bucket).
    ///
    /// # Errors
    /// As [`PersistentBTreeMap::len`].
    pub fn len(&self) -> Result<usize> {
        self.0.len()
    }

    /// Whether the set is empty.
    ///
    /// # Errors
    /// As [`PersistentBTreeMap::is_empty`].
    pub fn is_empty(&self) -> Result<bool> {
        self.0.is_empty()
    }

    /// Adds every key.
    ///
    /// # Errors
    /// The first failing insert.
    pub fn extend(&self, keys: impl IntoIterator<Item = K>) -> Result<()> {
        self.0.extend(keys.into_iter().map(|key| (key, ())))
    }
}

/// A getter of a set field returns another handle to the same set.
impl<K: Key> persistent_core::SharedHandle for PersistentBTreeSet<K> {
    fn share(&self) -> Self {
        PersistentBTreeSet(self.0.share())
    }
}

impl<K: Key> Default for PersistentBTreeSet<K> {
    fn default() -> Self {
        Self::new()
    }
}

/// A new unsaved set of the keys, built in bulk.
impl<K: Key> FromIterator<K> for PersistentBTreeSet<K> {
    fn from_iter<I: IntoIterator<Item = K>>(keys: I) -> Self {
        PersistentBTreeSet(keys.into_iter().map(|key| (key, ())).collect())
    }
}

/// Stored as a persistent reference to the tree.
impl<K: Key> Serialize for PersistentBTreeSet<K> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, K: Key> Deserialize<'de> for PersistentBTreeSet<K> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        PersistentBTreeMap::deserialize(deserializer).map(PersistentBTreeSet)
    }
}

impl<K: Key> std::fmt::Debug for PersistentBTreeSet<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PersistentBTreeSet({:?})", self.0)
    }
}
