//! Group commit: threads committing through one `SqliteStorage` share SQLite commits, and
//! each transaction keeps its own tid, its own conflict check and its own all-or-nothing
//! result.

#![allow(clippy::cast_possible_truncation, reason = "test code: small counts")]

use std::collections::HashSet;
use std::sync::{Arc, Barrier};

use persistent_core::storage::{ObjectWrite, Storage, TransactionData};
use persistent_core::{Error, Oid, Tid, TimeStamp};
use persistent_sqlite::SqliteStorage;
use persistent_testkit::TempDir;

const THREADS: u64 = 4;
const COMMITS: usize = 150;

fn txn(writes: Vec<ObjectWrite>) -> TransactionData {
    TransactionData { description: "group".into(), writes, ..TransactionData::default() }
}

/// Four threads commit to disjoint objects: every commit is stored under a tid of its own,
/// the tids of each thread increase, and fewer SQLite commits than transactions were made.
#[test]
fn threads_on_disjoint_objects_share_commits() {
    let dir = TempDir::new("sqlite-group");
    let storage = Arc::new(SqliteStorage::open(dir.join("group.db")).unwrap());
    let barrier = Barrier::new(THREADS as usize);
    let tids: Vec<Vec<Tid>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (storage, barrier) = (&storage, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let oid = Oid(100 + thread);
                    let mut serial = None;
                    let mut tids = Vec::new();
                    for n in 0..COMMITS {
                        let data = format!("{thread}:{n}").into_bytes();
                        let tid = storage.commit(&txn(vec![ObjectWrite::new(oid, serial, data)]));
                        let tid = tid.expect("a commit on a thread's own object").tid;
                        serial = Some(tid);
                        tids.push(tid);
                    }
                    tids
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut all = HashSet::new();
    for (thread, tids) in tids.iter().enumerate() {
        assert!(tids.windows(2).all(|w| w[0] < w[1]), "thread {thread}'s tids increase");
        all.extend(tids.iter().copied());
        let history = storage.history(Oid(100 + thread as u64), usize::MAX).unwrap();
        assert_eq!(history.len(), COMMITS, "every commit of thread {thread} is stored");
        let last = storage.load(Oid(100 + thread as u64)).unwrap();
        assert_eq!(last.data, format!("{thread}:{}", COMMITS - 1).into_bytes());
    }
    assert_eq!(all.len(), THREADS as usize * COMMITS, "every transaction has a tid of its own");
    let log = storage.transactions(TimeStamp::MAX, usize::MAX).unwrap();
    assert_eq!(log.len(), all.len());
    let counts = storage.commit_counts();
    eprintln!("{counts:?}");
    assert_eq!(counts.transactions, all.len() as u64);
    assert!(counts.groups < counts.transactions, "concurrent commits were grouped: {counts:?}");
    // Reopened, the file holds the same.
    drop(storage);
    let reopened = SqliteStorage::open(dir.join("group.db")).unwrap();
    assert_eq!(reopened.transactions(TimeStamp::MAX, usize::MAX).unwrap(), log);
}

/// Four threads race on one shared object (each transaction also writes an object of its
/// thread): conflicting members are refused on their own, nothing of a refused transaction
/// is stored, and the winners' changes form one unbroken chain of serials.
#[test]
fn a_conflicting_member_fails_alone_and_writes_nothing() {
    let dir = TempDir::new("sqlite-group-conflict");
    let storage = Arc::new(SqliteStorage::open(dir.join("group.db")).unwrap());
    let shared = Oid(7);
    let first = storage.commit(&txn(vec![ObjectWrite::new(shared, None, b"0".to_vec())]));
    let first = first.unwrap().tid;
    let barrier = Barrier::new(THREADS as usize);
    let results: Vec<(usize, usize)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (storage, barrier) = (&storage, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    let own = Oid(100 + thread);
                    let (mut own_serial, mut won, mut lost) = (None, 0, 0);
                    for n in 0..COMMITS {
                        let seen = storage.load(shared).unwrap();
                        let writes = vec![
                            ObjectWrite::new(own, own_serial, format!("{thread}:{n}").into_bytes()),
                            ObjectWrite::new(shared, Some(seen.serial), vec![thread as u8]),
                        ];
                        match storage.commit(&txn(writes)) {
                            Ok(outcome) => {
                                own_serial = Some(outcome.tid);
                                won += 1;
                            }
                            Err(Error::Conflict { oid, .. }) => {
                                assert_eq!(oid, shared);
                                lost += 1;
                            }
                            Err(e) => panic!("thread {thread}: {e}"),
                        }
                    }
                    (won, lost)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won: usize = results.iter().map(|r| r.0).sum();
    assert_eq!(results.iter().map(|r| r.0 + r.1).sum::<usize>(), THREADS as usize * COMMITS);
    for (thread, (own_wins, _)) in results.iter().enumerate() {
        let own = storage.history(Oid(100 + thread as u64), usize::MAX);
        let stored = own.map_or(0, |history| history.len());
        assert_eq!(stored, *own_wins, "thread {thread}: only whole transactions are stored");
    }
    let history = storage.history(shared, usize::MAX).unwrap();
    assert_eq!(history.len(), won + 1, "one revision of the shared object per winner");
    assert_eq!(history.last().unwrap().tid, first);
    let log = storage.transactions(TimeStamp::MAX, usize::MAX).unwrap();
    assert_eq!(log.len(), won + 1, "refused transactions left no transaction row");
}
