//! Behaviour of `#[derive(Persistent)]`: the generated accessors follow docs/spec.md §2.5 (load,
//! touch, register once, volatile writes never mark changed), the generated codec follows 2.8
//! (volatile fields left out and reset, bad bytes refused without harm), the stored type name
//! and the representation hook. The types live in a module of their own so that the
//! accessors are called from another module, as users do.

use std::rc::Rc;

use persistent::codec::encode_field;
use persistent::prelude::*;
use persistent::Error;
use persistent_testkit::StubDm;

use model::{Broken, Named, Thing};

mod model {
    use persistent::{PObject, Persistent};

    /// Two persistent fields and two volatile ones.
    #[derive(Debug, Default, Clone, PartialEq, Persistent)]
    pub struct Thing {
        pub x: i64,
        pub name: String,
        pub _v_cache: u32,
        #[persistent(volatile)]
        pub scratch: Vec<u8>,
    }

    /// A stable stored name and a custom representation.
    #[derive(Persistent)]
    #[persistent(name = "stable::Name", repr = show_named)]
    pub struct Named {
        pub label: String,
    }

    fn show_named(object: &PObject<Named>) -> Result<String, String> {
        object.with(|named| format!("<Named {}>", named.label)).map_err(|error| error.to_string())
    }

    /// A representation hook that fails; its field is private, so its accessors are only
    /// callable in this module.
    #[derive(Persistent)]
    #[persistent(repr = "self::fail_repr")]
    pub struct Broken {
        secret: u8,
    }

    fn fail_repr(_object: &PObject<Broken>) -> Result<String, String> {
        Err("boom".to_string())
    }

    /// A private struct: its object type stays private too.
    #[derive(Persistent)]
    struct Hidden {
        n: u8,
    }

    /// Writes and reads a `Hidden` through its accessors.
    pub fn hidden() -> u8 {
        let p = persistent::P::new(Hidden { n: 1 });
        p.set_n(4).unwrap();
        p.n().unwrap()
    }

    /// A new `Broken`, read and written through its private accessors.
    pub fn broken() -> persistent::P<Broken> {
        let p = persistent::P::new(Broken { secret: 1 });
        p.set_secret(p.secret().unwrap() + 1).unwrap();
        assert_eq!(p.secret().unwrap(), 2);
        p
    }
}

/// A stub data manager whose `setstate` loads x = 42 and name "loaded", counting loads and
/// registrations; it can be told to fail either.
fn stub() -> Rc<StubDm> {
    StubDm::loading(&Thing { x: 42, name: "loaded".into(), ..Thing::default() })
}

fn thing() -> Thing {
    Thing { x: 1, name: "one".into(), _v_cache: 7, scratch: vec![1, 2, 3] }
}

/// An `UpToDate` object with a jar (not in a cache).
fn saved(dm: &Rc<StubDm>) -> P<Thing> {
    let p = P::new(thing());
    p.p_set_oid(Some(Oid(1))).unwrap();
    p.p_set_jar(Some(Jar::new(dm))).unwrap();
    assert_eq!(p.p_state(), PState::UpToDate);
    p
}

/// A ghost with a jar.
fn ghost(dm: &Rc<StubDm>) -> P<Thing> {
    let p = P::<Thing>::uninitialized();
    p.p_set_oid(Some(Oid(2))).unwrap();
    p.p_set_jar(Some(Jar::new(dm))).unwrap();
    assert_eq!(p.p_state(), PState::Ghost);
    p
}

#[test]
fn the_state_leaves_volatile_fields_out() {
    let p = P::new(thing());
    let bytes = p.p_getstate().unwrap();
    let mut expected = Vec::new();
    encode_field("", &1_i64, &mut expected).unwrap();
    encode_field("", "one", &mut expected).unwrap();
    assert_eq!(bytes, expected);
    let decoded = Thing::decode_state(&bytes).unwrap();
    assert_eq!(decoded, Thing { x: 1, name: "one".into(), _v_cache: 0, scratch: Vec::new() });
}

#[test]
fn a_volatile_write_does_not_mark_changed() {
    let dm = stub();
    let p = saved(&dm);
    p.set__v_cache(99).unwrap();
    p.set_scratch(vec![9]).unwrap();
    assert_eq!(p.p_state(), PState::UpToDate);
    assert_eq!(dm.registered.get(), 0);
    assert_eq!(p._v_cache().unwrap(), 99);
    assert_eq!(p.scratch().unwrap(), vec![9]);
}

#[test]
fn two_writes_register_once() {
    let dm = stub();
    let p = saved(&dm);
    p.set_x(2).unwrap();
    p.set_x(3).unwrap();
    p.set_name("three".into()).unwrap();
    assert_eq!(dm.registered.get(), 1);
    assert_eq!(p.p_state(), PState::Changed);
    assert_eq!(p.x().unwrap(), 3);
    assert_eq!(p.name().unwrap(), "three");
}

#[test]
fn getters_load_a_ghost_once() {
    let dm = stub();
    let p = ghost(&dm);
    assert_eq!(p.x().unwrap(), 42);
    assert_eq!(p.name().unwrap(), "loaded");
    assert_eq!(dm.loads.get(), 1);
    assert_eq!(p.p_state(), PState::UpToDate);
    assert_eq!(dm.registered.get(), 0);
}

