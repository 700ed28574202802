//! Crash safety: a child process (this test binary run again, only `crash_child_entry`)
//! commits a stream of transactions, each writing three objects that carry the same
//! sequence number, and prints each tid as soon as `commit` returns. The parent kills it
//! with SIGKILL after a random short delay, reopens the file and checks that every reported
//! tid is present, that the three objects agree (no partial transaction) and that SQLite's
//! integrity check passes; many rounds on one file.
//!
//! The grouped variant (`grouped_crash_child_entry`) runs four committing threads on one
//! `SqliteStorage`, so their commits share SQLite commits (group commit); each thread
//! prints its acknowledgements, and after each kill every acknowledged transaction must be
//! whole and each thread's objects must agree.
//!
//! `soak_killed_writer` and `soak_killed_grouped_writers` run 1,000 rounds (`PERSISTENT_TESTS_SOAK_ROUNDS=<n>` sets another
//! count):
//!
//! ```text
//! cargo test --release -p persistent-sqlite --test crash_safety -- --ignored
//! ```

#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "sequence numbers and counts are small and non-negative"
)]

mod common;

use persistent_testkit::TempDir;
use std::io::Write;
use std::time::{Duration, Instant};

use persistent_core::storage::{ObjectWrite, Storage, TransactionData};
use persistent_core::{Error, Oid, TimeStamp};
use persistent_sqlite::SqliteStorage;

/// Set in the child to the database path; `crash_child_entry` does nothing without it.
const CHILD_ENV: &str = "PERSISTENT_CRASH_DB";
/// The objects every transaction writes.
const OBJECTS: [Oid; 3] = [Oid(1), Oid(2), Oid(3)];
/// Kill-and-check rounds, by default and in the soak.
const ROUNDS: usize = 20;
const SOAK_ROUNDS: usize = 1_000;
/// Rounds on one file before the next starts afresh (the integrity check reads it all).
const ROUNDS_PER_FILE: usize = 100;
/// A child that is never killed stops by itself after this long.
const CHILD_LIFETIME: Duration = Duration::from_secs(30);

/// The record of `oid` in the transaction with sequence number `seq`: the number, then a
/// padding of varying length (so pages split and WAL frames vary) filled with `seq as u8`.
fn record(seq: u64, oid: Oid) -> Vec<u8> {
    let padding = (seq % 40) as usize * 100 + oid.0 as usize * 17;
    let mut data = seq.to_be_bytes().to_vec();
    data.resize(8 + padding, seq as u8);
    data
}

/// The sequence number of a record, checking that the whole record is well formed.
fn decode(oid: Oid, data: &[u8]) -> u64 {
    assert!(data.len() >= 8, "record of {oid} is truncated: {} bytes", data.len());
    let seq = u64::from_be_bytes(data[..8].try_into().unwrap());
    assert_eq!(data, record(seq, oid), "record of {oid} (seq {seq}) is damaged");
    seq
}

/// The child's side: commit transactions until killed, printing `COMMITTED <tid> <seq>`
/// after each.
#[test]
fn crash_child_entry() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let storage = SqliteStorage::open(&path).unwrap();
    let mut out = std::io::stdout().lock();
    // libtest may have printed "test crash_child_entry ... " without a newline.
    writeln!(out, "\nREADY").unwrap();
    out.flush().unwrap();
    let mut seq = match storage.load(OBJECTS[0]) {
        Ok(rev) => decode(OBJECTS[0], &rev.data),
        Err(Error::NotFound(_)) => 0,
        Err(e) => panic!("child: load failed: {e}"),
    };
    let deadline = Instant::now() + CHILD_LIFETIME;
    while Instant::now() < deadline {
        seq += 1;
        let writes = OBJECTS
            .iter()
            .map(|&oid| {
                ObjectWrite::new(
                    oid,
                    storage.load(oid).ok().map(|rev| rev.serial),
                    record(seq, oid),
                )
            })
            .collect();
        let txn = TransactionData {
            user: "crash child".into(),
            description: format!("seq {seq}"),
            extension: Vec::new(),
            read_current: Vec::new(),
            writes,
        };
        let tid = storage.commit(&txn).unwrap().tid;
        writeln!(out, "COMMITTED {} {seq}", tid.as_u64()).unwrap();
        out.flush().unwrap();
    }
}

