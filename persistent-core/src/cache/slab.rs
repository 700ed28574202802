//! The cache's slots: one vector of entries addressed by 32-bit keys, the freed slots
//! chained in a free list and reused first. An entry is a ring member (held strongly, with
//! its ring links and accounted size), a ghost (held weakly, with its oid, which stays
//! readable after the object is gone) or free; every entry is 32 bytes.
//!
//! Keys carry no generation: the cache clears an object's key in its header whenever its
//! entry goes, and every other holder of a key (the ring links, the identity map, a running
//! sweep's walk) is updated in the same operation, so a key is only used while its entry
//! lives. The one exception is the queue of objects dropped while the table was borrowed
//! (`CacheShared::dropped`), which is checked against the entry before it is applied.

use std::num::NonZeroU32;
use std::rc::Weak;

use crate::any_object::{ErasedCell, Strong};
use crate::oid::Oid;

/// An object's slot in its cache: the slot's index plus one, so that an
/// `Option<CacheKey>` takes 4 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct CacheKey(NonZeroU32);

impl CacheKey {
    /// The key of the slot at `index`. A cache holds fewer than 2^32 - 1 entries; more is
    /// a panic, never a wrapped key.
    pub(crate) fn from_index(index: usize) -> CacheKey {
        let raw = u32::try_from(index + 1).ok().and_then(NonZeroU32::new);
        CacheKey(raw.expect("a cache holds fewer than 2^32 - 1 objects"))
    }

    /// The slot's index in the vector.
    #[inline]
    pub(crate) fn index(self) -> usize {
        (self.0.get() - 1) as usize
    }
}

/// A ring member: the strong handle that keeps it loaded and its neighbours in the ring
/// (least recently used towards `prev`).
pub(crate) struct Member {
    pub(crate) strong: Strong,
    pub(crate) prev: Option<CacheKey>,
    pub(crate) next: Option<CacheKey>,
}

/// One slot. (The accounted size sits beside `Member` rather than in it so that it shares
/// the word of the enum's tag: 32 bytes a slot instead of 40.)
pub(crate) enum Slot {
    /// A non-ghost, in the ring, with the estimated size added to `total_size` when it
    /// joined, in 64-byte units (every accounted size is a whole number of units: `size.rs`).
    Member { member: Member, accounted: u32 },
    /// A ghost, held weakly so that it is dropped when nobody else holds it.
    Ghost { weak: Weak<dyn ErasedCell>, oid: Oid },
    /// Unused; `next` is the next free slot.
    Free { next: Option<CacheKey> },
}

/// The slot vector and its free list.
#[derive(Default)]
pub(crate) struct Slab {
    slots: Vec<Slot>,
    free: Option<CacheKey>,
    len: usize,
}

impl Slab {
    /// An empty slab with room for `capacity` entries.
    pub(crate) fn with_capacity(capacity: usize) -> Slab {
        Slab { slots: Vec::with_capacity(capacity), free: None, len: 0 }
    }

    /// Entries in use.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Slots allocated (in use, free, or not yet made).
    pub(crate) fn capacity(&self) -> usize {
        self.slots.capacity()
    }

    /// The entry at `key`, unless the slot is free.
    #[inline]
    pub(crate) fn get(&self, key: CacheKey) -> Option<&Slot> {
        match self.slots.get(key.index()) {
            None | Some(Slot::Free { .. }) => None,
            slot => slot,
        }
    }

    /// The entry at `key`, unless the slot is free.
    #[inline]
    pub(crate) fn get_mut(&mut self, key: CacheKey) -> Option<&mut Slot> {
        match self.slots.get_mut(key.index()) {
            None | Some(Slot::Free { .. }) => None,
            slot => slot,
        }
    }

    /// The oid of the entry at `key` (a ring member's is read from its header).
    #[inline]
    pub(crate) fn oid(&self, key: CacheKey) -> Option<Oid> {
        match self.get(key)? {
            Slot::Member { member, .. } => member.strong.header().oid(),
            Slot::Ghost { oid, .. } => Some(*oid),
            Slot::Free { .. } => None,
        }
    }