#[test]
fn a_setter_loads_a_ghost_before_writing() {
    let dm = stub();
    let p = ghost(&dm);
    p.set_x(5).unwrap();
    assert_eq!(dm.loads.get(), 1);
    assert_eq!(dm.registered.get(), 1);
    assert_eq!(p.x().unwrap(), 5);
    assert_eq!(p.name().unwrap(), "loaded");
}

#[test]
fn setstate_of_getstate_is_the_identity_and_resets_volatile_fields() {
    let dm = stub();
    let p = saved(&dm);
    let bytes = p.p_getstate().unwrap();
    p.p_setstate(&bytes).unwrap();
    assert_eq!(p.p_getstate().unwrap(), bytes);
    assert_eq!(p.x().unwrap(), 1);
    assert_eq!(p.name().unwrap(), "one");
    assert_eq!(p._v_cache().unwrap(), 0);
    assert_eq!(p.scratch().unwrap(), Vec::<u8>::new());
    assert_eq!(p.p_state(), PState::UpToDate);
    assert_eq!(dm.registered.get(), 0);
}

#[test]
fn undecodable_bytes_leave_the_object_as_it_was() {
    let dm = stub();
    let p = saved(&dm);
    let before = p.read().unwrap().clone();
    assert!(matches!(p.p_setstate(&[0xff; 3]), Err(Error::Decode { .. })));
    let mut trailing = p.p_getstate().unwrap();
    trailing.push(0);
    match p.p_setstate(&trailing) {
        Err(Error::Decode { type_name, message }) => {
            assert_eq!(type_name, Thing::TYPE_NAME);
            assert!(message.contains("trailing"), "{message}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert_eq!(*p.read().unwrap(), before);
    assert_eq!(p.p_state(), PState::UpToDate);
}

#[test]
fn a_failing_register_cancels_the_write() {
    let dm = stub();
    let p = saved(&dm);
    dm.fail_register.set(true);
    match p.set_x(9) {
        Err(Error::Custom(message)) => assert_eq!(message, "register failed on purpose"),
        other => panic!("expected the register error, got {other:?}"),
    }
    assert_eq!(p.x().unwrap(), 1);
    assert_eq!(p.p_state(), PState::UpToDate);
    assert_eq!((dm.registered.get(), dm.accepted.get()), (1, 0), "asked once, refused");
    dm.fail_register.set(false);
    p.set_x(9).unwrap();
    assert_eq!(p.x().unwrap(), 9);
    assert_eq!(p.p_state(), PState::Changed);
    assert_eq!((dm.registered.get(), dm.accepted.get()), (2, 1), "asked again, accepted");
}

#[test]
fn a_failing_load_leaves_a_ghost() {
    let dm = stub();
    let p = ghost(&dm);
    dm.fail_setstate.set(true);
    match p.x() {
        Err(Error::Custom(message)) => assert_eq!(message, "setstate failed on purpose"),
        other => panic!("expected the setstate error, got {other:?}"),
    }
    assert_eq!(p.p_state(), PState::Ghost);
    assert!(p.set_x(3).is_err());
    assert_eq!(p.p_state(), PState::Ghost);
    assert_eq!(dm.registered.get(), 0);
    dm.fail_setstate.set(false);
    assert_eq!(p.x().unwrap(), 42);
    assert_eq!(p.p_state(), PState::UpToDate);
}

#[test]
fn type_names() {
    // The default is the struct's name alone: it survives moving the struct to another
    // module, crate or binary. Records stored under the first release's default (module
    // path and name) are still read.
    assert_eq!(Thing::TYPE_NAME, "Thing");
    assert!(Thing::reads_type_name("Thing"));
    assert!(Thing::reads_type_name("derive::model::Thing"));
    assert!(!Thing::reads_type_name("derive::model::Other"));
    assert_eq!(Named::TYPE_NAME, "stable::Name");
    assert!(!Named::reads_type_name("derive::model::Named"), "an explicit name has no legacy");
    assert_eq!(Broken::TYPE_NAME, "Broken");
}

#[test]
fn the_representation_hook() {
    let named = P::new(Named { label: "hello".into() });
    assert_eq!(format!("{:?}", named.as_object()), "<Named hello>");
    assert_eq!(named.label().unwrap(), "hello");

    let broken = model::broken();
    let repr = format!("{:?}", broken.as_object());
    assert!(repr.starts_with("<derive::model::Broken object at 0x"), "{repr}");
    assert!(repr.ends_with(" p_repr failed: boom>"), "{repr}");
}

#[test]
fn a_private_struct_keeps_its_object_private() {
    assert_eq!(model::hidden(), 4);
}

#[test]
fn the_protocol_is_reachable_from_the_handle() {
    let p = P::new(thing());
    assert_eq!(p.p_oid(), None);
    assert_eq!(p.p_status(), "unsaved");
    assert!(std::ptr::eq(p.as_object(), &raw const **p));
}
