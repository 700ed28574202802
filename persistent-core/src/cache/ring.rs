//! The cache's table and LRU ring: entries in a slab (`slab.rs`), the ring linked through
//! slot keys (least recently used at the head, most recently used at the tail), and the
//! identity map from oid to slot (`index.rs`). Every operation here is O(1) and keeps
//! `ring_len` and `total_size` equal to the count and sum over the ring.
//!
//! Accounted sizes: a member accounts its header's estimated size (`p_estimated_size`),
//! which `PObject::p_set_estimated_size` keeps in step (`header_size_changed`), unless
//! `Cache::update_object_size_estimation` set another value, which is kept in `overrides`
//! until the member leaves the ring or its own estimate is set again. So a slot needs no
//! room for a size, and the overrides map is empty unless that method is used.
//!
//! The table also holds what is left of a running sweep's walk (`walk_next` to `walk_last`,
//! in ring order), so that the walk stays valid while the sweep releases the table to drop
//! a state: whatever that state's `Drop` does to the ring (touch, load, ghostify, remove),
//! `unlink` moves the walk's ends past a member that leaves, and members that join go to
//! the MRU end, after `walk_last`, where the walk never goes.

use std::collections::HashMap;
use std::rc::Weak;

use super::index::Index;
use super::slab::{Member, Slab, Slot};
use super::CacheKey;
use crate::any_object::{ErasedCell, ObjectRef, Strong};
use crate::oid::Oid;
use crate::size::units_to_size;

/// Below this many slots the table is never rebuilt to shrink it (see `shrink_if_sparse`).
const SHRINK_MIN_SLOTS: usize = 4096;

/// How an object enters the table, and how it was held when it leaves: strongly while it
/// is in the ring (a non-ghost), weakly while it is a ghost, so that a ghost nobody else
/// holds is dropped and leaves the map.
pub(crate) enum Holder {
    InRing(Strong),
    Ghost(Weak<dyn ErasedCell>),
}

/// The identity map and the ring.
#[derive(Default)]
pub(crate) struct Table {
    pub(crate) slab: Slab,
    pub(crate) index: Index,
    pub(crate) head: Option<CacheKey>,
    pub(crate) tail: Option<CacheKey>,
    pub(crate) ring_len: usize,
    pub(crate) total_size: u64,
    /// Accounted sizes (bytes) of members that differ from their header's estimate.
    overrides: HashMap<CacheKey, u64>,
    /// The next member a running sweep visits (`None`: no sweep, or its walk is over).
    pub(crate) walk_next: Option<CacheKey>,
    /// The last member a running sweep visits: the MRU end when it began, or the member
    /// before it if that left the ring. Both ends are set, or neither.
    pub(crate) walk_last: Option<CacheKey>,
}

/// The estimate in a member's header, in bytes.
fn header_size(member: &Member) -> u64 {
    units_to_size(member.strong.header().size_units())
}

impl Table {
    /// The slot cached under `oid`.
    #[inline]
    pub(crate) fn key_of(&self, oid: Oid) -> Option<CacheKey> {
        self.index.get(oid, &self.slab)
    }

    /// The live object of an entry, if it still exists.
    pub(crate) fn object(&self, key: CacheKey) -> Option<ObjectRef> {
        match self.slab.get(key)? {
            Slot::Member(member) => Some(ObjectRef(member.strong.clone())),
            Slot::Ghost(weak) => weak.upgrade().map(ObjectRef),
        }
    }

    /// Whether the entry at `key` is a ring member.
    #[inline]
    pub(crate) fn is_member(&self, key: CacheKey) -> bool {
        matches!(self.slab.get(key), Some(Slot::Member(_)))
    }

    /// Whether the entry at `key` is a ghost whose object is gone (its drop notice is
    /// pending).
    pub(crate) fn is_dead_ghost(&self, key: CacheKey) -> bool {
        matches!(self.slab.get(key), Some(Slot::Ghost(weak)) if weak.strong_count() == 0)
    }

    /// A strong handle to the ghost at `key`, if it is a ghost whose object lives.
    pub(crate) fn ghost_object(&self, key: CacheKey) -> Option<Strong> {
        match self.slab.get(key)? {
            Slot::Ghost(weak) => weak.upgrade(),
            Slot::Member(_) => None,
        }
    }

