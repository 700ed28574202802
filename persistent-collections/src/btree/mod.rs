//! `PersistentBTreeMap` and `PersistentBTreeSet`: the scalable containers (docs/spec.md §9,
//! the reference's `BTrees`). A tree is made of persistent objects, each its own record: the
//! tree's root object, inner nodes and leaf buckets linked in key order (`node.rs`). A lookup
//! loads O(log n) records; a change writes the bucket it falls in, plus parents when a
//! bucket splits or empties; iteration loads buckets lazily as it advances. Two transactions
//! that change different keys of one bucket both commit (bucket conflict resolution,
//! `merge.rs`). Files: `write.rs` (insert, remove), `iter.rs` (ranges), `build.rs` (bulk
//! build from sorted entries), `check.rs` (the invariants), `set.rs` (the set).

mod build;
mod check;
mod iter;
mod merge;
mod node;
mod set;
mod write;

use std::fmt;
use std::ops::RangeBounds;

use persistent_core::{ObjectRef, Result, SharedHandle, P};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use check::TreeStats;
pub use iter::Range;
pub use node::{Bucket, Child, Inner, Key, Sizes, Tree, TreeValue};
pub use set::PersistentBTreeSet;

// The crate root re-exports the two containers; the node types, sizes and iterator are
// reached as `btree::...`.

/// A sorted map stored as a B-tree of persistent buckets: for large collections (any size
/// the storage holds, within the connection's cache limits), where a `PersistentMapping` is
/// one record rewritten whole at every change. Methods read like `std::collections::BTreeMap`'s
/// but return `Result` (a bucket may have to be loaded) and values by clone (a `P<T>` value
/// clones as a handle).
///
/// `len()` counts by walking every bucket (it loads them all): keep a
/// [`Length`](crate::Length) beside the tree if you need the size often, as the reference's
/// users do.
pub struct PersistentBTreeMap<K: Key, V: TreeValue>(P<Tree<K, V>>);

impl<K: Key, V: TreeValue> PersistentBTreeMap<K, V> {
    /// A new empty unsaved tree with the default sizes ([`Sizes::default`]).
    #[must_use]
    pub fn new() -> Self {
        Self::with_sizes(Sizes::default())
    }

    /// A new empty unsaved tree whose buckets hold up to `sizes.bucket` entries and whose
    /// inner nodes hold up to `sizes.node` children.
    #[must_use]
    pub fn with_sizes(sizes: Sizes) -> Self {
        PersistentBTreeMap(P::new(Tree { top: None, sizes }))
    }

    /// The tree for an existing handle (a ghost a connection made, say).
    #[must_use]
    pub fn from_handle(handle: P<Tree<K, V>>) -> Self {
        PersistentBTreeMap(handle)
    }

    /// The handle of the tree's root object; cloning it shares identity.
    #[must_use]
    pub fn handle(&self) -> &P<Tree<K, V>> {
        &self.0
    }

    /// The tree's sizes.
    ///
    /// # Errors
    /// Loading the tree's root object fails.
    pub fn sizes(&self) -> Result<Sizes> {
        self.0.as_object().with(|t| t.sizes)
    }

    fn top(&self) -> Result<Option<Child<K, V>>> {
        self.0.as_object().with(|t| t.top.clone())
    }

    /// The value of `key`, if any (loads the path to its bucket).
    ///
    /// # Errors
    /// Loading a node fails.
    pub fn get(&self, key: &K) -> Result<Option<V>> {
        let Some(top) = self.top()? else { return Ok(None) };
        let bucket = iter::bucket_for(&top, key)?;
        bucket.as_object().with(|b| b.keys.binary_search(key).ok().map(|i| b.values[i].clone()))
    }

    /// Whether `key` is in the tree.
    ///
    /// # Errors
    /// Loading a node fails.
    pub fn contains_key(&self, key: &K) -> Result<bool> {
        let Some(top) = self.top()? else { return Ok(false) };
        let bucket = iter::bucket_for(&top, key)?;
        bucket.as_object().with(|b| b.keys.binary_search(key).is_ok())
    }

