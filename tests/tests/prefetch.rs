//! `Connection::prefetch` (docs/spec.md §6): records read ahead at the snapshot serve later
//! loads without a storage call, skip what is already loaded, keep the transaction's
//! snapshot, and are dropped when the snapshot moves.

use std::sync::Arc;

use persistent::prelude::*;
use persistent::{Database, DatabaseConfig, Error};
use persistent_testkit::{Call, FlakyStorage};
use persistent_tests::{for_each_backend, Backend, Item, Node};

for_each_backend!(
    prefetched_objects_load_without_the_storage,
    a_failed_prefetch_keeps_nothing,
    prefetch_keeps_the_snapshot_and_ends_with_it,
    prefetch_skips_loaded_and_missing_objects,
);

/// A root node referencing `count` items numbered from 0, committed; returns the oids.
fn items(db: &Database, count: i64) -> Vec<Oid> {
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let items: Vec<P<Item>> = (0..count).map(|n| P::new(Item { n, ..Item::default() })).collect();
    root.update(|node| node.items.clone_from(&items)).unwrap();
    conn.commit().unwrap();
    items.iter().map(|p| p.p_oid().unwrap()).collect()
}

/// A database over `backend` whose loads can be made to fail.
fn flaky(backend: &Backend) -> (Arc<FlakyStorage>, Database) {
    let storage = Arc::new(FlakyStorage::new(backend.storage()));
    let db = Database::open_with(storage.clone(), DatabaseConfig::default()).unwrap();
    (storage, db)
}

fn prefetched_objects_load_without_the_storage(backend: &Backend) {
    let oids = items(&backend.open(), 1_200);
    let (storage, db) = flaky(backend);
    let conn = db.connect().unwrap();
    assert_eq!(conn.prefetch(oids.iter().copied()).unwrap(), 1_200);
    // Every load from now on would fail: the prefetched records must serve them.
    storage.fail(Call::LoadVisible, usize::MAX);
    for (n, oid) in (0..).zip(&oids) {
        assert_eq!(conn.get::<Item>(*oid).unwrap().with(|i| i.n).unwrap(), n);
    }
    // A record serves one load: a ghost made again loads from the storage (which fails).
    let first = conn.get::<Item>(oids[0]).unwrap();
    first.p_deactivate();
    assert!(matches!(first.with(|i| i.n), Err(Error::Storage { .. })));
    storage.fail(Call::LoadVisible, 0);
    assert_eq!(first.with(|i| i.n).unwrap(), 0);
}

fn prefetch_keeps_the_snapshot_and_ends_with_it(backend: &Backend) {
    let db = backend.open();
    let oids = items(&db, 3);
    let (storage, flaky_db) = flaky(backend);
    let conn = flaky_db.connect().unwrap();
    conn.prefetch(oids.iter().copied()).unwrap();
    // Another connection changes item 1 after the prefetch.
    let writer = db.connect().unwrap();
    writer.get::<Item>(oids[1]).unwrap().update(|i| i.n = 100).unwrap();
    writer.commit().unwrap();
    // This transaction still reads its snapshot, from the prefetched record.
    assert_eq!(conn.get::<Item>(oids[1]).unwrap().with(|i| i.n).unwrap(), 1);
    // At the next transaction the read-ahead records are gone: item 2 loads from the storage.
    conn.abort().unwrap();
    storage.fail(Call::LoadVisible, 1);
    let failed = conn.get::<Item>(oids[2]).and_then(|item| item.with(|i| i.n));
    assert!(matches!(failed, Err(Error::Storage { .. })), "{failed:?}");
    assert_eq!(conn.get::<Item>(oids[2]).unwrap().with(|i| i.n).unwrap(), 2);
    assert_eq!(conn.get::<Item>(oids[1]).unwrap().with(|i| i.n).unwrap(), 100);
}

fn prefetch_skips_loaded_and_missing_objects(backend: &Backend) {
    let db = backend.open();
    let oids = items(&db, 4);
    let conn = db.connect().unwrap();
    let loaded = conn.get::<Item>(oids[0]).unwrap();
    loaded.with(|i| i.n).unwrap();
    let never_stored = Oid(1 << 40);
    let asked = [oids[0], oids[1], never_stored, oids[2], oids[3]];
    assert_eq!(conn.prefetch(asked).unwrap(), 3, "the loaded object and the missing oid");
    assert!(
        matches!(conn.get::<Item>(never_stored), Err(Error::NotFound(oid)) if oid == never_stored)
    );
    // A closed connection refuses.
    conn.close().unwrap();
    assert!(matches!(conn.prefetch(oids), Err(Error::ConnectionClosed)));
}

fn a_failed_prefetch_keeps_nothing(backend: &Backend) {
    let oids = items(&backend.open(), 1_200);
    let (storage, db) = flaky(backend);
    let conn = db.connect().unwrap();
    // Three calls of 512 oids: the first succeeds, the second fails.
    storage.fail_after(Call::LoadVisible, 1, 1);
    assert!(matches!(conn.prefetch(oids.iter().copied()), Err(Error::Storage { .. })));
    // Nothing from the first call was kept: a load still calls the storage (which fails).
    storage.fail(Call::LoadVisible, 1);
    let failed = conn.get::<Item>(oids[0]).and_then(|item| item.with(|i| i.n));
    assert!(matches!(failed, Err(Error::Storage { .. })), "{failed:?}");
    assert_eq!(conn.get::<Item>(oids[0]).unwrap().with(|i| i.n).unwrap(), 0);
}
