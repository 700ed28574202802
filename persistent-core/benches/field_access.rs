//! Reading one field of an `UpToDate` object through the getter `#[derive(Persistent)]`
//! generates, next to reading the same field of the same struct through a plain
//! `Rc<RefCell<_>>`. The object has a jar and sits in a cache with 1,000 other loaded
//! objects, so every read goes through the real touch. Targets: at most 3x the plain read,
//! under 3 ns. Run: `cargo bench -p persistent-core --bench field_access`.

#![allow(
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    reason = "bench code: small test values"
)]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{loaded_cache, BenchDm};
use divan::{black_box, Bencher};
use persistent_core::prelude::*;
use persistent_core::Cache;

/// The reference's benchmark shape: an int, a string and a float.
#[derive(Clone, Debug, persistent_derive::Persistent)]
#[persistent(crate = "persistent_core")]
struct Fields {
    x: i64,
    name: String,
    value: f64,
}

fn fields(n: i64) -> Fields {
    Fields { x: n, name: format!("fields{n}"), value: n as f64 }
}

/// How many other loaded objects share the cache.
const OTHERS: u64 = 1_000;

fn main() {
    divan::main();
}

/// A cache holding `OTHERS` loaded rows plus `count` loaded `Fields` objects (oids after the
/// rows), each `UpToDate` with a jar, most recently used last.
fn cached_fields(count: u64) -> (Rc<BenchDm>, Cache, Vec<P<Fields>>) {
    let (dm, cache, _rows) = loaded_cache(OTHERS);
    let objects = (1..=count)
        .map(|i| {
            let oid = Oid(OTHERS + i);
            let p = P::new(fields(i as i64));
            p.p_set_oid(Some(oid)).unwrap();
            p.p_set_jar(Some(cache.jar().clone())).unwrap();
            cache.insert(oid, &p).unwrap();
            p.p_accessed().unwrap();
            assert_eq!(p.p_state(), PState::UpToDate);
            p
        })
        .collect();
    assert_eq!(cache.non_ghost_count() as u64, OTHERS + count);
    (dm, cache, objects)
}

/// Baseline: the same field of the same struct through `Rc<RefCell<_>>`.
#[divan::bench]
fn plain_rc_refcell(bencher: Bencher) {
    let plain = Rc::new(RefCell::new(fields(7)));
    bencher.bench_local(|| black_box(&plain).borrow().x);
}

/// The generated getter `x()` of a cached `UpToDate` object read again and again (it stays
/// the most recently used object, so the touch is the MRU check).
#[divan::bench]
fn generated_getter(bencher: Bencher) {
    let (_dm, _cache, objects) = cached_fields(1);
    let p = objects[0].clone();
    bencher.bench_local(|| black_box(&p).x().unwrap());
    assert_eq!(p.p_state(), PState::UpToDate);
}

/// For comparison: the same read through `with` and a closure (what the getter calls).
#[divan::bench]
fn with_closure(bencher: Bencher) {
    let (_dm, _cache, objects) = cached_fields(1);
    let p = objects[0].clone();
    bencher.bench_local(|| black_box(&p).with(|f| f.x).unwrap());
}

/// The generated getter alternating between two cached objects, so that every read moves
/// one of them to the most recently used end of the ring.
#[divan::bench]
fn generated_getter_alternating(bencher: Bencher) {
    let (_dm, _cache, objects) = cached_fields(2);
    let mut i = 0;
    bencher.bench_local(|| {
        i ^= 1;
        black_box(&objects[i]).x().unwrap()
    });
}
