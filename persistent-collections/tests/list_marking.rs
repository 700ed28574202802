//! Every row of docs/spec.md §4's `PersistentList` table: each operation on a saved list
//! (oid and jar set, `UpToDate`, no registration yet) checked for the resulting contents, the
//! state and the number of `register` calls. Also: ghosts load first, unsaved lists mark
//! nothing, a refused registration or a live read guard changes nothing.

#![allow(
    clippy::needless_pass_by_value,
    clippy::redundant_closure_for_method_calls,
    reason = "test code: results passed by value read well; method paths are ambiguous here"
)]

mod common;

use common::{attach, attach_loading};
use persistent_collections::PersistentList;
use persistent_core::prelude::*;
use persistent_core::{Error, Result};
use persistent_testkit::StubDm;
use std::rc::Rc;

/// Applies `op` to a saved list holding `initial`, then checks contents, state and
/// registrations (`marks`: Changed and registered once; else `UpToDate` and none).
fn row<R>(
    initial: &[i32],
    op: impl FnOnce(&PersistentList<i32>) -> Result<R>,
    marks: bool,
    expect: &[i32],
) -> Result<R> {
    let list = PersistentList::from(initial.to_vec());
    let dm = attach(list.handle());
    assert_eq!(list.p_state(), PState::UpToDate);
    let out = op(&list);
    assert_eq!(list.read().unwrap().as_slice(), expect, "contents");
    let (state, registered) = if marks { (PState::Changed, 1) } else { (PState::UpToDate, 0) };
    assert_eq!(list.p_state(), state, "state");
    assert_eq!(dm.registered.get(), registered, "register calls");
    assert_eq!(dm.accepted.get(), registered, "registrations accepted");
    out
}

fn is_index_error(r: Result<impl std::fmt::Debug>) -> bool {
    matches!(r, Err(Error::IndexOutOfRange { .. }))
}

fn is_range_error(r: Result<impl std::fmt::Debug>) -> bool {
    matches!(r, Err(Error::RangeOutOfRange { .. }))
}

// ----- set an index, replace a range, push, insert, extend, append: yes -----------------

#[test]
fn set_index_marks() {
    let old = row(&[1, 2, 3], |l| l.set(1, 9), true, &[1, 9, 3]).unwrap();
    assert_eq!(old, 2);
}

#[test]
fn set_same_value_marks() {
    row(&[1, 2, 3], |l| l.set(1, 2), true, &[1, 2, 3]).unwrap();
}

#[test]
fn set_out_of_range_is_error_without_mark() {
    assert!(is_index_error(row(&[1, 2], |l| l.set(2, 9), false, &[1, 2])));
}

#[test]
fn replace_range_marks() {
    let removed = row(&[1, 2, 3, 4], |l| l.splice(1..3, [7, 8, 9]), true, &[1, 7, 8, 9, 4]);
    assert_eq!(removed.unwrap(), vec![2, 3]);
}

#[test]
fn replace_empty_range_with_nothing_marks() {
    row(&[1, 2], |l| l.splice(1..1, []), true, &[1, 2]).unwrap();
}

#[test]
fn replace_bad_range_is_error_without_mark() {
    assert!(is_range_error(row(&[1, 2], |l| l.splice(1..5, [0]), false, &[1, 2])));
}

#[test]
fn push_marks() {
    row(&[1], |l| l.push(2), true, &[1, 2]).unwrap();
}

#[test]
fn push_twice_registers_once() {
    row(&[], |l| l.push(1).and_then(|()| l.push(2)), true, &[1, 2]).unwrap();
}

#[test]
fn insert_marks() {
    row(&[1, 3], |l| l.insert(1, 2), true, &[1, 2, 3]).unwrap();
}

#[test]
fn insert_at_len_appends_and_marks() {
    row(&[1], |l| l.insert(1, 2), true, &[1, 2]).unwrap();
}

#[test]
fn insert_past_len_is_error_without_mark() {
    assert!(is_index_error(row(&[1], |l| l.insert(2, 9), false, &[1])));
}

#[test]
fn extend_marks() {
    row(&[1], |l| l.extend([2, 3]), true, &[1, 2, 3]).unwrap();
}

#[test]
fn extend_with_nothing_marks() {
    row(&[1], |l| l.extend([]), true, &[1]).unwrap();
}

#[test]
fn append_marks_and_empties_other() {
    let mut other = vec![2, 3];
    row(&[1], |l| l.append(&mut other), true, &[1, 2, 3]).unwrap();
    assert!(other.is_empty());
}

#[test]
fn append_nothing_marks() {
    row(&[1], |l| l.append(&mut Vec::new()), true, &[1]).unwrap();
}

