//! A conformance suite every `Storage` implementation runs, in the style of ZODB's
//! `StorageTestBase` / `BasicStorage` tests: each `check_*` function exercises one rule of
//! the [`Storage`] trait on a storage that is empty when handed over, and panics with a
//! message saying which rule broke. [`run_all`] runs every check, each on a fresh storage
//! from a factory. A third-party storage runs it from its own tests:
//!
//! ```ignore
//! persistent_testkit::conformance::run_all(&|| Box::new(MyStorage::new()) as Box<dyn Storage>);
//! ```

// Every check is an assertion: it panics exactly when the storage breaks the rule it checks,
// as the module docs say, so a `# Panics` section on each would only repeat that.
#![allow(clippy::missing_panics_doc, reason = "every check panics on failure, by design")]

use std::collections::BTreeSet;

use persistent_core::storage::{
    ObjectWrite, PackProgress, PackReport, Storage, StoredRevision, StoredTransaction,
    TransactionData,
};
use persistent_core::{Error, Oid, Tid, TimeStamp};

/// Makes a fresh, empty storage for one check.
pub type StorageFactory<'a> = &'a dyn Fn() -> Box<dyn Storage>;

/// One conformance check: panics if the storage (empty when handed over) breaks its rule.
pub type Check = fn(&dyn Storage);

/// Every check, by name, in the order [`run_all`] runs them.
pub const CHECKS: &[(&str, Check)] = &[
    ("fresh_storage_is_empty", check_fresh_storage_is_empty),
    ("store_and_load", check_store_and_load),
    ("load_missing_is_not_found", check_load_missing_is_not_found),
    ("root_written_without_allocation", check_root_written_without_allocation),
    ("revisions_and_history", check_revisions_and_history),
    ("load_before_snapshots", check_load_before_snapshots),
    ("new_oids_unique", check_new_oids_unique),
    ("conflicts_detected", check_conflicts_detected),
    ("failed_commit_writes_nothing", check_failed_commit_writes_nothing),
    ("tids_strictly_increasing", check_tids_strictly_increasing),
    ("changes_since", check_changes_since),
    ("changes_since_gives_newest_tids", check_changes_since_gives_newest_tids),
    ("new_oids_batch", check_new_oids_batch),
    ("commit_reports_previous", check_commit_reports_previous),
    ("load_visible_agrees_with_load_before", check_load_visible_agrees_with_load_before),
    ("empty_transaction", check_empty_transaction),
    ("concurrent_commits", check_concurrent_commits),
    ("list_oids_pages_in_order", check_list_oids_pages_in_order),
    ("transactions_newest_first", check_transactions_newest_first),
    ("read_current_checked", check_read_current_checked),
    ("empty_revision_is_absent", check_empty_revision_is_absent),
    ("pack_removes_old_revisions", check_pack_removes_old_revisions),
    ("pack_keeps_what_before_sees", check_pack_keeps_what_before_sees),
    ("pack_removes_unreachable_objects", check_pack_removes_unreachable_objects),
    ("pack_keeps_objects_referenced_later", check_pack_keeps_objects_referenced_later),
    ("pack_removes_objects_that_do_not_exist", check_pack_removes_objects_that_do_not_exist),
    ("transactions_after_oldest_first", check_transactions_after_oldest_first),
    ("restore_keeps_the_tid", check_restore_keeps_the_tid),
    ("restore_refuses_what_it_cannot_write", check_restore_refuses_what_it_cannot_write),
    ("load_visible_many_agrees_with_load_visible", check_load_visible_many_agrees),
    ("loads_in_oid_order_see_their_snapshot", check_loads_in_oid_order_see_their_snapshot),
];

/// Runs every check in [`CHECKS`], each on a new storage from `factory`, and panics on the
/// first failure (the message names the check and the storage).
pub fn run_all(factory: StorageFactory<'_>) {
    for (name, check) in CHECKS {
        let storage = factory();
        let label = storage.name();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&*storage)));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            panic!("storage conformance check `{name}` failed on {label}: {message}");
        }
    }
}

/// A write of `data` to `oid` that expects the current serial `expected`.
#[must_use]
pub fn write(oid: Oid, expected: Option<Tid>, data: &[u8]) -> ObjectWrite {
    ObjectWrite::new(oid, expected, data.to_vec())
}

/// [`write()`], its record referencing `references`.
#[must_use]
pub fn write_refs(oid: Oid, expected: Option<Tid>, data: &[u8], references: &[Oid]) -> ObjectWrite {
    write(oid, expected, data).with_references(references.to_vec())
}

/// A transaction with the given description (user "tester") and writes.
#[must_use]
pub fn transaction(description: &str, writes: Vec<ObjectWrite>) -> TransactionData {
    TransactionData {
        user: "tester".to_string(),
        description: description.to_string(),
        extension: Vec::new(),
        read_current: Vec::new(),
        writes,
    }
}

/// Commits `txn` and panics with `what` and the error if it fails.
fn commit_ok(storage: &dyn Storage, txn: &TransactionData, what: &str) -> Tid {
    storage.commit(txn).unwrap_or_else(|e| panic!("{what}: commit failed: {e}")).tid
}

/// Stores a new object with `data` in its own transaction; returns its oid and serial.
fn store_new(storage: &dyn Storage, data: &[u8]) -> (Oid, Tid) {
    let oid = storage.new_oid().expect("new_oid failed");
    let tid = commit_ok(
        storage,
        &transaction("store new", vec![write(oid, None, data)]),
        "storing a new object",
    );
    (oid, tid)
}

/// `list_oids` lists every stored object once, ascending, in pages that resume after the
/// last oid of the previous page; an allocated oid never written is not listed.
pub fn check_list_oids_pages_in_order(storage: &dyn Storage) {
    assert!(storage.list_oids(None, 10).expect("list an empty storage").is_empty());
    let mut stored: Vec<Oid> = (0..7).map(|n| store_new(storage, &[n]).0).collect();
    let _unused = storage.new_oid().expect("new_oid failed");
    commit_ok(storage, &transaction("root", vec![write(Oid::ROOT, None, b"root")]), "root");
    stored.insert(0, Oid::ROOT);
    let mut listed = Vec::new();
    let mut after = None;
    loop {
        let page = storage.list_oids(after, 3).expect("list a page");
        assert!(page.len() <= 3, "a page holds at most `limit` oids: {page:?}");
        let Some(&last) = page.last() else { break };
        listed.extend(page);
        after = Some(last);
    }
    assert_eq!(listed, stored);
}

