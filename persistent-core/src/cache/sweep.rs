//! The cache sweeps of docs/spec.md §3.2: `incrgc` (down to the limits, with drain resistance),
//! `full_sweep` and `minimize` (every clean object). A sweep walks the ring from the LRU end
//! and costs what it evicts plus what it skips, never the cache size.

use super::{Cache, Table};
use crate::object::Strong;
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

    /// Evicts every clean (UpToDate, not borrowed) object.
    pub fn full_sweep(&self) {
        self.sweep(0, 0);
    }

    /// Same as `full_sweep`.
    pub fn minimize(&self) {
        self.full_sweep();
    }

    /// Walks the ring from the LRU end up to the member that was most recent when the sweep
    /// began, ghostifying UpToDate objects (Changed, Sticky and borrowed ones stay in place)
    /// until `limits_met`. A sweep started during a sweep returns at once.
    fn sweep(&self, target: i64, target_bytes: u64) {
        if self.shared.sweeping.replace(true) {
            return;
        }
        let mut released: Vec<Strong> = Vec::new();
        if let Ok(mut table) = self.shared.table() {
            let stop_at = table.tail;
            let mut cursor = table.head;
            while let Some(key) = cursor {
                if limits_met(&table, target, target_bytes) {
                    break;
                }
                let entry = &table.entries[key];
                cursor = entry.next;
                let super::Holder::InRing(strong) = &entry.holder else { break };
                let obj = strong.erased();
                if obj.header().state.get() == PState::UpToDate && !obj.is_borrowed() {
                    // Dropping the state here may drop other objects of this cache; their
                    // entries are removed at the next operation (`forget_dropped`).
                    obj.drop_state();
                    obj.header().state.set(PState::Ghost);
                    if std::rc::Rc::strong_count(strong) == 1 {
                        // Nobody else holds it: it leaves the map now.
                        obj.header().cache_key.set(None);
                        if let Some(super::Holder::InRing(strong)) = table.remove(key) {
                            released.push(strong);
                        }
                    } else {
                        released.extend(table.leave(key));
                    }
                }
                if Some(key) == stop_at {
                    break;
                }
            }
        }
        self.shared.sweeping.set(false);
        // Dropping the released handles may drop objects, which then leave the table.
        drop(released);
    }
}

/// Whether a sweep may stop: some limit is set and every set limit is met.
fn limits_met(table: &Table, target: i64, target_bytes: u64) -> bool {
    (target != 0 || target_bytes != 0)
        && (target == 0 || (table.ring_len as i64) <= target)
        && (target_bytes == 0 || table.total_size <= target_bytes)
}

/// `count` as an `i64`, saturating at `i64::MAX` (a plain cast would wrap to a negative
/// target, which evicts every clean object).
fn saturating_i64(count: usize) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}