/// Checks the file after a kill: integrity, every reported transaction complete, and the
/// current objects in agreement. Returns the current sequence number.
fn check_after_kill(path: &std::path::Path, reported: &[(TimeStamp, u64)]) -> u64 {
    let storage = SqliteStorage::open(path).expect("reopen after kill");
    assert!(storage.integrity_check().unwrap(), "integrity check failed");
    for &(tid, seq) in reported {
        for oid in OBJECTS {
            let data = storage
                .load_serial(oid, tid)
                .unwrap_or_else(|e| panic!("reported tid {tid:?} lost for {oid}: {e}"));
            assert_eq!(decode(oid, &data), seq, "object {oid} at tid {tid:?}");
        }
    }
    let current: Vec<_> = OBJECTS
        .iter()
        .map(|&oid| match storage.load(oid) {
            Ok(rev) => (rev.serial, decode(oid, &rev.data)),
            Err(Error::NotFound(_)) => (TimeStamp::ZERO, 0),
            Err(e) => panic!("load of {oid} failed: {e}"),
        })
        .collect();
    assert!(
        current.windows(2).all(|w| w[0] == w[1]),
        "objects disagree (partial transaction): {current:?}"
    );
    let (serial, seq) = current[0];
    if let Some(&(last_tid, last_seq)) = reported.last() {
        assert!(serial >= last_tid, "the newest reported tid is not current");
        assert!(seq >= last_seq, "the current seq went back");
    }
    assert_eq!(storage.last_transaction().unwrap(), serial);
    seq
}

#[test]
fn killed_writer_leaves_only_whole_transactions() {
    kill_writer(ROUNDS);
}

/// `killed_writer_leaves_only_whole_transactions` with 1,000 rounds.
#[test]
#[ignore = "soak: 1,000 kill rounds, minutes; see the module comment"]
fn soak_killed_writer() {
    kill_writer(common::soak_rounds(SOAK_ROUNDS));
}

/// `rounds` kill rounds, on a new file every `ROUNDS_PER_FILE` rounds.
fn kill_writer(rounds: usize) {
    let started = Instant::now();
    let mut rng = common::XorShift::from_time();
    let (mut done, mut reported) = (0, 0);
    while done < rounds {
        let on_this_file = (rounds - done).min(ROUNDS_PER_FILE);
        reported += kill_writer_on_one_file(on_this_file, &mut rng);
        done += on_this_file;
    }
    eprintln!(
        "{rounds} kills, {reported} transactions reported, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// `rounds` kill rounds on a new file; returns the number of transactions reported.
fn kill_writer_on_one_file(rounds: usize, rng: &mut common::XorShift) -> usize {
    let dir = TempDir::new("sqlite");
    let path = dir.join("crash.db");
    let path_text = path.to_str().unwrap().to_string();
    let mut all_reported: Vec<(TimeStamp, u64)> = Vec::new();
    let mut seq = 0;
    for round in 0..rounds {
        let lines = common::kill_after_ready("crash_child_entry", &[(CHILD_ENV, &path_text)], rng);
        let reported: Vec<(TimeStamp, u64)> = lines
            .iter()
            .filter_map(|line| {
                let rest = line.strip_prefix("COMMITTED ")?;
                let (tid, seq) = rest.split_once(' ')?;
                Some((TimeStamp::from_u64(tid.parse().ok()?), seq.parse().ok()?))
            })
            .collect();
        if let Some(&(_, first)) = reported.first() {
            assert_eq!(first, seq + 1, "round {round}: the child continues the sequence");
        }
        seq = check_after_kill(&path, &reported);
        all_reported.extend(reported);
    }
    let final_seq = check_after_kill(&path, &all_reported);
    eprintln!("{rounds} kills on one file, final seq {final_seq}");
    assert!(!all_reported.is_empty(), "the child never committed anything");
    all_reported.len()
}

/// Set in the child to the database path; `grouped_crash_child_entry` does nothing without.
const GROUPED_CHILD_ENV: &str = "PERSISTENT_GROUPED_CRASH_DB";
/// Committing threads of the grouped child, each writing three objects of its own.
const THREADS: u64 = 4;
/// Kill rounds of the grouped test, by default and in the soak.
const GROUPED_ROUNDS: usize = 15;

/// The three objects thread `thread` writes in each of its transactions.
fn thread_objects(thread: u64) -> [Oid; 3] {
    [Oid(10 * thread + 11), Oid(10 * thread + 12), Oid(10 * thread + 13)]
}

/// The grouped child: `THREADS` threads share one `SqliteStorage` (so their commits are
/// grouped), each committing its three objects with one sequence number per transaction
/// and printing `COMMITTED <thread> <tid> <seq>` as soon as `commit` returns.
#[test]
fn grouped_crash_child_entry() {
    let Ok(path) = std::env::var(GROUPED_CHILD_ENV) else {
        return;
    };
    let storage = SqliteStorage::open(&path).unwrap();
    let out = std::sync::Mutex::new(std::io::stdout());
    writeln!(out.lock().unwrap(), "\nREADY").unwrap();
    let deadline = Instant::now() + CHILD_LIFETIME;
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (storage, out) = (&storage, &out);
            scope.spawn(move || {
                let objects = thread_objects(thread);
                let stored = storage.load(objects[0]).ok();
                let mut serial = stored.as_ref().map(|rev| rev.serial);
                let mut seq = stored.map_or(0, |rev| decode(objects[0], &rev.data));
                while Instant::now() < deadline {
                    seq += 1;
                    let writes = objects
                        .iter()
                        .map(|&oid| ObjectWrite::new(oid, serial, record(seq, oid)))
                        .collect();
                    let txn = TransactionData {
                        user: format!("thread {thread}"),
                        description: format!("seq {seq}"),
                        writes,
                        ..TransactionData::default()
                    };
                    let tid = storage.commit(&txn).unwrap().tid;
                    serial = Some(tid);
                    let mut out = out.lock().unwrap();
                    writeln!(out, "COMMITTED {thread} {} {seq}", tid.as_u64()).unwrap();
                    out.flush().unwrap();
                }
            });
        }
    });
}

