//! Conformance of `PersistentList` with the plain list it stands for, in the spirit of
//! Python's `UserList` test suite: construction, equality (through the read guard), Debug,
//! len, membership, iteration, position, extend, sorting, access with and without a default.

use persistent_collections::PersistentList;

#[test]
fn construction_from_several_sources() {
    let empty: PersistentList<i32> = PersistentList::new();
    assert!(empty.is_empty().unwrap());
    assert!(PersistentList::<i32>::default().read().unwrap().is_empty());
    let from_vec = PersistentList::from(vec![1, 2, 3]);
    let from_array = PersistentList::from([1, 2, 3]);
    let collected: PersistentList<i32> = (1..=3).collect();
    let from_other = PersistentList::from(from_vec.to_vec().unwrap());
    for list in [&from_array, &collected, &from_other] {
        assert_eq!(*list.read().unwrap(), *from_vec.read().unwrap());
    }
    let strings: PersistentList<String> =
        ["a", "b"].iter().map(std::string::ToString::to_string).collect();
    assert_eq!(strings.len().unwrap(), 2);
}

/// The list has no content `PartialEq` (a read can fail); the guard derefs to `Vec<T>`,
/// which compares with lists, vectors, arrays and slices.
#[test]
fn equality_by_content_through_the_guard() {
    let a = PersistentList::from(vec![1, 2]);
    let b = PersistentList::from(vec![1, 2]);
    assert_eq!(*a.read().unwrap(), *b.read().unwrap());
    assert_eq!(*a.read().unwrap(), vec![1, 2]);
    assert_eq!(vec![1, 2], *a.read().unwrap());
    assert_eq!(*a.read().unwrap(), [1, 2]);
    assert!(a.read().unwrap()[..] == [1, 2][..]);
    assert_eq!(*a.read().unwrap(), *a.read().unwrap(), "two guards on one list");
    assert_ne!(*a.read().unwrap(), *PersistentList::from(vec![2, 1]).read().unwrap());
    assert_ne!(*a.read().unwrap(), vec![1, 2, 3]);
}

#[test]
fn debug_prints_like_a_vec() {
    assert_eq!(format!("{:?}", PersistentList::from([1, 2, 3])), "[1, 2, 3]");
    assert_eq!(format!("{:?}", PersistentList::<u8>::new()), "[]");
    let words = PersistentList::from(["x".to_string()]);
    assert_eq!(format!("{words:?}"), r#"["x"]"#);
    assert_eq!(format!("{:?}", words.read().unwrap()), r#"["x"]"#);
}

#[test]
fn len_contains_and_iteration() {
    let list = PersistentList::from([5, 6, 7]);
    assert_eq!(list.len().unwrap(), 3);
    assert!(list.contains(&6).unwrap());
    assert!(!list.contains(&8).unwrap());
    let guard = list.read().unwrap();
    let mut seen = Vec::new();
    for x in &guard {
        seen.push(*x);
    }
    assert_eq!(seen, [5, 6, 7]);
    assert_eq!(guard.iter().rev().copied().collect::<Vec<_>>(), [7, 6, 5]);
    assert_eq!(guard.first(), Some(&5));
    assert_eq!(&guard[1..], &[6, 7]);
}

#[test]
fn position_of_an_element() {
    let list = PersistentList::from(["a", "b", "c", "b"].map(String::from));
    let guard = list.read().unwrap();
    assert_eq!(guard.iter().position(|s| s == "b"), Some(1));
    assert_eq!(guard.iter().rposition(|s| s == "b"), Some(3));
    assert_eq!(guard.iter().position(|s| s == "z"), None);
    assert_eq!(guard.iter().filter(|s| *s == "b").count(), 2);
}

#[test]
fn extend_from_several_sources() {
    let list = PersistentList::from([1]);
    list.extend(vec![2, 3]).unwrap();
    list.extend([4]).unwrap();
    list.extend(5..=6).unwrap();
    let other = PersistentList::from([7, 8]);
    list.extend(other.to_vec().unwrap()).unwrap();
    assert_eq!(*list.read().unwrap(), (1..=8).collect::<Vec<_>>());
}

#[test]
fn sort_with_a_key_and_reversed() {
    let words = PersistentList::from(["ccc", "a", "bb"].map(String::from));
    words.sort_by_key(std::string::String::len).unwrap();
    assert_eq!(*words.read().unwrap(), ["a", "bb", "ccc"].map(String::from));
    words.sort_by_key(|w| std::cmp::Reverse(w.len())).unwrap();
    assert_eq!(*words.read().unwrap(), ["ccc", "bb", "a"].map(String::from));
    let numbers = PersistentList::from([3, 1, 2]);
    numbers.sort_by(|a, b| b.cmp(a)).unwrap();
    assert_eq!(*numbers.read().unwrap(), [3, 2, 1]);
    numbers.sort().unwrap();
    numbers.reverse().unwrap();
    assert_eq!(*numbers.read().unwrap(), [3, 2, 1]);
}

#[test]
fn sort_is_stable() {
    let pairs = PersistentList::from([(1, 'b'), (0, 'x'), (1, 'a')]);
    pairs.sort_by_key(|p| p.0).unwrap();
    assert_eq!(*pairs.read().unwrap(), [(0, 'x'), (1, 'b'), (1, 'a')]);
}

#[test]
fn get_with_and_without_a_default() {
    let list = PersistentList::from([10, 20]);
    assert_eq!(list.get(1).unwrap(), Some(20));
    assert_eq!(list.get(2).unwrap(), None);
    assert_eq!(list.get(2).unwrap().unwrap_or(-1), -1);
}

#[test]
fn try_clone_copies_content_not_identity() {
    let list = PersistentList::from([1, 2]);
    let copy = list.try_clone().unwrap();
    copy.push(3).unwrap();
    assert_eq!(*list.read().unwrap(), [1, 2]);
    assert_eq!(*copy.read().unwrap(), [1, 2, 3]);
    let same = PersistentList::from_handle(list.handle().clone());
    same.push(9).unwrap();
    assert_eq!(*list.read().unwrap(), [1, 2, 9], "a handle clone shares identity");
    list.share().push(10).unwrap();
    assert_eq!(*same.read().unwrap(), [1, 2, 9, 10], "share() shares identity");
}

#[test]
fn state_round_trips() {
    let list = PersistentList::from(vec![Some(1u64), None, Some(u64::MAX)]);
    let bytes = list.p_getstate().unwrap();
    let other = PersistentList::<Option<u64>>::new();
    other.p_setstate(&bytes).unwrap();
    assert_eq!(*other.read().unwrap(), *list.read().unwrap());
    assert!(other.p_setstate(&[0xff]).is_err());
    assert_eq!(*other.read().unwrap(), *list.read().unwrap(), "bad bytes leave the old state");
}
