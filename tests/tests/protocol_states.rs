//! docs/spec.md §§1 and 2.2 to 2.6: every row of the `p_set_changed` table (state,
//! status, setstate and register counts), the unsaved rules, activation with a failing load,
//! deactivation, invalidation, sticky, and failing register calls that change nothing.

use std::rc::Rc;

use persistent::prelude::*;
use persistent::Error;
use persistent_tests::{attach, Item, StubDm};

/// An item with a jar (no cache) in state `from`, and its stub with counters reset.
fn object_in(from: PState) -> (Rc<StubDm>, P<Item>) {
    let dm = StubDm::loading(&Item::numbered(42));
    let jar = Jar::new(&dm);
    let p = P::new(Item::numbered(1));
    attach(&p, 1, &jar);
    match from {
        PState::Ghost => p.p_deactivate(),
        PState::UpToDate => {}
        PState::Changed => p.p_set_changed(Some(true)).unwrap(),
        PState::Sticky => p.p_set_sticky(true).unwrap(),
    }
    assert_eq!(p.p_state(), from);
    dm.registered.set(0);
    dm.loads.set(0);
    std::mem::forget(jar);
    (dm, p)
}

fn status_of(state: PState) -> &'static str {
    match state {
        PState::Ghost => "ghost",
        PState::UpToDate => "saved",
        PState::Changed => "changed",
        PState::Sticky => "sticky",
    }
}

/// (value, from, to, loads, registers)
const TABLE: [(Option<bool>, PState, PState, usize, usize); 12] = [
    (None, PState::Ghost, PState::Ghost, 0, 0),
    (None, PState::UpToDate, PState::Ghost, 0, 0),
    (None, PState::Changed, PState::Changed, 0, 0),
    (None, PState::Sticky, PState::Sticky, 0, 0),
    (Some(true), PState::Ghost, PState::Changed, 1, 1),
    (Some(true), PState::UpToDate, PState::Changed, 0, 1),
    (Some(true), PState::Changed, PState::Changed, 0, 0),
    (Some(true), PState::Sticky, PState::Changed, 0, 1),
    (Some(false), PState::Ghost, PState::Ghost, 0, 0),
    (Some(false), PState::UpToDate, PState::UpToDate, 0, 0),
    (Some(false), PState::Changed, PState::UpToDate, 0, 0),
    (Some(false), PState::Sticky, PState::UpToDate, 0, 0),
];

#[test]
fn every_row_of_the_set_changed_table() {
    for (value, from, to, loads, registers) in TABLE {
        let (dm, p) = object_in(from);
        p.p_set_changed(value).unwrap();
        let row = format!("p_set_changed({value:?}) from {from:?}");
        assert_eq!(p.p_state(), to, "{row}: state");
        assert_eq!(p.p_status(), status_of(to), "{row}: status");
        assert_eq!(dm.loads.get(), loads, "{row}: setstate calls");
        assert_eq!(dm.registered.get(), registers, "{row}: register calls");
        let expected_changed = match to {
            PState::Ghost => None,
            PState::Changed => Some(true),
            _ => Some(false),
        };
        assert_eq!(p.p_changed(), expected_changed, "{row}: p_changed");
    }
}

#[test]
fn changed_to_uptodate_keeps_modifications_in_memory() {
    let (_dm, p) = object_in(PState::UpToDate);
    p.update(|i| i.n = 43).unwrap();
    p.p_set_changed(Some(false)).unwrap();
    assert_eq!(p.p_state(), PState::UpToDate);
    assert_eq!(p.read().unwrap().n, 43);
}

#[test]
fn without_a_jar_every_row_is_a_no_op() {
    for value in [None, Some(true), Some(false)] {
        let p = P::new(Item::numbered(1));
        p.p_set_changed(value).unwrap();
        p.update(|i| i.n += 1).unwrap();
        p.p_deactivate();
        p.p_invalidate().unwrap();
        p.p_set_sticky(true).unwrap();
        assert_eq!(p.p_state(), PState::UpToDate);
        assert_eq!(p.p_changed(), Some(false));
        assert_eq!(p.p_status(), "unsaved");
        assert_eq!(p.read().unwrap().n, 2, "data kept");
    }
}

