//! `persistent::storage::copy_transactions` (docs/spec.md §10, "Moving a database to another
//! storage") of a SQLite file of `COPY_BENCH_OBJECTS` objects (default 1,000,000), into a new
//! SQLite file and into a `MemoryStorage`. The source is built outside the timed part,
//! straight through the storage: 20 transactions of 50,000 new objects (about 60-byte
//! records), then 1,000 buckets referencing them under the root, then 1,000 small
//! transactions of 10 rewrites each. Prints objects (revisions) per second. Run:
//! `cargo bench -p persistent-tests --bench copy` (`COPY_BENCH_OBJECTS=100000` for a smaller
//! file).

#![allow(clippy::cast_precision_loss, reason = "bench figures")]

use std::time::Instant;

use divan::Bencher;
use persistent::storage::{
    copy_transactions, MemoryStorage, ObjectWrite, Storage, TransactionData,
};
use persistent::{Oid, SqliteStorage};
use persistent_tests::{peak_rss_kib, reset_peak_rss, TempDir};

/// Objects one bucket object references (the root references the buckets).
const PER_BUCKET: usize = 1_000;
/// Writes per transaction while building.
const WRITES_PER_TXN: usize = 50_000;

fn main() {
    divan::main();
}

fn objects() -> usize {
    std::env::var("COPY_BENCH_OBJECTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
}

fn commit(storage: &SqliteStorage, writes: Vec<ObjectWrite>) {
    let txn = TransactionData { writes, ..TransactionData::default() };
    storage.commit(&txn).expect("commit while building");
}

/// Builds the source file; returns how many revisions it holds.
fn build(path: &std::path::Path, n: usize) -> u64 {
    let storage = SqliteStorage::open(path).unwrap();
    let mut writes = Vec::with_capacity(WRITES_PER_TXN);
    for oid in 1..=n {
        let data = format!("object {oid} with a name and a value ........").into_bytes();
        writes.push(ObjectWrite::new(Oid(oid as u64), None, data));
        if writes.len() == WRITES_PER_TXN {
            commit(&storage, std::mem::take(&mut writes));
        }
    }
    commit(&storage, writes);
    let first_bucket = n as u64 + 1;
    let buckets: Vec<Oid> =
        (0..n.div_ceil(PER_BUCKET)).map(|b| Oid(first_bucket + b as u64)).collect();
    let mut writes: Vec<ObjectWrite> = buckets
        .iter()
        .enumerate()
        .map(|(b, bucket)| {
            let refs = (b * PER_BUCKET + 1..=((b + 1) * PER_BUCKET).min(n))
                .map(|oid| Oid(oid as u64))
                .collect();
            ObjectWrite::new(*bucket, None, b"bucket".to_vec()).with_references(refs)
        })
        .collect();
    writes.push(ObjectWrite::new(Oid::ROOT, None, b"root".to_vec()).with_references(buckets));
    commit(&storage, writes);
    for round in 0..rewrite_rounds() {
        let writes = (0..10u64)
            .map(|k| {
                let oid = Oid(1 + (round * 10 + k) % n as u64);
                let serial = storage.load(oid).unwrap().serial;
                ObjectWrite::new(oid, Some(serial), format!("rewritten {round}").into_bytes())
            })
            .collect();
        commit(&storage, writes);
    }
    (n + n.div_ceil(PER_BUCKET) + 1) as u64 + rewrite_rounds() * 10
}

/// Copies `from` into `to`, printing the rate and the peak RSS.
fn timed_copy(what: &str, from: &dyn Storage, to: &dyn Storage, revisions: u64) {
    reset_peak_rss();
    let started = Instant::now();
    let report = copy_transactions(from, to, &mut |_| {}).unwrap();
    let took = started.elapsed();
    assert_eq!(report.revisions, revisions, "every revision copied");
    eprintln!(
        "copy {what}: {} transactions, {} revisions in {took:.2?} = {:.0} objects/s; peak RSS {:.1} MiB",
        report.transactions,
        report.revisions,
        report.revisions as f64 / took.as_secs_f64(),
        peak_rss_kib() as f64 / 1024.0
    );
}

#[divan::bench(sample_count = 1, sample_size = 1)]
fn copy_sqlite_to_sqlite(bencher: Bencher) {
    let n = objects();
    let dir = TempDir::new("copy-bench");
    let source = dir.join("source.db");
    let started = Instant::now();
    let revisions = build(&source, n);
    eprintln!("built {n} objects in {:.1?}", started.elapsed());
    let from = SqliteStorage::open(&source).unwrap();
    let target = SqliteStorage::open(dir.join("target.db")).unwrap();
    bencher.bench_local(|| timed_copy("sqlite -> sqlite", &from, &target, revisions));
}

#[divan::bench(sample_count = 1, sample_size = 1)]
fn copy_sqlite_to_memory(bencher: Bencher) {
    let n = objects();
    let dir = TempDir::new("copy-bench");
    let source = dir.join("source.db");
    let revisions = build(&source, n);
    let from = SqliteStorage::open(&source).unwrap();
    let target = MemoryStorage::new();
    bencher.bench_local(|| timed_copy("sqlite -> memory", &from, &target, revisions));
}

/// How many small transactions of 10 rewrites the source ends with.
fn rewrite_rounds() -> u64 {
    std::env::var("COPY_BENCH_REWRITES").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000)
}
