//! A file of schema version 2 (an index on `object_state (tid)`, no oid lists in the
//! transaction rows) is migrated to version 3 when opened: each transaction's oid list is
//! filled from its revisions and the index is dropped, so the undo log, the change lists
//! and the copy of transactions read the same as before.

#![allow(clippy::cast_possible_truncation, reason = "test code: oids below 6")]

use persistent_core::storage::{ObjectWrite, Storage, TransactionData};
use persistent_core::{Oid, TimeStamp};
use persistent_sqlite::{SqliteStorage, SCHEMA_VERSION};
use persistent_testkit::TempDir;

fn txn(writes: Vec<ObjectWrite>) -> TransactionData {
    TransactionData { description: "migrate".into(), writes, ..TransactionData::default() }
}

/// Turns a version 3 file into the layout version 2 had.
fn make_version_2(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        r#"CREATE INDEX object_state_tid ON object_state (tid);
           ALTER TABLE "transaction" DROP COLUMN oids;
           UPDATE schema_info SET value = '2' WHERE key = 'version';"#,
    )
    .unwrap();
}

#[test]
fn a_version_2_file_is_migrated_and_reads_the_same() {
    assert_eq!(SCHEMA_VERSION, 3);
    let dir = TempDir::new("sqlite-migrate");
    let path = dir.join("v2.db");
    let (log, changes) = {
        let storage = SqliteStorage::open(&path).unwrap();
        let mut serials = [None; 6];
        for round in 0..5u8 {
            let writes = (0..6)
                .filter(|oid| (oid + u64::from(round)) % 2 == 0 || round == 0)
                .map(|oid| {
                    ObjectWrite::new(Oid(oid), serials[oid as usize], vec![round; 3])
                        .with_references(vec![Oid(0)])
                })
                .collect::<Vec<_>>();
            let oids: Vec<u64> = writes.iter().map(|w| w.oid.0).collect();
            let tid = storage.commit(&txn(writes)).unwrap().tid;
            for oid in oids {
                serials[oid as usize] = Some(tid);
            }
        }
        storage.commit(&txn(Vec::new())).unwrap();
        (
            storage.transactions(TimeStamp::MAX, 100).unwrap(),
            storage.changes_since(TimeStamp::ZERO).unwrap(),
        )
    };
    assert_eq!(log.len(), 6);
    make_version_2(&path);
    let storage = SqliteStorage::open(&path).unwrap();
    assert_eq!(storage.transactions(TimeStamp::MAX, 100).unwrap(), log);
    assert_eq!(storage.changes_since(TimeStamp::ZERO).unwrap(), changes);
    let copied = storage.transactions_after(TimeStamp::ZERO, 100).unwrap();
    assert_eq!(copied.len(), 6);
    assert_eq!(copied[0].revisions.len(), 6);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: String = conn
        .query_row("SELECT value FROM schema_info WHERE key = 'version'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, "3");
    let indexes: i64 = conn
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = 'object_state_tid'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(indexes, 0, "the tid index is gone");
}
