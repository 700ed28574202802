//! The cache sweeps of docs/spec.md §3.2: `incrgc` (down to the limits, with drain resistance),
//! `full_sweep` and `minimize` (every clean object). A sweep walks the ring from the LRU end
//! and costs what it evicts plus what it skips, never the cache size.
//!
//! Evicting drops a state, and a state's `Drop` is user code that may use this same cache:
//! read or load objects, resize, remove, invalidate, ask what the cache holds, or start a
//! sweep (which returns at once). So the sweep never holds the table while a state drops:
//! for each victim it takes the table, walks to the next clean member, makes it a ghost
//! out of the ring (or out of the map, when only the ring held it), releases the table,
//! and only then drops the state. Whatever the `Drop` does sees a consistent cache and
//! takes effect at once: an object it reads moves to the MRU end and a ghost it loads
//! joins there, past the end of this sweep's walk, so this sweep does not evict them (a
//! later one can). The walk's position lives in the table (`walk_next`, `walk_last`) and
//! `unlink` keeps it on ring members whatever leaves the ring meanwhile.
//!
//! Each sweep adds what it evicted to the cache's `evictions` and, when that is not zero,
//! reports it as a `sweep` event at debug level once the table is released.
//!
//! When its walk is over, a sweep gives back the memory of a past peak: a table far below
//! its capacity is rebuilt at its size (`Table::shrink_if_sparse`; amortised over the
//! removals that emptied it, so the sweep's cost stays proportional to its work).

use super::slab::Slot;
use super::{Cache, CacheShared, Holder, Table};
use crate::any_object::Strong;
use crate::state::PState;

impl Cache {
    /// Evicts least recently used clean objects until the limits are met (docs/spec.md §3.2):
    /// the count target is `cache_size`, lowered by drain resistance when that is >= 1;
    /// the byte target is `cache_size_bytes`; both 0 evicts every clean object.
    pub fn incrgc(&self) {
        let limits = self.limits();
        // Counts above i64::MAX saturate: they mean "more than any cache holds".
        let mut target = saturating_i64(limits.cache_size);
        if limits.drain_resistance >= 1 {
            let n = saturating_i64(self.ring_len());
            target = target.min(n - 1 - n / saturating_i64(limits.drain_resistance));
        }
        self.sweep(target, limits.cache_size_bytes);
    }

    /// Evicts every clean (`UpToDate`, not borrowed) object.
    pub fn full_sweep(&self) {
        self.sweep(0, 0);
    }

    /// Same as `full_sweep`.
    pub fn minimize(&self) {
        self.full_sweep();
    }

    /// Walks the ring from the LRU end up to the member that was most recent when the sweep
    /// began, ghostifying `UpToDate` objects (Changed, Sticky and borrowed ones stay in place)
    /// until `limits_met`. A sweep started during a sweep returns at once.
    fn sweep(&self, target: i64, target_bytes: u64) {
        if self.shared.sweeping.replace(true) {
            return;
        }
        // Ends the walk and the sweep however this returns, a panic in a `Drop` included
        // (otherwise the cache would never sweep again).
        let _running = Running(&self.shared);
        self.shared.table().begin_walk();
        let mut evictions = 0u64;
        while let Some(evicted) = self.evict_next(target, target_bytes) {
            evictions += 1;
            self.shared.evictions.set(self.shared.evictions.get().wrapping_add(1));
            // The table is free: the state's `Drop` may use this cache.
            evicted.erased().drop_state();
            // Dropping the last handle drops the object (already out of the map).
            drop(evicted);
        }
        let mut table = self.shared.table();
        table.end_walk();
        // Gives back the memory of a peak (after a large transaction), amortised.
        table.shrink_if_sparse();
        let loaded = table.ring_len;
        // A subscriber is user code: the table is released before the event.
        drop(table);
        if evictions > 0 {
            tracing::debug!(target: crate::trace::TARGET, evicted = evictions, loaded, "sweep");
        }
    }

    /// Under the table: walks on to the next clean member, unless the limits are met or the
    /// walk is over, and makes it a ghost out of the ring (out of the map too when the ring
    /// held the only handle). Returns the ring's handle, its state still to be dropped.
    fn evict_next(&self, target: i64, target_bytes: u64) -> Option<Strong> {
        let mut table = self.shared.table();
        loop {
            if limits_met(&table, target, target_bytes) {
                return None;
            }
            let key = table.walk_step()?;
            let Some(Slot::Member(member)) = table.slab.get(key) else { return None };
            let strong = &member.strong;
            let header = strong.header();
            if header.state.get() != PState::UpToDate || strong.is_borrowed() {
                continue;
            }
            header.state.set(PState::Ghost);
            if std::rc::Rc::strong_count(strong) == 1 {
                // Nobody else holds it: it leaves the map now.
                let oid = header.oid().expect("persistent-core bug: a cached object has no oid");
                header.cache_key.set(None);
                return match table.remove(key, oid) {
                    Some(Holder::InRing(strong)) => Some(strong),
                    _ => None,
                };
            }
            return table.leave(key);
        }
    }
}

/// A running sweep: dropping it ends the walk and clears `sweeping`.
struct Running<'a>(&'a CacheShared);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        // The table is free here (no borrow is held across the states' drops); `try` only
        // because this may run during a panic, where a second panic would abort.
        if let Ok(mut table) = self.0.table.try_borrow_mut() {
            table.end_walk();
        }
        self.0.sweeping.set(false);
    }
}

/// Whether a sweep may stop: some limit is set and every set limit is met.
fn limits_met(table: &Table, target: i64, target_bytes: u64) -> bool {
    (target != 0 || target_bytes != 0)
        && (target == 0 || i64::try_from(table.ring_len).is_ok_and(|len| len <= target))
        && (target_bytes == 0 || table.total_size <= target_bytes)
}

/// `count` as an `i64`, saturating at `i64::MAX` (a plain cast would wrap to a negative
/// target, which evicts every clean object).
fn saturating_i64(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}
