//! Writing a `PersistentMapping`: `BTreeMap`-named mutations, each marking the mapping
//! changed exactly as docs/spec.md §4 (mapping table) says. The rule every method keeps:
//! decide from a read whether the operation changes anything; only then go through `change`,
//! which registers and marks before writing. A failing operation (load or register error,
//! live read guard) changes and marks nothing. What does not live here: `change` itself
//! (`crate::handle`, over core's `PObject::update`).

use std::borrow::Borrow;

use persistent_core::Result;

use super::PersistentMapping;
use crate::element::Element;

impl<K: Element + Ord, V: Element> PersistentMapping<K, V> {
    /// Sets `key` to `value`, returning the old value. Marks, even when the old value is
    /// equal.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the mapping is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    #[inline]
    pub fn insert(&self, key: K, value: V) -> Result<Option<V>> {
        self.change(|entries| entries.insert(key, value))
    }

    /// Removes the entry under `key` and returns its value. Marks only if the key was
    /// present; a missing key gives `None` and marks nothing (the reference marks here; we
    /// do not, since nothing changed).
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the mapping is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn remove<Q>(&self, key: &Q) -> Result<Option<V>>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        if !self.contains_key(key)? {
            return Ok(None);
        }
        self.change(|entries| entries.remove(key))
    }

    /// Removes and returns the entry with the smallest key. Marks only if the mapping was
    /// non-empty.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the mapping is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn pop_first(&self) -> Result<Option<(K, V)>> {
        if self.is_empty()? {
            return Ok(None);
        }
        self.change(std::collections::BTreeMap::pop_first)
    }

    /// Removes and returns the entry with the largest key (Python's `popitem`). Marks only if
    /// the mapping was non-empty.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the mapping is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn pop_last(&self) -> Result<Option<(K, V)>> {
        if self.is_empty()? {
            return Ok(None);
        }
        self.change(std::collections::BTreeMap::pop_last)
    }

    /// Python's `setdefault`: the value under `key`, inserting `value` first if the key is
    /// absent. Returns a clone of the value now stored. Marks only if it inserted.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the mapping is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn entry_or_insert(&self, key: K, value: V) -> Result<V>
    where
        V: Clone,
    {
        self.get_or_insert_with(key, || value)
    }

    /// The value under `key`, inserting `make()` first if the key is absent. Returns a clone
    /// of the value now stored. `make` runs only when the key is absent, before anything is
    /// marked. Marks only if it inserted.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the mapping is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn get_or_insert_with(&self, key: K, make: impl FnOnce() -> V) -> Result<V>
    where
        V: Clone,
    {
        if let Some(value) = self.get(&key)? {
            return Ok(value);
        }
        let value = make();
        self.change(|entries| entries.entry(key).or_insert(value).clone())
    }

    /// Sets every `(key, value)` of `entries` (Python's `update`). Marks, even when
    /// `entries` is empty (as the reference).
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the mapping is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn extend(&self, entries: impl IntoIterator<Item = (K, V)>) -> Result<()> {
        self.change(|map| map.extend(entries))
    }

    /// Keeps the entries for which `keep` is true. Marks only if something was removed.
    /// `keep` is called once per entry, in key order, before anything is changed; it sees
    /// `&V` (not `&mut V` as in `BTreeMap::retain`) so that it cannot change values unmarked.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the mapping is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn retain(&self, mut keep: impl FnMut(&K, &V) -> bool) -> Result<()> {
        let verdicts: Vec<bool> =
            self.inspect(|entries| entries.iter().map(|(k, v)| keep(k, v)).collect())?;
        if verdicts.iter().all(|&k| k) {
            return Ok(());
        }
        let mut verdicts = verdicts.into_iter();
        self.change(|entries| entries.retain(|_, _| verdicts.next().unwrap_or(true)))
    }

    /// Removes every entry. Marks only if the mapping was non-empty.
    ///
    /// # Errors
    ///
    /// Loading a ghost or registering the change fails (see
    /// [`PObject::p_mark_changed`](persistent_core::PObject::p_mark_changed)), or a read guard
    /// on the mapping is alive (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn clear(&self) -> Result<()> {
        if self.is_empty()? {
            return Ok(());
        }
        self.change(std::collections::BTreeMap::clear)
    }
}
