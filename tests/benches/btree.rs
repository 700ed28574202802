//! `PersistentBTreeMap` against the Python reference's `BTrees` (`bench_btree.py` of the
//! reference suite), on an LOBTree-like tree `PersistentBTreeMap<i64, i64>` (random keys in
//! `0..2^40`, value 1, as the reference) in a SQLite file (WAL, `synchronous=FULL`), with a
//! cache of 100,000 objects as the reference's:
//!
//! * `insert_1m_random_keys`: 1,000,000 random keys inserted into a new tree under the root,
//!   in one transaction, no commit; `std_btreemap_insert_1m` inserts the same keys into a
//!   `std::collections::BTreeMap` in the same run;
//! * `commit_1m_key_tree_sqlite`: the commit of that tree (it prints the records written);
//! * `small_txns_1k_x10_sqlite`: 1,000 durable transactions of 10 random inserts into the
//!   committed tree, in the connection that built it. It prints, per transaction, the
//!   records stored and their bytes (`Storage::history` of each oid `changes_since` lists),
//!   the growth of the database file and of its WAL, the bytes the process handed to
//!   `write` (`wchar` of `/proc/self/io`) and the CPU time;
//! * `cold_lookups_10k_sqlite`: 10,000 random existing keys looked up in a fresh database
//!   and connection over the committed file;
//! * `one_million_objects_100_commits`: 1,000,000 small objects (`Item`: an int, a string, a
//!   float) put in one `PersistentBTreeMap<u64, P<Item>>` and committed in 100 batches of
//!   10,000, with a cache of 1,000 objects (it prints the file sizes and the peak RSS,
//!   `VmHWM` reset when the sample starts; run it alone, `-- one_million`, for a meaningful
//!   RSS: the heap the other workloads freed stays resident and hides the peak);
//! * `sizes_insert_1m`, `sizes_small_txns` and `sizes_cold_lookups`: the insert,
//!   small-transaction and cold-lookup workloads over bucket and node sizes, to choose
//!   `Sizes::default()`;
//! * `concurrent_inserts_into_one_bucket_sqlite`: 200 rounds of two connections inserting
//!   different new keys into one bucket, the second commit merged by conflict resolution
//!   (it prints how many merged and the second commit's median time).
//!
//! Trees are built outside the timed part (`with_inputs`, one iteration per sample); what
//! is printed after a sample is measured when its input is dropped, outside the timed part.
//! Run: `cargo bench -p persistent-tests --bench btree`.

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    reason = "bench code: small test values and byte counts"
)]

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use divan::counter::ItemsCount;
use divan::{black_box, Bencher};
use persistent::btree::Sizes;
use persistent::prelude::*;
use persistent::{CacheLimits, Database, DatabaseConfig, Tid};
use persistent_tests::{peak_rss_kib, reset_peak_rss, Backend, Item, Rng};

/// Keys in the tree.
const KEYS: usize = 1_000_000;

/// Durable transactions in the small-transaction workload, and inserts per transaction.
const TXNS: usize = 1_000;
const PER_TXN: usize = 10;

/// Lookups in the cold-lookup workload.
const LOOKUPS: usize = 10_000;

/// Objects in the 1M-object workload, and per commit.
const OBJECTS: usize = 1_000_000;
const BATCH: usize = 10_000;

/// Bucket / node sizes tried by the `sizes_*` workloads.
const SIZES: &[&str] =
    &["32/64", "32/128", "32/256", "64/64", "64/128", "64/256", "128/64", "128/128", "128/256"];

fn main() {
    divan::main();
}

/// The root of the LOBTree-like workloads.
#[derive(Persistent, Default)]
struct Root {
    tree: PersistentBTreeMap<i64, i64>,
}

/// The root of the 1M-object workload.
#[derive(Persistent, Default)]
struct ItemsRoot {
    items: PersistentBTreeMap<u64, P<Item>>,
}

/// `count` distinct random keys in `0..2^40`, from `seed`.
fn random_keys(seed: u64, count: usize) -> Vec<i64> {
    let mut rng = Rng::seeded(seed);
    let mut drawn = HashSet::with_capacity(count);
    let mut keys = Vec::with_capacity(count);
    while keys.len() < count {
        let key = rng.range(0, 1 << 40) as i64;
        if drawn.insert(key) {
            keys.push(key);
        }
    }
    keys
}

/// The configuration of the LOBTree-like workloads: a cache of 100,000 objects, as the
/// reference's (the 1M-key tree's ~22,000 buckets stay cached between transactions).
fn config() -> DatabaseConfig {
    DatabaseConfig::default().with_cache(CacheLimits::default().with_cache_size(100_000))
}

