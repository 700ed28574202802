//! The examples of the reference documentation's sections 1.3 to 1.9 ("Using `persistent` in
//! your application"), one test per section, with the reference's expected values. The
//! reference's class `P` (`x = 0`, `inc()`) is the derived struct `Thing`; its stub data
//! manager `DM` (counts `register`, `setstate` sets `x` to 42) is the testkit's `StubDm`
//! loading `x = 42`.
//!
//! Mapping of Python to Rust used throughout: `p.__dict__` is the state read through
//! `p.read()?`; `p._p_changed = X` is `p_set_changed(X)`; `del p._p_changed` is
//! `p_invalidate()`; `p._p_state` is `p_state().value()`.

#![allow(clippy::unnecessary_wraps, reason = "test code: the signature a hook requires")]

use std::rc::Rc;

use persistent::codec::encode_field;
use persistent::prelude::*;
use persistent::{PObject, Result};
use persistent_testkit::StubDm;

/// The reference's `P`: one persistent field `x`, plus the volatile `_v_foo` of section 1.6
/// (Python adds volatile attributes on the fly; a Rust struct declares them).
#[derive(Debug, Default, Clone, PartialEq, Persistent)]
struct Thing {
    x: i64,
    _v_foo: i64,
}

/// The reference's `P.inc()`.
fn inc(p: &P<Thing>) -> Result<()> {
    p.update(|t| t.x += 1)
}

/// The reference's `P()` with `_p_oid = "00000012"` and `_p_jar = DM()`. The jar holds the
/// data manager weakly, so the caller keeps the returned `Rc`.
fn attached() -> (Rc<StubDm>, P<Thing>) {
    let dm = StubDm::loading(&Thing { x: 42, ..Thing::default() });
    let p = P::new(Thing::default());
    p.p_set_oid(Some(Oid::from_bytes(*b"00000012"))).unwrap();
    p.p_set_jar(Some(Jar::new(&dm))).unwrap();
    (dm, p)
}

/// The encoded state `{'x': x}`: the one persistent field, nothing else.
fn state_of_x(x: i64) -> Vec<u8> {
    let mut bytes = Vec::new();
    encode_field("", &x, &mut bytes).unwrap();
    bytes
}

const GHOST: i8 = -1;
const UPTODATE: i8 = 0;
const CHANGED: i8 = 1;

#[test]
fn s1_3_persistent_objects_without_a_data_manager() -> Result<()> {
    let p = P::new(Thing::default());
    assert_eq!(p.x()?, 0);
    assert_eq!(p.p_changed(), Some(false));
    assert_eq!(p.p_state(), PState::UpToDate);
    assert!(p.p_jar().is_none());
    assert_eq!(p.p_oid(), None);

    // Without a data manager, modifying has no effect on the state or `_p_changed`.
    inc(&p)?;
    inc(&p)?;
    assert_eq!(p.x()?, 2);
    assert_eq!(p.p_changed(), Some(false));
    assert_eq!(p.p_state().value(), 0);

    // "Try all sorts of different ways to change the object's state".
    p.p_deactivate();
    assert_eq!(p.p_state().value(), 0);
    assert_eq!(p.p_changed(), Some(false));
    p.p_set_changed(Some(true))?;
    assert_eq!(p.p_changed(), Some(false));
    assert_eq!(p.p_state().value(), 0);
    p.p_invalidate()?; // del p._p_changed
    assert_eq!(p.p_changed(), Some(false));
    assert_eq!(p.p_state().value(), 0);
    assert_eq!(p.x()?, 2);
    Ok(())
}

#[test]
fn s1_4_associating_an_object_with_a_data_manager() -> Result<()> {
    let (dm, p) = attached();
    assert_eq!(p.p_changed(), Some(false));
    assert_eq!(p.p_state().value(), 0);
    assert_eq!(*p.read()?, Thing { x: 0, _v_foo: 0 }); // p.__dict__ == {'x': 0}
    assert_eq!(dm.registered.get(), 0);

    // Modifying marks it changed and registers it; later modifications add nothing.
    inc(&p)?;
    assert_eq!(p.x()?, 1);
    assert_eq!(p.read()?.x, 1); // p.__dict__ == {'x': 1}
    assert_eq!(p.p_changed(), Some(true));
    assert_eq!(p.p_state().value(), 1);
    assert_eq!(dm.registered.get(), 1);
    inc(&p)?;
    assert_eq!(p.p_changed(), Some(true));
    assert_eq!(p.p_state().value(), 1);
    assert_eq!(dm.registered.get(), 1);
    Ok(())
}