/// A fresh storage has no transactions: `last_transaction` is zero and nothing changed.
pub fn check_fresh_storage_is_empty(storage: &dyn Storage) {
    assert_eq!(
        storage.last_transaction().expect("last_transaction failed"),
        TimeStamp::ZERO,
        "an empty storage must report TimeStamp::ZERO as last transaction"
    );
    let changes = storage.changes_since(TimeStamp::ZERO).expect("changes_since failed");
    assert_eq!(changes.newest, TimeStamp::ZERO, "changes_since on an empty storage: newest tid");
    assert!(changes.changed.is_empty(), "changes_since on an empty storage gave {changes:?}");
}

/// A stored record loads back with the commit's tid as serial and no next serial; the
/// commit's tid becomes `last_transaction`.
pub fn check_store_and_load(storage: &dyn Storage) {
    let (oid, tid) = store_new(storage, b"first record");
    assert!(tid > TimeStamp::ZERO, "a commit's tid must be above zero, got {tid:?}");
    let rev = storage.load(oid).expect("load of a stored object failed");
    assert_eq!(rev.data, b"first record", "load returned other bytes than stored");
    assert_eq!(rev.serial, tid, "load's serial must be the tid that wrote it");
    assert_eq!(rev.next_serial, None, "the current revision has no next serial");
    assert_eq!(storage.last_transaction().unwrap(), tid, "last_transaction after commit");
    assert_eq!(storage.load_serial(oid, tid).unwrap(), b"first record", "load_serial");
    let (empty, empty_tid) = store_new(storage, b"");
    assert_eq!(
        storage.load_serial(empty, empty_tid).unwrap(),
        b"",
        "an empty record must round-trip through load_serial (load reports it absent)"
    );
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let (big_oid, _) = store_new(storage, &big);
    assert_eq!(storage.load(big_oid).unwrap().data, big, "a 200 kB record must round-trip");
}

/// Loading what was never stored is `Error::NotFound` naming the oid, for `load`,
/// `load_serial` and `history`; `load_before` gives `None`.
pub fn check_load_missing_is_not_found(storage: &dyn Storage) {
    let oid = storage.new_oid().unwrap();
    match storage.load(oid) {
        Err(Error::NotFound(missing)) => assert_eq!(missing, oid, "NotFound names the oid"),
        other => panic!("load of a never-stored oid must be NotFound, got {other:?}"),
    }
    let (stored, tid) = store_new(storage, b"x");
    match storage.load_serial(stored, TimeStamp::from_u64(tid.as_u64() - 1)) {
        Err(Error::NotFound(missing)) => assert_eq!(missing, stored, "NotFound names the oid"),
        other => panic!("load_serial of a tid that did not write the oid: {other:?}"),
    }
    assert!(
        matches!(storage.load_serial(oid, tid), Err(Error::NotFound(_))),
        "load_serial of a never-stored oid must be NotFound"
    );
    assert!(
        matches!(storage.history(oid, 10), Err(Error::NotFound(_))),
        "history of a never-stored oid must be NotFound"
    );
    assert_eq!(
        storage.load_before(oid, TimeStamp::from_u64(u64::MAX)).unwrap(),
        None,
        "load_before of a never-stored oid must be None"
    );
}

/// The root (oid 0) is written with `expected_serial: None` without being allocated, and
/// `new_oid` never hands it out afterwards.
pub fn check_root_written_without_allocation(storage: &dyn Storage) {
    let tid = commit_ok(
        storage,
        &transaction("create root", vec![write(Oid::ROOT, None, b"root")]),
        "writing the root without allocating it",
    );
    assert_eq!(storage.load(Oid::ROOT).unwrap().serial, tid, "root serial");
    let tid2 = commit_ok(
        storage,
        &transaction("update root", vec![write(Oid::ROOT, Some(tid), b"root 2")]),
        "updating the root",
    );
    assert_eq!(storage.load(Oid::ROOT).unwrap().data, b"root 2");
    assert!(tid2 > tid);
    let unallocated = Oid(1 << 40);
    commit_ok(
        storage,
        &transaction("unallocated", vec![write(unallocated, None, b"any oid")]),
        "writing an oid never returned by new_oid",
    );
    assert_eq!(storage.load(unallocated).unwrap().data, b"any oid");
    for _ in 0..10 {
        assert_ne!(storage.new_oid().unwrap(), Oid::ROOT, "new_oid returned the root");
    }
}

/// Several revisions: each loads by its serial, history lists them newest first with the
/// transaction's user and description and the record size, and `limit` is respected.
pub fn check_revisions_and_history(storage: &dyn Storage) {
    let oid = storage.new_oid().unwrap();
    let mut serial = None;
    let mut tids = Vec::new();
    for i in 0..5u8 {
        let data = vec![i; usize::from(i) + 1];
        let mut txn = transaction(&format!("revision {i}"), vec![write(oid, serial, &data)]);
        txn.user = format!("user {i}");
        txn.extension = vec![i, 0xff];
        let tid = commit_ok(storage, &txn, "storing a revision");
        tids.push(tid);
        serial = Some(tid);
    }
    for (i, tid) in tids.iter().enumerate() {
        let data = storage
            .load_serial(oid, *tid)
            .unwrap_or_else(|e| panic!("load_serial of revision {i} failed: {e}"));
        #[allow(clippy::cast_possible_truncation, reason = "a handful of revisions")]
        let byte = i as u8;
        assert_eq!(data, vec![byte; i + 1], "load_serial of revision {i}");
    }
    let current = storage.load(oid).unwrap();
    assert_eq!(current.serial, tids[4], "load gives the newest revision");
    assert_eq!(current.data, vec![4u8; 5]);
    let history = storage.history(oid, 100).unwrap();
    assert_eq!(history.len(), 5, "history lists every revision");
    for (entry, i) in history.iter().zip((0..5usize).rev()) {
        assert_eq!(entry.tid, tids[i], "history is newest first");
        assert_eq!(entry.user, format!("user {i}"), "history user");
        assert_eq!(entry.description, format!("revision {i}"), "history description");
        assert_eq!(entry.size, i + 1, "history size is the record length");
    }
    let limited = storage.history(oid, 2).unwrap();
    let limited_tids: Vec<Tid> = limited.iter().map(|e| e.tid).collect();
    assert_eq!(limited_tids, vec![tids[4], tids[3]], "history limit keeps the newest");
    assert_eq!(storage.history(oid, 0).unwrap(), vec![], "a limit of 0 lists nothing");
    let never = storage.new_oid().unwrap();
    for limit in [0, 1, usize::MAX] {
        assert!(
            matches!(storage.history(never, limit), Err(Error::NotFound(o)) if o == never),
            "the history of an object never stored is NotFound (limit {limit})"
        );
    }
}

