//! The reference documentation's section 2.4, "Customizing Attribute Access", in the form
//! that fits Rust. Python hooks `__getattr__`, `__getattribute__`, `__setattr__` and
//! `__delattr__`; a Rust type writes its own accessors from the building blocks
//! `p_accessed()` (activate and touch), `p_mark_changed()` (activate, touch, register once)
//! and `update_volatile` (write without marking).
//!
//! * `VeryPrivate` keeps its attributes in a private map and treats names starting with
//!   `tmp_` as volatile (2.4.2);
//! * `Fallback` answers names it does not know with the upper-cased name and the
//!   `p_changed()` it observes, showing that the object was activated first (2.4.1).
//!
//! Python's `AttributeError` for a missing attribute is `Ok(None)` here.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use persistent::codec::{decode_field, encode_field, finish_decode};
use persistent::prelude::*;
use persistent::{Cache, Error, ObjectRef, PObject, Result};
use persistent_testkit::StubDm;

/// Names starting with this prefix are volatile in `VeryPrivate`.
const VOLATILE_PREFIX: &str = "tmp_";

/// The reference's `VeryPrivate`: attributes in a private map; `tmp_` names are volatile.
#[derive(Debug, Default)]
struct VeryPrivate {
    secret: BTreeMap<String, i64>,
}

impl VeryPrivate {
    /// The reference's `VeryPrivate(**kw)`.
    fn new<const N: usize>(attributes: [(&str, i64); N]) -> VeryPrivate {
        let secret = attributes.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        VeryPrivate { secret }
    }
}

impl Persistent for VeryPrivate {
    type Object = PObject<VeryPrivate>;
    const TYPE_NAME: &'static str = "seed::VeryPrivate";

    /// Only the non-`tmp_` entries are stored.
    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        let stored: BTreeMap<&String, &i64> =
            self.secret.iter().filter(|(name, _)| !name.starts_with(VOLATILE_PREFIX)).collect();
        encode_field(Self::TYPE_NAME, &stored, out)
    }

    /// Gives back the stored entries: no `tmp_` entry survives a load.
    fn decode_state(bytes: &[u8]) -> Result<Self> {
        let mut input = bytes;
        let secret = decode_field(Self::TYPE_NAME, &mut input)?;
        finish_decode(Self::TYPE_NAME, input)?;
        Ok(VeryPrivate { secret })
    }
}

/// The custom accessors of `VeryPrivate` (its `__getattribute__`, `__setattr__` and
/// `__delattr__`).
trait Attributes {
    /// Activates, then reads `name`.
    fn get(&self, name: &str) -> Result<Option<i64>>;
    /// Activates, then sets `name`; marks changed unless the name is volatile.
    fn set(&self, name: &str, value: i64) -> Result<()>;
    /// Activates, then deletes `name`, returning its value; marks changed when a
    /// non-volatile name was present.
    fn del(&self, name: &str) -> Result<Option<i64>>;
}

impl Attributes for P<VeryPrivate> {
    fn get(&self, name: &str) -> Result<Option<i64>> {
        self.p_accessed()?;
        self.with(|state| state.secret.get(name).copied())
    }

    fn set(&self, name: &str, value: i64) -> Result<()> {
        if name.starts_with(VOLATILE_PREFIX) {
            // update_volatile activates and touches, and never marks.
            return self.update_volatile(|state| {
                state.secret.insert(name.to_string(), value);
            });
        }
        self.p_mark_changed()?;
        self.update_volatile(|state| {
            state.secret.insert(name.to_string(), value);
        })
    }

    fn del(&self, name: &str) -> Result<Option<i64>> {
        self.p_accessed()?;
        if !self.with(|state| state.secret.contains_key(name))? {
            return Ok(None);
        }
        if !name.starts_with(VOLATILE_PREFIX) {
            self.p_mark_changed()?;
        }
        self.update_volatile(|state| state.secret.remove(name))
    }
}

/// The reference's `_rememberingJar`: one object, held in a cache. Its data manager is the
/// testkit's `StubDm`, whose `state` plays the remembered state: `setstate` applies it,
/// `register` only counts.
struct RememberingJar {
    dm: Rc<StubDm>,
    cache: Cache,
    object: RefCell<Option<ObjectRef>>,
}

