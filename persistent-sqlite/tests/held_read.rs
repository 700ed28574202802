//! `load_before` keeps a read transaction open between calls; a load that asks for a view
//! newer than the held one must start a new read, so commits made meanwhile by another
//! handle on the same file are seen, while loads at the older snapshot still see the old
//! revision; and the held read never blocks this handle's own commits.

mod common;

use persistent_core::storage::{ObjectWrite, Storage, TransactionData};
use persistent_core::{Oid, TimeStamp};
use persistent_sqlite::SqliteStorage;
use persistent_testkit::TempDir;

fn txn(writes: Vec<ObjectWrite>) -> TransactionData {
    TransactionData { writes, ..TransactionData::default() }
}

fn write(oid: Oid, expected: Option<TimeStamp>, data: &[u8]) -> ObjectWrite {
    ObjectWrite::new(oid, expected, data.to_vec())
}

fn after(tid: TimeStamp) -> TimeStamp {
    TimeStamp::from_u64(tid.as_u64() + 1)
}

#[test]
fn a_newer_snapshot_restarts_the_held_read() {
    let dir = TempDir::new("sqlite");
    let path = dir.join("held.db");
    let reader = SqliteStorage::open(&path).unwrap();
    let writer = SqliteStorage::open(&path).unwrap();
    let oid = Oid(1);
    let first = writer.commit(&txn(vec![write(oid, None, b"one")])).unwrap().tid;

    // The reader holds a read transaction whose view ends at `first`.
    assert_eq!(reader.load_before(oid, after(first)).unwrap().unwrap().data, b"one");

    let second = writer.commit(&txn(vec![write(oid, Some(first), b"two")])).unwrap().tid;
    // A snapshot at `second` needs a newer view: the held read is replaced.
    let seen = reader.load_before(oid, after(second)).unwrap().unwrap();
    assert_eq!((seen.data.as_slice(), seen.serial), (&b"two"[..], second));
    // The old snapshot still reads the old revision, now with its successor known.
    let old = reader.load_before(oid, after(first)).unwrap().unwrap();
    assert_eq!((old.data.as_slice(), old.next_serial), (&b"one"[..], Some(second)));

    // The reader's own commit ends its held read first and succeeds.
    let third = reader.commit(&txn(vec![write(oid, Some(second), b"three")])).unwrap().tid;
    assert_eq!(writer.load(oid).unwrap().serial, third);
    assert_eq!(reader.last_transaction().unwrap(), third);
    assert!(reader.integrity_check().unwrap());
}

/// A storage left idle while it holds a read (a connection in the middle of a transaction
/// that stops calling) must not stop the WAL from being recycled: its read ends after
/// about `HELD_READ_LIMIT` (100 ms) by itself, so another handle's many commits keep the WAL
/// file small (without the bound it grew by about 20 KB per commit, without limit).
#[test]
fn an_idle_held_read_does_not_let_the_wal_grow_without_bound() {
    let dir = TempDir::new("sqlite");
    let path = dir.join("wal.db");
    let idle = SqliteStorage::open(&path).unwrap();
    let writer = SqliteStorage::open(&path).unwrap();
    let oid = Oid(1);
    let mut serial = writer.commit(&txn(vec![write(oid, None, &[0; 2000])])).unwrap().tid;
    assert!(idle.load_visible(oid, after(serial)).unwrap().is_some(), "holds a read now");
    std::thread::sleep(std::time::Duration::from_millis(400));
    for i in 0..1200u32 {
        let data = vec![(i % 251) as u8; 6000];
        serial = writer.commit(&txn(vec![write(oid, Some(serial), &data)])).unwrap().tid;
    }
    let wal = std::fs::metadata(format!("{}-wal", path.display())).unwrap().len();
    assert!(wal < 8 << 20, "the WAL grew to {wal} bytes while a storage sat idle");
    // The idle storage still works, and sees the newest revision.
    let seen = idle.load_visible(oid, after(serial)).unwrap().unwrap();
    assert_eq!(seen.serial, serial);
}