#[test]
fn s1_5_explicitly_controlling_the_state() -> Result<()> {
    let (dm, p) = attached();
    assert_eq!(p.p_state().value(), UPTODATE);

    // _p_deactivate: UPTODATE to GHOST.
    p.p_deactivate();
    assert_eq!(p.p_state().value(), GHOST);

    // _p_activate: GHOST to UPTODATE, the data manager sets x to 42.
    p.p_activate()?;
    assert_eq!(p.p_state().value(), UPTODATE);
    assert_eq!(p.x()?, 42);

    // Changing it: CHANGED.
    inc(&p)?;
    assert_eq!(p.x()?, 43);
    assert_eq!(p.p_state().value(), CHANGED);

    // Deactivating a CHANGED object is a no-op.
    p.p_deactivate();
    assert_eq!(p.read()?.x, 43); // p.__dict__ == {'x': 43}
    assert_eq!(p.p_changed(), Some(true));
    assert_eq!(p.p_state().value(), CHANGED);

    // _p_invalidate forces GHOST even from CHANGED. Python shows `p.__dict__ == {}`; a Rust
    // ghost holds no state at all, and reading it would load it, so the emptiness is seen
    // through the state and, below, through the next access calling setstate again.
    p.p_invalidate()?;
    assert_eq!(p.p_state().value(), GHOST);
    let loads = dm.loads.get();

    // Resetting _p_changed to False keeps the modifications in memory.
    inc(&p)?; // loads x = 42 (the modification 43 was dropped), then 43
    assert_eq!(dm.loads.get(), loads + 1, "the ghost had no state: it was loaded");
    assert_eq!(p.x()?, 43);
    p.p_set_changed(Some(false))?;
    assert_eq!(p.p_state().value(), UPTODATE);
    assert_eq!(p.p_changed(), Some(false));
    assert_eq!(p.x()?, 43);

    // Assigning True to a ghost's _p_changed activates it (and marks it changed).
    p.p_invalidate()?;
    assert_eq!(p.p_state().value(), GHOST);
    p.p_set_changed(Some(true))?;
    assert_eq!(p.p_changed(), Some(true));
    assert_eq!(p.p_state().value(), CHANGED);
    assert_eq!(p.x()?, 42);
    Ok(())
}

#[test]
fn s1_6_the_pickling_protocol() -> Result<()> {
    let (_dm, p) = attached();
    assert_eq!(p.p_getstate()?, state_of_x(0)); // {'x': 0}
    assert_eq!(p.p_state().value(), UPTODATE);

    // setstate always leaves the object UPTODATE.
    p.p_setstate(&state_of_x(5))?;
    assert_eq!(p.p_state().value(), UPTODATE);

    // A volatile attribute is not in the state, and assigning it does not mark changed.
    p.set__v_foo(2)?;
    assert_eq!(p.p_getstate()?, state_of_x(5)); // {'x': 5}
    assert_eq!(p.p_state().value(), UPTODATE);
    assert_eq!(p._v_foo()?, 2);

    // _p_serial is not affected by setstate. setstate also resets volatile fields to their
    // Default (docs/spec.md §2.8), as the reference clears `__dict__` before applying the state.
    let serial = TimeStamp::from_raw(*b"00000012");
    p.p_set_serial(serial);
    p.p_setstate(&p.p_getstate()?)?;
    assert_eq!(p.p_serial(), serial);
    assert_eq!(p.p_serial().raw(), *b"00000012");
    assert_eq!(*p.read()?, Thing { x: 5, _v_foo: 0 });
    Ok(())
}

#[test]
fn s1_7_estimated_object_size() {
    let (_dm, p) = attached();
    assert_eq!(p.p_estimated_size(), 0);
    p.p_set_estimated_size(1000);
    assert_eq!(p.p_estimated_size(), 1024, "stored in 24 bits of 64-byte units");

    // `p._p_estimated_size = -1` raises ValueError in the reference. In Rust the size is a
    // u64: a negative size cannot even be written, so there is no error to check. A caller
    // holding a signed value must convert it first, and that conversion refuses -1.
    assert!(u64::try_from(-1_i64).is_err());
    assert_eq!(p.p_estimated_size(), 1024, "unchanged");
}

/// A hand-written getter from the building blocks: `p_accessed()` activates (loads a ghost)
/// and touches, like the reference's `_p_getattr` returning True, then the state is read.
fn x_by_hand(p: &PObject<Thing>) -> Result<i64> {
    p.p_accessed()?;
    p.with(|t| t.x)
}

/// A hand-written setter: `p_mark_changed()` activates and registers once (the reference's
/// `_p_setattr` followed by `_p_changed = True`), then the value is written without marking
/// again.
fn set_x_by_hand(p: &PObject<Thing>, x: i64) -> Result<()> {
    p.p_mark_changed()?;
    p.update_volatile(|t| t.x = x)
}

#[test]
fn s1_8_overriding_the_attribute_protocol() -> Result<()> {
    // Section 1.8 has no doctest; it states the rules hand-written accessors obey. In Rust
    // they are the building blocks `p_accessed()` and `p_mark_changed()`.
    let (dm, p) = attached();
    p.p_deactivate();

    // "Special" attributes (`_p_oid`, `_p_jar`, ...) are handled without activation.
    let _ = (p.p_oid(), p.p_jar(), p.p_serial(), p.p_estimated_size(), p.p_changed());
    assert_eq!((p.p_state().value(), dm.loads.get()), (GHOST, 0));

    // A getter activates the object first.
    assert_eq!(x_by_hand(&p)?, 42);
    assert_eq!((p.p_state().value(), dm.loads.get(), dm.registered.get()), (UPTODATE, 1, 0));

    // A setter activates, marks changed and registers once.
    p.p_deactivate();
    set_x_by_hand(&p, 7)?;
    assert_eq!((p.p_state().value(), dm.loads.get(), dm.registered.get()), (CHANGED, 2, 1));
    set_x_by_hand(&p, 8)?;
    assert_eq!(dm.registered.get(), 1, "already changed: no second register");
    assert_eq!(x_by_hand(&p)?, 8);
    Ok(())
}

/// The reference's `_p_repr`.
#[derive(Persistent)]
#[persistent(repr = custom_repr)]
struct Shown {}

fn custom_repr(_object: &PObject<Shown>) -> std::result::Result<String, String> {
    Ok("Custom repr".to_string())
}

#[test]
fn s1_9_implementing_p_repr() {
    let p = P::new(Shown {});
    assert_eq!(format!("{:?}", p.as_object()), "Custom repr");
}
