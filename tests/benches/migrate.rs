//! `Database::migrate` of 1,000,000 objects in a SQLite file (docs/spec.md §7.4): objects
//! rewritten per second, and the heap it holds, counted by a counting allocator
//! (`stats_alloc`) after each batch. The database is built outside the timed part. Run:
//! `cargo bench -p persistent-tests --bench migrate`.

#![allow(clippy::cast_possible_wrap, clippy::cast_precision_loss, reason = "bench values")]

use std::alloc::System;

use divan::counter::ItemsCount;
use divan::Bencher;
use persistent::prelude::*;
use persistent_tests::{Backend, RowV1, RowV2};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Objects migrated.
const OBJECTS: usize = 1_000_000;

/// Objects per migration transaction.
const BATCH: usize = 10_000;

fn main() {
    divan::main();
}

/// A SQLite file of `OBJECTS` first-release rows, committed 100,000 per transaction.
fn first_release_file() -> Backend {
    let backend = Backend::sqlite();
    let db = backend.open();
    let conn = db.connect().expect("connect");
    for n in 0..OBJECTS {
        let row = RowV1::numbered(n);
        conn.add(&P::new(row)).expect("add a row");
        if n % 100_000 == 99_999 {
            conn.commit().expect("commit the rows");
        }
    }
    conn.commit().expect("commit the rows");
    backend
}

/// Migrates 1,000,000 rows, `BATCH` per transaction; prints the largest net heap seen after
/// a batch.
#[divan::bench(sample_size = 1, sample_count = 1)]
fn migrate_1m_sqlite(bencher: Bencher) {
    bencher.counter(ItemsCount::new(OBJECTS)).with_inputs(first_release_file).bench_local_refs(
        |backend| {
            let db = backend.open();
            let region = Region::new(GLOBAL);
            let mut peak = 0isize;
            let done = db
                .migrate::<RowV2>(BATCH, |_| {
                    let change = region.change();
                    // A realloc's growth is already in bytes_allocated (see the memory bench).
                    let net = change.bytes_allocated as isize - change.bytes_deallocated as isize;
                    peak = peak.max(net);
                })
                .expect("migrate");
            assert_eq!(done.rewritten, OBJECTS as u64);
            eprintln!("migrate: largest net heap after a batch {} KiB", peak / 1024);
        },
    );
}
