//! Statistics of connections and databases (docs/spec.md §6.1): the public snapshots
//! `ConnectionStats` and `DatabaseStats`, the connection's own counters (`Counters`, plain
//! cells bumped on the connection's thread) and the database's totals (`Totals`, relaxed
//! atomics that each connection adds its counts to at every transaction boundary, at
//! `close` and when it is dropped).
//!
//! What does not live here: the eviction counter, which belongs to the cache (a cache sweeps
//! without any connection; `Cache::evictions`), and the places that count (loader, commit,
//! `transact`). Nothing here is per object: no counter sits in a cache slot or a header.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What one connection did since it was opened (`Connection::stats`). A snapshot: the
/// counts go on moving, this copy does not.
///
/// Every count is kept always, at the cost of a cell increment where it happens: no count
/// is taken on a field read or write. The rules of each count are in docs/spec.md §6.1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionStats {
    /// Ghosts loaded: each state read into a ghost (from the storage at the transaction's
    /// snapshot, from a record read ahead by `Connection::prefetch`, or back from a
    /// savepoint's spill area) that completed. A failed load is not counted.
    pub loads: u64,
    /// Records written by commits that landed: one per object stored (a merged conflict
    /// counts once, as the record written).
    pub stores: u64,
    /// Oid look-ups that found the object in the cache's identity map, ghost or not:
    /// `Connection::get` (and `root`) of a cached oid, and each reference decoded from a
    /// record to an object this connection already holds. What ZODB's identity map saves.
    pub cache_hits: u64,
    /// Oid look-ups that did not: the connection made a new ghost (`Connection::get` then
    /// loads it at once; a decoded reference loads when first used).
    pub cache_misses: u64,
    /// Objects made ghosts by this connection's cache sweeps (`incrgc` at boundaries and
    /// while loading, `full_sweep`, `minimize`); invalidations and aborts are not evictions.
    pub evictions: u64,
    /// Write conflicts the storage reported to this connection's commits (a read-current
    /// check that failed included), whether or not they were then resolved.
    pub conflicts: u64,
    /// Conflicts merged by the objects' types, so that the commit went on (docs/spec.md §8);
    /// counted once the commit lands.
    pub conflicts_resolved: u64,
    /// Times `transact` ran its closure again after a conflict.
    pub retries: u64,
    /// Commits that wrote to the storage and landed (a commit with nothing to write is not
    /// counted).
    pub commits: u64,
    /// The total wall time of those commits, from the call of `commit` to its return.
    pub commit_time: Duration,
}

/// What every connection of a database did since the database was opened
/// (`Database::stats`), closed and dropped connections included. A snapshot.
///
/// Each connection adds its counts to the database's at every transaction boundary
/// (`commit`, `abort`, and so `transact`), at `close`, and when it is dropped: between two
/// boundaries, the work of a running transaction shows in `Connection::stats` but not yet
/// here. The fields mean what `ConnectionStats`'s do, summed (docs/spec.md §6.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DatabaseStats {
    /// Connections opened (historical ones included).
    pub connections: u64,
    /// Ghosts loaded (`ConnectionStats::loads`).
    pub loads: u64,
    /// Records written by commits that landed (`ConnectionStats::stores`).
    pub stores: u64,
    /// Look-ups found in a connection's cache (`ConnectionStats::cache_hits`).
    pub cache_hits: u64,
    /// Look-ups that made a new ghost (`ConnectionStats::cache_misses`).
    pub cache_misses: u64,
    /// Objects made ghosts by cache sweeps (`ConnectionStats::evictions`).
    pub evictions: u64,
    /// Write conflicts reported by the storage (`ConnectionStats::conflicts`).
    pub conflicts: u64,
    /// Conflicts merged (`ConnectionStats::conflicts_resolved`).
    pub conflicts_resolved: u64,
    /// `transact` retries (`ConnectionStats::retries`).
    pub retries: u64,
    /// Commits that wrote and landed (`ConnectionStats::commits`).
    pub commits: u64,
    /// The total wall time of those commits (`ConnectionStats::commit_time`).
    pub commit_time: Duration,
}

/// One connection's counters, bumped on its own thread. The evictions are its cache's.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) loads: Cell<u64>,
    pub(crate) stores: Cell<u64>,
    pub(crate) cache_hits: Cell<u64>,
    pub(crate) cache_misses: Cell<u64>,
    pub(crate) conflicts: Cell<u64>,
    pub(crate) conflicts_resolved: Cell<u64>,
    pub(crate) retries: Cell<u64>,
    pub(crate) commits: Cell<u64>,
    pub(crate) commit_time: Cell<Duration>,
    /// What was already added to the database's totals.
    flushed: Cell<ConnectionStats>,
}

