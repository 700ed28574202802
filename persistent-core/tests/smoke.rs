//! A first check of the object model with a hand-written `Persistent` type and a stub
//! data manager: load on access, register once, ghostify, identity in the cache.

use std::cell::Cell;
use std::rc::Rc;

use persistent_core::codec::fields::{decode_field, encode_field, finish_decode};
use persistent_core::prelude::*;
use persistent_core::{AnyObject, Cache, PObject, Result};

#[derive(Debug, Default, PartialEq)]
struct Counter {
    x: i64,
}

impl Persistent for Counter {
    type Object = PObject<Counter>;
    const TYPE_NAME: &'static str = "smoke::Counter";

    fn encode_state(&self, out: &mut Vec<u8>) -> Result<()> {
        encode_field(Self::TYPE_NAME, &self.x, out)
    }

    fn decode_state(bytes: &[u8]) -> Result<Self> {
        let mut input = bytes;
        let x = decode_field(Self::TYPE_NAME, &mut input)?;
        finish_decode(Self::TYPE_NAME, input)?;
        Ok(Counter { x })
    }
}

#[derive(Default)]
struct Stub {
    registered: Cell<usize>,
    loads: Cell<usize>,
}

impl DataManager for Stub {
    fn setstate(&self, obj: &dyn AnyObject) -> Result<()> {
        self.loads.set(self.loads.get() + 1);
        obj.downcast_ref::<Counter>().unwrap().p_set_state_value(Counter { x: 42 })
    }

    fn register(&self, _obj: &dyn AnyObject) -> Result<()> {
        self.registered.set(self.registered.get() + 1);
        Ok(())
    }
}

#[test]
fn load_register_ghostify_identity() {
    let dm = Rc::new(Stub::default());
    let jar = Jar::new(&dm);
    let cache = Cache::new(&jar).unwrap();
    let p = P::new(Counter { x: 0 });
    p.p_set_oid(Some(Oid(5))).unwrap();
    p.p_set_jar(Some(jar.clone())).unwrap();
    cache.insert(Oid(5), &p).unwrap();
    assert_eq!(cache.ring_len(), 1);
    p.update(|c| c.x += 1).unwrap();
    p.update(|c| c.x += 1).unwrap();
    assert_eq!(dm.registered.get(), 1);
    assert_eq!(p.p_state(), PState::Changed);
    p.p_invalidate().unwrap();
    assert_eq!(p.p_state(), PState::Ghost);
    assert_eq!(cache.ring_len(), 0);
    assert_eq!(p.with(|c| c.x).unwrap(), 42);
    assert_eq!(dm.loads.get(), 1);
    assert_eq!(cache.ring_len(), 1);
    let again = cache.get(Oid(5)).unwrap().downcast::<Counter>().unwrap();
    assert!(P::ptr_eq(&p, &again));
    drop(again);
    cache.full_sweep();
    assert_eq!(p.p_state(), PState::Ghost);
    assert_eq!(cache.len(), 1);
    drop(p);
    assert_eq!(cache.len(), 0, "a ghost nobody holds leaves the map");
}