/// `"64/128"` as sizes.
fn parse_sizes(text: &str) -> Sizes {
    let (bucket, node) = text.split_once('/').expect("bucket/node");
    Sizes::new(bucket.parse().expect("bucket size"), node.parse().expect("node size"))
}

/// The database file and its WAL.
fn sqlite_path(backend: &Backend) -> PathBuf {
    match backend {
        Backend::Sqlite { path, .. } => path.clone(),
        Backend::Memory(_) => unreachable!("the workloads run on SQLite"),
    }
}

/// Bytes of the database file and of its WAL.
fn file_sizes(path: &std::path::Path) -> (i64, i64) {
    let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len() as i64);
    (size(path), size(&path.with_extension("db-wal")))
}

/// A field of `/proc/self/status` or `/proc/self/io` (the number before any unit).
fn proc_field(file: &str, name: &str) -> u64 {
    let text = std::fs::read_to_string(file).expect("read /proc/self");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("{name} in {file}"))
}

/// The CPU time of the main thread so far, in nanoseconds (`/proc/thread-self/schedstat`).
fn cpu_ns() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("read schedstat");
    text.split_whitespace().next().and_then(|n| n.parse().ok()).expect("the CPU time")
}

/// A connection over a new SQLite file whose root holds a new empty tree (unsaved).
struct Fresh {
    tree: PersistentBTreeMap<i64, i64>,
    conn: Connection,
    _db: Database,
    backend: Backend,
}

fn fresh(sizes: Sizes) -> Fresh {
    let backend = Backend::sqlite();
    let db = backend.open_with(config());
    let conn = db.connect().expect("connect");
    let root = conn.root::<Root>().expect("the root");
    root.set_tree(PersistentBTreeMap::with_sizes(sizes)).expect("set the tree");
    let tree = root.tree().expect("the tree");
    Fresh { tree, conn, _db: db, backend }
}

/// A fresh tree of `keys` (value 1), inserted one by one, not committed.
fn filled(keys: &[i64], sizes: Sizes) -> Fresh {
    let fresh = fresh(sizes);
    for &key in keys {
        fresh.tree.insert(key, 1).expect("insert");
    }
    fresh
}

/// The same, committed.
fn committed(keys: &[i64], sizes: Sizes) -> Fresh {
    let built = filled(keys, sizes);
    built.conn.commit().expect("commit the tree");
    built
}

/// Inserts the keys one by one into the fresh tree of each sample.
fn insert_keys(bencher: Bencher, sizes: Sizes) {
    let keys = random_keys(42, KEYS);
    bencher.counter(ItemsCount::new(KEYS)).with_inputs(|| fresh(sizes)).bench_local_refs(|fresh| {
        for &key in &keys {
            fresh.tree.insert(key, 1).expect("insert");
        }
    });
}

/// 1,000,000 random keys into an empty tree in one transaction, no commit (per key).
#[divan::bench(sample_size = 1, sample_count = 10)]
fn insert_1m_random_keys(bencher: Bencher) {
    insert_keys(bencher, Sizes::default());
}

/// The same keys into a `std::collections::BTreeMap<i64, i64>` (per key).
#[divan::bench(sample_size = 1, sample_count = 10)]
fn std_btreemap_insert_1m(bencher: Bencher) {
    let keys = random_keys(42, KEYS);
    bencher.counter(ItemsCount::new(KEYS)).with_inputs(BTreeMap::<i64, i64>::new).bench_local_refs(
        |map| {
            for &key in &keys {
                map.insert(key, 1);
            }
        },
    );
}

/// The records the commit of a tree writes: the root, the tree's root object, its inner
/// nodes and its buckets.
fn records_of(tree: &PersistentBTreeMap<i64, i64>) -> (usize, usize) {
    let stats = tree.check().expect("a sound tree");
    (stats.buckets, stats.inner_nodes)
}

/// Commits a tree of 1,000,000 random keys (keys per second).
#[divan::bench(sample_size = 1, sample_count = 5)]
fn commit_1m_key_tree_sqlite(bencher: Bencher) {
    let keys = random_keys(42, KEYS);
    let mut first = true;
    bencher
        .counter(ItemsCount::new(KEYS))
        .with_inputs(|| {
            let built = filled(&keys, Sizes::default());
            if std::mem::take(&mut first) {
                let (buckets, inner) = records_of(&built.tree);
                eprintln!(
                    "commit_1m_key_tree_sqlite: {} records written ({buckets} buckets, {inner} \
                     inner nodes, the tree's root object, the root)",
                    buckets + inner + 2
                );
            }
            built
        })
        .bench_local_refs(|built| built.conn.commit().expect("commit"));
}