/// `load_before(oid, t)` gives the newest revision with tid < t and its next serial, and
/// `None` before the first revision.
pub fn check_load_before_snapshots(storage: &dyn Storage) {
    let (oid, t1) = store_new(storage, b"one");
    let (other, _) = store_new(storage, b"unrelated");
    let t2 = commit_ok(
        storage,
        &transaction("two", vec![write(oid, Some(t1), b"two")]),
        "second revision",
    );
    let t3 = commit_ok(
        storage,
        &transaction("three", vec![write(oid, Some(t2), b"three")]),
        "third revision",
    );
    assert_eq!(storage.load_before(oid, t1).unwrap(), None, "nothing before the first");
    let at = |before: Tid| storage.load_before(oid, before).unwrap().expect("a revision");
    let r = at(TimeStamp::from_u64(t1.as_u64() + 1));
    assert_eq!((r.data.as_slice(), r.serial, r.next_serial), (&b"one"[..], t1, Some(t2)));
    let r = at(t2);
    assert_eq!((r.data.as_slice(), r.serial, r.next_serial), (&b"one"[..], t1, Some(t2)));
    let r = at(t3);
    assert_eq!((r.data.as_slice(), r.serial, r.next_serial), (&b"two"[..], t2, Some(t3)));
    let r = at(TimeStamp::from_u64(u64::MAX));
    assert_eq!((r.data.as_slice(), r.serial, r.next_serial), (&b"three"[..], t3, None));
    let unrelated = storage.load_before(other, t3).unwrap().expect("other object");
    assert_eq!(unrelated.data, b"unrelated", "load_before of an object written once");
    assert_eq!(unrelated.next_serial, None, "an object never rewritten has no next serial");
}

/// Many `new_oid` calls never repeat and never give the root.
pub fn check_new_oids_unique(storage: &dyn Storage) {
    let mut seen = BTreeSet::new();
    for _ in 0..2000 {
        let oid = storage.new_oid().expect("new_oid failed");
        assert_ne!(oid, Oid::ROOT, "new_oid must never return the root oid");
        assert!(seen.insert(oid), "new_oid returned {oid} twice");
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| (0..250).map(|_| storage.new_oid().unwrap()).collect()))
            .collect();
        for handle in handles {
            let oids: Vec<Oid> = handle.join().expect("new_oid thread panicked");
            for oid in oids {
                assert!(seen.insert(oid), "new_oid returned {oid} twice across threads");
            }
        }
    });
}

/// A stale `expected_serial`, or `None` for an object that exists, is `Error::Conflict`
/// naming the oid, the expected and the actual serial.
pub fn check_conflicts_detected(storage: &dyn Storage) {
    let (oid, t1) = store_new(storage, b"v1");
    let t2 = commit_ok(
        storage,
        &transaction("v2", vec![write(oid, Some(t1), b"v2")]),
        "second revision",
    );
    match storage.commit(&transaction("stale", vec![write(oid, Some(t1), b"stale")])) {
        Err(Error::Conflict { oid: named, expected, actual }) => {
            assert_eq!(named, oid, "the conflict must name the oid");
            assert_eq!(expected, t1, "the conflict's expected serial is the one given");
            assert_eq!(actual, t2, "the conflict's actual serial is the current one");
        }
        other => panic!("a stale expected_serial must be a Conflict, got {other:?}"),
    }
    match storage.commit(&transaction("dup", vec![write(oid, None, b"again")])) {
        Err(Error::Conflict { oid: named, actual, .. }) => {
            assert_eq!(named, oid, "the conflict must name the oid");
            assert_eq!(actual, t2, "the conflict's actual serial is the current one");
        }
        other => panic!("writing an existing object as new must be a Conflict, got {other:?}"),
    }
    let missing = storage.new_oid().unwrap();
    match storage.commit(&transaction("ghost", vec![write(missing, Some(t2), b"x")])) {
        Err(Error::Conflict { oid: named, .. }) => assert_eq!(named, missing),
        other => panic!("expecting a serial for an absent object must conflict: {other:?}"),
    }
    assert_eq!(storage.load(oid).unwrap().data, b"v2", "a conflict must not write");
    assert_eq!(storage.last_transaction().unwrap(), t2, "a conflict must not add a tid");
}

/// A transaction writing three objects whose third conflicts writes none of them.
pub fn check_failed_commit_writes_nothing(storage: &dyn Storage) {
    let (a, ta) = store_new(storage, b"a1");
    let (b, tb) = store_new(storage, b"b1");
    let (c, tc) = store_new(storage, b"c1");
    commit_ok(storage, &transaction("move c on", vec![write(c, Some(tc), b"c2")]), "updating c");
    let last = storage.last_transaction().unwrap();
    let fresh = storage.new_oid().unwrap();
    let txn = transaction(
        "fails on c",
        vec![
            write(a, Some(ta), b"a2"),
            write(fresh, None, b"new"),
            write(b, Some(tb), b"b2"),
            write(c, Some(tc), b"c3"),
        ],
    );
    match storage.commit(&txn) {
        Err(Error::Conflict { oid, .. }) => assert_eq!(oid, c, "the conflict names c"),
        other => panic!("the stale write of c must be a Conflict, got {other:?}"),
    }
    assert_eq!(storage.load(a).unwrap().data, b"a1", "a must be unchanged");
    assert_eq!(storage.load(a).unwrap().serial, ta, "a's serial must be unchanged");
    assert_eq!(storage.load(b).unwrap().data, b"b1", "b must be unchanged");
    assert_eq!(storage.load(c).unwrap().data, b"c2", "c must be unchanged");
    assert!(
        matches!(storage.load(fresh), Err(Error::NotFound(_))),
        "the new object of a failed commit must not exist"
    );
    assert_eq!(storage.history(a, 10).unwrap().len(), 1, "no revision added to a");
    assert_eq!(storage.last_transaction().unwrap(), last, "no tid added by a failed commit");
    let changed = storage.changes_since(last).unwrap().changed;
    assert!(changed.is_empty(), "a failed commit must not show in changes_since");
}

/// Tids of successive commits strictly increase, also when commits come faster than the
/// clock's resolution.
pub fn check_tids_strictly_increasing(storage: &dyn Storage) {
    let (oid, mut serial) = store_new(storage, b"0");
    let mut previous = serial;
    for i in 1..200u32 {
        let tid = commit_ok(
            storage,
            &transaction("tick", vec![write(oid, Some(serial), &i.to_be_bytes())]),
            "rapid commit",
        );
        assert!(tid > previous, "tid {tid:?} is not above the previous {previous:?}");
        assert_eq!(storage.last_transaction().unwrap(), tid, "last_transaction follows");
        previous = tid;
        serial = tid;
    }
}