    /// Sets `key` to `value`; returns the old value. Writes the bucket (and, when it splits,
    /// the new bucket and the parents that take the split).
    ///
    /// # Errors
    /// Loading or registering a node fails; nothing is changed then.
    pub fn insert(&self, key: K, value: V) -> Result<Option<V>> {
        let (top, sizes) = self.0.as_object().with(|t| (t.top.clone(), t.sizes))?;
        let Some(top) = top else {
            let bucket = P::new(Bucket { keys: vec![key], values: vec![value], next: None });
            self.0.as_object().update(|t| t.top = Some(Child::Bucket(bucket)))?;
            return Ok(None);
        };
        let (old, split) = write::insert(&top, key, value, sizes)?;
        write::fix_top(&self.0, top, split, false)?;
        Ok(old)
    }

    /// Removes `key`; returns its value. An emptied bucket is unlinked from the tree.
    ///
    /// # Errors
    /// Loading or registering a node fails.
    pub fn remove(&self, key: &K) -> Result<Option<V>> {
        let Some(top) = self.top()? else { return Ok(None) };
        let removed = write::remove(&top, key, None)?;
        if removed.value.is_some() {
            write::fix_top(&self.0, top, None, removed.emptied)?;
        }
        Ok(removed.value)
    }

    /// Changes the value of `key` in place through `f`, if the key is there; returns what
    /// `f` returned. Writes the bucket only when the key is there.
    ///
    /// # Errors
    /// Loading or registering the bucket fails.
    pub fn modify<R>(&self, key: &K, f: impl FnOnce(&mut V) -> R) -> Result<Option<R>> {
        let Some(top) = self.top()? else { return Ok(None) };
        let bucket = iter::bucket_for(&top, key)?;
        let Ok(index) = bucket.as_object().with(|b| b.keys.binary_search(key))? else {
            return Ok(None);
        };
        bucket.as_object().update(|b| Some(f(&mut b.values[index])))
    }

    /// The value of `key`, inserting `make()` first if the key is absent.
    ///
    /// # Errors
    /// As [`get`](Self::get) and [`insert`](Self::insert).
    pub fn get_or_insert_with(&self, key: K, make: impl FnOnce() -> V) -> Result<V> {
        if let Some(value) = self.get(&key)? {
            return Ok(value);
        }
        let value = make();
        self.insert(key, value.clone())?;
        Ok(value)
    }

    /// The entries within `bounds`, in key order, loading buckets as the iterator advances.
    ///
    /// # Errors
    /// Loading the nodes down to the first bucket fails (later failures come from the
    /// iterator).
    pub fn range(&self, bounds: impl RangeBounds<K>) -> Result<Range<K, V>> {
        let Some(top) = self.top()? else { return Ok(Range::empty()) };
        let first = match bounds.start_bound() {
            std::ops::Bound::Included(key) | std::ops::Bound::Excluded(key) => {
                iter::bucket_for(&top, key)?
            }
            std::ops::Bound::Unbounded => write::first_bucket(&top)?,
        };
        Ok(Range::new(Some(first), bounds))
    }