#[test]
fn a_new_object_has_no_jar_no_oid_zero_serial_and_size() {
    let p = P::new(Item::numbered(1));
    assert!(p.p_jar().is_none());
    assert_eq!(p.p_oid(), None);
    assert_eq!(p.p_serial(), TimeStamp::ZERO);
    assert_eq!(p.p_estimated_size(), 0);
    assert_eq!(p.p_mtime().unwrap(), None);
}

#[test]
fn outside_a_cache_jar_and_oid_may_change_and_clear() {
    let (_dm, p) = object_in(PState::UpToDate);
    let dm2 = StubDm::loading(&Item::default());
    p.p_set_jar(Some(Jar::new(&dm2))).unwrap();
    p.p_set_oid(Some(Oid(99))).unwrap();
    p.p_set_jar(None).unwrap();
    p.p_set_oid(None).unwrap();
    assert_eq!(p.p_status(), "unsaved");
}

#[test]
fn a_failing_register_returns_the_error_and_changes_nothing() {
    for from in [PState::Ghost, PState::UpToDate, PState::Sticky] {
        let (dm, p) = object_in(from);
        dm.fail_register.set(true);
        let before = (p.p_state(), p.as_object().with(std::clone::Clone::clone).ok());
        // with() on a ghost loads it: restore the ghost for the comparison.
        if from == PState::Ghost {
            p.p_deactivate();
        }
        let result = p.p_set_changed(Some(true));
        assert!(matches!(result, Err(Error::Custom(_))), "from {from:?}: {result:?}");
        assert_eq!(p.p_state(), before.0, "set_changed from {from:?}");
        let write = p.update(|i| i.n = -1);
        assert!(write.is_err(), "from {from:?}");
        assert_eq!(p.p_state(), before.0, "write from {from:?}");
        if from != PState::Ghost {
            assert_eq!(p.read().unwrap().n, 1, "the write did not happen");
        }
    }
}

#[test]
fn a_failing_load_leaves_a_ghost_and_a_later_load_works() {
    let (dm, p) = object_in(PState::Ghost);
    dm.fail_setstate.set(true);
    assert!(matches!(p.p_activate(), Err(Error::Custom(_))));
    assert_eq!(p.p_state(), PState::Ghost);
    assert!(p.with(|i| i.n).is_err());
    assert_eq!(p.p_state(), PState::Ghost);
    dm.fail_setstate.set(false);
    assert_eq!(p.with(|i| i.n).unwrap(), 42);
    assert_eq!(p.p_state(), PState::UpToDate);
}

#[test]
fn activation_loads_only_ghosts_and_counts_as_changed_while_loading() {
    let (dm, p) = object_in(PState::UpToDate);
    p.p_activate().unwrap();
    assert_eq!(dm.loads.get(), 0, "activating a non-ghost loads nothing");
    p.p_deactivate();
    p.p_activate().unwrap();
    assert_eq!((dm.loads.get(), dm.registered.get()), (1, 0));
    assert_eq!(p.p_state(), PState::UpToDate);
}

#[test]
fn deactivate_only_affects_uptodate_objects() {
    for (from, to) in [
        (PState::UpToDate, PState::Ghost),
        (PState::Changed, PState::Changed),
        (PState::Sticky, PState::Sticky),
        (PState::Ghost, PState::Ghost),
    ] {
        let (dm, p) = object_in(from);
        p.p_deactivate();
        assert_eq!(p.p_state(), to, "deactivate from {from:?}");
        assert_eq!(dm.loads.get() + dm.registered.get(), 0);
    }
}