/// `changes_since(t)` gives the newest tid and each oid written after `t` exactly once.
pub fn check_changes_since(storage: &dyn Storage) {
    let (a, ta) = store_new(storage, b"a");
    let start = storage.last_transaction().unwrap();
    let (b, tb) = store_new(storage, b"b");
    let ta2 =
        commit_ok(storage, &transaction("a twice", vec![write(a, Some(ta), b"a2")]), "update a");
    let newest = commit_ok(
        storage,
        &transaction("a and b", vec![write(a, Some(ta2), b"a3"), write(b, Some(tb), b"b2")]),
        "update a and b",
    );
    let (tid, mut oids) = changed_oids(storage, start);
    assert_eq!(tid, newest, "changes_since reports the newest tid");
    oids.sort();
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(oids, expected, "each changed oid once");
    let (tid, oids) = changed_oids(storage, newest);
    assert_eq!(tid, newest, "changes_since(newest) still reports the newest tid");
    assert!(oids.is_empty(), "nothing changed after the newest tid, got {oids:?}");
    let (_, oids) = changed_oids(storage, ta2);
    assert_eq!(oids.len(), 2, "the bound is exclusive: only the last transaction counts");
}

/// A transaction without writes is allowed and gets a new tid.
pub fn check_empty_transaction(storage: &dyn Storage) {
    let (_, before) = store_new(storage, b"x");
    let tid = commit_ok(storage, &transaction("nothing", Vec::new()), "empty transaction");
    assert!(tid > before, "an empty transaction gets a new, later tid");
    assert_eq!(storage.last_transaction().unwrap(), tid, "and becomes the last transaction");
    let (newest, oids) = changed_oids(storage, before);
    assert_eq!(newest, tid);
    assert!(oids.is_empty(), "an empty transaction changes no oid");
}

/// Threads updating one counter with retry on conflict lose no increment.
pub fn check_concurrent_commits(storage: &dyn Storage) {
    const THREADS: u64 = 4;
    const INCREMENTS: u64 = 25;
    let (counter, _) = store_new(storage, &0u64.to_be_bytes());
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                for _ in 0..INCREMENTS {
                    loop {
                        let rev = storage.load(counter).unwrap();
                        let value = u64::from_be_bytes(rev.data.try_into().unwrap());
                        let bump = write(counter, Some(rev.serial), &(value + 1).to_be_bytes());
                        match storage.commit(&transaction("increment", vec![bump])) {
                            Ok(_) => break,
                            Err(Error::Conflict { .. }) => {}
                            Err(e) => panic!("concurrent commit failed: {e}"),
                        }
                    }
                }
            });
        }
    });
    let data = storage.load(counter).unwrap().data;
    let total = u64::from_be_bytes(data.try_into().unwrap());
    assert_eq!(total, THREADS * INCREMENTS, "increments lost under concurrency");
    let history = storage.history(counter, 1000).unwrap();
    assert_eq!(history.len() as u64, THREADS * INCREMENTS + 1, "one revision per commit");
}

/// `changes_since` names each changed oid once, with the tid of its newest revision.
pub fn check_changes_since_gives_newest_tids(storage: &dyn Storage) {
    let (a, _) = store_new(storage, b"a");
    let start = storage.last_transaction().unwrap();
    let (b, tb) = store_new(storage, b"b");
    let current_a = storage.load(a).unwrap().serial;
    let ta = commit_ok(
        storage,
        &transaction("a again", vec![write(a, Some(current_a), b"a2")]),
        "update a",
    );
    let found = storage.changes_since(start).unwrap();
    let mut changes = found.changed;
    changes.sort();
    assert_eq!(found.newest, ta, "changes_since reports the newest tid");
    let mut expected = vec![(a, ta), (b, tb)];
    expected.sort();
    assert_eq!(changes, expected, "each oid once, with its newest tid");
    assert!(storage.changes_since(ta).unwrap().changed.is_empty());
}

/// `new_oids(n)` gives n fresh oids, distinct from each other and from `new_oid`'s.
pub fn check_new_oids_batch(storage: &dyn Storage) {
    let mut all = std::collections::BTreeSet::new();
    for round in 0..5 {
        let batch = storage.new_oids(100 + round).unwrap();
        assert_eq!(batch.len(), 100 + round, "new_oids returns as many as asked");
        for oid in batch {
            assert_ne!(oid, Oid::ROOT, "new_oids never returns the root oid");
            assert!(all.insert(oid), "new_oids repeated {oid}");
        }
        let single = storage.new_oid().unwrap();
        assert!(all.insert(single), "new_oid repeated {single} after new_oids");
    }
}

/// `commit` reports the tid that was newest before the commit (zero for the first one).
pub fn check_commit_reports_previous(storage: &dyn Storage) {
    let first = storage.commit(&transaction("first", Vec::new())).unwrap();
    assert_eq!(first.previous, TimeStamp::ZERO, "the first commit follows TimeStamp::ZERO");
    let (oid, _) = store_new(storage, b"x");
    let before = storage.last_transaction().unwrap();
    let current = storage.load(oid).unwrap().serial;
    let outcome =
        storage.commit(&transaction("after", vec![write(oid, Some(current), b"y")])).unwrap();
    assert!(outcome.tid > before, "the new tid is later than the previous newest");
    assert_eq!(outcome.previous, before, "commit names the tid newest before the commit");
    assert_eq!(storage.last_transaction().unwrap(), outcome.tid);
}

/// `load_visible` gives the data and serial `load_before` gives, at every point in history.
pub fn check_load_visible_agrees_with_load_before(storage: &dyn Storage) {
    let (oid, first) = store_new(storage, b"v1");
    let second =
        commit_ok(storage, &transaction("v2", vec![write(oid, Some(first), b"v2")]), "update");
    for before in [
        first,
        TimeStamp::from_u64(first.as_u64() + 1),
        second,
        TimeStamp::from_u64(second.as_u64() + 1),
    ] {
        let expected = storage.load_before(oid, before).unwrap().map(|r| (r.data, r.serial));
        let visible = storage.load_visible(oid, before).unwrap().map(|r| (r.data, r.serial));
        assert_eq!(visible, expected, "before {before:?}");
    }
    assert!(storage.load_visible(Oid(u64::MAX >> 2), second).unwrap().is_none());
}

