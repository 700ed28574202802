//! Unit tests of the borrowing rule of `cache` (module comment of `cache/mod.rs`): with the
//! table borrowed, which no user code can observe, an update is never skipped silently.

use std::cell::{Cell, RefCell};

use super::ring::Table;
use super::{CacheKey, CacheLimits, CacheShared};
use crate::oid::Oid;

fn shared() -> CacheShared {
    CacheShared {
        table: RefCell::new(Table::default()),
        limits: Cell::new(CacheLimits::default()),
        sweeping: Cell::new(false),
        evictions: Cell::new(0),
        dropped: RefCell::new(Vec::new()),
    }
}

#[test]
#[should_panic(expected = "cache table is borrowed")]
fn touch_with_the_table_borrowed_is_not_skipped() {
    let shared = shared();
    let _held = shared.table.borrow_mut();
    shared.touch(CacheKey::from_index(0), 0);
}

#[test]
#[should_panic(expected = "cache table is borrowed")]
fn join_ring_with_the_table_borrowed_is_not_skipped() {
    let shared = shared();
    let _held = shared.table.borrow_mut();
    shared.join_ring(CacheKey::from_index(0));
}

#[test]
#[should_panic(expected = "cache table is borrowed")]
fn size_changed_with_the_table_borrowed_is_not_skipped() {
    let shared = shared();
    let _held = shared.table.borrow_mut();
    shared.size_changed(CacheKey::from_index(0), 1);
}

#[test]
#[should_panic(expected = "cache table is borrowed")]
fn leave_ring_with_the_table_borrowed_is_not_skipped() {
    let shared = shared();
    let _held = shared.table.borrow_mut();
    drop(shared.leave_ring(CacheKey::from_index(0)));
}

#[test]
fn an_object_dropped_with_the_table_borrowed_is_forgotten_at_the_next_operation() {
    let shared = shared();
    {
        let _held = shared.table.borrow_mut();
        shared.forget_dropped(Oid(1), CacheKey::from_index(0));
    }
    assert_eq!(shared.dropped.borrow().len(), 1, "queued, not skipped");
    drop(shared.table());
    assert!(shared.dropped.borrow().is_empty(), "applied by the next operation");
}

/// A state without fields, for objects made by the thousand.
struct Unit;

impl crate::Persistent for Unit {
    type Object = crate::PObject<Unit>;
    const TYPE_NAME: &'static str = "cache::tests::Unit";

    fn encode_state(&self, _out: &mut Vec<u8>) -> crate::Result<()> {
        Ok(())
    }

    fn decode_state(_bytes: &[u8]) -> crate::Result<Self> {
        Ok(Unit)
    }
}

/// Loads every object with the empty state; registering is accepted.
struct UnitDm;

impl crate::DataManager for UnitDm {
    fn setstate(&self, obj: &dyn crate::AnyObject) -> crate::Result<()> {
        obj.p_setstate(&[])
    }

    fn register(&self, _obj: &dyn crate::AnyObject) -> crate::Result<()> {
        Ok(())
    }
}

/// A clean object with oid `n` in `cache`.
fn cached_unit(cache: &super::Cache, n: u64) -> crate::P<Unit> {
    let p = crate::P::new(Unit);
    p.p_set_oid(Some(Oid(n))).unwrap();
    p.p_set_jar(Some(cache.jar().clone())).unwrap();
    p.p_set_estimated_size(100);
    cache.insert(Oid(n), &p).unwrap();
    p
}

/// (slot map capacity, index capacity) of `cache`.
fn capacities(cache: &super::Cache) -> (usize, usize) {
    let table = cache.shared.table.borrow();
    (table.slab.capacity(), table.index.capacity())
}