#[test]
fn invalidate_drops_the_state_whatever_it_is() {
    for from in [PState::UpToDate, PState::Changed, PState::Sticky, PState::Ghost] {
        let (dm, p) = object_in(from);
        p.p_invalidate().unwrap();
        assert_eq!(p.p_state(), PState::Ghost, "invalidate from {from:?}");
        assert_eq!(dm.registered.get(), 0);
    }
    let (_dm, p) = object_in(PState::Changed);
    p.update(|i| i.n = 1000).unwrap();
    p.p_invalidate().unwrap();
    assert_eq!(p.read().unwrap().n, 42, "modifications lost, reloaded");
}

#[test]
fn invalidating_borrowed_data_is_an_error() {
    let (_dm, p) = object_in(PState::UpToDate);
    let guard = p.read().unwrap();
    assert_eq!(p.p_state(), PState::Sticky, "borrowed means sticky");
    assert!(p.p_sticky());
    let error = p.p_invalidate().unwrap_err();
    assert!(matches!(error, Error::Borrowed { .. }));
    assert!(error.to_string().contains("borrowed"));
    p.p_deactivate();
    p.p_set_changed(None).unwrap();
    assert_eq!(guard.n, 1, "data still there");
    drop(guard);
    assert_eq!(p.p_state(), PState::UpToDate);
}

#[test]
fn sticky_rules() {
    let (_dm, p) = object_in(PState::Ghost);
    assert!(matches!(p.p_set_sticky(true), Err(Error::StickyGhost)));
    assert_eq!(p.p_state(), PState::Ghost);
    assert_eq!(Error::StickyGhost.to_string(), "can't set sticky flag on a ghost");

    let (_dm, p) = object_in(PState::Changed);
    p.p_set_sticky(true).unwrap();
    assert_eq!(p.p_state(), PState::Sticky, "sticky leaves Changed");
    p.p_set_sticky(false).unwrap();
    assert_eq!(p.p_state(), PState::UpToDate);

    let (_dm, p) = object_in(PState::Changed);
    p.p_set_sticky(false).unwrap();
    assert_eq!(p.p_state(), PState::UpToDate, "a Changed object loses Changed either way");
}

/// Clearing the sticky flag of a ghost is refused like setting it: a ghost has no sticky
/// flag either way (the reference raises the same error for both).
#[test]
fn unsticking_a_ghost_is_the_same_error_as_sticking_it() {
    let (dm, p) = object_in(PState::Ghost);
    assert!(matches!(p.p_set_sticky(false), Err(Error::StickyGhost)));
    assert_eq!(p.p_state(), PState::Ghost);
    assert_eq!(dm.loads.get(), 0, "nothing loaded");
    // Without a jar it is still ignored.
    let unsaved = P::<Item>::uninitialized();
    unsaved.p_set_sticky(false).unwrap();
}

#[test]
fn reading_metadata_never_loads() {
    let (dm, p) = object_in(PState::Ghost);
    let _ = (p.p_oid(), p.p_jar(), p.p_state(), p.p_changed(), p.p_status());
    let _ = (p.p_serial(), p.p_estimated_size(), p.p_sticky(), format!("{p:?}"));
    p.p_set_serial(TimeStamp::from_raw(*b"00000012"));
    assert_eq!(dm.loads.get(), 0);
    assert_eq!(p.p_state(), PState::Ghost);
    // p_mtime loads.
    assert!(p.p_mtime().unwrap().is_some());
    assert_eq!(dm.loads.get(), 1);
}

#[test]
fn state_values_match_the_reference() {
    assert_eq!(PState::Ghost.value(), -1);
    assert_eq!(PState::UpToDate.value(), 0);
    assert_eq!(PState::Changed.value(), 1);
    assert_eq!(PState::Sticky.value(), 2);
}

#[test]
fn a_write_while_borrowed_is_refused_and_marks_nothing() {
    let (dm, p) = object_in(PState::UpToDate);
    let guard = p.read().unwrap();
    assert!(matches!(p.update(|i| i.n = 5), Err(Error::AlreadyBorrowed)));
    assert!(matches!(p.write(), Err(Error::AlreadyBorrowed)));
    drop(guard);
    assert_eq!(p.p_state(), PState::UpToDate);
    assert_eq!(dm.registered.get(), 0);
    assert_eq!(p.read().unwrap().n, 1);
}
