//! Every row of docs/spec.md §4's `PersistentMapping` table: each operation on a saved
//! mapping (oid and jar set, `UpToDate`, no registration yet) checked for the resulting
//! contents, the state and the number of `register` calls. Also: ghosts load first, unsaved
//! mappings mark nothing, a refused registration or a live read guard changes nothing.

#![allow(
    clippy::redundant_closure_for_method_calls,
    reason = "test code: method paths are ambiguous here"
)]

mod common;

use std::collections::BTreeMap;
use std::rc::Rc;

use common::{attach, attach_loading};
use persistent_collections::PersistentMapping;
use persistent_core::prelude::*;
use persistent_core::{Error, Result};
use persistent_testkit::StubDm;

type Map = PersistentMapping<String, i32>;

fn map_of(entries: &[(&str, i32)]) -> BTreeMap<String, i32> {
    entries.iter().map(|&(k, v)| (k.to_string(), v)).collect()
}

/// Applies `op` to a saved mapping holding `initial`, then checks contents, state and
/// registrations (`marks`: Changed and registered once; else `UpToDate` and none).
fn row<R>(
    initial: &[(&str, i32)],
    op: impl FnOnce(&Map) -> Result<R>,
    marks: bool,
    expect: &[(&str, i32)],
) -> Result<R> {
    let map = Map::from(map_of(initial));
    let dm = attach(map.handle());
    assert_eq!(map.p_state(), PState::UpToDate);
    let out = op(&map);
    assert_eq!(*map.read().unwrap(), map_of(expect), "contents");
    let (state, registered) = if marks { (PState::Changed, 1) } else { (PState::UpToDate, 0) };
    assert_eq!(map.p_state(), state, "state");
    assert_eq!(dm.registered.get(), registered, "register calls");
    assert_eq!(dm.accepted.get(), registered, "registrations accepted");
    out
}

#[test]
fn insert_marks() {
    let old = row(&[("a", 1)], |m| m.insert("b".into(), 2), true, &[("a", 1), ("b", 2)]);
    assert_eq!(old.unwrap(), None);
}

#[test]
fn insert_equal_value_marks() {
    let old = row(&[("a", 1)], |m| m.insert("a".into(), 1), true, &[("a", 1)]);
    assert_eq!(old.unwrap(), Some(1));
}

#[test]
fn remove_present_key_marks() {
    let removed = row(&[("a", 1), ("b", 2)], |m| m.remove("a"), true, &[("b", 2)]);
    assert_eq!(removed.unwrap(), Some(1));
}

#[test]
fn remove_missing_key_does_not_mark() {
    let removed = row(&[("a", 1)], |m| m.remove("z"), false, &[("a", 1)]);
    assert_eq!(removed.unwrap(), None);
}

#[test]
fn pop_first_and_last_mark_when_non_empty() {
    let first = row(&[("a", 1), ("b", 2)], |m| m.pop_first(), true, &[("b", 2)]);
    assert_eq!(first.unwrap(), Some(("a".into(), 1)));
    let last = row(&[("a", 1), ("b", 2)], |m| m.pop_last(), true, &[("a", 1)]);
    assert_eq!(last.unwrap(), Some(("b".into(), 2)));
}

#[test]
fn pop_first_and_last_on_empty_do_not_mark() {
    assert_eq!(row(&[], |m| m.pop_first(), false, &[]).unwrap(), None);
    assert_eq!(row(&[], |m| m.pop_last(), false, &[]).unwrap(), None);
}

#[test]
fn entry_or_insert_inserting_marks() {
    let v = row(&[], |m| m.entry_or_insert("a".into(), 5), true, &[("a", 5)]);
    assert_eq!(v.unwrap(), 5);
}

#[test]
fn entry_or_insert_present_does_not_mark() {
    let v = row(&[("a", 1)], |m| m.entry_or_insert("a".into(), 5), false, &[("a", 1)]);
    assert_eq!(v.unwrap(), 1);
}

