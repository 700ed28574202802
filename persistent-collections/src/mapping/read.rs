//! Reading a `PersistentMapping`: the `MapRef` guard (a `BTreeMap` view) and convenience
//! reads. Every read loads a ghost and touches the cache first; no read marks the mapping.
//! What does not live here: the private `inspect` helper they use (`crate::handle`).

use std::borrow::Borrow;
use std::cell::Ref;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

use persistent_core::Result;

use super::PersistentMapping;
use crate::element::Element;
use crate::handle::CollectionState;

/// A read guard on the entries of a `PersistentMapping`; it dereferences to `BTreeMap<K, V>`
/// and `&guard` iterates in key order. While it lives the mapping is sticky (the cache will
/// not ghostify it) and writes to the mapping fail with `Error::AlreadyBorrowed`, marking
/// nothing.
pub struct MapRef<'a, K, V>(Ref<'a, BTreeMap<K, V>>);

impl<K, V> Deref for MapRef<'_, K, V> {
    type Target = BTreeMap<K, V>;

    fn deref(&self) -> &BTreeMap<K, V> {
        &self.0
    }
}

/// Iterates the entries in key order, by reference.
impl<'g, K, V> IntoIterator for &'g MapRef<'_, K, V> {
    type Item = (&'g K, &'g V);
    type IntoIter = std::collections::btree_map::Iter<'g, K, V>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Prints like the `BTreeMap`.
impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for MapRef<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<K: Element + Ord, V: Element> PersistentMapping<K, V> {
    /// A read guard on the entries (loads a ghost, touches; never marks). Iterate with
    /// `for (k, v) in &map.read()?` or `map.read()?.keys()`.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see
    /// [`PObject::p_activate`](persistent_core::PObject::p_activate)), or the mapping is being
    /// written (`Error::AlreadyBorrowed`).
    pub fn read(&self) -> Result<MapRef<'_, K, V>> {
        let state = self.object().read()?;
        Ok(MapRef(Ref::map(state, |state| state.content())))
    }

    /// The number of entries.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see
    /// [`PObject::p_activate`](persistent_core::PObject::p_activate)), or the mapping is being
    /// written (`Error::AlreadyBorrowed`).
    pub fn len(&self) -> Result<usize> {
        self.inspect(BTreeMap::len)
    }

    /// Whether the mapping has no entries.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see
    /// [`PObject::p_activate`](persistent_core::PObject::p_activate)), or the mapping is being
    /// written (`Error::AlreadyBorrowed`).
    pub fn is_empty(&self) -> Result<bool> {
        self.inspect(BTreeMap::is_empty)
    }

    /// A clone of the value under `key`, `None` if absent (for Python's `get(k, default)`,
    /// use `get(k)?.unwrap_or(default)`).
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see
    /// [`PObject::p_activate`](persistent_core::PObject::p_activate)), or the mapping is being
    /// written (`Error::AlreadyBorrowed`).
    pub fn get<Q>(&self, key: &Q) -> Result<Option<V>>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
        V: Clone,
    {
        self.inspect(|entries| entries.get(key).cloned())
    }

    /// Whether an entry has the key `key`.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see
    /// [`PObject::p_activate`](persistent_core::PObject::p_activate)), or the mapping is being
    /// written (`Error::AlreadyBorrowed`).
    pub fn contains_key<Q>(&self, key: &Q) -> Result<bool>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.inspect(|entries| entries.contains_key(key))
    }

    /// A plain `BTreeMap` with clones of the entries.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see
    /// [`PObject::p_activate`](persistent_core::PObject::p_activate)), or the mapping is being
    /// written (`Error::AlreadyBorrowed`).
    pub fn to_map(&self) -> Result<BTreeMap<K, V>>
    where
        K: Clone,
        V: Clone,
    {
        self.inspect(BTreeMap::clone)
    }

    /// A new unsaved mapping (no jar, no oid) with clones of the entries; the original is
    /// not marked. This is how a mapping is copied: there is no `Clone`, because a ghost
    /// that cannot load makes the copy an error. To share identity instead, use `share()`.
    ///
    /// # Errors
    ///
    /// Loading a ghost fails (see
    /// [`PObject::p_activate`](persistent_core::PObject::p_activate)), or the mapping is being
    /// written (`Error::AlreadyBorrowed`).
    pub fn try_clone(&self) -> Result<Self>
    where
        K: Clone,
        V: Clone,
    {
        self.to_map().map(Self::from_map)
    }
}
