//! docs/spec.md §3.2 to §3.5: the sweep table, the byte limit example, what sweeps skip, cache
//! invalidation, which operations touch, symmetric size accounting, and ghosts leaving the
//! map when nobody holds them.

use persistent::prelude::*;
use persistent::{Cache, CacheLimits, Error};
use persistent_tests::{cached_item, ring_oids, Item, StubDm};

/// A cache holding 100 clean items with oids 1..=100 added in order, and their handles.
fn hundred(limits: CacheLimits) -> (std::rc::Rc<StubDm>, Cache, Vec<P<Item>>) {
    let (dm, _jar, cache) = StubDm::with_cache(&Item::numbered(42));
    cache.set_limits(limits);
    let items = (1..=100).map(|n| cached_item(&cache, n)).collect();
    (dm, cache, items)
}

#[test]
fn incrgc_follows_the_sweep_table() {
    let rows: [(usize, usize, usize); 7] =
        [(10, 0, 10), (10, 2, 10), (90, 2, 49), (90, 3, 66), (90, 1, 0), (90, 100, 90), (0, 0, 0)];
    for (cache_size, drain_resistance, expected) in rows {
        let limits = CacheLimits::default()
            .with_cache_size(cache_size)
            .with_drain_resistance(drain_resistance);
        let (_dm, cache, items) = hundred(limits);
        cache.incrgc();
        assert_eq!(
            cache.non_ghost_count(),
            expected,
            "cache_size {cache_size}, drain_resistance {drain_resistance}"
        );
        assert_eq!(cache.ring_len(), expected);
        // The survivors are the most recent ones, still in LRU order.
        let survivors: Vec<u64> = (101 - expected as u64..=100).collect();
        assert_eq!(ring_oids(&cache), survivors);
        let ghosts = items.iter().filter(|p| p.p_state() == PState::Ghost).count();
        assert_eq!(ghosts, 100 - expected);
    }
}

#[test]
fn byte_limit_alone_bounds_the_total() {
    let limits = CacheLimits::default().with_cache_size_bytes(400);
    let (_dm, cache, items) = hundred(limits);
    for p in &items {
        p.p_set_estimated_size(63); // counted as 64 bytes
    }
    assert_eq!(cache.total_estimated_size(), 6400);
    cache.incrgc();
    assert_eq!(cache.non_ghost_count(), 6);
    assert_eq!(cache.total_estimated_size(), 384);
    assert_eq!(ring_oids(&cache), vec![95, 96, 97, 98, 99, 100]);
}

#[test]
fn sweeps_skip_changed_sticky_and_borrowed_objects_which_stay_in_place() {
    let (dm, cache, items) = hundred(CacheLimits::default());
    items[0].p_set_changed(Some(true)).unwrap();
    items[1].p_set_sticky(true).unwrap();
    let guard = items[2].read().unwrap();
    assert_eq!(items[2].p_state(), PState::Sticky, "borrowed means sticky");
    cache.full_sweep();
    assert_eq!(ring_oids(&cache), vec![1, 2, 3]);
    assert_eq!(items[0].p_state(), PState::Changed);
    assert_eq!(items[1].p_state(), PState::Sticky);
    assert_eq!(guard.n, 3, "the borrowed data is intact");
    drop(guard);
    assert_eq!(items[2].p_state(), PState::UpToDate);
    cache.minimize();
    assert_eq!(ring_oids(&cache), vec![1, 2]);
    assert_eq!(dm.registered.get(), 1);
}

#[test]
fn a_sweep_over_only_changed_objects_keeps_them_all_in_order() {
    // Nothing is clean: the sweep walks the whole ring once (it stops at the member that was
    // most recent when it began) and evicts nothing. Objects touched during a sweep (by the
    // `Drop` of an evicted state) move past the end of its walk: see cache_reentrant.rs.
    let (_dm, cache, items) = hundred(CacheLimits::default());
    for p in &items {
        p.p_set_changed(Some(true)).unwrap();
    }
    cache.full_sweep();
    assert_eq!(cache.non_ghost_count(), 100);
    assert_eq!(ring_oids(&cache), (1..=100).collect::<Vec<_>>());
}

