//! Collections in a cache: a clean collection is evicted by a sweep and comes back from its
//! data manager on the next read; a changed one, or one whose read guard is alive, stays.

use std::rc::Rc;

use persistent_collections::{PersistentList, PersistentMapping};
use persistent_core::prelude::*;
use persistent_core::Cache;
use persistent_testkit::StubDm;

fn cached_list(items: &[u8]) -> (PersistentList<u8>, Cache, Rc<StubDm>) {
    let dm = StubDm::new(PersistentList::from(items.to_vec()).p_getstate().unwrap());
    let jar = Jar::new(&dm);
    let cache = Cache::new(&jar).unwrap();
    let list = PersistentList::from(items.to_vec());
    list.p_set_oid(Some(Oid(3))).unwrap();
    list.p_set_jar(Some(jar)).unwrap();
    cache.insert(Oid(3), &list).unwrap();
    (list, cache, dm)
}

#[test]
fn clean_list_is_evicted_and_reloads_on_read() {
    let (list, cache, dm) = cached_list(&[1, 2]);
    cache.full_sweep();
    assert_eq!(list.p_state(), PState::Ghost);
    assert_eq!(cache.ring_len(), 0);
    assert_eq!(list.len().unwrap(), 2);
    assert_eq!(dm.loads.get(), 1);
    assert_eq!(cache.ring_len(), 1);
    assert_eq!(dm.accepted.get(), 0);
}

#[test]
fn changed_list_survives_a_sweep() {
    let (list, cache, dm) = cached_list(&[1]);
    list.push(2).unwrap();
    cache.full_sweep();
    assert_eq!(list.p_state(), PState::Changed);
    assert_eq!(*list.read().unwrap(), [1, 2]);
    assert_eq!(dm.loads.get(), 0);
}

#[test]
fn read_guard_keeps_the_list_in_memory() {
    let (list, cache, _dm) = cached_list(&[1]);
    let guard = list.read().unwrap();
    cache.full_sweep();
    assert_eq!(guard.as_slice(), &[1]);
    drop(guard);
    assert_eq!(list.p_state(), PState::UpToDate);
}

#[test]
fn mapping_in_a_cache_registers_once() {
    let dm = StubDm::new(Vec::new());
    let jar = Jar::new(&dm);
    let cache = Cache::new(&jar).unwrap();
    let map = PersistentMapping::<u8, u8>::new();
    map.p_set_oid(Some(Oid(4))).unwrap();
    map.p_set_jar(Some(jar)).unwrap();
    cache.insert(Oid(4), &map).unwrap();
    for i in 0..10 {
        map.insert(i, i).unwrap();
    }
    assert_eq!(dm.accepted.get(), 1);
    assert_eq!(map.len().unwrap(), 10);
}
