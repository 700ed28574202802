//! The cache's slots: one vector of 24-byte entries addressed by 32-bit keys. An entry is a
//! ring member (held strongly, with its two ring links) or a ghost (held weakly); a free
//! slot holds a weak handle made by `Weak::new()`, which points to no object, and its key
//! waits on the free list, reused last freed first.
//!
//! 24 bytes: a ghost's entry is its weak handle only, which fits beside the member's ring
//! links in the bytes the enum's tag does not need (the tag is the member's non-null
//! pointer). So an entry keeps neither the oid (the identity map reads it from the object:
//! `oid`) nor the accounted size (the table derives it from the object's header: `ring.rs`).
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
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
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

/// One slot.
pub(crate) enum Slot {
    /// A non-ghost, in the ring.
    Member(Member),
    /// A ghost, held weakly so that it is dropped when nobody else holds it; or, holding a
    /// handle from `Weak::new()`, a free slot (`is_free`).
    Ghost(Weak<dyn ErasedCell>),
}

/// The state of the free-slot marker: a type no object ever has.
struct Vacant;

impl crate::Persistent for Vacant {
    type Object = crate::PObject<Vacant>;
    const TYPE_NAME: &'static str = "persistent_core::cache::slab::Vacant";

    fn encode_state(&self, _out: &mut Vec<u8>) -> crate::Result<()> {
        Ok(())
    }

    fn decode_state(_bytes: &[u8]) -> crate::Result<Self> {
        Ok(Vacant)
    }
}

/// The entry of a free slot: a weak handle to no object (allocates nothing).
fn vacant() -> Slot {
    Slot::Ghost(Weak::<crate::PObject<Vacant>>::new())
}

/// Whether `slot` is free: its weak handle was made by `Weak::new()` (`Weak::ptr_eq` is
/// true for two such handles, and a ghost's handle always points to its object).
#[inline]
fn is_free(slot: &Slot) -> bool {
    match slot {
        Slot::Member(_) => false,
        Slot::Ghost(weak) => {
            let none: Weak<dyn ErasedCell> = Weak::<crate::PObject<Vacant>>::new();
            Weak::ptr_eq(weak, &none)
        }
    }
}

/// The slot vector and its free list.
#[derive(Default)]
pub(crate) struct Slab {
    slots: Vec<Slot>,
    free: Vec<CacheKey>,
}

impl Slab {
    /// An empty slab with room for `capacity` entries.
    pub(crate) fn with_capacity(capacity: usize) -> Slab {
        Slab { slots: Vec::with_capacity(capacity), free: Vec::new() }
    }

    /// Entries in use.
    pub(crate) fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Slots allocated (in use, free, or not yet made).
    pub(crate) fn capacity(&self) -> usize {
        self.slots.capacity()
    }

    /// The entry at `key`, unless the slot is free.
    #[inline]
    pub(crate) fn get(&self, key: CacheKey) -> Option<&Slot> {
        self.slots.get(key.index()).filter(|slot| !is_free(slot))
    }

    /// The entry at `key`, unless the slot is free.
    #[inline]
    pub(crate) fn get_mut(&mut self, key: CacheKey) -> Option<&mut Slot> {
        self.slots.get_mut(key.index()).filter(|slot| !is_free(slot))
    }

    /// The oid of the entry at `key`, read from the object (a ghost's is upgraded for the
    /// read): `None` for a free slot and for a ghost whose object is gone.
    #[inline]
    pub(crate) fn oid(&self, key: CacheKey) -> Option<Oid> {
        match self.slots.get(key.index())? {
            Slot::Member(member) => member.strong.header().oid(),
            Slot::Ghost(weak) => weak.upgrade()?.header().oid(),
        }
    }

    /// The ring member at `key`. Panics if it is not one: ring links only name members.
    #[inline]
    pub(crate) fn member(&self, key: CacheKey) -> &Member {
        match &self.slots[key.index()] {
            Slot::Member(member) => member,
            Slot::Ghost(_) => not_a_member(),
        }
    }

    /// The ring member at `key`, mutably. Panics if it is not one.
    #[inline]
    pub(crate) fn member_mut(&mut self, key: CacheKey) -> &mut Member {
        match &mut self.slots[key.index()] {
            Slot::Member(member) => member,
            Slot::Ghost(_) => not_a_member(),
        }
    }

    /// Stores `slot` in a free slot, or a new one, and returns its key.
    pub(crate) fn insert(&mut self, slot: Slot) -> CacheKey {
        debug_assert!(!is_free(&slot));
        if let Some(key) = self.free.pop() {
            self.slots[key.index()] = slot;
            return key;
        }
        let key = CacheKey::from_index(self.slots.len());
        self.slots.push(slot);
        key
    }

    /// Frees the slot at `key` and returns its entry (`None` if it was free already).
    pub(crate) fn remove(&mut self, key: CacheKey) -> Option<Slot> {
        let place = self.slots.get_mut(key.index())?;
        if is_free(place) {
            return None;
        }
        let old = std::mem::replace(place, vacant());
        self.free.push(key);
        Some(old)
    }

    /// The entries in use, in slot order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (CacheKey, &Slot)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| !is_free(slot))
            .map(|(index, slot)| (CacheKey::from_index(index), slot))
    }

    /// Empties the slab, giving its entries in slot order.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = Slot> + '_ {
        self.free.clear();
        self.slots.drain(..).filter(|slot| !is_free(slot))
    }
}

#[cold]
fn not_a_member() -> ! {
    panic!("persistent-core bug: a ring link names a slot that is not in the ring")
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;

    #[test]
    fn an_entry_is_24_bytes_and_a_key_4() {
        assert_eq!(std::mem::size_of::<Slot>(), 24);
        assert_eq!(std::mem::size_of::<Option<CacheKey>>(), 4);
    }

    #[test]
    fn freed_slots_are_reused_last_freed_first_and_a_dead_ghost_is_not_free() {
        let objects: Vec<Rc<crate::PObject<Vacant>>> =
            (0..5).map(|_| Rc::new(crate::PObject::new(Vacant))).collect();
        let ghost = |n: usize| {
            let weak: Weak<dyn ErasedCell> =
                Rc::downgrade(&objects[n]) as Weak<crate::PObject<Vacant>>;
            Slot::Ghost(weak)
        };
        let mut slab = Slab::default();
        let keys: Vec<CacheKey> = (0..4).map(|n| slab.insert(ghost(n))).collect();
        assert_eq!(keys.iter().map(|k| k.index()).collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert!(slab.remove(keys[1]).is_some());
        assert!(slab.remove(keys[2]).is_some());
        assert!(slab.remove(keys[2]).is_none(), "a free slot is not removed twice");
        assert!(slab.get(keys[1]).is_none());
        assert_eq!(slab.len(), 2);
        assert_eq!(slab.insert(ghost(2)), keys[2]);
        assert_eq!(slab.insert(ghost(1)), keys[1]);
        assert_eq!(slab.insert(ghost(4)).index(), 4);
        assert_eq!(slab.iter().count(), 5);
        // A ghost whose object is gone is still a used slot (its removal is pending).
        let gone = {
            let short = Rc::new(crate::PObject::new(Vacant));
            let weak: Weak<dyn ErasedCell> = Rc::downgrade(&short) as Weak<crate::PObject<Vacant>>;
            slab.insert(Slot::Ghost(weak))
        };
        assert!(slab.get(gone).is_some(), "a dead ghost is not a free slot");
        assert_eq!(slab.drain().count(), 6);
        assert_eq!(slab.len(), 0);
    }
}
