//! `PersistentWeakKeyMapping<K, V>`: a persistent mapping keyed by weak references to
//! persistent objects (the reference's `persistent.wref.PersistentWeakKeyDictionary`,
//! docs/spec.md §12): an entry does not keep its key object alive, and entries whose key
//! is gone disappear when the mapping loads. Its state (`WeakKeyState`) and how it is stored
//! (the `(oid, value)` pairs in oid order). What does not live here: the weak reference
//! itself (`persistent_core::WeakRef`) and the shared collection handle (`crate::handle`).

use persistent_core::codec::{decode_value, encode_field, weak_reference_oid};
use persistent_core::{interned_type_name, Error, PObject, Persistent, Result, WeakRef, P};

use crate::element::Element;
use crate::handle::{CollectionState, PersistentCollection};

/// The state behind a `PersistentWeakKeyMapping<K, V>`: the entries, each a weak reference
/// to its key object and the value, in insertion order in memory.
pub struct WeakKeyState<K: Persistent, V>(Vec<(WeakRef<K>, V)>);

impl<K: Persistent, V> Default for WeakKeyState<K, V> {
    fn default() -> Self {
        WeakKeyState(Vec::new())
    }
}

/// A state holding `entries`, for building a handle by hand.
impl<K: Persistent, V> From<Vec<(WeakRef<K>, V)>> for WeakKeyState<K, V> {
    fn from(entries: Vec<(WeakRef<K>, V)>) -> Self {
        WeakKeyState(entries)
    }
}

impl<K: Persistent, V: std::fmt::Debug> std::fmt::Debug for WeakKeyState<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.0.iter().map(|(key, value)| (key, value))).finish()
    }
}

/// The record is the list of `(key, value)` pairs, each key stored as its object's oid (a
/// weak reference, not listed in the record's references), in oid order, so equal contents
/// give equal bytes. An entry whose key was never stored and no longer exists is left out:
/// nothing could find it again. Loading resolves every key (`WeakRef::get`, which loads the
/// key object if it is not in memory) and drops the entries whose key record is gone.
impl<K: Persistent, V: Element> Persistent for WeakKeyState<K, V> {
    type Object = PObject<WeakKeyState<K, V>>;
    const TYPE_NAME: &'static str = "persistent::PersistentWeakKeyMapping";

    fn stored_type_name() -> &'static str {
        interned_type_name::<Self>(|| {
            format!(
                "persistent::PersistentWeakKeyMapping<{}, {}>",
                crate::element::element_name::<K>(),
                crate::element::element_name::<V>()
            )
        })
    }

    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        let mut entries = Vec::with_capacity(self.0.len());
        for (key, value) in &self.0 {
            if let Some(oid) = weak_reference_oid(key)? {
                entries.push((oid, key, value));
            }
        }
        entries.sort_by_key(|(oid, _, _)| *oid);
        let pairs: Vec<(&WeakRef<K>, &V)> =
            entries.into_iter().map(|(_, key, value)| (key, value)).collect();
        encode_field(Self::TYPE_NAME, &pairs, out)
    }

    /// Keeps the entries whose key resolves. Outside a connection (a reference context
    /// without one) keys cannot be followed, and every entry is kept.
    fn decode_state(bytes: &[u8]) -> Result<Self> {
        let entries = decode_value::<Vec<(WeakRef<K>, V)>>(Self::TYPE_NAME, bytes)?;
        let mut kept = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            match key.get() {
                Ok(Some(_)) | Err(Error::NoCodecContext) => kept.push((key, value)),
                Ok(None) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(WeakKeyState(kept))
    }
}

/// The content of a weak-keyed mapping is its list of entries.
impl<K: Persistent, V: Element> CollectionState for WeakKeyState<K, V> {
    type Content = Vec<(WeakRef<K>, V)>;

    fn content(&self) -> &Vec<(WeakRef<K>, V)> {
        &self.0
    }

    fn content_mut(&mut self) -> &mut Vec<(WeakRef<K>, V)> {
        &mut self.0
    }
}