// ----- remove a range / truncate / drain: only if the length changed ---------------------

#[test]
fn remove_range_marks() {
    row(&[1, 2, 3], |l| l.remove_range(..2), true, &[3]).unwrap();
}

#[test]
fn remove_empty_range_does_not_mark() {
    row(&[1, 2, 3], |l| l.remove_range(1..1), false, &[1, 2, 3]).unwrap();
}

#[test]
fn remove_bad_range_is_error_without_mark() {
    assert!(is_range_error(row(&[1], |l| l.remove_range(0..2), false, &[1])));
}

#[test]
fn truncate_shorter_marks() {
    row(&[1, 2, 3], |l| l.truncate(1), true, &[1]).unwrap();
}

#[test]
fn truncate_not_shorter_does_not_mark() {
    row(&[1, 2, 3], |l| l.truncate(3), false, &[1, 2, 3]).unwrap();
    row(&[1, 2, 3], |l| l.truncate(10), false, &[1, 2, 3]).unwrap();
}

#[test]
fn drain_marks_and_returns() {
    let drained = row(&[1, 2, 3], |l| l.drain(1..), true, &[1]).unwrap();
    assert_eq!(drained, vec![2, 3]);
}

#[test]
fn drain_empty_range_does_not_mark() {
    let drained = row(&[1, 2, 3], |l| l.drain(3..), false, &[1, 2, 3]).unwrap();
    assert!(drained.is_empty());
}

#[test]
fn retain_removing_marks() {
    row(&[1, 2, 3, 4], |l| l.retain(|x| x % 2 == 0), true, &[2, 4]).unwrap();
}

#[test]
fn retain_keeping_all_does_not_mark() {
    row(&[1, 2, 3], |l| l.retain(|_| true), false, &[1, 2, 3]).unwrap();
}

#[test]
fn dedup_removing_marks() {
    row(&[1, 1, 2, 2, 1], |l| l.dedup(), true, &[1, 2, 1]).unwrap();
}

#[test]
fn dedup_without_duplicates_does_not_mark() {
    row(&[1, 2, 1], |l| l.dedup(), false, &[1, 2, 1]).unwrap();
}

// ----- pop, remove(index): on success only ------------------------------------------------

#[test]
fn pop_marks() {
    assert_eq!(row(&[1, 2], |l| l.pop(), true, &[1]).unwrap(), Some(2));
}

#[test]
fn pop_empty_is_none_without_mark() {
    assert_eq!(row(&[], |l| l.pop(), false, &[]).unwrap(), None);
}

#[test]
fn remove_index_marks() {
    assert_eq!(row(&[1, 2, 3], |l| l.remove(0), true, &[2, 3]).unwrap(), 1);
}

#[test]
fn remove_index_out_of_range_is_error_without_mark() {
    assert!(is_index_error(row(&[1], |l| l.remove(1), false, &[1])));
    assert!(is_index_error(row(&[], |l| l.remove(0), false, &[])));
}

// ----- reverse, sort (any length): yes ------------------------------------------------------

#[test]
fn reverse_marks() {
    row(&[1, 2, 3], |l| l.reverse(), true, &[3, 2, 1]).unwrap();
}

#[test]
fn reverse_empty_marks() {
    row(&[], |l| l.reverse(), true, &[]).unwrap();
}

#[test]
fn sort_marks() {
    row(&[3, 1, 2], |l| l.sort(), true, &[1, 2, 3]).unwrap();
}

#[test]
fn sort_sorted_or_empty_marks() {
    row(&[1, 2], |l| l.sort(), true, &[1, 2]).unwrap();
    row(&[], |l| l.sort(), true, &[]).unwrap();
}

#[test]
fn sort_by_and_by_key_mark() {
    row(&[1, 3, 2], |l| l.sort_by(|a, b| b.cmp(a)), true, &[3, 2, 1]).unwrap();
    row(&[-3, 1, 2], |l| l.sort_by_key(|x| x.abs()), true, &[1, 2, -3]).unwrap();
}

#[test]
fn swap_marks() {
    row(&[1, 2, 3], |l| l.swap(0, 2), true, &[3, 2, 1]).unwrap();
    row(&[1, 2, 3], |l| l.swap(1, 1), true, &[1, 2, 3]).unwrap();
}

#[test]
fn swap_out_of_range_is_error_without_mark() {
    assert!(is_index_error(row(&[1, 2], |l| l.swap(0, 2), false, &[1, 2])));
}

// ----- clear: only if non-empty ------------------------------------------------------------

#[test]
fn clear_marks() {
    row(&[1, 2], |l| l.clear(), true, &[]).unwrap();
}