/// After a large transaction the cache holds few objects; a sweep gives back the memory of
/// the slot map and the index (rebuilt when far below capacity), and every object that is
/// still cached keeps working under its new slot: ring order, sizes, identity, loading,
/// dropping and removal.
#[test]
fn a_sweep_shrinks_a_table_far_below_its_capacity() {
    use crate::state::PState;

    let dm = std::rc::Rc::new(UnitDm);
    let jar = crate::Jar::new(&dm);
    let cache = super::Cache::new(&jar).unwrap();
    let mut all: Vec<crate::P<Unit>> = (1..=50_000).map(|n| cached_unit(&cache, n)).collect();
    let (slots, buckets) = capacities(&cache);
    assert!(slots >= 50_000 && buckets >= 50_000, "{slots} {buckets}");
    // Kept: ghosts 1..=5 (held) and Changed 10..=12 (in the ring), in that LRU order.
    let ghosts: Vec<crate::P<Unit>> = all[0..5].to_vec();
    let changed: Vec<crate::P<Unit>> = all[9..12].to_vec();
    for p in &changed {
        p.p_set_changed(Some(true)).unwrap();
    }
    all.clear();
    cache.full_sweep();
    assert_eq!((cache.len(), cache.ring_len()), (8, 3));
    let (slots, buckets) = capacities(&cache);
    assert!(slots < 1024 && buckets < 1024, "shrunk: {slots} slots, {buckets} buckets");

    let ring = |cache: &super::Cache| -> Vec<u64> {
        cache.lru_items().into_iter().map(|(oid, _)| oid.0).collect()
    };
    assert_eq!(ring(&cache), vec![10, 11, 12]);
    assert_eq!(cache.total_estimated_size(), 3 * 128);
    for p in ghosts.iter().chain(&changed) {
        let cached = cache.get(p.p_oid().unwrap()).unwrap().downcast::<Unit>().unwrap();
        assert!(crate::P::ptr_eq(p, &cached), "identity kept");
    }
    // Touching, loading, dropping and removing use the new slots.
    changed[0].p_mark_changed().unwrap();
    ghosts[0].p_activate().unwrap();
    assert_eq!(ghosts[0].p_state(), PState::UpToDate);
    assert_eq!(ring(&cache), vec![11, 12, 10, 1]);
    changed[1].p_accessed().unwrap();
    assert_eq!(ring(&cache), vec![12, 10, 1, 11]);
    let mut ghosts = ghosts;
    ghosts.truncate(3); // 4 and 5 are dropped: they leave the map
    assert_eq!(cache.len(), 6);
    assert!(cache.get(Oid(4)).is_none());
    assert!(cache.remove(Oid(12)).is_some());
    assert_eq!(ring(&cache), vec![10, 1, 11]);
    assert_eq!(cache.total_estimated_size(), 3 * 128);
    assert_eq!(cache.len(), 5);
}

/// A sweep of a table that is not sparse keeps its slots (no rebuild, no cost).
#[test]
fn a_sweep_keeps_the_table_of_a_full_cache() {
    let dm = std::rc::Rc::new(UnitDm);
    let jar = crate::Jar::new(&dm);
    let cache = super::Cache::new(&jar).unwrap();
    let all: Vec<crate::P<Unit>> = (1..=10_000).map(|n| cached_unit(&cache, n)).collect();
    let before = capacities(&cache);
    cache.full_sweep();
    assert_eq!(cache.len(), 10_000, "ghosts held by the test stay");
    assert_eq!(capacities(&cache), before);
    drop(all);
}

/// Loads nothing: runs a full sweep of `cache` (which rebuilds its sparse table, giving
/// every object a new slot), then fails.
struct SweepingDm {
    cache: std::cell::OnceCell<std::rc::Weak<super::Cache>>,
}

impl crate::DataManager for SweepingDm {
    fn setstate(&self, _obj: &dyn crate::AnyObject) -> crate::Result<()> {
        self.cache.get().and_then(std::rc::Weak::upgrade).unwrap().full_sweep();
        Err(crate::Error::Custom("setstate failed after a sweep".into()))
    }

    fn register(&self, _obj: &dyn crate::AnyObject) -> crate::Result<()> {
        Ok(())
    }
}

