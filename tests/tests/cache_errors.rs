//! docs/spec.md §3.1: every refused cache operation is a typed error and leaves the cache (and the
//! object) exactly as it was; plus `insert/remove/new_ghost` in their success cases and the
//! seed's "Creating Objects de novo" example (section 2.6.1).

#![allow(
    clippy::needless_pass_by_value,
    reason = "test code: helpers take results by value to read well at call sites"
)]

use persistent::prelude::*;
use persistent::{Cache, CacheError, Error};
use persistent_tests::{attach, cached_item, ring_oids, Item, StubDm};

/// Everything observable about a cache, to compare before and after a refused operation.
fn snapshot(cache: &Cache) -> (usize, usize, usize, u64, Vec<u64>) {
    (
        cache.len(),
        cache.ring_len(),
        cache.non_ghost_count(),
        cache.total_estimated_size(),
        ring_oids(cache),
    )
}

fn setup() -> (std::rc::Rc<StubDm>, Jar, Cache) {
    let (dm, jar, cache) = StubDm::with_cache(&Item::numbered(42));
    for n in 1..=3 {
        let p = cached_item(&cache, n);
        p.as_object().p_set_estimated_size(100);
        std::mem::forget(p.clone()); // keep them alive through the test
    }
    (dm, jar, cache)
}

fn assert_cache_error(result: persistent::Result<()>, expected: CacheError) {
    match result {
        Err(Error::Cache(error)) => assert_eq!(error, expected),
        other => panic!("expected {expected:?}, got {other:?}"),
    }
}

#[test]
fn insert_under_another_oid_is_refused() {
    let (_dm, jar, cache) = setup();
    let before = snapshot(&cache);
    let p = P::new(Item::numbered(9));
    attach(&p, 9, &jar);
    assert_cache_error(
        cache.insert(Oid(10), &p),
        CacheError::OidMismatch { key: Oid(10), object: Some(Oid(9)) },
    );
    assert_eq!(snapshot(&cache), before);
    assert_eq!(p.p_state(), PState::UpToDate);
}

#[test]
fn insert_without_jar_is_refused() {
    let (_dm, _jar, cache) = setup();
    let before = snapshot(&cache);
    let p = P::new(Item::numbered(9));
    p.p_set_oid(Some(Oid(9))).unwrap();
    assert_cache_error(cache.insert(Oid(9), &p), CacheError::NoJar);
    assert_eq!(snapshot(&cache), before);
}

#[test]
fn insert_with_another_jar_is_refused() {
    let (_dm, _jar, cache) = setup();
    let (_other_dm, other_jar, _other_cache) = StubDm::with_cache(&Item::default());
    let before = snapshot(&cache);
    let p = P::new(Item::numbered(9));
    attach(&p, 9, &other_jar);
    assert_cache_error(cache.insert(Oid(9), &p), CacheError::OtherJar);
    assert_eq!(snapshot(&cache), before);
}

#[test]
fn a_second_object_for_a_cached_oid_is_refused() {
    let (_dm, jar, cache) = setup();
    let before = snapshot(&cache);
    let p = P::new(Item::numbered(2));
    attach(&p, 2, &jar);
    assert_cache_error(cache.insert(Oid(2), &p), CacheError::Duplicate(Oid(2)));
    assert_eq!(snapshot(&cache), before);
}

#[test]
fn inserting_the_same_object_again_is_a_no_op() {
    let (_dm, _jar, cache) = setup();
    let same = cache.get(Oid(1)).unwrap();
    let before = snapshot(&cache);
    cache.insert(Oid(1), same).unwrap();
    assert_eq!(snapshot(&cache), before);
}

#[test]
fn insert_of_a_non_ghost_joins_the_ring_with_its_size() {
    let (_dm, jar, cache) = setup();
    let p = P::new(Item::numbered(9));
    attach(&p, 9, &jar);
    p.p_set_estimated_size(1000);
    cache.insert(Oid(9), &p).unwrap();
    assert_eq!(ring_oids(&cache), vec![1, 2, 3, 9]);
    assert_eq!(cache.total_estimated_size(), 3 * 128 + 1024);
}

#[test]
fn new_ghost_refuses_an_object_with_an_oid() {
    let (_dm, _jar, cache) = setup();
    let before = snapshot(&cache);
    let p = P::<Item>::uninitialized();
    p.p_set_oid(Some(Oid(7))).unwrap();
    assert_cache_error(cache.new_ghost(Oid(8), &p), CacheError::HasOid);
    assert_eq!(snapshot(&cache), before);
    assert_eq!(p.p_oid(), Some(Oid(7)));
    assert!(p.p_jar().is_none());
}

#[test]
fn new_ghost_refuses_an_object_with_a_jar() {
    let (_dm, jar, cache) = setup();
    let before = snapshot(&cache);
    let p = P::new(Item::numbered(5));
    p.p_set_jar(Some(jar)).unwrap();
    assert_cache_error(cache.new_ghost(Oid(8), &p), CacheError::HasJar);
    assert_eq!(snapshot(&cache), before);
    assert_eq!(p.p_oid(), None);
    assert_eq!(p.read().unwrap().n, 5, "data untouched");
}

#[test]
fn new_ghost_refuses_a_cached_oid() {
    let (_dm, _jar, cache) = setup();
    let before = snapshot(&cache);
    let p = P::<Item>::uninitialized();
    assert_cache_error(cache.new_ghost(Oid(1), &p), CacheError::Duplicate(Oid(1)));
    assert_eq!(snapshot(&cache), before);
    assert_eq!(p.p_oid(), None);
    assert!(p.p_jar().is_none());
}