#[test]
fn get_or_insert_with_calls_only_when_absent() {
    let v = row(
        &[("a", 1)],
        |m| m.get_or_insert_with("a".into(), || panic!("must not run")),
        false,
        &[("a", 1)],
    );
    assert_eq!(v.unwrap(), 1);
    let v = row(&[], |m| m.get_or_insert_with("b".into(), || 7), true, &[("b", 7)]);
    assert_eq!(v.unwrap(), 7);
}

#[test]
fn extend_marks() {
    row(&[("a", 1)], |m| m.extend([("b".into(), 2)]), true, &[("a", 1), ("b", 2)]).unwrap();
}

#[test]
fn extend_with_nothing_marks() {
    row(&[("a", 1)], |m| m.extend([]), true, &[("a", 1)]).unwrap();
}

#[test]
fn retain_removing_marks() {
    row(&[("a", 1), ("b", 2)], |m| m.retain(|_, v| *v > 1), true, &[("b", 2)]).unwrap();
}

#[test]
fn retain_keeping_all_does_not_mark() {
    row(&[("a", 1)], |m| m.retain(|_, _| true), false, &[("a", 1)]).unwrap();
}

#[test]
fn clear_marks_when_non_empty() {
    row(&[("a", 1)], |m| m.clear(), true, &[]).unwrap();
}

#[test]
fn clear_empty_does_not_mark() {
    row(&[], |m| m.clear(), false, &[]).unwrap();
}