/// A committed 1M-key tree, the random keys to insert into it, and what to measure the
/// writes against; on drop (outside the timed part) prints the bytes written.
struct SmallTxns {
    built: Fresh,
    new_keys: Vec<i64>,
    start_tid: Tid,
    start_files: (i64, i64),
    start_wchar: u64,
    start_cpu: u64,
    label: String,
}

impl SmallTxns {
    fn new(sizes: Sizes, label: String) -> SmallTxns {
        let keys = random_keys(42, KEYS);
        let built = committed(&keys, sizes);
        drop(keys);
        let new_keys = random_keys(7, TXNS * PER_TXN);
        let start_tid = built.conn.snapshot();
        let start_files = file_sizes(&sqlite_path(&built.backend));
        let start_wchar = proc_field("/proc/self/io", "wchar");
        let start_cpu = cpu_ns();
        SmallTxns { built, new_keys, start_tid, start_files, start_wchar, start_cpu, label }
    }

    fn run(&self) {
        for chunk in self.new_keys.chunks(PER_TXN) {
            for &key in chunk {
                self.built.tree.insert(key, 2).expect("insert");
            }
            self.built.conn.commit().expect("commit");
        }
    }
}

impl Drop for SmallTxns {
    fn drop(&mut self) {
        let cpu = cpu_ns() - self.start_cpu;
        let wchar = proc_field("/proc/self/io", "wchar") - self.start_wchar;
        let (db, wal) = file_sizes(&sqlite_path(&self.built.backend));
        let (db, wal) = (db - self.start_files.0, wal - self.start_files.1);
        let storage = self.built.backend.storage();
        let changes = storage.changes_since(self.start_tid).expect("changes");
        let (mut records, mut record_bytes) = (0usize, 0usize);
        for (oid, _) in &changes.changed {
            for revision in storage.history(*oid, usize::MAX).expect("history") {
                if revision.tid > self.start_tid {
                    records += 1;
                    record_bytes += revision.size;
                }
            }
        }
        let per = |n: f64| n / TXNS as f64;
        eprintln!(
            "{}: per transaction {:.1} records, {:.0} record bytes; growth of the database \
             file {:.0} B, of the WAL {:.0} B; write() bytes {:.0} B; CPU time {:.0} µs",
            self.label,
            per(records as f64),
            per(record_bytes as f64),
            per(db as f64),
            per(wal as f64),
            per(wchar as f64),
            per(cpu as f64 / 1e3),
        );
    }
}

/// 1,000 durable transactions of 10 random inserts each into the committed tree.
fn small_txns(bencher: Bencher, sizes: Sizes, label: &str) {
    bencher
        .counter(ItemsCount::new(TXNS))
        .with_inputs(|| SmallTxns::new(sizes, label.to_string()))
        .bench_local_refs(|txns| txns.run());
}

/// 1,000 durable transactions of 10 random inserts into the committed 1M-key tree
/// (transactions per second).
#[divan::bench(sample_size = 1, sample_count = 3)]
fn small_txns_1k_x10_sqlite(bencher: Bencher) {
    small_txns(bencher, Sizes::default(), "small_txns_1k_x10_sqlite");
}

/// 10,000 lookups of random existing keys in a fresh database and connection over a
/// committed 1M-key tree.
fn cold_lookups(bencher: Bencher, sizes: Sizes) {
    let keys = random_keys(42, KEYS);
    let built = committed(&keys, sizes);
    let mut rng = Rng::seeded(11);
    let probe: Vec<i64> = (0..LOOKUPS).map(|_| keys[rng.range(0, KEYS as u64) as usize]).collect();
    drop(keys);
    let Fresh { backend, .. } = built;
    bencher
        .counter(ItemsCount::new(LOOKUPS))
        .with_inputs(|| {
            let db = backend.open_with(config());
            let conn = db.connect().expect("connect");
            let tree = conn.root::<Root>().expect("the root").tree().expect("the tree");
            (tree, conn, db)
        })
        .bench_local_refs(|(tree, _conn, _db)| {
            for key in &probe {
                black_box(tree.get(key).expect("lookup").expect("present"));
            }
        });
}

/// 10,000 cold lookups of random existing keys in the committed 1M-key tree (per lookup).
#[divan::bench(sample_size = 1, sample_count = 10)]
fn cold_lookups_10k_sqlite(bencher: Bencher) {
    cold_lookups(bencher, Sizes::default());
}

/// The 1M-object workload's database, and what to report when it is dropped.
struct Objects {
    items: PersistentBTreeMap<u64, P<Item>>,
    conn: Connection,
    _db: Database,
    backend: Backend,
    start_rss: u64,
}