    /// The size a member accounts for.
    #[inline]
    fn accounted(&self, key: CacheKey) -> u64 {
        // The map is empty unless `update_object_size_estimation` is used: no hashing then.
        if !self.overrides.is_empty() {
            if let Some(&size) = self.overrides.get(&key) {
                return size;
            }
        }
        header_size(self.slab.member(key))
    }

    /// Adds an entry and indexes it under its oid; a ring member joins at the MRU end,
    /// accounting its estimated size.
    pub(crate) fn add(&mut self, oid: Oid, holder: Holder) -> CacheKey {
        let key = match holder {
            Holder::InRing(strong) => {
                let key = self.slab.insert(Slot::Member(Member { strong, prev: None, next: None }));
                self.total_size += self.accounted(key);
                self.link_tail(key);
                key
            }
            Holder::Ghost(weak) => self.slab.insert(Slot::Ghost(weak)),
        };
        self.index.insert(oid, key, &self.slab);
        key
    }

    /// Removes the entry at `key`, cached under `oid`, unlinking it from the ring first;
    /// returns how it was held.
    pub(crate) fn remove(&mut self, key: CacheKey, oid: Oid) -> Option<Holder> {
        if self.is_member(key) {
            self.unaccount(key);
            self.unlink(key);
        }
        let holder = match self.slab.remove(key)? {
            Slot::Member(member) => Holder::InRing(member.strong),
            Slot::Ghost(weak) => Holder::Ghost(weak),
        };
        self.index.remove(oid, key);
        Some(holder)
    }

    /// Moves a ring member to the most-recently-used end. The member at that end already
    /// stays there, unless it is the last of a running sweep's walk: touched, it leaves the
    /// walk (the sweep does not evict what was touched while it ran).
    #[inline]
    pub(crate) fn touch(&mut self, key: CacheKey) {
        if self.tail == Some(key) && self.walk_last != Some(key) {
            return;
        }
        if self.is_member(key) {
            self.unlink(key);
            self.link_tail(key);
        }
    }

    /// Puts a ghost entry into the ring, holding `strong`, accounting its estimated size.
    pub(crate) fn join(&mut self, key: CacheKey, strong: Strong) {
        let Some(slot) = self.slab.get_mut(key) else {
            return;
        };
        *slot = Slot::Member(Member { strong, prev: None, next: None });
        self.total_size += self.accounted(key);
        self.link_tail(key);
    }

    /// Takes a ring member out of the ring; it is then held weakly. Returns the strong
    /// handle the ring held, to be dropped by the caller once no borrow is held.
    pub(crate) fn leave(&mut self, key: CacheKey) -> Option<Strong> {
        if !self.is_member(key) {
            return None;
        }
        self.unaccount(key);
        self.unlink(key);
        let slot = self.slab.get_mut(key)?;
        let Slot::Member(member) = slot else { return None };
        let weak = std::rc::Rc::downgrade(&member.strong);
        match std::mem::replace(slot, Slot::Ghost(weak)) {
            Slot::Member(member) => Some(member.strong),
            Slot::Ghost(_) => None,
        }
    }

    /// Sets the size a ring member accounts for (`Cache::update_object_size_estimation`).
    pub(crate) fn set_accounted(&mut self, key: CacheKey, size: u64) {
        if !self.is_member(key) {
            return;
        }
        self.total_size = self.total_size - self.accounted(key) + size;
        if size == header_size(self.slab.member(key)) {
            self.overrides.remove(&key);
        } else {
            self.overrides.insert(key, size);
        }
    }

    /// A ring member's own estimate changed from `old_units` (64-byte units) to what its
    /// header now holds: it accounts for the new estimate.
    pub(crate) fn header_size_changed(&mut self, key: CacheKey, old_units: u32) {
        if !self.is_member(key) {
            return;
        }
        let old = if self.overrides.is_empty() { None } else { self.overrides.remove(&key) };
        let old = old.unwrap_or(units_to_size(old_units));
        self.total_size = self.total_size - old + header_size(self.slab.member(key));
    }

    /// Subtracts a leaving member's accounted size.
    fn unaccount(&mut self, key: CacheKey) {
        let accounted = self.accounted(key);
        if !self.overrides.is_empty() {
            self.overrides.remove(&key);
        }
        self.total_size -= accounted;
    }

    fn link_tail(&mut self, key: CacheKey) {
        super::recent::clear();
        let old_tail = self.tail;
        let member = self.slab.member_mut(key);
        member.prev = old_tail;
        member.next = None;
        match old_tail {
            Some(tail) => self.slab.member_mut(tail).next = Some(key),
            None => self.head = Some(key),
        }
        self.tail = Some(key);
        self.ring_len += 1;
    }