/// The newest tid and the oids (without their tids) changed after `after`.
fn changed_oids(storage: &dyn Storage, after: Tid) -> (Tid, Vec<Oid>) {
    let changes = storage.changes_since(after).expect("changes_since failed");
    (changes.newest, changes.changed.into_iter().map(|(oid, _)| oid).collect())
}

/// `transactions` lists committed transactions with tid < `before`, newest first, at most
/// `limit`, each with its user, description and the oids it wrote (ascending); paging by
/// the oldest tid of a page reaches every transaction once.
pub fn check_transactions_newest_first(storage: &dyn Storage) {
    assert!(storage.transactions(TimeStamp::MAX, 10).expect("list an empty log").is_empty());
    let (a, ta) = store_new(storage, b"a1");
    let b = storage.new_oid().unwrap();
    let t2 = commit_ok(
        storage,
        &transaction("two", vec![write(b, None, b"b1"), write(a, Some(ta), b"a2")]),
        "second",
    );
    let t3 = commit_ok(storage, &transaction("three", vec![write(b, Some(t2), b"b2")]), "third");
    let all = storage.transactions(TimeStamp::MAX, 10).expect("list the log");
    let tids: Vec<Tid> = all.iter().map(|info| info.tid).collect();
    assert_eq!(tids, [t3, t2, ta], "transactions are listed newest first");
    assert_eq!(all[1].description, "two");
    assert_eq!(all[1].user, "tester");
    let mut expected = vec![a, b];
    expected.sort_unstable();
    assert_eq!(all[1].oids, expected, "a transaction lists the oids it wrote, ascending");
    assert_eq!(all[0].oids, [b]);
    let first = storage.transactions(TimeStamp::MAX, 2).expect("first page");
    assert_eq!(first.len(), 2, "a page holds at most `limit` transactions");
    let next = storage.transactions(first[1].tid, 2).expect("next page");
    assert_eq!(next.iter().map(|info| info.tid).collect::<Vec<_>>(), [ta], "the next page");
    assert!(storage.transactions(ta, 10).unwrap().is_empty(), "nothing before the first");
}

/// A `read_current` check passes while the object is unchanged, and once another
/// transaction changed it the commit is a conflict naming that oid and writes nothing.
pub fn check_read_current_checked(storage: &dyn Storage) {
    let (read, t_read) = store_new(storage, b"r1");
    let (written, t_written) = store_new(storage, b"w1");
    let mut txn = transaction("checked", vec![write(written, Some(t_written), b"w2")]);
    txn.read_current = vec![(read, t_read)];
    let t_ok = commit_ok(storage, &txn, "a read-current check of an unchanged object");
    commit_ok(storage, &transaction("move", vec![write(read, Some(t_read), b"r2")]), "move");
    let last = storage.last_transaction().unwrap();
    let mut stale = transaction("stale", vec![write(written, Some(t_ok), b"w3")]);
    stale.read_current = vec![(read, t_read)];
    match storage.commit(&stale) {
        Err(Error::Conflict { oid, expected, .. }) => {
            assert_eq!(oid, read, "the conflict names the object read");
            assert_eq!(expected, t_read, "the conflict's expected serial is the one read");
        }
        other => panic!("a stale read-current check must be a Conflict, got {other:?}"),
    }
    assert_eq!(storage.load(written).unwrap().data, b"w2", "the failed commit wrote nothing");
    assert_eq!(storage.last_transaction().unwrap(), last, "no tid added by a failed commit");
    let mut missing = transaction("missing", Vec::new());
    missing.read_current = vec![(storage.new_oid().unwrap(), t_read)];
    assert!(
        matches!(storage.commit(&missing), Err(Error::Conflict { .. })),
        "a read-current check of an object never stored is a conflict"
    );
}

/// A revision with empty data is an absent object: `load`, `load_before` and
/// `load_visible` report none, while `history` and `transactions` still list it; the
/// revisions before it stay readable, and a later write brings the object back.
pub fn check_empty_revision_is_absent(storage: &dyn Storage) {
    let (oid, t1) = store_new(storage, b"v1");
    let t2 = commit_ok(storage, &transaction("undo", vec![write(oid, Some(t1), b"")]), "empty");
    assert!(matches!(storage.load(oid), Err(Error::NotFound(named)) if named == oid));
    assert_eq!(storage.load_before(oid, TimeStamp::MAX).unwrap(), None);
    assert_eq!(storage.load_visible(oid, TimeStamp::MAX).unwrap(), None);
    let before = storage.load_before(oid, t2).unwrap().expect("the revision before it");
    assert_eq!((before.data.as_slice(), before.serial), (&b"v1"[..], t1));
    assert_eq!(storage.history(oid, 10).unwrap().len(), 2, "history lists the empty one");
    assert_eq!(storage.transactions(TimeStamp::MAX, 1).unwrap()[0].oids, [oid]);
    commit_ok(storage, &transaction("redo", vec![write(oid, Some(t2), b"v3")]), "redo");
    assert_eq!(storage.load(oid).unwrap().data, b"v3", "a later write brings it back");
}

/// Packs `storage` to `before`, checking that progress was reported.
fn pack_ok(storage: &dyn Storage, before: Tid) -> PackReport {
    let mut calls = 0;
    let report = storage
        .pack(before, &mut |_: &PackProgress| calls += 1)
        .unwrap_or_else(|e| panic!("pack failed: {e}"));
    assert!(calls > 0, "pack must report progress at least once");
    report
}

/// Asserts that `oid` is gone: `load` and `load_serial` of `serial` are `NotFound`.
fn assert_removed(storage: &dyn Storage, oid: Oid, serial: Tid, what: &str) {
    assert!(
        matches!(storage.load(oid), Err(Error::NotFound(found)) if found == oid),
        "{what}: load of a removed object must be NotFound"
    );
    assert!(
        matches!(storage.load_serial(oid, serial), Err(Error::NotFound(_))),
        "{what}: load_serial of a removed revision must be NotFound"
    );
}