impl RememberingJar {
    fn new() -> RememberingJar {
        let dm = StubDm::new(Vec::new());
        let cache = Cache::new(&Jar::new(&dm)).expect("a new jar has no cache");
        RememberingJar { dm, cache, object: RefCell::new(None) }
    }

    /// Gives `p` the jar and oid 42, puts it in the cache and remembers its state.
    fn add<T: Persistent>(&self, p: &P<T>) {
        p.as_object().p_set_jar(Some(self.cache.jar().clone())).unwrap();
        p.as_object().p_set_oid(Some(Oid(42))).unwrap();
        self.cache.insert(Oid(42), p).unwrap();
        *self.dm.state.borrow_mut() = p.as_object().p_getstate().unwrap();
        *self.object.borrow_mut() = Some(p.erase());
    }

    /// Remembers the object's current state and marks it `UpToDate`.
    fn fake_commit(&self) {
        let object = self.object.borrow().clone().expect("an object was added");
        *self.dm.state.borrow_mut() = object.p_getstate().unwrap();
        object.p_set_changed(Some(false)).unwrap();
    }
}

/// An unsaved object: not changed, no oid, no jar.
fn assert_unsaved<T: Persistent>(p: &P<T>) {
    assert_eq!(p.as_object().p_changed(), Some(false));
    assert_eq!(p.as_object().p_oid(), None);
    assert!(p.as_object().p_jar().is_none());
}

#[test]
fn hooking_getattribute() -> Result<()> {
    let o = P::new(VeryPrivate::new([("x", 1)]));
    assert_unsaved(&o);
    assert_eq!(o.get("x")?, Some(1));
    assert_eq!(o.get("y")?, None); // AttributeError: y

    let jar = RememberingJar::new();
    jar.add(&o);
    o.p_deactivate();
    assert_eq!(o.p_changed(), None);

    // Reading activates the object.
    assert_eq!(o.get("x")?, Some(1));
    assert_eq!(o.p_changed(), Some(false));

    // So does reading a missing attribute.
    o.p_deactivate();
    assert_eq!(o.p_changed(), None);
    assert_eq!(o.get("y")?, None); // AttributeError: y
    assert_eq!(o.p_changed(), Some(false));
    assert_eq!((jar.dm.loads.get(), jar.dm.registered.get()), (2, 0));
    Ok(())
}

#[test]
fn hooking_setattr() -> Result<()> {
    let o = P::new(VeryPrivate::new([]));
    assert_unsaved(&o);
    assert_eq!(o.get("x")?, None); // AttributeError: x
    o.set("x", 1)?;
    assert_eq!(o.get("x")?, Some(1));
    // Python checks `'x' not in o.__dict__`; here the map is private to begin with.

    let jar = RememberingJar::new();
    jar.add(&o);
    o.p_deactivate();
    assert_eq!(o.p_changed(), None);

    // Setting reactivates the object and marks it changed.
    o.set("y", 2)?;
    assert_eq!(o.get("y")?, Some(2));
    assert_eq!(o.p_changed(), Some(true));
    assert_eq!(jar.dm.registered.get(), 1);

    jar.fake_commit();
    assert_eq!(o.p_changed(), Some(false));
    o.p_deactivate();
    assert_eq!(o.p_changed(), None);

    // A tmp_ name activates the object but does not mark it changed.
    o.set("tmp_foo", 3)?;
    assert_eq!(o.p_changed(), Some(false));
    assert_eq!(o.get("tmp_foo")?, Some(3));
    assert_eq!(jar.dm.registered.get(), 1, "no second register");
    assert_eq!(o.get("y")?, Some(2), "the committed state was reloaded");
    Ok(())
}

