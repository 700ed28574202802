//! Speed of the object model and the cache with 1,000,000 cached objects: field reads
//! (touch included), writes of a Changed object, first writes (register included), and
//! `incrgc` from 1,000,000 down to 10,000 non-ghosts. Run:
//! `cargo bench -p persistent-core --bench cache`.

#![allow(clippy::cast_possible_truncation, reason = "bench code: small test values")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::{loaded_cache, Row};
use divan::{black_box, Bencher};
use persistent_core::P;

const CACHED: u64 = 1_000_000;

fn main() {
    divan::main();
}

/// Baseline: the same field through a plain `Rc<RefCell<Row>>`.
#[divan::bench]
fn read_plain_rc_refcell(bencher: Bencher) {
    let plain = Rc::new(RefCell::new(Row::numbered(7)));
    bencher.bench_local(|| black_box(&plain).borrow().n);
}

/// The same field of an `UpToDate` object in a cache of 1,000,000, read again and again (the
/// object is already the most recently used: the touch is a compare).
#[divan::bench]
fn read_hot_object(bencher: Bencher) {
    let (_dm, _cache, rows) = loaded_cache(CACHED);
    let p = rows.last().unwrap().clone();
    bencher.bench_local(|| black_box(&p).with(|r| r.n).unwrap());
}

/// Reads cycling through two objects, so every read moves one to the MRU end.
#[divan::bench]
fn read_alternating_objects(bencher: Bencher) {
    let (_dm, _cache, rows) = loaded_cache(CACHED);
    let pair: [P<Row>; 2] = [rows[0].clone(), rows[1].clone()];
    let mut i = 0;
    bencher.bench_local(|| {
        i ^= 1;
        black_box(&pair[i]).with(|r| r.n).unwrap()
    });
}

/// Reads walking all 1,000,000 objects in order (each read is a cache miss in memory and
/// a ring move).
#[divan::bench]
fn read_walk_all_objects(bencher: Bencher) {
    let (_dm, _cache, rows) = loaded_cache(CACHED);
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) % rows.len();
        black_box(&rows[i]).with(|r| r.n).unwrap()
    });
}

/// Second and later writes of a Changed object.
#[divan::bench]
fn write_changed_object(bencher: Bencher) {
    let (_dm, _cache, rows) = loaded_cache(CACHED);
    let p = rows.last().unwrap().clone();
    p.p_set_changed(Some(true)).unwrap();
    bencher.bench_local(|| black_box(&p).update(|r| r.n += 1).unwrap());
}

/// First writes: 1,000 `UpToDate` objects written once each per sample (register included).
#[divan::bench(sample_size = 1, sample_count = 500)]
fn first_write(bencher: Bencher) {
    let (_dm, _cache, rows) = loaded_cache(CACHED);
    let batch: Vec<P<Row>> = rows[rows.len() - 1000..].to_vec();
    bencher
        .counter(divan::counter::ItemsCount::new(batch.len()))
        .with_inputs(|| {
            for p in &batch {
                p.p_set_changed(Some(false)).unwrap();
            }
        })
        .bench_local_values(|()| {
            for p in &batch {
                p.update(|r| r.n += 1).unwrap();
            }
        });
}

/// `incrgc` from 1,000,000 loaded objects down to 10,000 (990,000 evictions; the rows are
/// held only by the cache, so each eviction also frees the object and its map entry).
#[divan::bench(sample_size = 1, sample_count = 5)]
fn incrgc_1m_to_10k(bencher: Bencher) {
    bencher
        .counter(divan::counter::ItemsCount::new(CACHED as usize - 10_000))
        .with_inputs(|| {
            let (dm, cache, rows) = loaded_cache(CACHED);
            drop(rows);
            cache.set_cache_size(10_000);
            (dm, cache)
        })
        .bench_local_refs(|(_dm, cache)| {
            cache.incrgc();
            assert_eq!(cache.non_ghost_count(), 10_000);
        });
}

/// `incrgc` from 1,000,000 loaded objects down to 10,000 while the caller still holds every
/// handle (evicted objects stay as ghosts in the map).
#[divan::bench(sample_size = 1, sample_count = 5)]
fn incrgc_1m_to_10k_handles_held(bencher: Bencher) {
    bencher
        .counter(divan::counter::ItemsCount::new(CACHED as usize - 10_000))
        .with_inputs(|| {
            let (dm, cache, rows) = loaded_cache(CACHED);
            cache.set_cache_size(10_000);
            (dm, cache, rows)
        })
        .bench_local_refs(|(_dm, cache, _rows)| {
            cache.incrgc();
            assert_eq!(cache.non_ghost_count(), 10_000);
        });
}
