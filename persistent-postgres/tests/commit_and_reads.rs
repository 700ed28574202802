//! PostgreSQL-specific rules beyond the conformance suite: two first writes of one oid
//! racing (the second waits for the first, then is a conflict naming the oid), and the
//! read-ahead of ghost loads never serving a record a later commit replaced.

use std::time::Duration;

use persistent_core::storage::{ObjectWrite, Storage, TransactionData};
use persistent_core::{Error, Oid, TimeStamp};
use persistent_postgres::PostgresStorage;
use persistent_testkit::PgServer;

fn txn(writes: Vec<ObjectWrite>) -> TransactionData {
    TransactionData { user: "test".into(), writes, ..TransactionData::default() }
}

#[test]
fn racing_first_writes_of_the_root_conflict() {
    let Some(server) = PgServer::shared("racing_first_writes_of_the_root_conflict") else {
        return;
    };
    let url = server.fresh_database();
    let storage = PostgresStorage::open(&url).unwrap();
    // Another session creates the root and has not committed yet.
    let mut other = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let mut pending = other.transaction().unwrap();
    pending.execute("INSERT INTO current_object (zoid, tid) VALUES (0, 1)", &[]).unwrap();
    let outcome = std::thread::scope(|scope| {
        let racing = scope.spawn(|| {
            storage.commit(&txn(vec![ObjectWrite::new(Oid::ROOT, None, b"mine".to_vec())]))
        });
        std::thread::sleep(Duration::from_millis(300));
        pending.commit().unwrap();
        racing.join().unwrap()
    });
    match outcome {
        Err(Error::Conflict { oid, actual, .. }) => {
            assert_eq!(oid, Oid::ROOT);
            assert_eq!(actual, TimeStamp::from_u64(1), "the other session's serial");
        }
        other => panic!("the second first write must be a conflict, got {other:?}"),
    }
    assert_eq!(storage.last_transaction().unwrap(), TimeStamp::ZERO, "nothing was written");
}

#[test]
fn read_ahead_never_serves_a_replaced_record() {
    let Some(server) = PgServer::shared("read_ahead_never_serves_a_replaced_record") else {
        return;
    };
    let storage = PostgresStorage::open(&server.fresh_database()).unwrap();
    let oids = storage.new_oids(3).unwrap();
    let (a, b, c) = (oids[0], oids[1], oids[2]);
    let t1 = storage
        .commit(&txn(vec![
            ObjectWrite::new(a, None, b"a1".to_vec()),
            ObjectWrite::new(b, None, b"b1".to_vec()),
        ]))
        .unwrap()
        .tid;
    let snapshot = TimeStamp::from_u64(t1.as_u64() + 1);
    // A load at the newest snapshot fetches b (and c's absence) ahead.
    assert_eq!(storage.load_visible(a, snapshot).unwrap().unwrap().data, b"a1");
    let t2 = storage
        .commit(&txn(vec![
            ObjectWrite::new(b, Some(t1), b"b2".to_vec()),
            ObjectWrite::new(c, None, b"c2".to_vec()),
        ]))
        .unwrap()
        .tid;
    // The old snapshot still reads what it read, from the block ...
    assert_eq!(storage.load_visible(b, snapshot).unwrap().unwrap().data, b"b1");
    assert_eq!(storage.load_visible(c, snapshot).unwrap(), None);
    // ... and the new one reads the new records.
    let newer = TimeStamp::from_u64(t2.as_u64() + 1);
    assert_eq!(storage.load_visible(b, newer).unwrap().unwrap().data, b"b2");
    assert_eq!(storage.load_visible(c, newer).unwrap().unwrap().data, b"c2");
    // A bound past the newest tid is never kept: a later commit shows at once.
    assert_eq!(storage.load_visible(a, TimeStamp::MAX).unwrap().unwrap().data, b"a1");
    storage.commit(&txn(vec![ObjectWrite::new(a, Some(t1), b"a3".to_vec())])).unwrap();
    assert_eq!(storage.load_visible(a, TimeStamp::MAX).unwrap().unwrap().data, b"a3");
}
