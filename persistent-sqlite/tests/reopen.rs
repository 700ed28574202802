//! Everything committed survives closing and reopening the file, and several
//! `SqliteStorage` values on one file see each other's commits.

#![allow(clippy::similar_names, reason = "test code: paired names on purpose")]

mod common;

use persistent_core::storage::{ObjectWrite, Storage, TransactionData};
use persistent_core::{Oid, TimeStamp};
use persistent_sqlite::SqliteStorage;
use persistent_testkit::TempDir;

fn txn(description: &str, writes: Vec<ObjectWrite>) -> TransactionData {
    TransactionData {
        user: "reopen".into(),
        description: description.into(),
        extension: b"ext".to_vec(),
        read_current: Vec::new(),
        writes,
    }
}

fn write(oid: Oid, expected: Option<TimeStamp>, data: &[u8]) -> ObjectWrite {
    ObjectWrite::new(oid, expected, data.to_vec())
}

#[test]
fn reopening_sees_everything_committed() {
    let dir = TempDir::new("sqlite");
    let path = dir.join("reopen.db");
    let storage = SqliteStorage::open(&path).unwrap();
    let root = storage.commit(&txn("root", vec![write(Oid::ROOT, None, b"root")])).unwrap().tid;
    let mut objects = Vec::new();
    let mut handed_out = Vec::new();
    for i in 0..20u32 {
        let oid = storage.new_oid().unwrap();
        handed_out.push(oid);
        let tid =
            storage.commit(&txn("obj", vec![write(oid, None, &i.to_be_bytes())])).unwrap().tid;
        objects.push((oid, tid, i));
    }
    let (first_oid, first_tid, _) = objects[0];
    let updated = storage
        .commit(&txn("update", vec![write(first_oid, Some(first_tid), b"new")]))
        .unwrap()
        .tid;
    let last = storage.last_transaction().unwrap();
    assert_eq!(last, updated);
    drop(storage);

    let storage = SqliteStorage::open(&path).unwrap();
    assert!(storage.integrity_check().unwrap());
    assert_eq!(storage.last_transaction().unwrap(), last);
    assert_eq!(storage.load(Oid::ROOT).unwrap().serial, root);
    for (oid, tid, i) in &objects[1..] {
        let rev = storage.load(*oid).unwrap();
        assert_eq!((rev.data, rev.serial), (i.to_be_bytes().to_vec(), *tid));
    }
    assert_eq!(storage.load(first_oid).unwrap().data, b"new");
    assert_eq!(storage.load_serial(first_oid, first_tid).unwrap(), 0u32.to_be_bytes());
    let history = storage.history(first_oid, 10).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].description, "update");
    assert_eq!(history[1].user, "reopen");
    for _ in 0..100 {
        let oid = storage.new_oid().unwrap();
        assert!(!handed_out.contains(&oid), "oid {oid} handed out again after reopen");
    }
    let next = storage.commit(&txn("after reopen", Vec::new())).unwrap().tid;
    assert!(next > last, "tids keep increasing after reopen");
}

#[test]
fn two_handles_on_one_file_see_each_other() {
    let dir = TempDir::new("sqlite");
    let path = dir.join("shared.db");
    let a = SqliteStorage::open(&path).unwrap();
    let b = SqliteStorage::open(&path).unwrap();
    let oid_a = a.new_oid().unwrap();
    let oid_b = b.new_oid().unwrap();
    assert_ne!(oid_a, oid_b, "two handles must not hand out the same oid");
    let ta = a.commit(&txn("a", vec![write(oid_a, None, b"from a")])).unwrap().tid;
    assert_eq!(b.load(oid_a).unwrap().data, b"from a");
    let tb = b.commit(&txn("b", vec![write(oid_a, Some(ta), b"from b")])).unwrap().tid;
    assert!(tb > ta);
    assert_eq!(a.load(oid_a).unwrap().serial, tb);
    assert!(matches!(
        a.commit(&txn("stale", vec![write(oid_a, Some(ta), b"stale")])),
        Err(persistent_core::Error::Conflict { .. })
    ));
    let changes = a.changes_since(ta).unwrap();
    let (newest, changed): (_, Vec<Oid>) =
        (changes.newest, changes.changed.into_iter().map(|(oid, _)| oid).collect());
    assert_eq!((newest, changed), (tb, vec![oid_a]));
}