    /// Every entry in key order (`range(..)`).
    ///
    /// # Errors
    /// As [`range`](Self::range).
    #[allow(
        clippy::iter_not_returning_iterator,
        reason = "reaching the first bucket can fail; the iterator follows"
    )]
    pub fn iter(&self) -> Result<Range<K, V>> {
        self.range(..)
    }

    /// The entry with the smallest key.
    ///
    /// # Errors
    /// Loading a node fails.
    pub fn first(&self) -> Result<Option<(K, V)>> {
        let Some(top) = self.top()? else { return Ok(None) };
        let bucket = write::first_bucket(&top)?;
        bucket.as_object().with(|b| b.keys.first().map(|k| (k.clone(), b.values[0].clone())))
    }

    /// The entry with the largest key.
    ///
    /// # Errors
    /// Loading a node fails.
    pub fn last(&self) -> Result<Option<(K, V)>> {
        let Some(top) = self.top()? else { return Ok(None) };
        let bucket = write::last_bucket(&top)?;
        bucket
            .as_object()
            .with(|b| b.keys.last().map(|k| (k.clone(), b.values[b.values.len() - 1].clone())))
    }

    /// Removes and returns the entry with the smallest key.
    ///
    /// # Errors
    /// As [`remove`](Self::remove).
    pub fn pop_first(&self) -> Result<Option<(K, V)>> {
        let Some((key, _)) = self.first()? else { return Ok(None) };
        Ok(self.remove(&key)?.map(|value| (key, value)))
    }

    /// Removes and returns the entry with the largest key.
    ///
    /// # Errors
    /// As [`remove`](Self::remove).
    pub fn pop_last(&self) -> Result<Option<(K, V)>> {
        let Some((key, _)) = self.last()? else { return Ok(None) };
        Ok(self.remove(&key)?.map(|value| (key, value)))
    }

    /// Whether the tree has no entry (loads at most the path to the first bucket).
    ///
    /// # Errors
    /// Loading a node fails.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.first()?.is_none())
    }

    /// The number of entries, counted by walking every bucket: O(n / bucket size) loads.
    ///
    /// # Errors
    /// Loading a bucket fails.
    pub fn len(&self) -> Result<usize> {
        let Some(top) = self.top()? else { return Ok(0) };
        let mut next = Some(write::first_bucket(&top)?);
        let mut len = 0;
        while let Some(bucket) = next {
            let (count, after) = bucket.as_object().with(|b| (b.keys.len(), b.next.clone()))?;
            len += count;
            next = after;
        }
        Ok(len)
    }

    /// Inserts every entry of `entries` (as [`insert`](Self::insert), one by one).
    ///
    /// # Errors
    /// The first failing insert; the entries before it stay inserted.
    pub fn extend(&self, entries: impl IntoIterator<Item = (K, V)>) -> Result<()> {
        for (key, value) in entries {
            self.insert(key, value)?;
        }
        Ok(())
    }
}

/// An empty unsaved tree with the default sizes.
impl<K: Key, V: TreeValue> Default for PersistentBTreeMap<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

/// A new unsaved tree of the entries (a later key replaces an earlier equal one). Sorted
/// input is built in bulk ([`PersistentBTreeMap::from_sorted`]); other input is sorted
/// first.
impl<K: Key, V: TreeValue> FromIterator<(K, V)> for PersistentBTreeMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(entries: I) -> Self {
        let sorted: std::collections::BTreeMap<K, V> = entries.into_iter().collect();
        build::unsaved(sorted.into_iter(), Sizes::default())
    }
}

/// Stored as a persistent reference (the oid of the tree's root object).
impl<K: Key, V: TreeValue> Serialize for PersistentBTreeMap<K, V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// A stored reference comes back as the known object or a ghost, without a storage read.
impl<'de, K: Key, V: TreeValue> Deserialize<'de> for PersistentBTreeMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        P::deserialize(deserializer).map(PersistentBTreeMap)
    }
}

/// A getter of a tree field returns another handle to the same tree.
impl<K: Key, V: TreeValue> SharedHandle for PersistentBTreeMap<K, V> {
    fn share(&self) -> Self {
        PersistentBTreeMap(self.0.clone())
    }
}

/// The type-erased handle of the tree's root object.
impl<K: Key, V: TreeValue> From<PersistentBTreeMap<K, V>> for ObjectRef {
    fn from(tree: PersistentBTreeMap<K, V>) -> ObjectRef {
        tree.0.into()
    }
}

/// Shows the tree's root object (never loads).
impl<K: Key, V: TreeValue> fmt::Debug for PersistentBTreeMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersistentBTreeMap({:?})", self.0.as_object())
    }
}