/// Adds one to a counter.
pub(crate) fn bump(counter: &Cell<u64>) {
    counter.set(counter.get().wrapping_add(1));
}

impl Counters {
    /// The counts so far, with `evictions` from the connection's cache.
    pub(crate) fn snapshot(&self, evictions: u64) -> ConnectionStats {
        ConnectionStats {
            loads: self.loads.get(),
            stores: self.stores.get(),
            cache_hits: self.cache_hits.get(),
            cache_misses: self.cache_misses.get(),
            evictions,
            conflicts: self.conflicts.get(),
            conflicts_resolved: self.conflicts_resolved.get(),
            retries: self.retries.get(),
            commits: self.commits.get(),
            commit_time: self.commit_time.get(),
        }
    }

    /// A commit that landed after `took`, having stored `records`.
    pub(crate) fn commit_landed(&self, records: usize, took: Duration) {
        bump(&self.commits);
        self.stores.set(self.stores.get().wrapping_add(records as u64));
        self.commit_time.set(self.commit_time.get().saturating_add(took));
    }

    /// Adds what was counted since the last flush (`now` is the current snapshot) to the
    /// database's totals.
    pub(crate) fn flush(&self, now: ConnectionStats, totals: &Totals) {
        let before = self.flushed.replace(now);
        let add = |total: &AtomicU64, now: u64, before: u64| {
            let delta = now.wrapping_sub(before);
            if delta != 0 {
                total.fetch_add(delta, Ordering::Relaxed);
            }
        };
        add(&totals.loads, now.loads, before.loads);
        add(&totals.stores, now.stores, before.stores);
        add(&totals.cache_hits, now.cache_hits, before.cache_hits);
        add(&totals.cache_misses, now.cache_misses, before.cache_misses);
        add(&totals.evictions, now.evictions, before.evictions);
        add(&totals.conflicts, now.conflicts, before.conflicts);
        add(&totals.conflicts_resolved, now.conflicts_resolved, before.conflicts_resolved);
        add(&totals.retries, now.retries, before.retries);
        add(&totals.commits, now.commits, before.commits);
        let nanos = now.commit_time.saturating_sub(before.commit_time).as_nanos();
        add(&totals.commit_nanos, u64::try_from(nanos).unwrap_or(u64::MAX), 0);
    }
}

/// A database's totals, shared by its clones and its connections' threads.
#[derive(Default)]
pub(crate) struct Totals {
    pub(crate) connections: AtomicU64,
    loads: AtomicU64,
    stores: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    evictions: AtomicU64,
    conflicts: AtomicU64,
    conflicts_resolved: AtomicU64,
    retries: AtomicU64,
    commits: AtomicU64,
    commit_nanos: AtomicU64,
}

impl Totals {
    /// The totals now. Each count is read on its own (relaxed): a snapshot taken while a
    /// connection flushes may hold part of that flush.
    pub(crate) fn snapshot(&self) -> DatabaseStats {
        let read = |total: &AtomicU64| total.load(Ordering::Relaxed);
        DatabaseStats {
            connections: read(&self.connections),
            loads: read(&self.loads),
            stores: read(&self.stores),
            cache_hits: read(&self.cache_hits),
            cache_misses: read(&self.cache_misses),
            evictions: read(&self.evictions),
            conflicts: read(&self.conflicts),
            conflicts_resolved: read(&self.conflicts_resolved),
            retries: read(&self.retries),
            commits: read(&self.commits),
            commit_time: Duration::from_nanos(read(&self.commit_nanos)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flush_adds_only_what_was_counted_since_the_last_one() {
        let counters = Counters::default();
        let totals = Totals::default();
        bump(&counters.loads);
        counters.commit_landed(3, Duration::from_millis(2));
        counters.flush(counters.snapshot(5), &totals);
        bump(&counters.loads);
        counters.flush(counters.snapshot(7), &totals);
        counters.flush(counters.snapshot(7), &totals);
        let stats = totals.snapshot();
        assert_eq!((stats.loads, stats.stores, stats.commits, stats.evictions), (2, 3, 1, 7));
        assert_eq!(stats.commit_time, Duration::from_millis(2));
    }
}
