//! Memory per cached object, every allocation counted: a counting global allocator
//! (`stats_alloc`) measures the net bytes allocated while 1,000,000 ghosts, then 1,000,000
//! loaded objects, are created and cached, divided by the count. Run:
//! `cargo bench -p persistent-core --bench memory`.

#![allow(
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    reason = "bench code: small test values"
)]

mod common;

use std::alloc::System;
use std::rc::Rc;

use persistent_core::prelude::*;
use persistent_core::{AnyObject, Cache, Result};

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const COUNT: u64 = 1_000_000;

/// Net bytes allocated (and not freed) during `f`, with what `f` returns kept alive.
fn net_bytes<R>(f: impl FnOnce() -> R) -> (R, i64) {
    let region = Region::new(GLOBAL);
    let kept = f();
    let change = region.change();
    // stats_alloc already books a realloc's growth in bytes_allocated (and its shrinking
    // in bytes_deallocated); bytes_reallocated is the same delta again, so it is not added.
    let net = change.bytes_allocated as i64 - change.bytes_deallocated as i64;
    (kept, net)
}

fn report(what: &str, net: i64, held_by_caller: i64) {
    let per = net as f64 / COUNT as f64;
    let handles = held_by_caller as f64 / COUNT as f64;
    println!(
        "{what}: {per:.1} bytes per object ({:.1} without the caller's Vec of handles)",
        per - handles
    );
}

fn main() {
    let handle_vec = (COUNT * std::mem::size_of::<persistent_core::P<common::Row>>() as u64) as i64;

    let (ghosts, net) = net_bytes(|| common::ghost_cache(COUNT));
    assert_eq!(ghosts.1.len() as u64, COUNT);
    report("ghost (header, cache entry, map slot)", net, handle_vec);
    drop(ghosts);

    let (loaded, net) = net_bytes(|| {
        let (dm, cache, rows) = common::ghost_cache(COUNT);
        for p in &rows {
            p.with(|r| r.n).unwrap();
        }
        (dm, cache, rows)
    });
    assert_eq!(loaded.1.non_ghost_count() as u64, COUNT);
    report("loaded object, state built by `Row::numbered` (its string too)", net, handle_vec);
    let name_bytes: usize = loaded.2.iter().map(|p| p.with(|r| r.name.len()).unwrap()).sum();
    println!("  (of which string bytes: {:.1} per object)", name_bytes as f64 / COUNT as f64);
    drop(loaded);

    // As a connection loads: the state decoded from its encoded bytes (`p_setstate`), so the
    // string is exactly as long as the name (`format!` reserves a few bytes more).
    let (decoded, net) = net_bytes(|| {
        let dm = Rc::new(DecodingDm);
        let jar = Jar::new(&dm);
        let cache = Cache::new(&jar).expect("new jar");
        let rows: Vec<P<common::Row>> = (1..=COUNT)
            .map(|oid| {
                let p = P::<common::Row>::uninitialized();
                cache.new_ghost(Oid(oid), &p).unwrap();
                p
            })
            .collect();
        for p in &rows {
            p.with(|r| r.n).unwrap();
        }
        (dm, cache, rows)
    });
    assert_eq!(decoded.1.non_ghost_count() as u64, COUNT);
    report("loaded object, state decoded from its record (its string too)", net, handle_vec);
}

/// Loads every ghost by decoding the encoded state of `Row::numbered(oid)`, as a
/// connection decodes a record (the encoding's own allocations are freed before it ends).
struct DecodingDm;

impl DataManager for DecodingDm {
    fn setstate(&self, obj: &dyn AnyObject) -> Result<()> {
        let oid = obj.p_oid().map_or(0, |o| o.0);
        let bytes = P::new(common::Row::numbered(oid)).p_getstate()?;
        obj.p_setstate(&bytes)
    }

    fn register(&self, _obj: &dyn AnyObject) -> Result<()> {
        Ok(())
    }
}