/// A pack to after the newest transaction keeps only the current revision of a reachable
/// object, counts what it removed (revisions, record bytes, transactions left empty), and
/// a second pack removes nothing.
pub fn check_pack_removes_old_revisions(storage: &dyn Storage) {
    let a = storage.new_oid().unwrap();
    let t1 = commit_ok(
        storage,
        &transaction(
            "root and a",
            vec![write_refs(Oid::ROOT, None, b"root", &[a]), write(a, None, b"a1")],
        ),
        "first",
    );
    let t2 = commit_ok(storage, &transaction("a2", vec![write(a, Some(t1), b"a2")]), "a2");
    let t3 = commit_ok(storage, &transaction("a3", vec![write(a, Some(t2), b"a3!")]), "a3");
    let report = pack_ok(storage, TimeStamp::MAX);
    assert_eq!(report.revisions_removed, 2, "a1 and a2 go: {report:?}");
    assert_eq!(report.objects_removed, 0, "nothing is unreachable: {report:?}");
    assert_eq!(report.bytes_removed, 4, "the removed records' bytes: {report:?}");
    assert_eq!(report.transactions_removed, 1, "t2 wrote nothing left: {report:?}");
    let current = storage.load(a).unwrap();
    assert_eq!((current.data.as_slice(), current.serial), (&b"a3!"[..], t3));
    assert!(matches!(storage.load_serial(a, t1), Err(Error::NotFound(_))), "a1 is gone");
    assert!(matches!(storage.load_serial(a, t2), Err(Error::NotFound(_))), "a2 is gone");
    assert_eq!(storage.history(a, 10).unwrap().len(), 1, "one revision of a is left");
    assert_eq!(storage.load(Oid::ROOT).unwrap().data, b"root", "the root stays");
    assert_eq!(storage.history(Oid::ROOT, 10).unwrap()[0].description, "root and a");
    assert_eq!(storage.last_transaction().unwrap(), t3, "the newest tid stays");
    let again = pack_ok(storage, TimeStamp::MAX);
    assert_eq!(again, PackReport::default(), "a second pack finds nothing to remove");
    let t4 = commit_ok(storage, &transaction("a4", vec![write(a, Some(t3), b"a4")]), "a4");
    assert!(t4 > t3, "tids keep increasing after a pack");
}

/// A pack to `before` keeps the revision current at `before` and every later one, so a
/// snapshot at `before` still reads what it read.
pub fn check_pack_keeps_what_before_sees(storage: &dyn Storage) {
    let a = storage.new_oid().unwrap();
    let t1 = commit_ok(
        storage,
        &transaction("t1", vec![write_refs(Oid::ROOT, None, b"root", &[a]), write(a, None, b"a1")]),
        "t1",
    );
    let t2 = commit_ok(storage, &transaction("t2", vec![write(a, Some(t1), b"a2")]), "t2");
    let t3 = commit_ok(storage, &transaction("t3", vec![write(a, Some(t2), b"a3")]), "t3");
    let report = pack_ok(storage, t3);
    assert_eq!(report.revisions_removed, 1, "only a1 is older than the current at t3");
    assert!(matches!(storage.load_serial(a, t1), Err(Error::NotFound(_))), "a1 is gone");
    let at_before = storage.load_before(a, t3).unwrap().expect("a at t3");
    assert_eq!((at_before.data, at_before.next_serial), (b"a2".to_vec(), Some(t3)));
    assert_eq!(storage.load(a).unwrap().data, b"a3");
    assert_eq!(storage.load_before(a, t2).unwrap(), None, "nothing of a is older than a2");
}

/// Unreachable objects go (an orphan and a cycle nobody reaches), reachable ones stay
/// (a chain root -> a -> b, an object only the schema registry references); when a link is
/// cut and packed again, what hung from it goes too.
#[allow(clippy::many_single_char_names, reason = "the objects of a small graph, by letter")]
pub fn check_pack_removes_unreachable_objects(storage: &dyn Storage) {
    let [a, b, c, d, e, s] = storage.new_oids(6).unwrap()[..] else { panic!("six oids") };
    let t1 = commit_ok(
        storage,
        &transaction(
            "graph",
            vec![
                write_refs(Oid::ROOT, None, b"root", &[a]),
                write_refs(a, None, b"a", &[b]),
                write(b, None, b"b"),
                write_refs(c, None, b"c", &[d]),
                write_refs(d, None, b"d", &[c]),
                write(e, None, b"orphan"),
                write_refs(Oid::SCHEMAS, None, b"schemas", &[s]),
                write(s, None, b"s"),
            ],
        ),
        "graph",
    );
    let report = pack_ok(storage, TimeStamp::MAX);
    assert_eq!(report.objects_removed, 3, "c, d and e are unreachable: {report:?}");
    assert_eq!(report.revisions_removed, 3, "{report:?}");
    assert_eq!(report.bytes_removed, 1 + 1 + 6, "{report:?}");
    for oid in [c, d, e] {
        assert_removed(storage, oid, t1, "an unreachable object");
    }
    for (oid, data) in [(a, &b"a"[..]), (b, b"b"), (s, b"s"), (Oid::ROOT, b"root")] {
        assert_eq!(storage.load(oid).unwrap().data, data, "a reachable object stays");
    }
    let listed = storage.list_oids(None, 100).unwrap();
    assert!(!listed.contains(&c) && !listed.contains(&e), "removed oids are not listed");
    let t2 = commit_ok(storage, &transaction("cut", vec![write(a, Some(t1), b"a alone")]), "cut");
    let report = pack_ok(storage, TimeStamp::MAX);
    assert_eq!(report.objects_removed, 1, "b hung from the cut link: {report:?}");
    assert_eq!(report.revisions_removed, 2, "b, and the old revision of a: {report:?}");
    assert_removed(storage, b, t1, "an object no longer referenced");
    assert_eq!(storage.load(a).unwrap().serial, t2);
}

/// Revisions from `before` on are roots of reachability: an object unreachable at `before`
/// but referenced by a later revision stays, and so does an unreachable object written
/// after `before`; one unreachable all along goes.
pub fn check_pack_keeps_objects_referenced_later(storage: &dyn Storage) {
    let [x, y, z] = storage.new_oids(3).unwrap()[..] else { panic!("three oids") };
    let t1 = commit_ok(
        storage,
        &transaction(
            "t1",
            vec![write(Oid::ROOT, None, b"r0"), write(x, None, b"x"), write(y, None, b"y")],
        ),
        "t1",
    );
    let t2 = commit_ok(
        storage,
        &transaction(
            "t2",
            vec![write_refs(Oid::ROOT, Some(t1), b"r1", &[x]), write(z, None, b"z")],
        ),
        "t2",
    );
    let report = pack_ok(storage, t2);
    assert_eq!(report.objects_removed, 1, "only y goes: {report:?}");
    assert_removed(storage, y, t1, "an object unreachable all along");
    assert_eq!(storage.load(x).unwrap().data, b"x", "x is referenced after before");
    assert_eq!(storage.load(z).unwrap().data, b"z", "z was written after before");
    assert_eq!(storage.load_before(Oid::ROOT, t2).unwrap().unwrap().data, b"r0");
}