#[test]
fn invalidate_ghostifies_present_objects_changed_ones_included() {
    let (dm, cache, items) = hundred(CacheLimits::default());
    items[4].update(|i| i.n = -5).unwrap();
    let oids = vec![Oid(3), Oid(5), Oid(5000)];
    let argument = oids.clone();
    cache.invalidate(&oids).unwrap();
    assert_eq!(oids, argument, "the argument is not modified");
    assert_eq!(items[2].p_state(), PState::Ghost);
    assert_eq!(items[4].p_state(), PState::Ghost);
    assert_eq!(cache.non_ghost_count(), 98);
    // The invalidated change is lost; the object reloads from its data manager.
    assert_eq!(items[4].with(|i| i.n).unwrap(), 42);
    assert_eq!(dm.registered.get(), 1);
}

#[test]
fn invalidating_a_borrowed_object_is_an_error_and_frees_nothing() {
    let (_dm, cache, items) = hundred(CacheLimits::default());
    let guard = items[0].read().unwrap();
    let result = cache.invalidate(&[Oid(1), Oid(2)]);
    assert!(matches!(result, Err(Error::Borrowed { .. })), "{result:?}");
    assert_eq!(guard.name, "item-1");
    assert_eq!(items[1].p_state(), PState::Ghost, "the others are still invalidated");
    assert!(matches!(items[0].p_invalidate(), Err(Error::Borrowed { .. })));
}

#[test]
fn what_touches_and_what_does_not() {
    let (_dm, cache, items) = hundred(CacheLimits::default());
    let first = &items[0];
    // Metadata, Debug, equality, hashing, activate-on-active, set_changed(true): no touch.
    let _ = (first.p_oid(), first.p_state(), first.p_serial(), first.p_estimated_size());
    let _ = format!("{first:?}");
    let _ = first == &items[0];
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(first, &mut hasher);
    first.p_activate().unwrap();
    first.p_set_changed(Some(true)).unwrap();
    assert_eq!(ring_oids(&cache)[0], 1, "still least recently used");
    // Reading a field touches.
    items[1].with(|i| i.n).unwrap();
    assert_eq!(*ring_oids(&cache).last().unwrap(), 2);
    // Writing touches.
    items[2].update(|i| i.n = 0).unwrap();
    assert_eq!(*ring_oids(&cache).last().unwrap(), 3);
    // p_mtime touches.
    items[3].p_mtime().unwrap();
    assert_eq!(*ring_oids(&cache).last().unwrap(), 4);
    // Loading touches: a ghost joins at the most recent end.
    items[4].p_deactivate();
    items[4].p_activate().unwrap();
    assert_eq!(*ring_oids(&cache).last().unwrap(), 5);
}

#[test]
fn size_accounting_is_symmetric() {
    let (_dm, _jar, cache) = StubDm::with_cache(&Item::numbered(42));
    let p = P::new(Item::numbered(1));
    persistent_tests::attach(&p, 1, cache.jar());
    p.p_set_estimated_size(1000);
    cache.insert(Oid(1), &p).unwrap();
    assert_eq!(cache.total_estimated_size(), 1024, "insert of a non-ghost adds");
    p.p_deactivate();
    assert_eq!(cache.total_estimated_size(), 0, "ghostifying subtracts");
    p.p_activate().unwrap();
    assert_eq!(cache.total_estimated_size(), 1024, "loading adds");
    cache.update_object_size_estimation(Oid(1), 2000);
    assert_eq!(cache.total_estimated_size(), 2048);
    assert_eq!(p.p_estimated_size(), 1024, "the object's own estimate is not changed");
    cache.update_object_size_estimation(Oid(77), 5000);
    assert_eq!(cache.total_estimated_size(), 2048, "unknown oids are ignored");
    cache.remove(Oid(1));
    assert_eq!(cache.total_estimated_size(), 0, "removal subtracts");
}

#[test]
fn ghosts_leave_the_map_when_unheld_and_keep_identity_while_held() {
    let (_dm, cache, mut items) = hundred(CacheLimits::default());
    let kept = items[0].clone();
    items.clear();
    assert_eq!(cache.len(), 100, "non-ghosts are held by the cache");
    cache.full_sweep();
    assert_eq!(cache.non_ghost_count(), 0);
    assert_eq!(cache.len(), 1, "only the ghost someone holds stays");
    let again = cache.get(Oid(1)).unwrap().downcast::<Item>().unwrap();
    assert!(P::ptr_eq(&kept, &again), "same oid, same object");
    drop((kept, again));
    assert!(cache.is_empty(), "no leak");
}

