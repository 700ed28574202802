//! The cache's table and LRU ring: entries in a slotmap, the ring linked through slot keys
//! (least recently used at the head, most recently used at the tail). Every operation here
//! is O(1) and keeps `ring_len` and `total_size` equal to the count and sum over the ring.
//!
//! The table also holds what is left of a running sweep's walk (`walk_next` to `walk_last`,
//! in ring order), so that the walk stays valid while the sweep releases the table to drop
//! a state: whatever that state's `Drop` does to the ring (touch, load, ghostify, remove),
//! `unlink` moves the walk's ends past a member that leaves, and members that join go to
//! the MRU end, after `walk_last`, where the walk never goes.

use std::collections::HashMap;
use std::rc::Weak;

use slotmap::SlotMap;

use super::CacheKey;
use crate::any_object::ErasedCell;
use crate::any_object::Strong;
use crate::oid::hash::BuildOidHasher;
use crate::oid::Oid;

/// Below this many slots the table is never rebuilt to shrink it (see `shrink_if_sparse`).
const SHRINK_MIN_SLOTS: usize = 4096;

/// How the cache holds an object: strongly while it is in the ring (a non-ghost), weakly
/// while it is a ghost, so that a ghost nobody else holds is dropped and leaves the map.
pub(crate) enum Holder {
    InRing(Strong),
    Ghost(Weak<dyn ErasedCell>),
}

pub(crate) struct Entry {
    pub(crate) oid: Oid,
    pub(crate) holder: Holder,
    pub(crate) prev: Option<CacheKey>,
    pub(crate) next: Option<CacheKey>,
    /// The estimated size added to `total_size` when the object joined the ring.
    pub(crate) accounted: u64,
}

/// The identity map and the ring.
#[derive(Default)]
pub(crate) struct Table {
    pub(crate) entries: SlotMap<CacheKey, Entry>,
    pub(crate) index: HashMap<Oid, CacheKey, BuildOidHasher>,
    pub(crate) head: Option<CacheKey>,
    pub(crate) tail: Option<CacheKey>,
    pub(crate) ring_len: usize,
    pub(crate) total_size: u64,
    /// The next member a running sweep visits (`None`: no sweep, or its walk is over).
    pub(crate) walk_next: Option<CacheKey>,
    /// The last member a running sweep visits: the MRU end when it began, or the member
    /// before it if that left the ring. Both ends are set, or neither.
    pub(crate) walk_last: Option<CacheKey>,
}

impl Table {
    /// Adds an entry and indexes it under its oid; a ring member joins at the MRU end,
    /// accounting `size` bytes.
    pub(crate) fn add(&mut self, oid: Oid, holder: Holder, size: u64) -> CacheKey {
        let accounted = if matches!(holder, Holder::InRing(_)) { size } else { 0 };
        let key = self.entries.insert(Entry { oid, holder, prev: None, next: None, accounted });
        self.index.insert(oid, key);
        if matches!(self.entries[key].holder, Holder::InRing(_)) {
            self.link_tail(key);
        }
        key
    }

    /// Removes an entry, unlinking it from the ring first; returns how it was held.
    pub(crate) fn remove(&mut self, key: CacheKey) -> Option<Holder> {
        if matches!(self.entries.get(key)?.holder, Holder::InRing(_)) {
            self.unlink(key);
        }
        let entry = self.entries.remove(key)?;
        if self.index.get(&entry.oid) == Some(&key) {
            self.index.remove(&entry.oid);
        }
        Some(entry.holder)
    }

    /// Moves a ring member to the most-recently-used end. The member at that end already
    /// stays there, unless it is the last of a running sweep's walk: touched, it leaves the
    /// walk (the sweep does not evict what was touched while it ran).
    #[inline]
    pub(crate) fn touch(&mut self, key: CacheKey) {
        if self.tail == Some(key) && self.walk_last != Some(key) {
            return;
        }
        if let Some(entry) = self.entries.get(key) {
            if matches!(entry.holder, Holder::InRing(_)) {
                self.unlink(key);
                self.link_tail(key);
            }
        }
    }

    /// Puts a ghost entry into the ring, holding `strong`, accounting `size` bytes.
    pub(crate) fn join(&mut self, key: CacheKey, strong: Strong, size: u64) {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        entry.holder = Holder::InRing(strong);
        entry.accounted = size;
        self.link_tail(key);
    }