/// An object whose current revision is empty (it does not exist there, e.g. an undone
/// creation) and older than `before` is removed entirely, even if referenced.
pub fn check_pack_removes_objects_that_do_not_exist(storage: &dyn Storage) {
    let u = storage.new_oid().unwrap();
    let t1 = commit_ok(
        storage,
        &transaction("t1", vec![write_refs(Oid::ROOT, None, b"r", &[u]), write(u, None, b"u")]),
        "t1",
    );
    commit_ok(storage, &transaction("undo", vec![write(u, Some(t1), b"")]), "undo");
    let report = pack_ok(storage, TimeStamp::MAX);
    assert_eq!((report.objects_removed, report.revisions_removed), (1, 2), "{report:?}");
    assert_removed(storage, u, t1, "an object that does not exist");
    assert_eq!(storage.load(Oid::ROOT).unwrap().data, b"r");
}

/// `transactions_after` gives the transactions after a tid, oldest first, in pages of at most
/// `limit`, each with its metadata, extension bytes and revisions (data and reference list)
/// by ascending oid, an empty revision included.
pub fn check_transactions_after_oldest_first(storage: &dyn Storage) {
    assert!(storage.transactions_after(TimeStamp::ZERO, 10).unwrap().is_empty());
    let (a, ta) = store_new(storage, b"a1");
    let b = storage.new_oid().unwrap();
    let mut two = transaction(
        "two",
        vec![write_refs(b, None, b"b1", &[a]), write_refs(a, Some(ta), b"a2", &[b, Oid::ROOT])],
    );
    two.extension = vec![1, 2, 3];
    let t2 = commit_ok(storage, &two, "second");
    let t3 = commit_ok(storage, &transaction("three", vec![write(b, Some(t2), b"")]), "third");
    let all = storage.transactions_after(TimeStamp::ZERO, 10).expect("read every transaction");
    let tids: Vec<Tid> = all.iter().map(|txn| txn.tid).collect();
    assert_eq!(tids, [ta, t2, t3], "transactions_after lists oldest first");
    let mut expected = vec![
        StoredRevision::new(b, b"b1".to_vec(), vec![a]),
        StoredRevision::new(a, b"a2".to_vec(), vec![Oid::ROOT, b]),
    ];
    expected.sort_by_key(|rev| rev.oid);
    assert_eq!(
        all[1],
        StoredTransaction::new(t2, "tester".into(), "two".into(), vec![1, 2, 3], expected),
        "a transaction comes with its metadata, extension and revisions by oid, \
         each with its references ascending"
    );
    assert_eq!(all[2].revisions, [StoredRevision::new(b, Vec::new(), Vec::new())]);
    let page = storage.transactions_after(ta, 1).expect("a page");
    assert_eq!(page.iter().map(|txn| txn.tid).collect::<Vec<_>>(), [t2], "a page after ta");
    assert!(storage.transactions_after(t3, 10).unwrap().is_empty(), "nothing after the last");
}

/// A past tid a restore may use in an empty storage: far below any clock-made tid.
fn past_tid(step: u64) -> Tid {
    TimeStamp::from_u64(0x0300_0000_0000_0000 + step)
}

/// `restore` writes a transaction under its own tid: loads, history and the log show it,
/// `transactions_after` gives it back unchanged, a later revision becomes current, the oid
/// allocator moves past the oids it wrote, and commits go on after it with later tids and
/// serial checks against the restored serials.
pub fn check_restore_keeps_the_tid(storage: &dyn Storage) {
    let (t1, t2) = (past_tid(1), past_tid(2));
    let high = Oid(1_000);
    let first = StoredTransaction::new(
        t1,
        "copier".into(),
        "first".into(),
        vec![9],
        vec![
            StoredRevision::new(Oid::ROOT, b"root1".to_vec(), vec![high]),
            StoredRevision::new(high, b"h1".to_vec(), Vec::new()),
        ],
    );
    storage
        .restore(std::slice::from_ref(&first))
        .unwrap_or_else(|e| panic!("restoring into an empty storage: {e}"));
    let second = StoredTransaction::new(
        t2,
        "copier".into(),
        "second".into(),
        Vec::new(),
        vec![StoredRevision::new(high, b"h2".to_vec(), Vec::new())],
    );
    let t3 = past_tid(3);
    let third = StoredTransaction::new(
        t3,
        String::new(),
        "third".into(),
        Vec::new(),
        vec![StoredRevision::new(Oid(7), b"seven".to_vec(), Vec::new())],
    );
    storage.restore(&[second.clone(), third.clone()]).expect("restoring a batch of two");
    assert_eq!(storage.last_transaction().unwrap(), t3, "the newest tid is the last restored");
    let current = storage.load(high).unwrap();
    assert_eq!((current.data.as_slice(), current.serial), (&b"h2"[..], t2));
    let old = storage.load_before(high, t2).unwrap().expect("the first revision stays");
    assert_eq!((old.data.as_slice(), old.serial, old.next_serial), (&b"h1"[..], t1, Some(t2)));
    let history = storage.history(high, 10).unwrap();
    assert_eq!(history.iter().map(|rev| rev.tid).collect::<Vec<_>>(), [t2, t1]);
    assert_eq!(history[1].user, "copier");
    assert_eq!(history[1].description, "first");
    let back = storage.transactions_after(TimeStamp::ZERO, 10).unwrap();
    assert_eq!(back, [first, second, third], "transactions_after gives them back unchanged");
    let oids = storage.new_oids(5).unwrap();
    assert!(
        oids.iter().all(|oid| *oid > high),
        "new_oids never returns an oid a restore wrote: got {oids:?} after restoring {high}"
    );
    let stale = transaction("stale", vec![write(high, Some(t1), b"h3")]);
    assert!(
        matches!(storage.commit(&stale), Err(Error::Conflict { .. })),
        "a commit's serial check sees the restored current serial"
    );
    let t4 = commit_ok(storage, &transaction("after", vec![write(high, Some(t2), b"h3")]), "go on");
    assert!(t4 > t3, "a commit after a restore gets a later tid");
}

