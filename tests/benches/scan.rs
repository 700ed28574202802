//! A scan of 1,000,000 objects in one long transaction with a cache of 1,000 objects
//! (issue 14): wall time and peak resident memory with the loading sweeps alone
//! (docs/spec.md §3.2), against the same scan calling `incrgc` by hand every 10,000 objects,
//! and against a cache large enough that nothing is swept during the transaction (what a
//! scan cost before loading sweeps existed).
//!
//! The database is a `SqliteStorage` file (so the stored records are not in the process's
//! memory) whose root holds a `PersistentBTreeMap<u64, P<Item>>` of the objects; it is built
//! once, untimed. Each mode then runs in a child process of its own (this binary, started
//! again with `SCAN_BENCH_MODE` set), so that every peak starts from a fresh heap: the
//! child opens the database, resets the peak resident size (`VmHWM`), reads one field of
//! every object in key order, and prints the time, the peak above the memory at the start,
//! the largest number of loaded objects seen (sampled every 1,000 objects) and the
//! connection's statistics (`Connection::stats`).
//!
//! Run: `cargo bench -p persistent-tests --bench scan` (`SCAN_BENCH_OBJECTS` changes the
//! count, default 1,000,000; `SCAN_BENCH_ROUNDS` the rounds of the three modes, default 2).

#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_wrap,
    reason = "bench figures and counts"
)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use persistent::btree::Sizes;
use persistent::prelude::*;
use persistent::{CacheLimits, DatabaseConfig};
use persistent_tests::{peak_rss_kib, reset_peak_rss, Item, TempDir};

/// The cache limit of the scans.
const CACHE_SIZE: usize = 1_000;

/// How often the hand-sweeping mode calls `incrgc`.
const HAND_EVERY: usize = 10_000;

#[derive(Persistent, Default)]
struct Root {
    items: PersistentBTreeMap<u64, P<Item>>,
}

/// How a scan keeps its cache down.
#[derive(Clone, Copy)]
enum Mode {
    /// The loading sweeps alone (cache of 1,000).
    Auto,
    /// The loading sweeps, and `incrgc` every 10,000 objects (cache of 1,000).
    Hand,
    /// A cache larger than the scan: nothing is swept until the transaction ends.
    Unbounded,
}

impl Mode {
    const ALL: [Mode; 3] = [Mode::Auto, Mode::Hand, Mode::Unbounded];

    fn name(self) -> &'static str {
        match self {
            Mode::Auto => "auto",
            Mode::Hand => "hand",
            Mode::Unbounded => "unbounded",
        }
    }

    fn parse(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|mode| mode.name() == name)
    }
}

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let objects = env_count("SCAN_BENCH_OBJECTS", 1_000_000);
    if let (Ok(mode), Ok(file)) =
        (std::env::var("SCAN_BENCH_MODE"), std::env::var("SCAN_BENCH_FILE"))
    {
        let mode = Mode::parse(&mode).expect("SCAN_BENCH_MODE is auto, hand or unbounded");
        scan(Path::new(&file), mode, objects);
        return;
    }
    // Under `cargo test --benches` (no `--bench` argument) only check that it runs, small.
    let benching = std::env::args().any(|arg| arg == "--bench");
    let objects = if benching { objects } else { 20_000 };
    let dir = TempDir::new("scan-bench");
    let file = dir.path().join("scan.db");
    let started = Instant::now();
    build(&file, objects);
    eprintln!("scan: built {objects} objects in {:.1} s", started.elapsed().as_secs_f64());
    for _ in 0..env_count("SCAN_BENCH_ROUNDS", if benching { 2 } else { 1 }) {
        for mode in Mode::ALL {
            let status = Command::new(std::env::current_exe().expect("this binary"))
                .env("SCAN_BENCH_MODE", mode.name())
                .env("SCAN_BENCH_FILE", &file)
                .env("SCAN_BENCH_OBJECTS", objects.to_string())
                .status()
                .expect("start a scan");
            assert!(status.success(), "the {} scan failed", mode.name());
        }
    }
}

fn database(file: &Path, cache_size: usize) -> Database {
    let storage = SqliteStorage::open(file).expect("open the file");
    let config =
        DatabaseConfig::default().with_cache(CacheLimits::default().with_cache_size(cache_size));
    Database::open_with(std::sync::Arc::new(storage), config).expect("open the database")
}

/// Stores `objects` items under the root's tree, in one transaction.
fn build(file: &Path, objects: usize) {
    let db = database(file, 10_000);
    let conn = db.connect().expect("connect");
    let entries = (0..objects as u64).map(|n| (n, P::new(Item::numbered(n.cast_signed()))));
    let tree = PersistentBTreeMap::from_sorted(entries, Sizes::default()).expect("build the tree");
    conn.root::<Root>().expect("root").set_items(tree).expect("set the tree");
    conn.commit().expect("commit");
}

/// One scan, in this (child) process; prints its figures.
fn scan(file: &Path, mode: Mode, objects: usize) {
    let cache_size = match mode {
        Mode::Auto | Mode::Hand => CACHE_SIZE,
        Mode::Unbounded => 2 * objects + 1_000,
    };
    let db = database(file, cache_size);
    let conn = db.connect().expect("connect");
    let items = conn.root::<Root>().expect("root").items().expect("the tree");
    reset_peak_rss();
    let before = peak_rss_kib();
    let started = Instant::now();
    let (mut total, mut seen, mut most) = (0i64, 0usize, 0usize);
    for entry in items.iter().expect("iterate") {
        let (_, item) = entry.expect("an entry");
        total += item.with(|item| item.n).expect("load an item");
        seen += 1;
        if seen % 1_000 == 0 {
            most = most.max(conn.cache().non_ghost_count());
        }
        if matches!(mode, Mode::Hand) && seen % HAND_EVERY == 0 {
            conn.cache().incrgc();
        }
    }
    let took = started.elapsed();
    let peak = peak_rss_kib();
    assert_eq!(seen, objects);
    assert_eq!(total, (0..objects as i64).sum::<i64>());
    let stats = conn.stats();
    println!(
        "scan {:<9} {objects} objects, cache_size {cache_size}: {:.2} s ({:.0} objects/s); \
         peak RSS {:.1} MiB above the {:.1} MiB at the start; at most {most} loaded; \
         loads {}, evictions {}",
        mode.name(),
        took.as_secs_f64(),
        objects as f64 / took.as_secs_f64(),
        peak.saturating_sub(before) as f64 / 1024.0,
        before as f64 / 1024.0,
        stats.loads,
        stats.evictions,
    );
}