#[test]
fn hooking_delattr() -> Result<()> {
    let o = P::new(VeryPrivate::new([("x", 1), ("y", 2), ("tmp_z", 3)]));
    assert_unsaved(&o);
    assert_eq!(o.get("x")?, Some(1));
    assert_eq!(o.del("x")?, Some(1));
    assert_eq!(o.get("x")?, None); // AttributeError: x

    let jar = RememberingJar::new();
    jar.add(&o);
    o.p_deactivate();
    assert_eq!(o.p_changed(), None);

    // Deleting activates the object and marks it changed.
    assert_eq!(o.del("y")?, Some(2));
    assert_eq!(o.p_changed(), Some(true));
    assert_eq!(o.get("y")?, None); // AttributeError: y
                                   // The reference pickles its secret dict whole, tmp_ names included, so `o.tmp_z` is
                                   // still 3 after the reload. Here tmp_ entries are volatile: they are not stored, and
                                   // the reload (from the state remembered by `add`) brings none back.
    assert_eq!(o.get("tmp_z")?, None);

    jar.fake_commit();
    assert_eq!(o.p_changed(), Some(false));
    o.p_deactivate();
    assert_eq!(o.p_changed(), None);

    // Deleting a tmp_ name activates the object but does not mark it changed. (Nothing to
    // delete after the reload, see above; the second deletion removes a real entry.)
    assert_eq!(o.del("tmp_z")?, None);
    assert_eq!(o.p_changed(), Some(false));
    o.set("tmp_z", 3)?;
    assert_eq!(o.del("tmp_z")?, Some(3));
    assert_eq!(o.p_changed(), Some(false));
    assert_eq!(o.get("tmp_z")?, None); // AttributeError: tmp_z
    assert_eq!(jar.dm.registered.get(), 1);

    // `del o._p_oid` ("can't delete _p_oid of cached object"): clearing the oid of a cached
    // object is refused, without activating or changing it.
    assert!(matches!(o.p_set_oid(None), Err(Error::CachedOidChange)));
    assert_eq!(o.p_changed(), Some(false));
    assert_eq!(o.p_oid(), Some(Oid(42)));
    o.p_deactivate();
    let loads = jar.dm.loads.get();
    assert!(matches!(o.p_set_oid(None), Err(Error::CachedOidChange)));
    assert_eq!(o.p_changed(), None, "a ghost stays a ghost");
    assert_eq!(jar.dm.loads.get(), loads);

    // `del o._p_changed` is `p_invalidate()`: it sets `_p_changed` to None.
    o.p_activate()?;
    o.p_invalidate()?;
    assert_eq!(o.p_changed(), None);
    Ok(())
}

/// The reference's `OverridesGetattr`: attributes it does not know are answered by a
/// fallback (its `__getattr__`).
#[derive(Default, Persistent)]
struct Fallback {
    known: BTreeMap<String, i64>,
}

/// What `lookup` finds: a stored value, or the fallback's answer (the upper-cased name and
/// the `p_changed()` seen while it ran).
#[derive(Debug, PartialEq)]
enum Attr {
    Value(i64),
    Fallback(String, Option<bool>),
}

trait Lookup {
    /// Reads `name`, activating the object first; unknown names go to the fallback.
    fn lookup(&self, name: &str) -> Result<Attr>;
    /// Stores `name` (marking the object changed).
    fn assign(&self, name: &str, value: i64) -> Result<()>;
}

impl Lookup for P<Fallback> {
    fn lookup(&self, name: &str) -> Result<Attr> {
        // `with` activates the ghost before the closure runs, as Python activates before
        // calling `__getattr__`. While the state is borrowed the object counts as sticky,
        // and `p_changed()` reports a sticky object as `Some(false)`.
        self.with(|state| match state.known.get(name) {
            Some(value) => Attr::Value(*value),
            None => Attr::Fallback(name.to_uppercase(), self.p_changed()),
        })
    }

    fn assign(&self, name: &str, value: i64) -> Result<()> {
        self.update(|state| {
            state.known.insert(name.to_string(), value);
        })
    }
}

#[test]
fn hooking_getattr_sees_the_object_activated() -> Result<()> {
    let o = P::new(Fallback::default());
    assert_unsaved(&o);
    assert_eq!(o.lookup("spam")?, Attr::Fallback("SPAM".into(), Some(false)));
    o.assign("spam", 1)?;
    assert_eq!(o.lookup("spam")?, Attr::Value(1));

    // The reference uses a `_resettingJar` here; remembering the state at `add` does the
    // same for this example.
    let jar = RememberingJar::new();
    jar.add(&o);
    o.p_deactivate();
    assert_eq!(o.p_changed(), None);

    // The fallback saw Some(false), not None: the object was activated before it ran.
    assert_eq!(o.lookup("eggs")?, Attr::Fallback("EGGS".into(), Some(false)));
    assert_eq!(o.p_changed(), Some(false));
    assert_eq!(jar.dm.loads.get(), 1);
    assert_eq!(o.lookup("spam")?, Attr::Value(1));
    Ok(())
}