/// `restore` refuses, writing nothing, a tid not above the newest one, tids that do not
/// increase within a batch, and a transaction writing one oid twice, even after good
/// transactions in the same batch.
pub fn check_restore_refuses_what_it_cannot_write(storage: &dyn Storage) {
    let (oid, tid) = store_new(storage, b"kept");
    let earlier = StoredTransaction::new(
        tid,
        "copier".into(),
        "same tid".into(),
        Vec::new(),
        vec![StoredRevision::new(oid, b"lost".to_vec(), Vec::new())],
    );
    let refused = |batch: &[StoredTransaction], what: &str| match storage.restore(batch) {
        Err(Error::Storage { kind: persistent_core::StorageErrorKind::Invalid, .. }) => {}
        other => panic!("restoring {what} must be refused as Invalid, got {other:?}"),
    };
    refused(std::slice::from_ref(&earlier), "a tid not above the newest");
    let later = TimeStamp::from_u64(tid.as_u64() + 1);
    let good = StoredTransaction::new(
        later,
        "copier".into(),
        "good".into(),
        Vec::new(),
        vec![StoredRevision::new(oid, b"lost".to_vec(), Vec::new())],
    );
    refused(&[good.clone(), good.clone()], "a batch whose tids do not increase");
    let twice = StoredTransaction::new(
        TimeStamp::from_u64(tid.as_u64() + 2),
        "copier".into(),
        "twice".into(),
        Vec::new(),
        vec![
            StoredRevision::new(oid, b"one".to_vec(), Vec::new()),
            StoredRevision::new(oid, b"two".to_vec(), Vec::new()),
        ],
    );
    refused(&[good, twice], "a batch whose second transaction writes one oid twice");
    assert_eq!(storage.last_transaction().unwrap(), tid, "a refused restore adds no tid");
    assert_eq!(storage.load(oid).unwrap().data, b"kept", "a refused restore writes nothing");
}

/// `load_visible_many` gives, in the order asked, what `load_visible` gives for each oid: at
/// an older snapshot too, `None` for a missing oid and for an absent (empty) revision, and
/// the same record again for an oid asked twice; across more oids than one batch.
pub fn check_load_visible_many_agrees(storage: &dyn Storage) {
    let oids = storage.new_oids(600).unwrap();
    let first: Vec<ObjectWrite> =
        oids.iter().map(|oid| write(*oid, None, format!("first {oid}").as_bytes())).collect();
    commit_ok(storage, &transaction("store 600", first), "store");
    let middle = storage.last_transaction().unwrap();
    let changed: Vec<ObjectWrite> = oids
        .iter()
        .step_by(3)
        .map(|oid| {
            let serial = storage.load(*oid).unwrap().serial;
            write(*oid, Some(serial), format!("second {oid}").as_bytes())
        })
        .collect();
    commit_ok(storage, &transaction("change a third", changed), "change");
    let gone = oids[1];
    let serial = storage.load(gone).unwrap().serial;
    commit_ok(storage, &transaction("absent", vec![write(gone, Some(serial), b"")]), "absent");
    let mut asked = oids.clone();
    asked.reverse();
    asked.insert(10, storage.new_oid().unwrap());
    asked.push(oids[0]);
    asked.push(gone);
    for before in [TimeStamp::MAX, TimeStamp::from_u64(middle.as_u64() + 1)] {
        let many = storage.load_visible_many(&asked, before).expect("load_visible_many");
        assert_eq!(many.len(), asked.len(), "one answer per oid asked");
        for (oid, got) in asked.iter().zip(many) {
            let one = storage.load_visible(*oid, before).unwrap();
            assert_eq!(got, one, "load_visible_many disagrees with load_visible for {oid}");
        }
    }
    assert!(storage.load_visible_many(&[], TimeStamp::MAX).unwrap().is_empty());
}

/// Loads that walk the oids in order (which a storage may answer by reading ahead) give, at
/// each snapshot, what `load_before` gives: before and after later commits, with a commit
/// landing in the middle of a walk, across oids never stored, an absent revision and
/// records larger than a read-ahead keeps, and one oid at a time or many at once.
pub fn check_loads_in_oid_order_see_their_snapshot(storage: &dyn Storage) {
    let oids = storage.new_oids(300).unwrap();
    // Every fifth oid is allocated but never stored; every seventh record is 9,000 bytes.
    let stored: Vec<Oid> = oids.iter().copied().filter(|oid| oid.0 % 5 != 0).collect();
    let record = |oid: Oid, what: &str| -> Vec<u8> {
        let mut data = format!("{what} {oid}").into_bytes();
        if oid.0 % 7 == 3 {
            data.resize(9_000, b'.');
        }
        data
    };
    let first: Vec<ObjectWrite> =
        stored.iter().map(|oid| write(*oid, None, &record(*oid, "first"))).collect();
    let t1 = commit_ok(storage, &transaction("store", first), "store");
    let walk = |before: Tid, stop: usize| -> Vec<Option<(Vec<u8>, Tid)>> {
        oids[..stop]
            .iter()
            .map(|oid| {
                let got = storage.load_visible(*oid, before).unwrap().map(|r| (r.data, r.serial));
                let expected =
                    storage.load_before(*oid, before).unwrap().map(|r| (r.data, r.serial));
                assert_eq!(got, expected, "{oid} before {before:?}");
                got
            })
            .collect()
    };
    let at_t1 = TimeStamp::from_u64(t1.as_u64() + 1);
    let newest_before = walk(TimeStamp::MAX, oids.len());
    let old = walk(at_t1, 150);
    // A commit lands in the middle of the walk: the rest of the walk at the old snapshot
    // still sees the old records.
    let changed: Vec<ObjectWrite> = stored
        .iter()
        .step_by(2)
        .map(|oid| write(*oid, Some(t1), &record(*oid, "second")))
        .collect();
    let t2 = commit_ok(storage, &transaction("change half", changed), "change");
    let gone = stored[3];
    let serial = storage.load(gone).unwrap().serial;
    let t3 =
        commit_ok(storage, &transaction("absent", vec![write(gone, Some(serial), b"")]), "absent");
    let old_again = walk(at_t1, oids.len());
    assert_eq!(old_again[..150], old[..], "the old snapshot is unchanged");
    let new = walk(TimeStamp::from_u64(t3.as_u64() + 1), oids.len());
    assert_eq!(walk(TimeStamp::MAX, oids.len()), new, "the newest records, walked again");
    assert_ne!(newest_before, new);
    assert!(new.iter().flatten().any(|(_, serial)| *serial == t2), "the change is seen");
    let gone_at = oids.iter().position(|oid| *oid == gone).unwrap();
    assert_eq!(new[gone_at], None, "the absent revision is seen");
    for before in [at_t1, TimeStamp::from_u64(t2.as_u64() + 1), TimeStamp::MAX] {
        let many = storage.load_visible_many(&oids, before).unwrap();
        for (oid, got) in oids.iter().zip(many) {
            let expected = storage.load_before(*oid, before).unwrap().map(|r| (r.data, r.serial));
            assert_eq!(got.map(|r| (r.data, r.serial)), expected, "{oid} many before {before:?}");
        }
    }
}