    /// The ring member at `key`. Panics if it is not one: ring links only name members.
    #[inline]
    pub(crate) fn member(&self, key: CacheKey) -> &Member {
        match &self.slots[key.index()] {
            Slot::Member { member, .. } => member,
            _ => not_a_member(),
        }
    }

    /// The ring member at `key` and its accounted units, mutably. Panics if it is not one.
    #[inline]
    pub(crate) fn member_mut(&mut self, key: CacheKey) -> (&mut Member, &mut u32) {
        match &mut self.slots[key.index()] {
            Slot::Member { member, accounted } => (member, accounted),
            _ => not_a_member(),
        }
    }

    /// Stores `slot` (not `Free`) in a free slot, or a new one, and returns its key.
    pub(crate) fn insert(&mut self, slot: Slot) -> CacheKey {
        debug_assert!(!matches!(slot, Slot::Free { .. }));
        self.len += 1;
        if let Some(key) = self.free {
            let old = std::mem::replace(&mut self.slots[key.index()], slot);
            let Slot::Free { next } = old else {
                unreachable!("persistent-core bug: the free list names a used slot")
            };
            self.free = next;
            return key;
        }
        let key = CacheKey::from_index(self.slots.len());
        self.slots.push(slot);
        key
    }

    /// Frees the slot at `key` and returns its entry (`None` if it was free already).
    pub(crate) fn remove(&mut self, key: CacheKey) -> Option<Slot> {
        let place = self.slots.get_mut(key.index())?;
        if matches!(place, Slot::Free { .. }) {
            return None;
        }
        let old = std::mem::replace(place, Slot::Free { next: self.free });
        self.free = Some(key);
        self.len -= 1;
        Some(old)
    }

    /// The entries in use, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (CacheKey, &Slot)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| !matches!(slot, Slot::Free { .. }))
            .map(|(index, slot)| (CacheKey::from_index(index), slot))
    }

    /// Empties the slab, giving its entries in slot order.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = Slot> + '_ {
        self.free = None;
        self.len = 0;
        self.slots.drain(..).filter(|slot| !matches!(slot, Slot::Free { .. }))
    }
}

#[cold]
fn not_a_member() -> ! {
    panic!("persistent-core bug: a ring link names a slot that is not in the ring")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state type, for the slab's weak handles.
    struct Nothing;

    impl crate::Persistent for Nothing {
        type Object = crate::PObject<Nothing>;
        const TYPE_NAME: &'static str = "cache::slab::tests::Nothing";

        fn encode_state(&self, _out: &mut Vec<u8>) -> crate::Result<()> {
            Ok(())
        }

        fn decode_state(_bytes: &[u8]) -> crate::Result<Self> {
            Ok(Nothing)
        }
    }

    #[test]
    fn an_entry_is_32_bytes_and_a_key_4() {
        assert_eq!(std::mem::size_of::<Slot>(), 32);
        assert_eq!(std::mem::size_of::<Option<CacheKey>>(), 4);
    }

    #[test]
    fn freed_slots_are_reused_last_freed_first() {
        let mut slab = Slab::default();
        let ghost = |n| Slot::Ghost { weak: Weak::<crate::PObject<Nothing>>::new(), oid: Oid(n) };
        let keys: Vec<CacheKey> = (0..4).map(|n| slab.insert(ghost(n))).collect();
        assert_eq!(keys.iter().map(|k| k.index()).collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert!(slab.remove(keys[1]).is_some());
        assert!(slab.remove(keys[2]).is_some());
        assert!(slab.remove(keys[2]).is_none(), "a free slot is not removed twice");
        assert!(slab.get(keys[1]).is_none());
        assert_eq!(slab.len(), 2);
        assert_eq!(slab.insert(ghost(7)), keys[2]);
        assert_eq!(slab.insert(ghost(8)), keys[1]);
        assert_eq!(slab.insert(ghost(9)).index(), 4);
        let oids: Vec<u64> = slab
            .iter()
            .map(|(_, slot)| match slot {
                Slot::Ghost { oid, .. } => oid.0,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(oids, [0, 8, 7, 3, 9]);
        assert_eq!(slab.drain().count(), 5);
        assert_eq!(slab.len(), 0);
    }
}
