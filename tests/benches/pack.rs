//! `Storage::pack` of a SQLite file (docs/spec.md §10): `PACK_BENCH_OBJECTS` objects
//! (default 1,000,000) with 10 revisions each, so 90% of the revisions are removable, and
//! 10% of the objects unreachable. Prints the wall time, the peak resident memory of the
//! pack (`VmHWM` after resetting it) and the file size before and after. The file is built
//! outside the timed part, straight through the storage. Run:
//! `cargo bench -p persistent-tests --bench pack` (`PACK_BENCH_OBJECTS=100000` for a
//! smaller file).

#![allow(clippy::cast_precision_loss, reason = "bench figures")]

use std::time::Instant;

use divan::Bencher;
use persistent::storage::{ObjectWrite, Storage, TransactionData};
use persistent::{Oid, SqliteStorage, TimeStamp};
use persistent_tests::{peak_rss_kib, reset_peak_rss, TempDir};

const REVISIONS: usize = 10;
/// Objects one bucket object references (the root references the buckets).
const PER_BUCKET: usize = 1_000;
/// Writes per transaction while building.
const WRITES_PER_TXN: usize = 50_000;

fn main() {
    divan::main();
}

fn objects() -> usize {
    std::env::var("PACK_BENCH_OBJECTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000)
}

fn commit(storage: &SqliteStorage, writes: Vec<ObjectWrite>) {
    let txn = TransactionData { writes, ..TransactionData::default() };
    storage.commit(&txn).expect("commit while building");
}

/// Builds the file: objects 1..=n (the last tenth referenced by no bucket), each written
/// `REVISIONS` times, and buckets under the root referencing the other nine tenths.
fn build(path: &std::path::Path, n: usize) {
    let storage = SqliteStorage::open(path).unwrap();
    let reachable = n - n / 10;
    let first_bucket = n as u64 + 1;
    let buckets: Vec<Oid> =
        (0..reachable.div_ceil(PER_BUCKET)).map(|b| Oid(first_bucket + b as u64)).collect();
    let mut serials = vec![None; n + 1];
    for revision in 0..REVISIONS {
        let mut writes = Vec::with_capacity(WRITES_PER_TXN);
        for (oid, serial) in serials.iter().enumerate().skip(1) {
            let data = format!("object {oid} revision {revision} ........").into_bytes();
            writes.push(ObjectWrite::new(Oid(oid as u64), *serial, data));
            if writes.len() == WRITES_PER_TXN {
                commit(&storage, std::mem::take(&mut writes));
            }
        }
        commit(&storage, writes);
        // The serials the next revision expects, read back per object.
        for (oid, serial) in serials.iter_mut().enumerate().skip(1) {
            *serial = Some(storage.load(Oid(oid as u64)).unwrap().serial);
        }
    }
    let mut writes: Vec<ObjectWrite> = buckets
        .iter()
        .enumerate()
        .map(|(b, bucket)| {
            let from = b * PER_BUCKET + 1;
            let to = ((b + 1) * PER_BUCKET).min(reachable);
            let refs = (from..=to).map(|oid| Oid(oid as u64)).collect();
            ObjectWrite::new(*bucket, None, b"bucket".to_vec()).with_references(refs)
        })
        .collect();
    writes.push(ObjectWrite::new(Oid::ROOT, None, b"root".to_vec()).with_references(buckets));
    commit(&storage, writes);
}

fn file_mib(path: &std::path::Path) -> f64 {
    std::fs::metadata(path).map_or(0, |m| m.len()) as f64 / (1024.0 * 1024.0)
}

#[divan::bench(sample_count = 1, sample_size = 1)]
fn pack_sqlite(bencher: Bencher) {
    let n = objects();
    let dir = TempDir::new("pack-bench");
    let path = dir.join("data.db");
    let started = Instant::now();
    build(&path, n);
    let before = file_mib(&path);
    eprintln!("built {n} objects x {REVISIONS} revisions in {:.1?}", started.elapsed());
    let storage = SqliteStorage::open(&path).unwrap();
    bencher.bench_local(|| {
        reset_peak_rss();
        let rss_start = peak_rss_kib();
        let started = Instant::now();
        let report = storage.pack(TimeStamp::MAX, &mut |_| {}).unwrap();
        let took = started.elapsed();
        let peak = peak_rss_kib();
        eprintln!(
            "pack: {took:.1?}; peak RSS {:.1} MiB (start {:.1} MiB); file {before:.1} MiB -> {:.1} MiB; {report:?}",
            peak as f64 / 1024.0,
            rss_start as f64 / 1024.0,
            file_mib(&path)
        );
    });
}

/// Durable one-object commits by 4 writer threads (each rewriting its own object), for
/// `seconds`, or, when `pack_running`, for as long as one pack of the whole file takes.
/// Returns the commits per second.
fn writer_throughput(path: &std::path::Path, seconds: u64, pack_running: bool) -> f64 {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;

    let storage = Arc::new(SqliteStorage::open(path).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for thread in 0..4u64 {
            let (storage, stop, commits) = (storage.clone(), stop.clone(), commits.clone());
            scope.spawn(move || {
                // Beyond the oids `build` wrote without allocating them.
                let oid = Oid(10_000_000 + thread);
                let mut serial = None;
                while !stop.load(Ordering::Relaxed) {
                    let data = format!("writer {thread}").into_bytes();
                    let txn = TransactionData {
                        writes: vec![ObjectWrite::new(oid, serial, data)],
                        ..TransactionData::default()
                    };
                    serial = Some(storage.commit(&txn).expect("a writer's commit").tid);
                    commits.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        if pack_running {
            storage.pack(TimeStamp::MAX, &mut |_| {}).expect("the pack");
        } else {
            std::thread::sleep(std::time::Duration::from_secs(seconds));
        }
        stop.store(true, Ordering::Relaxed);
    });
    commits.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// The commit rate of 4 writer threads with and without a pack running, on a file of
/// 100,000 objects x 10 revisions (the pack has 900,000 revisions to remove).
#[divan::bench(sample_count = 1, sample_size = 1)]
fn writers_while_packing_sqlite(bencher: Bencher) {
    let dir = TempDir::new("pack-writers");
    let (quiet, busy) = (dir.join("quiet.db"), dir.join("busy.db"));
    build(&quiet, 100_000);
    build(&busy, 100_000);
    bencher.bench_local(|| {
        let without = writer_throughput(&quiet, 3, false);
        let with = writer_throughput(&busy, 0, true);
        eprintln!(
            "4 writers: {without:.0} commits/s without a pack, {with:.0} with one running: {:.0} % kept",
            100.0 * with / without
        );
    });
}
