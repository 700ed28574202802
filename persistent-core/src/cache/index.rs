//! The identity map of a cache: oid to slot key, keeping only the 4-byte key per entry
//! (and the hash table's control byte), since the oid is in the object's header, reached
//! through the slab. Keys are hashed by their oid with the oid hasher (`oid/hash.rs`); a
//! lookup compares oids through the slab, which hashbrown does only for an entry whose
//! 7-bit tag matches, so about once per lookup.
//!
//! Rules kept: every key in the map names a used slot of the slab, whose oid does not
//! change while it is indexed (a cached object's oid is fixed: `Error::CachedOidChange`);
//! `Table` removes a slot's mapping whenever it frees the slot, given the oid by its
//! caller (a ghost whose object is being dropped can no longer be asked). A ghost whose
//! object is gone is removed before the map next grows (its `Drop` removes it at once;
//! the queue of `CacheShared::dropped` is applied before every insertion), so rehashing
//! always finds each entry's oid.

use std::hash::BuildHasher;

use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

use super::slab::Slab;
use super::CacheKey;
use crate::oid::hash::BuildOidHasher;
use crate::oid::Oid;

/// Oid to slot key.
#[derive(Default)]
pub(crate) struct Index(HashTable<CacheKey>);

fn hash(oid: Oid) -> u64 {
    BuildOidHasher::default().hash_one(oid)
}

/// The hash of the entry at `key`, for rehashing. Every indexed key names a used slot
/// (module rule); a slot that broke it would hash as oid 0 rather than panic inside the
/// table's rehash.
fn hash_of(slab: &Slab, key: CacheKey) -> u64 {
    let oid = slab.oid(key);
    debug_assert!(
        oid.is_some(),
        "persistent-core bug: the identity map names a free slot or a dropped ghost"
    );
    hash(oid.unwrap_or(Oid(0)))
}

impl Index {
    /// An empty map with room for `capacity` oids.
    pub(crate) fn with_capacity(capacity: usize) -> Index {
        Index(HashTable::with_capacity(capacity))
    }

    /// How many oids the map holds room for.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.0.capacity()
    }

    /// The slot of `oid`.
    #[inline]
    pub(crate) fn get(&self, oid: Oid, slab: &Slab) -> Option<CacheKey> {
        self.0.find(hash(oid), |&key| slab.oid(key) == Some(oid)).copied()
    }

    /// Maps `oid` to `key`, replacing its previous slot if it had one. The slab must
    /// already hold `key`'s entry, with that oid.
    pub(crate) fn insert(&mut self, oid: Oid, key: CacheKey, slab: &Slab) {
        let found = self.0.entry(
            hash(oid),
            |&other| other == key || slab.oid(other) == Some(oid),
            |&other| hash_of(slab, other),
        );
        match found {
            Entry::Occupied(mut entry) => *entry.get_mut() = key,
            Entry::Vacant(entry) => {
                entry.insert(key);
            }
        }
    }

    /// Forgets the mapping of `oid` if it is to `key` (found by the key, so this works
    /// whatever the slot holds now).
    pub(crate) fn remove(&mut self, oid: Oid, key: CacheKey) {
        if let Ok(entry) = self.0.find_entry(hash(oid), |&other| other == key) {
            entry.remove();
        }
    }
}
