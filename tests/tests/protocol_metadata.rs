//! docs/spec.md §2.7 to §2.9: estimated size (every example), serial and mtime, getstate and
//! setstate, and the Debug representation. Each metadata example also checks that state,
//! status and the data manager's counters did not move.

#![allow(clippy::unreadable_literal, reason = "test code: literals as in the Python tests")]

use std::rc::Rc;

use persistent::prelude::*;
use persistent::{Error, PObject, Result};
use persistent_tests::{attach, Item, StubDm};

fn saved_item() -> (Rc<StubDm>, Jar, P<Item>) {
    let dm = StubDm::loading(&Item::numbered(42));
    let jar = Jar::new(&dm);
    let p = P::new(Item::numbered(1));
    attach(&p, 0x12, &jar);
    (dm, jar, p)
}

fn assert_untouched(dm: &StubDm, p: &P<Item>, state: PState) {
    assert_eq!(p.p_state(), state);
    assert_eq!(p.p_status(), if state == PState::Ghost { "ghost" } else { "saved" });
    assert_eq!((dm.loads.get(), dm.registered.get()), (0, 0));
}

#[test]
fn estimated_size_examples() {
    for state in [PState::UpToDate, PState::Ghost] {
        let (dm, _jar, p) = saved_item();
        if state == PState::Ghost {
            p.p_deactivate();
        }
        assert_eq!(p.p_estimated_size(), 0, "default reads 0");
        for (set, read) in [
            (0, 64),
            (63, 64),
            (64, 128),
            (123, 128),
            (1000, 1024),
            (1_073_741_696, 1_073_741_760),
            (1_073_741_697, 1_073_741_760),
            (u64::MAX, 1_073_741_760),
        ] {
            p.p_set_estimated_size(set);
            assert_eq!(p.p_estimated_size(), read, "set {set}");
            assert_untouched(&dm, &p, state);
        }
    }
}

#[test]
fn serial_is_set_without_loading_and_survives_setstate() {
    let (dm, _jar, p) = saved_item();
    p.p_deactivate();
    let serial = TimeStamp::from_raw(*b"00000012");
    p.p_set_serial(serial);
    assert_eq!(p.p_serial(), serial);
    assert_untouched(&dm, &p, PState::Ghost);
    p.p_activate().unwrap();
    p.p_setstate(&p.p_getstate().unwrap()).unwrap();
    assert_eq!(p.p_serial(), serial, "setstate never changes the serial");
}

#[test]
fn mtime_is_the_serial_time() {
    let (dm, _jar, p) = saved_item();
    assert_eq!(p.p_mtime().unwrap(), None, "zero serial: no mtime");
    let serial = TimeStamp::new(2011, 2, 15, 13, 33, 27.5).unwrap();
    p.p_set_serial(serial);
    assert_eq!(p.p_mtime().unwrap(), Some(1_297_776_807.5));
    assert_untouched(&dm, &p, PState::UpToDate);
}

#[test]
fn getstate_and_setstate() {
    let (dm, _jar, p) = saved_item();
    let state = p.p_getstate().unwrap();
    let mut expected = Vec::new();
    Item::numbered(1).encode_state(&mut expected).unwrap();
    assert_eq!(state, expected);
    // setstate replaces the fields and keeps state and serial.
    let mut other = Vec::new();
    Item::numbered(5).encode_state(&mut other).unwrap();
    p.p_setstate(&other).unwrap();
    assert_eq!(p.read().unwrap().n, 5);
    assert_untouched(&dm, &p, PState::UpToDate);
    // Identity.
    p.p_setstate(&p.p_getstate().unwrap()).unwrap();
    assert_eq!(*p.read().unwrap(), Item::numbered(5));
    // getstate of a ghost loads it.
    p.p_deactivate();
    assert_eq!(p.p_getstate().unwrap(), {
        let mut b = Vec::new();
        Item::numbered(42).encode_state(&mut b).unwrap();
        b
    });
    assert_eq!(dm.loads.get(), 1);
}

