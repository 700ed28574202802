//! First end-to-end check of Database and Connection over MemoryStorage.

use persistent_core::prelude::*;
use persistent_core::storage::MemoryStorage;
use persistent_core::Error;
use persistent_tests::Item;

#[test]
fn commit_then_load_in_another_connection() {
    let db = Database::open(MemoryStorage::default()).unwrap();
    let conn = db.connect().unwrap();
    let root = conn.root::<Item>().unwrap();
    root.update(|r| r.n = 7).unwrap();
    let tid = conn.commit().unwrap();
    assert_eq!(root.p_serial(), tid);
    assert_eq!(root.p_state(), PState::UpToDate);

    let other = db.connect().unwrap();
    let root2 = other.root::<Item>().unwrap();
    assert_eq!(root2.with(|r| r.n).unwrap(), 7);

    // Conflict: both change the root.
    root.update(|r| r.n = 8).unwrap();
    root2.update(|r| r.n = 9).unwrap();
    conn.commit().unwrap();
    assert!(matches!(other.commit(), Err(Error::Conflict { oid, .. }) if oid == Oid::ROOT));
    other.abort().unwrap();
    assert_eq!(root2.with(|r| r.n).unwrap(), 8, "after abort the other sees the commit");
    root2.update(|r| r.n += 1).unwrap();
    other.commit().unwrap();
    conn.abort().unwrap();
    assert_eq!(root.with(|r| r.n).unwrap(), 9);
}
