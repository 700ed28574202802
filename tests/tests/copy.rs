//! Moving a database between storages (`persistent::storage::copy_transactions`, docs/spec.md
//! §10, "Moving a database to another storage"): a SQLite → memory → SQLite round trip keeps every transaction, tid, revision and
//! reference list; an interrupted copy goes on where it stopped; a target holding other
//! transactions is refused; a packed source gives a target that refuses the same undos.

use persistent::prelude::*;
use persistent::storage::{
    copy_transactions, CopyProgress, MemoryStorage, Storage, StoredTransaction,
};
use persistent::{Error, StorageErrorKind, Tid, TransactionNote};
use persistent_testkit::{Call, FlakyStorage};
use persistent_tests::{Backend, Item, Node};

/// Every transaction a storage holds, oldest first.
fn everything(storage: &dyn Storage) -> Vec<StoredTransaction> {
    storage.transactions_after(TimeStamp::ZERO, usize::MAX).expect("read every transaction")
}

/// A database with a few transactions of linked objects, an undo and a note: returns the
/// backend and the tid of the first transaction that added nodes.
fn sample() -> (Backend, Tid) {
    let backend = Backend::sqlite();
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    conn.set_note(TransactionNote { user: "ada".into(), description: "first nodes".into() });
    for n in 0..5 {
        let child = P::new(Node::new(&format!("child {n}"), n));
        child.update(|node| node.items.push(P::new(Item { n, ..Item::default() }))).unwrap();
        root.update(|node| node.children.push(child)).unwrap();
    }
    let first = conn.commit().unwrap();
    for round in 0..3 {
        root.update(|node| node.value += round).unwrap();
        conn.commit().unwrap();
    }
    let extra = conn.commit_new(P::new(Item { n: 99, ..Item::default() }));
    db.undo(extra).unwrap();
    (backend, first)
}

/// Commits one new object referenced from nowhere and returns the transaction's tid.
trait CommitNew {
    fn commit_new(&self, item: P<Item>) -> Tid;
}

impl CommitNew for Connection {
    fn commit_new(&self, item: P<Item>) -> Tid {
        let root = self.root::<Node>().unwrap();
        root.update(|node| node.items.push(item)).unwrap();
        self.commit().unwrap()
    }
}

#[test]
fn a_round_trip_through_memory_keeps_every_transaction() {
    let (source, _) = sample();
    let from = source.storage();
    let memory = MemoryStorage::new();
    let mut seen = Vec::new();
    let report = copy_transactions(&*from, &memory, &mut |p: &CopyProgress| seen.push(*p)).unwrap();
    let original = everything(&*from);
    assert_eq!(report.transactions, original.len() as u64);
    assert_eq!(report.revisions, original.iter().map(|t| t.revisions.len() as u64).sum::<u64>());
    assert_eq!(report.last_tid, original.last().unwrap().tid);
    assert_eq!(report.skipped, 0);
    assert_eq!(seen.len(), original.len(), "progress is reported after each transaction");
    assert!(seen.windows(2).all(|w| w[0].transactions + 1 == w[1].transactions));
    assert_eq!(everything(&memory), original, "memory holds what SQLite held");

    let back = Backend::sqlite();
    copy_transactions(&memory, &*back.storage(), &mut |_| {}).unwrap();
    let copied = back.storage();
    assert_eq!(everything(&*copied), original, "every revision, tid and reference list");
    let (a, b) = (from.transactions(TimeStamp::MAX, 100), copied.transactions(TimeStamp::MAX, 100));
    assert_eq!(a.unwrap(), b.unwrap(), "the undo log lists the same transactions");

    // The copy is a database: objects load, and new ones get fresh oids.
    let conn = back.open().connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    assert_eq!(root.with(|n| n.value).unwrap(), 3);
    let children = root.with(|n| n.children.clone()).unwrap();
    assert_eq!(children[4].with(|n| n.label.clone()).unwrap(), "child 4");
    let item = P::new(Item { n: 7, ..Item::default() });
    conn.commit_new(item.clone());
    let stored: Vec<Oid> =
        original.iter().flat_map(|t| t.revisions.iter().map(|r| r.oid)).collect();
    let new_oid = item.p_oid().unwrap();
    assert!(!stored.contains(&new_oid), "a new object's oid {new_oid} was never used");
}

/// A memory database of `count` transactions, each changing the root.
fn many_transactions(count: i64) -> Backend {
    let backend = Backend::memory();
    let conn = backend.open().connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    for n in 0..count {
        root.update(|node| node.value = n).unwrap();
        conn.commit().unwrap();
    }
    backend
}

#[test]
fn an_interrupted_copy_goes_on_where_it_stopped() {
    // 150 small transactions: batches of 1, 2, 4, ... (the size doubles while batches stay
    // small); the fourth batch's restore fails.
    let source = many_transactions(150);
    let from = source.storage();
    let target = Backend::sqlite();
    let flaky = FlakyStorage::new(target.storage());
    flaky.fail_after(Call::Restore, 3, 1);
    let error = copy_transactions(&*from, &flaky, &mut |_| {}).unwrap_err();
    assert!(matches!(error, Error::Storage { kind: StorageErrorKind::Io, .. }), "{error}");
    let partial = everything(&*target.storage());
    let original = everything(&*from);
    assert_eq!(original.len(), 150);
    assert_eq!(partial, original[..7], "the first three batches were copied, whole");

    let report = copy_transactions(&*from, &*target.storage(), &mut |_| {}).unwrap();
    assert_eq!(report.skipped, 7, "the copy counts what the first run copied");
    assert_eq!(report.transactions, 150 - 7);
    assert_eq!(everything(&*target.storage()), original);
    let again = copy_transactions(&*from, &*target.storage(), &mut |_| {}).unwrap();
    assert_eq!(again.transactions, 0, "a finished copy has nothing left to do");
}

#[test]
fn a_target_with_other_transactions_is_refused() {
    let (source, _) = sample();
    let target = Backend::sqlite();
    let conn = target.open().connect().unwrap();
    conn.root::<Node>().unwrap().update(|n| n.value = 1).unwrap();
    conn.commit().unwrap();
    let before = everything(&*target.storage());
    let error = copy_transactions(&*source.storage(), &*target.storage(), &mut |_| {}).unwrap_err();
    match &error {
        Error::Storage { kind: StorageErrorKind::Invalid, message, .. } => {
            assert!(message.contains("copy into an empty storage"), "{message}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    assert_eq!(everything(&*target.storage()), before, "nothing was written");
}

#[test]
fn a_copy_of_a_packed_database_refuses_the_same_undos() {
    let (source, first) = sample();
    let db = source.open();
    db.pack(TimeStamp::MAX, &mut |_| {}).unwrap();
    let packed = source.storage().packed_before().unwrap();
    assert!(packed > first);
    let target = Backend::memory();
    copy_transactions(&*source.storage(), &*target.storage(), &mut |_| {}).unwrap();
    assert_eq!(target.storage().packed_before().unwrap(), packed);
    assert_eq!(everything(&*target.storage()), everything(&*source.storage()));
    match target.open().undo(first) {
        Err(Error::UndoPacked { tid, .. }) => assert_eq!(tid, first),
        other => panic!("undo below the pack bound must be UndoPacked, got {other:?}"),
    }
}
