//! Savepoints (docs/spec.md §13) on `MemoryStorage`.
//!
//! * `savepoint_100k`: one `Connection::savepoint` spilling 100,000 changed small objects
//!   (divan counts items, so the figure per object is printed beside the total). Making the
//!   objects and changing them is outside the timed part.
//! * `big_transaction` (printed once, not a divan figure): `SAVEPOINT_BENCH_OBJECTS`
//!   (default 1,000,000) objects changed in one transaction with a savepoint every
//!   `SAVEPOINT_BENCH_EVERY` (default 100,000; 0 for none)
//!   and a cache of 10,000, then committed; reports the wall time and the process's peak
//!   resident memory (`VmHWM`, reset before the transaction) against the memory before it.
//!   The objects are created beforehand (that commit is outside the measured part).
//!
//! Run: `cargo bench -p persistent-tests --bench savepoint`.

#![allow(clippy::cast_precision_loss, reason = "bench figures")]

use std::sync::Arc;
use std::time::Instant;

use divan::counter::ItemsCount;
use divan::Bencher;
use persistent::prelude::*;
use persistent::storage::MemoryStorage;
use persistent::{CacheLimits, Database, DatabaseConfig};
use persistent_tests::{peak_rss_kib, reset_peak_rss, Item};

const OBJECTS: usize = 100_000;

fn main() {
    big_transaction();
    divan::main();
}

fn database(cache_size: usize) -> Database {
    Database::open_with(
        Arc::new(MemoryStorage::new()),
        DatabaseConfig::default().with_cache(CacheLimits::default().with_cache_size(cache_size)),
    )
    .unwrap()
}

/// `count` committed items; returns their oids.
fn items(conn: &Connection, count: usize) -> Vec<Oid> {
    let oids = (0..count)
        .map(|i| {
            conn.add(&P::new(Item { n: i64::try_from(i).unwrap(), ..Item::default() })).unwrap()
        })
        .collect();
    conn.commit().unwrap();
    oids
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn savepoint_100k(bencher: Bencher) {
    bencher
        .counter(ItemsCount::new(OBJECTS))
        .with_inputs(|| {
            let db = database(OBJECTS * 2);
            let conn = db.connect().unwrap();
            let oids = items(&conn, OBJECTS);
            let held: Vec<P<Item>> = oids
                .iter()
                .map(|oid| {
                    let item = conn.get::<Item>(*oid).unwrap();
                    item.update(|it| it.n += 1).unwrap();
                    item
                })
                .collect();
            (db, conn, held)
        })
        .bench_local_values(|(db, conn, held)| {
            let savepoint = conn.savepoint().unwrap();
            (savepoint, held, conn, db)
        });
}

fn big_transaction() {
    let count: usize = std::env::var("SAVEPOINT_BENCH_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    // `SAVEPOINT_BENCH_EVERY=0` runs the same transaction without savepoints, to compare.
    let every: usize =
        std::env::var("SAVEPOINT_BENCH_EVERY").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let db = database(10_000);
    let conn = db.connect().unwrap();
    let oids = items(&conn, count);
    conn.cache().minimize();
    reset_peak_rss();
    let before = peak_rss_kib();
    let started = Instant::now();
    for (i, oid) in oids.iter().enumerate() {
        conn.get::<Item>(*oid).unwrap().update(|it| it.n += 1).unwrap();
        if every > 0 && (i + 1) % every == 0 {
            conn.savepoint().unwrap();
        }
    }
    let spilled = conn.spilled();
    conn.commit().unwrap();
    let took = started.elapsed();
    let peak = peak_rss_kib();
    eprintln!(
        "big_transaction: {count} objects, savepoint every {every}, cache 10000: {:.2} s; \
         spilled {} states / {:.1} MiB; peak RSS {:.1} MiB (before: {:.1} MiB)",
        took.as_secs_f64(),
        spilled.0,
        spilled.1 as f64 / (1024.0 * 1024.0),
        peak as f64 / 1024.0,
        before as f64 / 1024.0,
    );
}