/// Checks the file after a kill of the grouped child: integrity, every acknowledged
/// transaction whole, each thread's current objects in agreement and not behind its last
/// acknowledgement. Returns each thread's current sequence number.
fn check_grouped(path: &std::path::Path, acknowledged: &[(u64, TimeStamp, u64)]) -> Vec<u64> {
    let storage = SqliteStorage::open(path).expect("reopen after kill");
    assert!(storage.integrity_check().unwrap(), "integrity check failed");
    for &(thread, tid, seq) in acknowledged {
        for oid in thread_objects(thread) {
            let data = storage
                .load_serial(oid, tid)
                .unwrap_or_else(|e| panic!("acknowledged tid {tid:?} lost for {oid}: {e}"));
            assert_eq!(decode(oid, &data), seq, "object {oid} at tid {tid:?}");
        }
    }
    (0..THREADS)
        .map(|thread| {
            let current: Vec<_> = thread_objects(thread)
                .iter()
                .map(|&oid| match storage.load(oid) {
                    Ok(rev) => (rev.serial, decode(oid, &rev.data)),
                    Err(Error::NotFound(_)) => (TimeStamp::ZERO, 0),
                    Err(e) => panic!("load of {oid} failed: {e}"),
                })
                .collect();
            assert!(
                current.windows(2).all(|w| w[0] == w[1]),
                "thread {thread}'s objects disagree (partial transaction): {current:?}"
            );
            if let Some(&(_, tid, seq)) = acknowledged.iter().rev().find(|a| a.0 == thread) {
                assert!(current[0].0 >= tid && current[0].1 >= seq, "thread {thread} went back");
            }
            current[0].1
        })
        .collect()
}

#[test]
fn killed_grouped_writers_leave_only_whole_acknowledged_transactions() {
    kill_grouped_writers(GROUPED_ROUNDS);
}

/// `killed_grouped_writers_leave_only_whole_acknowledged_transactions` with 1,000 rounds.
#[test]
#[ignore = "soak: 1,000 kill rounds, minutes; see the module comment"]
fn soak_killed_grouped_writers() {
    kill_grouped_writers(common::soak_rounds(SOAK_ROUNDS));
}

/// `rounds` kills of the grouped child, on a new file every `ROUNDS_PER_FILE` rounds.
fn kill_grouped_writers(rounds: usize) {
    let mut rng = common::XorShift::from_time();
    let (mut acknowledged_total, mut done) = (0, 0);
    while done < rounds {
        let on_this_file = (rounds - done).min(ROUNDS_PER_FILE);
        let dir = TempDir::new("sqlite-grouped");
        let path = dir.join("crash.db");
        let path_text = path.to_str().unwrap().to_string();
        let mut all: Vec<(u64, TimeStamp, u64)> = Vec::new();
        let mut seqs = vec![0; THREADS as usize];
        for round in 0..on_this_file {
            let lines = common::kill_after_ready(
                "grouped_crash_child_entry",
                &[(GROUPED_CHILD_ENV, &path_text)],
                &mut rng,
            );
            let acknowledged: Vec<(u64, TimeStamp, u64)> = lines
                .iter()
                .filter_map(|line| {
                    let mut words = line.strip_prefix("COMMITTED ")?.split(' ');
                    let thread = words.next()?.parse().ok()?;
                    let tid = TimeStamp::from_u64(words.next()?.parse().ok()?);
                    Some((thread, tid, words.next()?.parse().ok()?))
                })
                .collect();
            for thread in 0..THREADS {
                if let Some(first) = acknowledged.iter().find(|a| a.0 == thread) {
                    assert_eq!(
                        first.2,
                        seqs[thread as usize] + 1,
                        "round {round}: thread {thread} continues its sequence"
                    );
                }
            }
            seqs = check_grouped(&path, &acknowledged);
            all.extend(acknowledged);
        }
        check_grouped(&path, &all);
        assert!(!all.is_empty(), "the grouped child never committed anything");
        acknowledged_total += all.len();
        done += on_this_file;
    }
    eprintln!("{rounds} kills of grouped writers, {acknowledged_total} transactions acknowledged");
}
