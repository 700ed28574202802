//! Conformance of `PersistentMapping` with the plain map it stands for, in the spirit of
//! Python's `UserDict` test suite: construction, equality (through the read guard), Debug,
//! len, membership, key-order
//! iteration, update, get with and without a default, setdefault, and deterministic
//! encoding.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    reason = "test code: small test values"
)]

use std::collections::BTreeMap;

use persistent_collections::PersistentMapping;

type Map = PersistentMapping<String, i32>;

fn s(text: &str) -> String {
    text.to_string()
}

#[test]
fn construction_from_several_sources() {
    assert!(Map::new().is_empty().unwrap());
    assert!(Map::default().read().unwrap().is_empty());
    let plain = BTreeMap::from([(s("a"), 1), (s("b"), 2)]);
    let from_map = Map::from(plain.clone());
    let from_array = Map::from([(s("b"), 2), (s("a"), 1)]);
    let collected: Map = plain.clone().into_iter().collect();
    let from_other = Map::from(from_map.to_map().unwrap());
    for map in [&from_array, &collected, &from_other] {
        assert_eq!(*map.read().unwrap(), *from_map.read().unwrap());
    }
    let duplicate_keys = Map::from([(s("a"), 1), (s("a"), 2)]);
    assert_eq!(duplicate_keys.get("a").unwrap(), Some(2), "the later one wins");
}

/// The mapping has no content `PartialEq` (a read can fail); the guard derefs to the
/// `BTreeMap`, which compares with other guards and plain maps.
#[test]
fn equality_by_content_through_the_guard() {
    let a = Map::from([(s("a"), 1)]);
    assert_eq!(*a.read().unwrap(), *Map::from([(s("a"), 1)]).read().unwrap());
    assert_eq!(*a.read().unwrap(), BTreeMap::from([(s("a"), 1)]));
    assert_eq!(BTreeMap::from([(s("a"), 1)]), *a.read().unwrap());
    assert_ne!(*a.read().unwrap(), *Map::from([(s("a"), 2)]).read().unwrap());
    assert_ne!(*a.read().unwrap(), *Map::new().read().unwrap());
}

#[test]
fn debug_prints_like_a_btreemap() {
    assert_eq!(format!("{:?}", Map::from([(s("a"), 1)])), r#"{"a": 1}"#);
    assert_eq!(format!("{:?}", Map::new()), "{}");
    let numbers = PersistentMapping::from([(2, 'b'), (1, 'a')]);
    assert_eq!(format!("{numbers:?}"), "{1: 'a', 2: 'b'}");
}

#[test]
fn len_membership_and_key_order_iteration() {
    let map = Map::from([(s("c"), 3), (s("a"), 1), (s("b"), 2)]);
    assert_eq!(map.len().unwrap(), 3);
    assert!(map.contains_key("a").unwrap());
    assert!(!map.contains_key("z").unwrap());
    let guard = map.read().unwrap();
    let keys: Vec<&str> = (&guard).into_iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["a", "b", "c"]);
    assert_eq!(guard.values().sum::<i32>(), 6);
    assert_eq!(guard.first_key_value(), Some((&s("a"), &1)));
    assert_eq!(guard.range(s("b")..).count(), 2);
}

#[test]
fn update_from_several_sources() {
    let map = Map::new();
    map.extend([(s("a"), 1)]).unwrap();
    map.extend(BTreeMap::from([(s("b"), 2), (s("a"), 10)])).unwrap();
    map.extend(vec![(s("c"), 3)]).unwrap();
    assert_eq!(*map.read().unwrap(), BTreeMap::from([(s("a"), 10), (s("b"), 2), (s("c"), 3)]));
}

#[test]
fn get_with_and_without_a_default() {
    let map = Map::from([(s("a"), 1)]);
    assert_eq!(map.get("a").unwrap(), Some(1));
    assert_eq!(map.get("b").unwrap(), None);
    assert_eq!(map.get("b").unwrap().unwrap_or(42), 42);
    assert_eq!(map.get("a").unwrap().unwrap_or(42), 1);
}

#[test]
fn setdefault() {
    let map = Map::new();
    assert_eq!(map.entry_or_insert(s("a"), 1).unwrap(), 1);
    assert_eq!(map.entry_or_insert(s("a"), 2).unwrap(), 1);
    assert_eq!(map.get_or_insert_with(s("b"), || 3).unwrap(), 3);
    assert_eq!(*map.read().unwrap(), BTreeMap::from([(s("a"), 1), (s("b"), 3)]));
}

#[test]
fn pop_and_popitem() {
    let map = Map::from([(s("a"), 1), (s("b"), 2), (s("c"), 3)]);
    assert_eq!(map.remove("b").unwrap(), Some(2));
    assert_eq!(map.remove("b").unwrap(), None);
    assert_eq!(map.pop_last().unwrap(), Some((s("c"), 3)));
    assert_eq!(map.pop_first().unwrap(), Some((s("a"), 1)));
    assert_eq!(map.pop_first().unwrap(), None);
}

#[test]
fn encoding_is_deterministic() {
    let forward = Map::new();
    for (i, k) in ["a", "b", "c", "d"].into_iter().enumerate() {
        forward.insert(s(k), i as i32).unwrap();
    }
    let backward = Map::new();
    for (i, k) in ["a", "b", "c", "d"].into_iter().enumerate().rev() {
        backward.insert(s(k), i as i32).unwrap();
    }
    let scrambled = Map::from([(s("c"), 2), (s("a"), 0), (s("d"), 3), (s("b"), 1)]);
    let bytes = forward.p_getstate().unwrap();
    assert_eq!(bytes, backward.p_getstate().unwrap());
    assert_eq!(bytes, scrambled.p_getstate().unwrap());
    let round = Map::new();
    round.p_setstate(&bytes).unwrap();
    assert_eq!(*round.read().unwrap(), *forward.read().unwrap());
}

#[test]
fn try_clone_copies_content_not_identity() {
    let map = Map::from([(s("a"), 1)]);
    let copy = map.try_clone().unwrap();
    copy.insert(s("b"), 2).unwrap();
    assert_eq!(map.len().unwrap(), 1);
    assert_eq!(copy.len().unwrap(), 2);
    map.share().insert(s("c"), 3).unwrap();
    assert_eq!(map.len().unwrap(), 2, "share() shares identity");
}