impl Objects {
    fn new() -> Objects {
        let backend = Backend::sqlite();
        let config =
            DatabaseConfig::default().with_cache(CacheLimits::default().with_cache_size(1_000));
        let db = backend.open_with(config);
        let conn = db.connect().expect("connect");
        let items = conn.root::<ItemsRoot>().expect("the root").items().expect("the tree");
        conn.commit().expect("store the root and the empty tree");
        // The peak resident set from here on.
        reset_peak_rss();
        let start_rss = proc_field("/proc/self/status", "VmRSS");
        Objects { items, conn, _db: db, backend, start_rss }
    }
}

impl Drop for Objects {
    fn drop(&mut self) {
        let peak = peak_rss_kib();
        let (db, wal) = file_sizes(&sqlite_path(&self.backend));
        eprintln!(
            "one_million_objects_100_commits: database file {:.1} MB, WAL {:.1} MB; \
             RSS at start {:.1} MiB, peak {:.1} MiB (VmHWM)",
            db as f64 / 1e6,
            wal as f64 / 1e6,
            self.start_rss as f64 / 1024.0,
            peak as f64 / 1024.0,
        );
    }
}

/// 1,000,000 `Item`s in one `PersistentBTreeMap<u64, P<Item>>`, committed in 100 batches of
/// 10,000, cache of 1,000 objects (total time).
#[divan::bench(sample_size = 1, sample_count = 3)]
fn one_million_objects_100_commits(bencher: Bencher) {
    bencher.counter(ItemsCount::new(OBJECTS)).with_inputs(Objects::new).bench_local_refs(
        |objects| {
            for batch in 0..OBJECTS / BATCH {
                for n in batch * BATCH..(batch + 1) * BATCH {
                    let item = P::new(Item::numbered(n as i64));
                    objects.items.insert(n as u64, item).expect("insert");
                }
                objects.conn.commit().expect("commit a batch");
            }
        },
    );
}

/// `insert_1m_random_keys` with other bucket / node sizes.
#[divan::bench(sample_size = 1, sample_count = 5, args = SIZES)]
fn sizes_insert_1m(bencher: Bencher, sizes: &str) {
    insert_keys(bencher, parse_sizes(sizes));
}

/// `small_txns_1k_x10_sqlite` with other bucket / node sizes.
#[divan::bench(sample_size = 1, sample_count = 2, args = SIZES)]
fn sizes_small_txns(bencher: Bencher, sizes: &str) {
    small_txns(bencher, parse_sizes(sizes), &format!("sizes_small_txns {sizes}"));
}

/// `cold_lookups_10k_sqlite` with other bucket / node sizes.
#[divan::bench(sample_size = 1, sample_count = 10, args = SIZES)]
fn sizes_cold_lookups(bencher: Bencher, sizes: &str) {
    cold_lookups(bencher, parse_sizes(sizes));
}

/// Rounds of the concurrent-insert workload (the reference's 200).
const ROUNDS: usize = 200;

/// Concurrent inserts into one bucket, as the reference measures them: in each round two
/// connections each insert a different new key next to one existing key of a committed
/// 100,000-key tree (so into the same bucket); the first commits, then the second, whose
/// commit the bucket's conflict resolution merges unless one side split the bucket. Prints
/// how many of the rounds merged and the median time of the second commit.
#[divan::bench(sample_size = 1, sample_count = 1)]
fn concurrent_inserts_into_one_bucket_sqlite(bencher: Bencher) {
    let keys = random_keys(7, 100_000);
    let built = committed(&keys, Sizes::default());
    let db = built.backend.open_with(config());
    bencher.bench_local(|| {
        let (first, second) = (db.connect().expect("connect"), db.connect().expect("connect"));
        let mut rng = Rng::seeded(11);
        let (mut merged, mut times) = (0, Vec::with_capacity(ROUNDS));
        for _ in 0..ROUNDS {
            let near = keys[rng.range(0, keys.len() as u64) as usize];
            first.root::<Root>().unwrap().tree().unwrap().insert(near + 1, 1).unwrap();
            second.root::<Root>().unwrap().tree().unwrap().insert(near + 2, 2).unwrap();
            first.commit().expect("the first commit");
            let resolved_before = second.conflicts_resolved();
            let started = std::time::Instant::now();
            match second.commit() {
                Ok(_) => {
                    times.push(started.elapsed());
                    if second.conflicts_resolved() > resolved_before {
                        merged += 1;
                    }
                }
                Err(error) if error.is_conflict() => second.abort().expect("abort"),
                Err(error) => panic!("the second commit: {error}"),
            }
        }
        times.sort_unstable();
        let median = times.get(times.len() / 2).copied().unwrap_or_default();
        eprintln!(
            "concurrent inserts into one bucket: {merged} of {ROUNDS} merged; second commit median {median:.1?}"
        );
    });
}