#[test]
fn bytes_that_do_not_decode_leave_the_old_state() {
    let (dm, _jar, p) = saved_item();
    let good = p.p_getstate().unwrap();
    for bad in
        [vec![0xff, 0xff, 0xff], good[..good.len() - 1].to_vec(), [good.clone(), vec![0]].concat()]
    {
        let error = p.p_setstate(&bad).unwrap_err();
        assert!(matches!(error, Error::Decode { .. }), "{error:?}");
        assert!(error.to_string().contains("persistent_tests::Item"));
        assert_eq!(*p.read().unwrap(), Item::numbered(1));
        assert_untouched(&dm, &p, PState::UpToDate);
    }
}

#[test]
fn debug_representation() {
    let p = P::new(Item::numbered(1));
    let repr = format!("{:?}", p.as_object());
    assert!(repr.starts_with("<persistent_tests::Item object at 0x"), "{repr}");
    assert!(repr.ends_with('>') && !repr.contains(" oid ") && !repr.contains(" in "), "{repr}");
    let (_dm, _jar, p) = saved_item();
    let repr = format!("{:?}", p.as_object());
    assert!(repr.contains(" oid 0x12 in <StubDm at 0x"), "{repr}");
    let q = P::new(Item::numbered(1));
    q.p_set_oid(Some(Oid(0xbc614e))).unwrap();
    assert!(format!("{:?}", q.as_object()).ends_with(" oid 0xbc614e>"));
}

/// A type with a custom representation hook (the reference's `_p_repr`).
#[derive(Default)]
struct Custom {
    fail: bool,
}

impl Persistent for Custom {
    type Object = PObject<Custom>;
    const TYPE_NAME: &'static str = "tests::Custom";
    fn encode_state(&self, _out: &mut Vec<u8>) -> Result<()> {
        Ok(())
    }
    fn decode_state(_bytes: &[u8]) -> Result<Self> {
        Ok(Custom::default())
    }
    fn p_repr(object: &PObject<Custom>) -> Option<std::result::Result<String, String>> {
        let fail = object.with(|c| c.fail).unwrap_or(true);
        Some(if fail { Err("no luck".into()) } else { Ok("Custom repr".into()) })
    }
}

#[test]
fn custom_representation_and_its_failure() {
    let p = P::new(Custom { fail: false });
    assert_eq!(format!("{:?}", p.as_object()), "Custom repr");
    let q = P::new(Custom { fail: true });
    let repr = format!("{:?}", q.as_object());
    assert!(repr.starts_with('<'), "{repr}");
    assert!(
        repr.contains("Custom object at 0x") && repr.ends_with(" p_repr failed: no luck>"),
        "{repr}"
    );
}

#[test]
fn handle_debug_shows_the_state_with_the_types_own_debug_and_never_loads() {
    let unsaved = P::new(Item::numbered(3));
    assert_eq!(
        format!("{unsaved:?}"),
        "P { oid: None, state: Item { n: 3, name: \"item-3\", value: 1.5 } }"
    );
    let (dm, _jar, p) = saved_item();
    p.p_invalidate().unwrap();
    assert_eq!(format!("{p:?}"), "P { oid: 0x12, state: <ghost> }");
    assert_untouched(&dm, &p, PState::Ghost);
    let guard = p.write().unwrap();
    assert_eq!(format!("{p:?}"), "P { oid: 0x12, state: <borrowed> }");
    drop(guard);
    // A ghost made by `new_ghost` keeps its old data until it loads: that data is not its
    // state, and is not shown.
    let (_dm, _jar, cache) = StubDm::with_cache(&Item::numbered(42));
    let shell = P::new(Item::numbered(5));
    cache.new_ghost(Oid(9), &shell).unwrap();
    assert_eq!(format!("{shell:?}"), "P { oid: 0x09, state: <ghost> }");
}
