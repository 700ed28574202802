//! Builds the database the tool's benchmark reads (`persistent-cli/bench.sh`):
//! `cargo run --release -p persistent-cli --example bench_db -- PATH [OBJECTS]`.
//!
//! `OBJECTS` items (default 1,000,000: an int, a string, a float) in one
//! `PersistentBTreeMap<u64, P<Item>>` under the root, committed in batches of 10,000; then
//! one more transaction changes every tenth item (a second revision) and removes every
//! hundredth from the tree (unreachable), so `stats` has history and garbage to report and
//! `verify` has unreachable objects to find.

use persistent::prelude::*;
use persistent::{CacheLimits, DatabaseConfig, PersistentBTreeMap, SqliteStorage};

/// One stored object.
#[derive(Persistent)]
#[persistent(name = "bench::Item")]
struct Item {
    number: i64,
    label: String,
    weight: f64,
}

/// The root: every item by number.
#[derive(Persistent, Default)]
#[persistent(name = "bench::Items")]
struct Items {
    items: PersistentBTreeMap<u64, P<Item>>,
}

const BATCH: u64 = 10_000;

fn main() -> persistent::Result<()> {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: bench_db PATH [OBJECTS]");
        std::process::exit(2);
    };
    let objects: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{path}{suffix}"));
    }
    let config =
        DatabaseConfig::default().with_cache(CacheLimits::default().with_cache_size(1_000));
    let db = Database::open_with(std::sync::Arc::new(SqliteStorage::open(&path)?), config)?;
    let conn = db.connect()?;
    let items = conn.root::<Items>()?.items()?;
    for start in (0..objects).step_by(usize::try_from(BATCH).unwrap_or(usize::MAX)) {
        for n in start..(start + BATCH).min(objects) {
            let number = i64::try_from(n).unwrap_or(i64::MAX);
            let item = Item { number, label: format!("item {n}"), weight: 0.5 };
            items.insert(n, P::new(item))?;
        }
        conn.commit()?;
    }
    for n in (0..objects).step_by(10) {
        if let Some(item) = items.get(&n)? {
            item.set_weight(1.5)?;
        }
        if n % 100 == 0 {
            items.remove(&n)?;
        }
        if n % (10 * BATCH) == 0 {
            conn.commit()?;
        }
    }
    conn.commit()?;
    println!("{objects} items written to {path}");
    Ok(())
}
