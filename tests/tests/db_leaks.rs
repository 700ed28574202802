//! Memory that must come back: loaded objects whose states refer to each other in a cycle
//! are freed when their connection is dropped (the cache ghostifies every live object, as
//! the reference does at close), so a service that opens a connection per request does not
//! grow. Measured with a counting global allocator (this test binary only).

#![allow(
    clippy::cast_possible_wrap,
    clippy::items_after_statements,
    reason = "test code: small test values; helper items sit next to their use"
)]

use std::alloc::System;

use persistent::prelude::*;
use persistent::storage::MemoryStorage;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[derive(Persistent, Default)]
struct Peer {
    payload: Vec<u8>,
    other: Option<P<Peer>>,
}

#[derive(Persistent, Default)]
struct Root {
    first: Option<P<Peer>>,
}

/// Loads both peers of the cycle through a new connection, which is then dropped.
fn load_the_cycle(db: &Database) {
    db.transact(|conn| {
        let first = conn.root::<Root>()?.first()?.clone().expect("stored");
        let second = first.other()?.clone().expect("stored");
        assert_eq!(first.payload()?.len() + second.payload()?.len(), 20_000);
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_cycle_of_loaded_objects_is_freed_with_its_connection() {
    let db = Database::open(MemoryStorage::new()).unwrap();
    db.transact(|conn| {
        let a = P::new(Peer { payload: vec![1; 10_000], other: None });
        let b = P::new(Peer { payload: vec![2; 10_000], other: Some(a.clone()) });
        a.set_other(Some(b))?;
        conn.root::<Root>()?.set_first(Some(a))
    })
    .unwrap();
    for _ in 0..20 {
        load_the_cycle(&db); // warm up: lazily grown buffers reach their size
    }
    let region = Region::new(GLOBAL);
    const CALLS: usize = 200;
    for _ in 0..CALLS {
        load_the_cycle(&db);
    }
    let change = region.change();
    let kept = change.bytes_allocated as i64 - change.bytes_deallocated as i64;
    // Leaking the cycle would keep more than 20 KB per call (4 MB here).
    assert!(kept < 200_000, "{kept} bytes kept after {CALLS} transactions");
}