#[test]
fn debug_info_and_items_describe_every_entry() {
    let (_dm, cache, items) = hundred(CacheLimits::default());
    items[0].p_deactivate();
    items[1].p_set_changed(Some(true)).unwrap();
    let info = cache.debug_info();
    assert_eq!(info.len(), 100);
    let first = info.iter().find(|e| e.oid == Oid(1)).unwrap();
    assert_eq!(first.state, PState::Ghost);
    assert_eq!(first.type_name, "persistent_tests::Item");
    assert_eq!(first.strong_count, 1, "only the test holds the ghost");
    let second = info.iter().find(|e| e.oid == Oid(2)).unwrap();
    assert_eq!((second.state, second.strong_count), (PState::Changed, 2));
    assert_eq!(cache.items().len(), 100);
    assert_eq!(cache.lru_items().len(), 99);
}

/// A ghost held only by another object's state is dropped when the sweep drops that state
/// (with the table released), and leaves the map at once: no dead entry stays in the map.
#[test]
fn a_ghost_dropped_during_a_sweep_leaves_the_map() {
    use persistent_tests::Node;
    let (_dm, jar, cache) = StubDm::with_cache(&Node::default());
    let child = P::<Node>::uninitialized();
    cache.new_ghost(Oid(2), &child).unwrap();
    let parent = P::new(Node { children: vec![child], ..Node::default() });
    persistent_tests::attach(&parent, 1, &jar);
    cache.insert(Oid(1), &parent).unwrap();
    assert_eq!(cache.len(), 2, "the child is held only by the parent's state");
    cache.full_sweep();
    assert_eq!(parent.p_state(), PState::Ghost);
    assert!(cache.get(Oid(2)).is_none(), "the dropped child is gone");
    assert_eq!(cache.len(), 1, "only the parent, which the test holds, is left");
    assert_eq!(cache.debug_info().len(), 1);
}

/// `p_getstate` of a loaded object reads its data: an access, so it touches (the object
/// moves to the most recently used end), as a field read does.
#[test]
fn getstate_of_a_loaded_object_touches() {
    let (_dm, cache, items) = hundred(CacheLimits::default());
    assert_eq!(ring_oids(&cache)[0], 1);
    items[0].p_getstate().unwrap();
    assert_eq!(*ring_oids(&cache).last().unwrap(), 1, "p_getstate touched");
    let mut out = Vec::new();
    items[1].p_getstate_into(&mut out).unwrap();
    assert_eq!(*ring_oids(&cache).last().unwrap(), 2, "p_getstate_into touched");
    assert_eq!(cache.non_ghost_count(), 100);
}

/// `update_object_size_estimation` changes only what the cache accounts for a ring member
/// (the reference leaves the object's `_p_estimated_size` alone); the object's own estimate
/// is what it is accounted at when it joins the ring again. Ghosts are not accounted.
#[test]
fn update_object_size_estimation_changes_only_the_accounted_size() {
    let (_dm, _jar, cache) = StubDm::with_cache(&Item::numbered(42));
    let p = cached_item(&cache, 1);
    p.p_set_estimated_size(1000);
    assert_eq!(cache.total_estimated_size(), 1024);
    cache.update_object_size_estimation(Oid(1), 5000);
    assert_eq!(cache.total_estimated_size(), 5056, "accounted as 79 units of 64 bytes");
    assert_eq!(p.p_estimated_size(), 1024);
    p.p_deactivate();
    assert_eq!(cache.total_estimated_size(), 0, "what was accounted is subtracted");
    cache.update_object_size_estimation(Oid(1), 7000);
    assert_eq!(cache.total_estimated_size(), 0, "a ghost is not accounted");
    assert_eq!(p.p_estimated_size(), 1024);
    p.p_activate().unwrap();
    assert_eq!(cache.total_estimated_size(), 1024, "joins again with its own estimate");
    // The object's own estimate, when set, is accounted again.
    p.p_set_estimated_size(100);
    assert_eq!(cache.total_estimated_size(), 128);
}

/// Limits too large for a signed count saturate (they mean "more than the cache can hold"),
/// instead of wrapping to a negative target that evicts everything.
#[test]
fn huge_limits_saturate_instead_of_wrapping() {
    for cache_size in [1usize << 63, usize::MAX] {
        let limits = CacheLimits::default().with_cache_size(cache_size);
        let (_dm, cache, _items) = hundred(limits);
        cache.incrgc();
        assert_eq!(cache.non_ghost_count(), 100, "cache_size {cache_size}: nothing evicted");
        // With a huge drain resistance, n / drain_resistance is 0: one object is drained.
        cache.set_drain_resistance(usize::MAX);
        cache.incrgc();
        assert_eq!(cache.non_ghost_count(), 99, "cache_size {cache_size}");
        assert_eq!(ring_oids(&cache), (2..=100).collect::<Vec<_>>());
    }
}
