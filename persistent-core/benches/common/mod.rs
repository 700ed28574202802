//! Shared by the core benchmarks: the reference's object shape (an int, a string, a
//! float), a minimal data manager, and a cache filled with loaded objects or ghosts.

#![allow(
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    reason = "bench code: small test values"
)]
#![allow(dead_code)]

use std::cell::Cell;
use std::rc::Rc;

use persistent_core::prelude::*;
use persistent_core::{AnyObject, Cache, Result};

/// Three fields, like the Python reference's benchmark objects.
#[derive(Clone, Debug, Default, persistent_derive::Persistent)]
#[persistent(crate = "persistent_core", name = "bench::Row")]
pub struct Row {
    pub n: i64,
    pub name: String,
    pub value: f64,
}

impl Row {
    pub fn numbered(n: u64) -> Row {
        Row { n: n as i64, name: format!("row{n}"), value: n as f64 }
    }
}

/// Loads every ghost as `Row::numbered(oid)`; counts registrations.
#[derive(Default)]
pub struct BenchDm {
    pub registered: Cell<u64>,
}

impl DataManager for BenchDm {
    fn setstate(&self, obj: &dyn AnyObject) -> Result<()> {
        let oid = obj.p_oid().map_or(0, |o| o.0);
        obj.downcast_ref::<Row>().expect("a Row").p_set_state_value(Row::numbered(oid))
    }

    fn register(&self, _obj: &dyn AnyObject) -> Result<()> {
        self.registered.set(self.registered.get() + 1);
        Ok(())
    }
}

/// A data manager, its cache, and `count` loaded rows in it (oids 1..=count, estimated
/// size 64 each), with their handles.
pub fn loaded_cache(count: u64) -> (Rc<BenchDm>, Cache, Vec<P<Row>>) {
    let dm = Rc::new(BenchDm::default());
    let jar = Jar::new(&dm);
    let cache = Cache::new(&jar).expect("new jar");
    let rows = (1..=count)
        .map(|oid| {
            let p = P::new(Row::numbered(oid));
            p.p_set_oid(Some(Oid(oid))).unwrap();
            p.p_set_jar(Some(jar.clone())).unwrap();
            p.p_set_estimated_size(60);
            cache.insert(Oid(oid), &p).unwrap();
            p
        })
        .collect();
    (dm, cache, rows)
}

/// A data manager, its cache, and `count` ghosts in it (oids 1..=count), with their handles.
pub fn ghost_cache(count: u64) -> (Rc<BenchDm>, Cache, Vec<P<Row>>) {
    let dm = Rc::new(BenchDm::default());
    let jar = Jar::new(&dm);
    let cache = Cache::new(&jar).expect("new jar");
    let rows = (1..=count)
        .map(|oid| {
            let p = P::<Row>::uninitialized();
            cache.new_ghost(Oid(oid), &p).unwrap();
            p
        })
        .collect();
    (dm, cache, rows)
}