#[test]
fn clear_empty_does_not_mark() {
    row(&[], |l| l.clear(), false, &[]).unwrap();
}

// ----- reads, slices, copies: no ------------------------------------------------------------

#[test]
fn reads_do_not_mark() {
    row(
        &[1, 2, 3],
        |l| {
            assert_eq!(l.len()?, 3);
            assert!(!l.is_empty()?);
            assert_eq!(l.get(1)?, Some(2));
            assert_eq!(l.get(5)?, None);
            assert!(l.contains(&3)?);
            assert_eq!(l.to_vec()?, vec![1, 2, 3]);
            assert_eq!(l.read()?.iter().sum::<i32>(), 6);
            assert_eq!(format!("{l:?}"), "[1, 2, 3]");
            assert!(*l.read()? == vec![1, 2, 3]);
            l.p_getstate().map(drop)
        },
        false,
        &[1, 2, 3],
    )
    .unwrap();
}

#[test]
fn slice_is_a_new_unsaved_list() {
    let slice =
        row(&[1, 2, 3], |l| Ok(PersistentList::from(l.read()?[1..].to_vec())), false, &[1, 2, 3])
            .unwrap();
    assert_eq!(*slice.read().unwrap(), [2, 3]);
    assert_eq!(slice.p_status(), "unsaved");
    assert_eq!(slice.p_oid(), None);
}

#[test]
fn try_clone_is_a_new_unsaved_list_and_original_unmarked() {
    let copy = row(&[1, 2], |l| l.try_clone(), false, &[1, 2]).unwrap();
    assert_eq!(*copy.read().unwrap(), [1, 2]);
    assert!(copy.p_jar().is_none());
    assert_eq!(copy.p_oid(), None);
    copy.push(3).unwrap();
    assert_eq!(copy.p_state(), PState::UpToDate, "unsaved: marks nothing");
}

// ----- ghosts, unsaved lists, failures -----------------------------------------------------

fn encoded(items: &[i32]) -> Vec<u8> {
    PersistentList::from(items.to_vec()).p_getstate().unwrap()
}

fn ghost(loads: &[i32]) -> (PersistentList<i32>, Rc<StubDm>) {
    let list = PersistentList::<i32>::from_handle(P::uninitialized());
    let dm = attach_loading(list.handle(), encoded(loads));
    assert_eq!(list.p_state(), PState::Ghost);
    (list, dm)
}

#[test]
fn ghost_loads_before_a_marking_op() {
    let (list, dm) = ghost(&[1, 2]);
    list.push(3).unwrap();
    assert_eq!(dm.loads.get(), 1);
    assert_eq!(dm.accepted.get(), 1);
    assert_eq!(list.p_state(), PState::Changed);
    assert_eq!(*list.read().unwrap(), [1, 2, 3]);
}

#[test]
fn ghost_loads_before_a_non_marking_op() {
    let (list, dm) = ghost(&[]);
    list.clear().unwrap();
    assert_eq!(list.pop().unwrap(), None);
    assert_eq!(dm.loads.get(), 1);
    assert_eq!(dm.accepted.get(), 0);
    assert_eq!(list.p_state(), PState::UpToDate);
}

#[test]
fn ghost_that_fails_to_load_stays_ghost_and_unmarked() {
    let (list, dm) = ghost(&[1]);
    dm.fail_setstate.set(true);
    assert!(list.push(2).is_err());
    assert_eq!(list.p_state(), PState::Ghost);
    assert_eq!(dm.accepted.get(), 0);
    assert!(list.try_clone().is_err(), "copying a list that cannot load is an error");
    assert_eq!(dm.loads.get(), 2);
    assert!(format!("{list:?}").contains("object at 0x"));
    assert_eq!(dm.loads.get(), 2, "Debug does not try to load");
}

// ----- Debug never loads -----------------------------------------------------------------

#[test]
fn debug_of_a_ghost_does_not_load_it() {
    let (list, dm) = ghost(&[1, 2]);
    let printed = format!("{list:?}");
    assert!(printed.contains("object at 0x"), "{printed}");
    assert!(printed.contains("oid 0x"), "{printed}");
    assert_eq!(list.p_state(), PState::Ghost);
    assert_eq!(dm.loads.get(), 0);
    assert_eq!(list.len().unwrap(), 2);
    assert_eq!(format!("{list:?}"), "[1, 2]", "loaded: prints the content");
    assert_eq!(dm.loads.get(), 1);
}

#[test]
fn debug_of_a_ghost_inside_a_list_does_not_load_it() {
    let (inner, dm) = ghost(&[1]);
    let outer = PersistentList::from(vec![inner.share()]);
    let printed = format!("{outer:?}");
    assert!(printed.starts_with("[<") && printed.contains("object at 0x"), "{printed}");
    assert_eq!(inner.p_state(), PState::Ghost);
    assert_eq!(dm.loads.get(), 0);
}