    /// Rebuilds the slab and the index at the size they hold when they are far below
    /// their capacity (fewer entries than a quarter of the slots, and more than
    /// `SHRINK_MIN_SLOTS` slots): after a large transaction the cache would otherwise keep
    /// the memory of its peak for good (a vector never gives slots back by itself). Every
    /// cached object gets its new slot key in its header; the ring keeps its order and
    /// sizes. Returns whether it rebuilt. Cost: O(entries), at most a third of the entries
    /// removed since the table last had that capacity, so amortised O(1) per removal. Runs
    /// no user code (a ghost's weak handle is upgraded, then dropped while the caller still
    /// holds the object); must not run during a walk, and no slot key may be held across it.
    pub(crate) fn shrink_if_sparse(&mut self) -> bool {
        let slots = self.slab.capacity();
        if slots <= SHRINK_MIN_SLOTS || self.slab.len() >= slots / 4 {
            return false;
        }
        debug_assert!(self.walk_next.is_none() && self.walk_last.is_none());
        let len = self.slab.len();
        let mut slab = Slab::with_capacity(len);
        let mut index = Index::with_capacity(len);
        let mut overrides = HashMap::new();
        // The ring first, in LRU order, relinked through the new keys.
        let mut cursor = self.head;
        let mut last: Option<CacheKey> = None;
        self.head = None;
        while let Some(old_key) = cursor {
            let Some(Slot::Member(mut member)) = self.slab.remove(old_key) else { break };
            cursor = member.next;
            member.prev = last;
            member.next = None;
            let obj = member.strong.clone();
            let key = slab.insert(Slot::Member(member));
            obj.header().cache_key.set(Some(key));
            if let Some(oid) = obj.header().oid() {
                index.insert(oid, key, &slab);
            }
            if let Some(size) = self.overrides.remove(&old_key) {
                overrides.insert(key, size);
            }
            match last {
                Some(last) => slab.member_mut(last).next = Some(key),
                None => self.head = Some(key),
            }
            last = Some(key);
        }
        self.tail = last;
        // Then the ghosts that are still alive.
        for slot in self.slab.drain() {
            let Slot::Ghost(weak) = slot else { continue };
            let Some(obj) = weak.upgrade() else { continue };
            let key = slab.insert(Slot::Ghost(weak));
            obj.header().cache_key.set(Some(key));
            if let Some(oid) = obj.header().oid() {
                index.insert(oid, key, &slab);
            }
        }
        self.slab = slab;
        self.index = index;
        self.overrides = overrides;
        true
    }

    /// Starts a sweep's walk over the whole ring, LRU end first. The thread's note of the
    /// MRU member is cleared, so that a touch of the walk's last member reaches the table.
    pub(crate) fn begin_walk(&mut self) {
        super::recent::clear();
        self.walk_next = self.head;
        self.walk_last = self.tail;
    }

    /// Ends the walk early (or after a panic).
    pub(crate) fn end_walk(&mut self) {
        self.walk_next = None;
        self.walk_last = None;
    }

    /// The next member of the walk, which moves on past it.
    #[inline]
    pub(crate) fn walk_step(&mut self) -> Option<CacheKey> {
        let key = self.walk_next?;
        if self.walk_last == Some(key) {
            self.end_walk();
        } else {
            self.walk_next = self.slab.member(key).next;
        }
        Some(key)
    }

    /// Takes a member out of the ring's links (its accounted size is the caller's).
    fn unlink(&mut self, key: CacheKey) {
        super::recent::clear();
        let member = self.slab.member_mut(key);
        let (prev, next) = (member.prev.take(), member.next.take());
        // Keep a running sweep's walk on ring members (the walk is the contiguous run
        // `walk_next..=walk_last`, so a neighbour of a member inside it is inside it too).
        if self.walk_next == Some(key) {
            if self.walk_last == Some(key) {
                self.end_walk();
            } else {
                self.walk_next = next;
            }
        } else if self.walk_last == Some(key) {
            self.walk_last = prev;
        }
        match prev {
            Some(prev) => self.slab.member_mut(prev).next = next,
            None => self.head = next,
        }
        match next {
            Some(next) => self.slab.member_mut(next).prev = prev,
            None => self.tail = prev,
        }
        self.ring_len -= 1;
    }
}