/// The seed's section 2.6.1: `cache.new_ghost(b'1', ob)` on a fresh `C.__new__(C)`.
#[test]
fn creating_objects_de_novo() {
    let (dm, jar, cache) = StubDm::with_cache(&Item::numbered(42));
    let ob = P::<Item>::uninitialized();
    cache.new_ghost(Oid(1), &ob).unwrap();
    assert_eq!(ob.p_changed(), None);
    assert_eq!(ob.p_jar(), Some(jar));
    assert_eq!(ob.p_oid(), Some(Oid(1)));
    assert_eq!(cache.non_ghost_count(), 0);
    assert_eq!(cache.len(), 1);
    assert_eq!(dm.loads.get(), 0, "nothing loaded");
    // First access loads it through the data manager.
    assert_eq!(ob.read().unwrap().n, 42);
    assert_eq!(cache.non_ghost_count(), 1);
}

/// A state that shares a token: while the state exists, the token has one more owner.
struct Token {
    _owner: std::rc::Rc<()>,
}

impl persistent::Persistent for Token {
    type Object = persistent::PObject<Token>;
    const TYPE_NAME: &'static str = "cache_errors::Token";

    fn encode_state(&self, _out: &mut Vec<u8>) -> persistent::Result<()> {
        Ok(())
    }

    fn decode_state(_bytes: &[u8]) -> persistent::Result<Self> {
        Ok(Token { _owner: std::rc::Rc::new(()) })
    }
}

/// docs/spec.md §3.1: `new_ghost` gives the object the oid and the cache's jar and makes it a
/// Ghost without its existing data being touched (the reference stopped clearing it); the
/// first access loads through the data manager, which replaces the data.
#[test]
fn new_ghost_leaves_existing_data_untouched() {
    let (dm, jar, cache) = StubDm::with_cache(&Token { _owner: std::rc::Rc::new(()) });
    let token = std::rc::Rc::new(());
    let ob = P::new(Token { _owner: token.clone() });
    cache.new_ghost(Oid(1), &ob).unwrap();
    assert_eq!(ob.p_state(), PState::Ghost);
    assert_eq!((ob.p_oid(), ob.p_jar()), (Some(Oid(1)), Some(jar)));
    assert_eq!((cache.len(), cache.non_ghost_count(), cache.ring_len()), (1, 0, 0));
    assert_eq!(std::rc::Rc::strong_count(&token), 2, "the existing data was not dropped");
    assert_eq!(dm.loads.get(), 0, "nothing loaded");
    ob.with(|_| ()).unwrap();
    assert_eq!(dm.loads.get(), 1, "a ghost loads on first access");
    assert_eq!(std::rc::Rc::strong_count(&token), 1, "loading replaced the old data");
    assert_eq!(cache.non_ghost_count(), 1);
}

#[test]
fn remove_leaves_the_ring_and_counters_then_jar_and_oid_may_be_cleared() {
    let (_dm, _jar, cache) = setup();
    let removed = cache.remove(Oid(2)).expect("cached");
    assert_eq!(ring_oids(&cache), vec![1, 3]);
    assert_eq!(cache.len(), 2);
    assert_eq!(cache.total_estimated_size(), 2 * 128);
    removed.header_free_check();
    let p = removed.downcast::<Item>().unwrap();
    p.p_set_jar(None).unwrap();
    p.p_set_oid(None).unwrap();
    assert_eq!(p.p_status(), "unsaved");
    assert!(cache.remove(Oid(2)).is_none());
}

/// A cached object's jar and oid cannot change; the same value is accepted.
#[test]
fn cached_objects_keep_jar_and_oid() {
    let (_dm, jar, cache) = setup();
    let p = cache.get(Oid(1)).unwrap().downcast::<Item>().unwrap();
    assert!(matches!(p.p_set_oid(Some(Oid(99))), Err(Error::CachedOidChange)));
    assert!(matches!(p.p_set_oid(None), Err(Error::CachedOidChange)));
    assert!(matches!(p.p_set_jar(None), Err(Error::CachedJarChange)));
    let (_other_dm, other_jar, _c) = StubDm::with_cache(&Item::default());
    assert!(matches!(p.p_set_jar(Some(other_jar)), Err(Error::CachedJarChange)));
    p.p_set_oid(Some(Oid(1))).unwrap();
    p.p_set_jar(Some(jar.clone())).unwrap();
    assert_eq!(p.p_oid(), Some(Oid(1)));
    assert_eq!(p.p_jar(), Some(jar));
}

#[test]
fn a_jar_has_one_cache() {
    let (_dm, jar, _cache) = StubDm::with_cache(&Item::default());
    assert!(matches!(Cache::new(&jar), Err(Error::Cache(CacheError::JarHasCache))));
}

/// Extension used above: an `ObjectRef` removed from the cache no longer counts as cached.
trait HeaderFreeCheck {
    fn header_free_check(&self);
}

impl HeaderFreeCheck for persistent::ObjectRef {
    fn header_free_check(&self) {
        // Changing the oid is allowed again once it left the cache.
        let oid = self.p_oid();
        let p = self.downcast::<Item>().unwrap();
        p.p_set_oid(Some(Oid(12345))).unwrap();
        p.p_set_oid(oid).unwrap();
    }
}