/// A failed load leaves the ring under the object's slot as it is after the data manager
/// ran, not a slot key read before (a sweep inside `setstate` may rebuild the table).
#[test]
fn a_load_that_fails_after_the_table_was_rebuilt_leaves_the_ring() {
    use crate::state::PState;

    let dm = std::rc::Rc::new(SweepingDm { cache: std::cell::OnceCell::new() });
    let jar = crate::Jar::new(&dm);
    let cache = std::rc::Rc::new(super::Cache::new(&jar).unwrap());
    dm.cache.set(std::rc::Rc::downgrade(&cache)).unwrap();
    let kept = cached_unit(&cache, 1);
    kept.p_set_changed(Some(true)).unwrap();
    let others: Vec<crate::P<Unit>> = (2..=6000).map(|n| cached_unit(&cache, n)).collect();
    let ghost = crate::P::<Unit>::uninitialized();
    cache.new_ghost(Oid(7000), &ghost).unwrap();
    drop(others); // held by the ring only: the sweep removes them and the table is sparse
    assert!(ghost.p_activate().is_err());
    assert_eq!(ghost.p_state(), PState::Ghost);
    let ring: Vec<u64> = cache.lru_items().into_iter().map(|(oid, _)| oid.0).collect();
    assert_eq!(ring, vec![1], "the failed object left the ring");
    assert_eq!(cache.ring_len(), 1);
    assert_eq!(cache.len(), 2);
    assert!(cache.shared.table.borrow().slab.capacity() < 1024, "the table was rebuilt");
}

/// Accepts every load without setting any state.
struct IdleDm;

impl crate::DataManager for IdleDm {
    fn setstate(&self, _obj: &dyn crate::AnyObject) -> crate::Result<()> {
        Ok(())
    }

    fn register(&self, _obj: &dyn crate::AnyObject) -> crate::Result<()> {
        Ok(())
    }
}

/// A ghost made by `new_ghost` keeps the data it had until it is loaded, but that data is
/// never taken for a loaded state: a data manager that sets none is still `NoStateLoaded`.
#[test]
fn the_data_a_new_ghost_kept_is_not_a_loaded_state() {
    use crate::state::PState;

    let dm = std::rc::Rc::new(IdleDm);
    let jar = crate::Jar::new(&dm);
    let cache = super::Cache::new(&jar).unwrap();
    let p = crate::P::new(Unit);
    cache.new_ghost(Oid(1), &p).unwrap();
    let loaded = p.p_activate();
    assert!(matches!(loaded, Err(crate::Error::NoStateLoaded { .. })), "{loaded:?}");
    assert_eq!(p.p_state(), PState::Ghost);
    assert_eq!(cache.ring_len(), 0);
}

/// A member accounts its own estimate unless `update_object_size_estimation` set another
/// size: that size survives touches and sweeps that pass it, is replaced when the object's
/// own estimate is set again, and leaves with the object (a reload accounts the estimate).
#[test]
fn an_accounted_size_set_by_the_cache_lasts_until_the_estimate_is_set_or_the_object_leaves() {
    let dm = std::rc::Rc::new(UnitDm);
    let jar = crate::Jar::new(&dm);
    let cache = super::Cache::new(&jar).unwrap();
    let first = cached_unit(&cache, 1); // 100 bytes: 128 accounted
    let second = cached_unit(&cache, 2);
    assert_eq!(cache.total_estimated_size(), 256);
    cache.update_object_size_estimation(Oid(1), 1000); // 1024
    assert_eq!(cache.total_estimated_size(), 1024 + 128);
    first.p_accessed().unwrap(); // a touch keeps it
    second.p_accessed().unwrap();
    second.p_set_changed(Some(true)).unwrap();
    first.p_set_changed(Some(true)).unwrap();
    cache.full_sweep(); // passes over Changed objects
    assert_eq!(cache.total_estimated_size(), 1024 + 128);
    first.p_set_estimated_size(200); // its own estimate again: 256
    assert_eq!(cache.total_estimated_size(), 256 + 128);
    cache.update_object_size_estimation(Oid(1), 5000); // 5056
    assert_eq!(cache.total_estimated_size(), 5056 + 128);
    first.p_set_changed(Some(false)).unwrap();
    first.p_deactivate(); // leaves with 5056
    assert_eq!(cache.total_estimated_size(), 128);
    first.p_activate().unwrap(); // back with its own estimate
    assert_eq!(cache.total_estimated_size(), 256 + 128);
    cache.update_object_size_estimation(Oid(1), 0); // 64, then removed with the object
    assert_eq!(cache.total_estimated_size(), 64 + 128);
    drop(cache.remove(Oid(1)));
    assert_eq!(cache.total_estimated_size(), 128);
}