/// A persistent mapping from persistent objects to values that does not keep its keys alive
/// (docs/spec.md §12; the reference's `PersistentWeakKeyDictionary`): each key is held as a
/// [`WeakRef`], so an entry neither makes its key object reachable for garbage collection
/// nor keeps it in memory.
///
/// * Keys are objects, compared by identity (`WeakRef` equality: the same stored object, or
///   the same new object); `insert`, `get`, `remove` take the key's `P<K>`.
/// * An entry whose key object is gone disappears: when the mapping loads, every key is
///   followed (its object loaded if it is not in memory) and entries whose key record no
///   longer exists are dropped; an entry whose key was never stored and was dropped from
///   memory is left out of the next record.
/// * Every mutation marks the mapping changed: `insert` always, `remove` and `clear` when
///   they remove something.
/// * Stored as the `(oid, value)` pairs in oid order (equal contents, equal bytes). Lookups
///   compare the key with each entry in turn: meant for side tables of modest size.
/// * Like the other collections it is a handle (`share()`, `handle()`, `Deref` to `P`), and
///   a field holding one stores a (strong) reference to the mapping.
pub type PersistentWeakKeyMapping<K, V> = PersistentCollection<WeakKeyState<K, V>>;

fn position<K: Persistent, V>(entries: &[(WeakRef<K>, V)], key: &WeakRef<K>) -> Option<usize> {
    entries.iter().position(|(entry, _)| entry == key)
}

impl<K: Persistent, V: Element> PersistentWeakKeyMapping<K, V> {
    /// Sets the value for `key`, returning the old one. Marks the mapping changed.
    ///
    /// # Errors
    ///
    /// Loading the mapping or registering the change fails, or a read guard on it is alive
    /// (`Error::AlreadyBorrowed`); then nothing is changed or marked.
    pub fn insert(&self, key: &P<K>, value: V) -> Result<Option<V>> {
        let key = WeakRef::new(key);
        self.change(|entries| {
            if let Some(index) = position(entries, &key) {
                return Some(std::mem::replace(&mut entries[index].1, value));
            }
            entries.push((key, value));
            None
        })
    }

    /// The value for `key`, cloned.
    ///
    /// # Errors
    ///
    /// Loading the mapping fails.
    pub fn get(&self, key: &P<K>) -> Result<Option<V>>
    where
        V: Clone,
    {
        let key = WeakRef::new(key);
        self.inspect(|entries| position(entries, &key).map(|index| entries[index].1.clone()))
    }

    /// Whether `key` has an entry.
    ///
    /// # Errors
    ///
    /// Loading the mapping fails.
    pub fn contains_key(&self, key: &P<K>) -> Result<bool> {
        let key = WeakRef::new(key);
        self.inspect(|entries| position(entries, &key).is_some())
    }

    /// Removes the entry for `key` and returns its value. Marks the mapping changed only if
    /// there was one.
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert).
    pub fn remove(&self, key: &P<K>) -> Result<Option<V>> {
        let key = WeakRef::new(key);
        let Some(index) = self.inspect(|entries| position(entries, &key))? else {
            return Ok(None);
        };
        self.change(|entries| entries.remove(index).1).map(Some)
    }

    /// Removes every entry. Marks the mapping changed only if it had any.
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert).
    pub fn clear(&self) -> Result<()> {
        if self.is_empty()? {
            return Ok(());
        }
        self.change(Vec::clear)
    }

    /// The number of entries held (an entry whose key went away since the mapping loaded is
    /// counted until it next loads).
    ///
    /// # Errors
    ///
    /// Loading the mapping fails.
    pub fn len(&self) -> Result<usize> {
        self.inspect(Vec::len)
    }

    /// Whether there are no entries.
    ///
    /// # Errors
    ///
    /// Loading the mapping fails.
    pub fn is_empty(&self) -> Result<bool> {
        self.inspect(Vec::is_empty)
    }

    /// The entries whose key can be followed, as `(key object, value)` in insertion order
    /// (the stored order, oid order, after a load). Keys not in memory are loaded; an entry
    /// whose key is gone is skipped.
    ///
    /// # Errors
    ///
    /// Loading the mapping or a key fails (as `WeakRef::get`).
    #[allow(
        clippy::iter_not_returning_iterator,
        reason = "following the keys can fail (a load), so it happens up front, in a Result"
    )]
    pub fn iter(&self) -> Result<std::vec::IntoIter<(P<K>, V)>>
    where
        V: Clone,
    {
        let entries = self.inspect(Clone::clone)?;
        let mut items = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            if let Some(object) = key.get()? {
                items.push((object, value));
            }
        }
        Ok(items.into_iter())
    }
}
