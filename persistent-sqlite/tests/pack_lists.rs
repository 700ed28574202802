//! After a pack, the oid lists of the transactions kept name only the objects whose revision
//! is left: `changes_since` and the undo log do not name removed objects (docs/spec.md §10).

use persistent_core::storage::{ObjectWrite, Storage, TransactionData};
use persistent_core::{Oid, TimeStamp};
use persistent_sqlite::SqliteStorage;
use persistent_testkit::TempDir;

#[test]
fn packed_transactions_name_only_what_is_left() {
    let dir = TempDir::new("sqlite-pack-lists");
    let storage = SqliteStorage::open(dir.join("lists.db")).unwrap();
    // The root references oid 2; oid 3 is written beside it and referenced by nothing.
    let writes = vec![
        ObjectWrite::new(Oid::ROOT, None, b"root".to_vec()).with_references(vec![Oid(2)]),
        ObjectWrite::new(Oid(2), None, b"kept".to_vec()),
        ObjectWrite::new(Oid(3), None, b"garbage".to_vec()),
    ];
    let first = storage.commit(&TransactionData { writes, ..TransactionData::default() });
    let first = first.unwrap().tid;
    let again = vec![ObjectWrite::new(Oid(2), Some(first), b"kept 2".to_vec())];
    storage.commit(&TransactionData { writes: again, ..TransactionData::default() }).unwrap();
    let report = storage.pack(TimeStamp::MAX, &mut |_| {}).unwrap();
    assert_eq!(report.objects_removed, 1, "{report:?}");
    let changed: Vec<Oid> =
        storage.changes_since(TimeStamp::ZERO).unwrap().changed.iter().map(|c| c.0).collect();
    assert_eq!(changed, [Oid::ROOT, Oid(2)]);
    let log = storage.transactions(TimeStamp::MAX, 10).unwrap();
    assert_eq!(log.last().unwrap().oids, [Oid::ROOT], "oid 2's first revision and oid 3 are gone");
}