#[test]
fn reads_do_not_mark() {
    row(
        &[("a", 1), ("b", 2)],
        |m| {
            assert_eq!(m.len()?, 2);
            assert!(!m.is_empty()?);
            assert_eq!(m.get("a")?, Some(1));
            assert_eq!(m.get("z")?, None);
            assert!(m.contains_key("b")?);
            assert_eq!(m.read()?.keys().cloned().collect::<Vec<_>>(), ["a", "b"]);
            assert_eq!(format!("{m:?}"), r#"{"a": 1, "b": 2}"#);
            assert!(*m.read()? == map_of(&[("a", 1), ("b", 2)]));
            m.p_getstate().map(drop)
        },
        false,
        &[("a", 1), ("b", 2)],
    )
    .unwrap();
}

#[test]
fn try_clone_is_a_new_unsaved_mapping_and_original_unmarked() {
    let copy = row(&[("a", 1)], |m| m.try_clone(), false, &[("a", 1)]).unwrap();
    assert_eq!(*copy.read().unwrap(), map_of(&[("a", 1)]));
    assert_eq!(copy.p_status(), "unsaved");
    assert_eq!(copy.p_oid(), None);
}

// ----- ghosts, unsaved mappings, failures --------------------------------------------------

fn ghost(loads: &[(&str, i32)]) -> (Map, Rc<StubDm>) {
    let bytes = Map::from(map_of(loads)).p_getstate().unwrap();
    let map = Map::from_handle(P::uninitialized());
    let dm = attach_loading(map.handle(), bytes);
    assert_eq!(map.p_state(), PState::Ghost);
    (map, dm)
}

#[test]
fn ghost_loads_before_a_marking_op() {
    let (map, dm) = ghost(&[("a", 1)]);
    map.insert("b".into(), 2).unwrap();
    assert_eq!((dm.loads.get(), dm.accepted.get()), (1, 1));
    assert_eq!(map.p_state(), PState::Changed);
    assert_eq!(*map.read().unwrap(), map_of(&[("a", 1), ("b", 2)]));
}

#[test]
fn debug_of_a_ghost_does_not_load_it() {
    let (map, dm) = ghost(&[("a", 1)]);
    let printed = format!("{map:?}");
    assert!(printed.contains("object at 0x") && printed.contains("oid 0x"), "{printed}");
    assert_eq!(map.p_state(), PState::Ghost);
    assert_eq!(dm.loads.get(), 0);
    assert!(map.contains_key("a").unwrap());
    assert_eq!(format!("{map:?}"), r#"{"a": 1}"#, "loaded: prints the content");
    assert_eq!(dm.loads.get(), 1);
}

#[test]
fn debug_of_a_ghost_that_cannot_load_does_not_try() {
    let (map, dm) = ghost(&[("a", 1)]);
    dm.fail_setstate.set(true);
    assert!(map.try_clone().is_err());
    assert_eq!(dm.loads.get(), 1);
    assert!(format!("{map:?}").contains("object at 0x"));
    assert_eq!(dm.loads.get(), 1);
    assert_eq!(map.p_state(), PState::Ghost);
}

#[test]
fn debug_during_a_write_prints_the_representation() {
    let map = Map::from(map_of(&[("a", 1), ("b", 2)]));
    let during = std::cell::RefCell::new(String::new());
    map.retain(|_, _| {
        *during.borrow_mut() = format!("{map:?}");
        true
    })
    .unwrap();
    assert_eq!(*during.borrow(), r#"{"a": 1, "b": 2}"#, "retain's verdicts run under a read");
    let guard = map.handle().as_object().write().unwrap();
    assert!(format!("{map:?}").contains("object at 0x"));
    drop(guard);
    assert_eq!(format!("{map:?}"), r#"{"a": 1, "b": 2}"#);
}

#[test]
fn ghost_loads_before_a_non_marking_op() {
    let (map, dm) = ghost(&[("a", 1)]);
    assert_eq!(map.remove("z").unwrap(), None);
    assert_eq!((dm.loads.get(), dm.accepted.get()), (1, 0));
    assert_eq!(map.p_state(), PState::UpToDate);
}

#[test]
fn ghost_with_refused_register_is_a_ghost_again_and_unmarked() {
    let (map, dm) = ghost(&[("a", 1)]);
    dm.fail_register.set(true);
    assert!(matches!(map.insert("b".into(), 2), Err(Error::Custom(_))));
    assert_eq!(map.p_state(), PState::Ghost, "the failed write leaves it as it was");
    assert_eq!((dm.registered.get(), dm.accepted.get()), (1, 0), "asked once, refused");
    dm.fail_register.set(false);
    assert_eq!(*map.read().unwrap(), map_of(&[("a", 1)]));
}

#[test]
fn without_a_jar_nothing_is_marked() {
    let map = Map::new();
    map.insert("a".into(), 1).unwrap();
    map.extend([("b".into(), 2)]).unwrap();
    map.remove("a").unwrap();
    map.clear().unwrap();
    assert_eq!(map.p_state(), PState::UpToDate);
    assert_eq!(map.p_status(), "unsaved");
}

#[test]
fn refused_register_changes_nothing() {
    let map = Map::from(map_of(&[("a", 1)]));
    let dm = attach(map.handle());
    dm.fail_register.set(true);
    assert!(map.insert("b".into(), 2).is_err());
    assert!(map.remove("a").is_err());
    assert!(map.entry_or_insert("c".into(), 3).is_err());
    assert!(map.clear().is_err());
    assert_eq!(*map.read().unwrap(), map_of(&[("a", 1)]));
    assert_eq!(map.p_state(), PState::UpToDate);
    assert_eq!((dm.registered.get(), dm.accepted.get()), (4, 0), "each write asked, all refused");
}

#[test]
fn write_under_a_live_read_guard_fails_without_mark() {
    let map = Map::from(map_of(&[("a", 1)]));
    let dm = attach(map.handle());
    let guard = map.read().unwrap();
    assert!(matches!(map.insert("b".into(), 2), Err(Error::AlreadyBorrowed)));
    drop(guard);
    assert_eq!(dm.accepted.get(), 0);
    assert_eq!(map.p_state(), PState::UpToDate);
    assert_eq!(*map.read().unwrap(), map_of(&[("a", 1)]));
}