#[test]
fn debug_during_a_write_prints_the_representation() {
    let list = PersistentList::from(vec![2, 1]);
    let dm = attach(list.handle());
    let during = std::cell::RefCell::new(String::new());
    list.sort_by(|a, b| {
        *during.borrow_mut() = format!("{list:?}");
        a.cmp(b)
    })
    .unwrap();
    assert!(during.borrow().contains("object at 0x"), "{}", during.borrow());
    assert_eq!(format!("{list:?}"), "[1, 2]");
    assert_eq!(dm.accepted.get(), 1);
}

#[test]
fn debug_under_a_read_guard_prints_the_content() {
    let list = PersistentList::from(vec![1]);
    let guard = list.read().unwrap();
    assert_eq!(format!("{list:?}"), "[1]");
    drop(guard);
}

#[test]
fn debug_of_a_shell_without_state_or_jar_prints_the_representation() {
    let list = PersistentList::<i32>::from_handle(P::uninitialized());
    assert!(format!("{list:?}").contains("object at 0x"));
}

#[test]
fn ghost_with_refused_register_is_a_ghost_again_and_unmarked() {
    let (list, dm) = ghost(&[1]);
    dm.fail_register.set(true);
    assert!(matches!(list.push(2), Err(Error::Custom(_))));
    assert_eq!(list.p_state(), PState::Ghost, "the failed write leaves it as it was");
    assert_eq!((dm.registered.get(), dm.accepted.get()), (1, 0), "asked once, refused");
    dm.fail_register.set(false);
    assert_eq!(*list.read().unwrap(), vec![1]);
}

#[test]
fn without_a_jar_nothing_is_marked() {
    let list = PersistentList::from(vec![3, 1, 2]);
    list.push(4).unwrap();
    list.sort().unwrap();
    list.set(0, 0).unwrap();
    list.remove(1).unwrap();
    list.clear().unwrap();
    assert_eq!(list.p_state(), PState::UpToDate);
    assert_eq!(list.p_changed(), Some(false));
    assert_eq!(list.p_status(), "unsaved");
    assert!(list.read().unwrap().is_empty());
}

#[test]
fn refused_register_changes_nothing() {
    let list = PersistentList::from(vec![1, 2]);
    let dm = attach(list.handle());
    dm.fail_register.set(true);
    assert!(list.push(3).is_err());
    assert!(list.clear().is_err());
    assert!(list.sort_by(|a, b| b.cmp(a)).is_err());
    assert!(list.extend([]).is_err());
    assert_eq!(*list.read().unwrap(), [1, 2]);
    assert_eq!(list.p_state(), PState::UpToDate);
    assert_eq!((dm.registered.get(), dm.accepted.get()), (4, 0), "each write asked, all refused");
    dm.fail_register.set(false);
    list.push(3).unwrap();
    assert_eq!(dm.accepted.get(), 1);
}

#[test]
fn write_under_a_live_read_guard_fails_without_mark() {
    let list = PersistentList::from(vec![1]);
    let dm = attach(list.handle());
    let guard = list.read().unwrap();
    assert!(matches!(list.push(2), Err(Error::AlreadyBorrowed)));
    assert_eq!(dm.accepted.get(), 0);
    assert_eq!(list.p_state(), PState::Sticky, "borrowed counts as sticky");
    drop(guard);
    assert_eq!(list.p_state(), PState::UpToDate);
    assert_eq!(*list.read().unwrap(), [1]);
}

#[test]
fn write_under_a_live_read_guard_of_a_changed_list_fails_and_changes_nothing() {
    let list = PersistentList::from(vec![1]);
    let dm = attach(list.handle());
    list.push(2).unwrap();
    let guard = list.read().unwrap();
    assert!(matches!(list.push(3), Err(Error::AlreadyBorrowed)));
    drop(guard);
    assert_eq!(list.p_state(), PState::Changed);
    assert_eq!(dm.accepted.get(), 1);
    assert_eq!(*list.read().unwrap(), [1, 2]);
}

#[test]
fn write_inside_a_read_of_the_same_list_fails_without_mark() {
    let list = PersistentList::from(vec![1]);
    let dm = attach(list.handle());
    let inner = list.handle().as_object().with(|_| list.push(2)).unwrap();
    assert!(matches!(inner, Err(Error::AlreadyBorrowed)));
    assert_eq!(dm.accepted.get(), 0);
    assert_eq!(list.p_state(), PState::UpToDate);
}