    /// Takes a ring member out of the ring; it is then held weakly. Returns the strong
    /// handle the ring held, to be dropped by the caller once no borrow is held.
    pub(crate) fn leave(&mut self, key: CacheKey) -> Option<Strong> {
        if !matches!(self.entries.get(key)?.holder, Holder::InRing(_)) {
            return None;
        }
        self.unlink(key);
        let entry = &mut self.entries[key];
        let Holder::InRing(strong) = &entry.holder else {
            return None;
        };
        let weak = std::rc::Rc::downgrade(strong);
        match std::mem::replace(&mut entry.holder, Holder::Ghost(weak)) {
            Holder::InRing(strong) => Some(strong),
            Holder::Ghost(_) => None,
        }
    }

    /// Changes the accounted size of a ring member.
    pub(crate) fn resize(&mut self, key: CacheKey, size: u64) {
        if let Some(entry) = self.entries.get_mut(key) {
            if matches!(entry.holder, Holder::InRing(_)) {
                self.total_size = self.total_size - entry.accounted + size;
                entry.accounted = size;
            }
        }
    }

    fn link_tail(&mut self, key: CacheKey) {
        super::recent::clear();
        let old_tail = self.tail;
        let entry = &mut self.entries[key];
        entry.prev = old_tail;
        entry.next = None;
        self.total_size += entry.accounted;
        match old_tail {
            Some(tail) => self.entries[tail].next = Some(key),
            None => self.head = Some(key),
        }
        self.tail = Some(key);
        self.ring_len += 1;
    }

    /// Rebuilds the slot map and the index at the size they hold when they are far below
    /// their capacity (fewer entries than a quarter of the slots, and more than
    /// `SHRINK_MIN_SLOTS` slots): after a large transaction the cache would otherwise keep
    /// the memory of its peak for good (a `SlotMap` never gives slots back). Every cached
    /// object gets its new slot key in its header; the ring keeps its order and sizes.
    /// Returns whether it rebuilt. Cost: O(entries), at most a third of the entries removed
    /// since the table last had that capacity, so amortised O(1) per removal. Runs no user
    /// code (a ghost's weak handle is upgraded, then dropped while the caller still holds
    /// the object); must not run during a walk, and no slot key may be held across it.
    pub(crate) fn shrink_if_sparse(&mut self) -> bool {
        let slots = self.entries.capacity();
        if slots <= SHRINK_MIN_SLOTS || self.entries.len() >= slots / 4 {
            return false;
        }
        debug_assert!(self.walk_next.is_none() && self.walk_last.is_none());
        let mut old = std::mem::take(&mut self.entries);
        let len = old.len();
        let mut entries: SlotMap<CacheKey, Entry> = SlotMap::with_capacity_and_key(len);
        let mut index = HashMap::with_capacity_and_hasher(len, BuildOidHasher::default());
        // The ring first, in LRU order, relinked through the new keys.
        let mut cursor = self.head;
        let mut last: Option<CacheKey> = None;
        self.head = None;
        while let Some(old_key) = cursor {
            let Some(mut entry) = old.remove(old_key) else { break };
            cursor = entry.next;
            entry.prev = last;
            entry.next = None;
            if let Holder::InRing(strong) = &entry.holder {
                let obj = strong.clone();
                let oid = entry.oid;
                let key = entries.insert(entry);
                obj.erased().header().cache_key.set(Some(key));
                index.insert(oid, key);
                match last {
                    Some(last) => entries[last].next = Some(key),
                    None => self.head = Some(key),
                }
                last = Some(key);
            }
        }
        self.tail = last;
        // Then the ghosts that are still alive.
        for (_, entry) in old.drain() {
            let Holder::Ghost(weak) = &entry.holder else { continue };
            let Some(obj) = weak.upgrade() else { continue };
            let oid = entry.oid;
            let key = entries.insert(entry);
            obj.erased().header().cache_key.set(Some(key));
            index.insert(oid, key);
        }
        self.entries = entries;
        self.index = index;
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
    pub(crate) fn walk_step(&mut self) -> Option<CacheKey> {
        let key = self.walk_next?;
        if self.walk_last == Some(key) {
            self.end_walk();
        } else {
            self.walk_next = self.entries[key].next;
        }
        Some(key)
    }

    fn unlink(&mut self, key: CacheKey) {
        super::recent::clear();
        let entry = &mut self.entries[key];
        let (prev, next) = (entry.prev.take(), entry.next.take());
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
        let entry = &mut self.entries[key];
        self.total_size -= entry.accounted;
        match prev {
            Some(prev) => self.entries[prev].next = next,
            None => self.head = next,
        }
        match next {
            Some(next) => self.entries[next].prev = prev,
            None => self.tail = prev,
        }
        self.ring_len -= 1;
    }
}
