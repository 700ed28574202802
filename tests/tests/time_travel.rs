//! Historical connections (docs/spec.md §11), on `MemoryStorage` and `SqliteStorage`: reads
//! at several tids and times, a snapshot that never moves, and every kind of write refused
//! with `Error::ReadOnly`, nothing changed.

use std::time::{Duration, SystemTime};

use persistent::prelude::*;
use persistent::{Error, TimeStamp};
use persistent_tests::{for_each_backend, Backend, Item, Node};

for_each_backend!(
    historical_reads_at_several_tids,
    historical_connection_at_a_time,
    every_write_is_refused_read_only,
);

fn historical_reads_at_several_tids(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let mut tids = Vec::new();
    for n in 1..=3 {
        root.update(|r| r.value = n).unwrap();
        tids.push(conn.commit().unwrap());
    }
    let item = P::new(Item::numbered(5));
    root.update(|r| r.items.push(item.clone())).unwrap();
    let t4 = conn.commit().unwrap();
    let item_oid = item.p_oid().unwrap();
    for (n, tid) in (1..).zip(&tids) {
        let past = db.connect_at(*tid).unwrap();
        assert!(past.is_historical());
        assert_eq!(past.snapshot(), *tid);
        let old_root = past.root::<Node>().unwrap();
        assert_eq!(old_root.with(|r| r.value).unwrap(), n, "the root as {tid:?} left it");
        assert!(old_root.with(|r| r.items.is_empty()).unwrap());
        let error = past.get::<Item>(item_oid).unwrap_err();
        assert!(matches!(error, Error::NotFound(oid) if oid == item_oid), "{error:?}");
    }
    let at_t4 = db.connect_at(t4).unwrap();
    let old_item = at_t4.root::<Node>().unwrap().with(|r| r.items[0].clone()).unwrap();
    assert_eq!(old_item.with(|i| i.n).unwrap(), 5);
    // Later commits do not move a historical snapshot, whatever the boundary.
    let past = db.connect_at(tids[0]).unwrap();
    let old_root = past.root::<Node>().unwrap();
    root.update(|r| r.value = 100).unwrap();
    conn.commit().unwrap();
    assert_eq!(past.commit().unwrap(), tids[0], "a commit without changes stays put");
    past.abort().unwrap();
    assert_eq!(past.snapshot(), tids[0]);
    assert_eq!(old_root.with(|r| r.value).unwrap(), 1);
    // Before the first transaction there is no root; past the newest is the newest.
    let empty = db.connect_at(TimeStamp::ZERO).unwrap();
    assert!(matches!(empty.get::<Node>(Oid::ROOT), Err(Error::NotFound(Oid::ROOT))));
    let future = db.connect_at(TimeStamp::MAX).unwrap();
    assert_eq!(future.snapshot(), db.storage().last_transaction().unwrap());
    assert_eq!(future.root::<Node>().unwrap().with(|r| r.value).unwrap(), 100);
}

fn historical_connection_at_a_time(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    root.update(|r| r.value = 1).unwrap();
    let t1 = conn.commit().unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let between = SystemTime::now();
    std::thread::sleep(Duration::from_millis(5));
    root.update(|r| r.value = 2).unwrap();
    conn.commit().unwrap();
    let past = db.connect_at_time(between).unwrap();
    assert_eq!(past.snapshot(), TimeStamp::from_system_time(between));
    assert!(past.snapshot() >= t1);
    assert_eq!(past.root::<Node>().unwrap().with(|r| r.value).unwrap(), 1);
    let now = db.connect_at_time(SystemTime::now()).unwrap();
    assert_eq!(now.root::<Node>().unwrap().with(|r| r.value).unwrap(), 2);
    let long_ago = db.connect_at_time(SystemTime::UNIX_EPOCH).unwrap();
    assert!(long_ago.get::<Node>(Oid::ROOT).unwrap_err().is_not_found());
}

fn every_write_is_refused_read_only(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let item = P::new(Item::numbered(1));
    root.update(|r| r.items.push(item.clone())).unwrap();
    let t1 = conn.commit().unwrap();
    let last = db.storage().last_transaction().unwrap();
    let past = db.connect_at(t1).unwrap();
    let old_root = past.root::<Node>().unwrap();
    let old_item = old_root.with(|r| r.items[0].clone()).unwrap();
    let read_only = |result: persistent::Result<()>| {
        let error = result.unwrap_err();
        assert!(matches!(error, Error::ReadOnly { .. }), "{error:?}");
        assert!(error.to_string().contains("historical"), "{error}");
    };
    read_only(old_root.update(|r| r.value = 9));
    read_only(old_item.update(|i| i.n = 9));
    read_only(old_item.as_object().p_set_changed(Some(true)));
    read_only(past.add(&P::new(Item::numbered(2))).map(|_| ()));
    let new_child = P::new(Node::new("child", 3));
    read_only(old_root.update(|r| r.children.push(new_child.clone())));
    assert_eq!(old_root.with(|r| r.value).unwrap(), 0, "nothing changed");
    assert!(old_root.with(|r| r.children.is_empty()).unwrap());
    assert_eq!(old_item.with(|i| i.n).unwrap(), 1);
    assert_eq!(old_root.p_state(), PState::UpToDate, "nothing marked");
    assert!(new_child.p_oid().is_none() && new_child.p_jar().is_none(), "nothing added");
    assert!(!past.has_changes());
    assert_eq!(past.commit().unwrap(), t1, "a commit with nothing to write is fine");
    past.abort().unwrap();
    // The root of a snapshot that has none is not created either.
    let empty = db.connect_at(TimeStamp::ZERO).unwrap();
    read_only(empty.root::<Node>().map(|_| ()));
    assert!(!empty.has_changes());
    assert_eq!(db.storage().last_transaction().unwrap(), last, "nothing was written");
    // read_current is a read: allowed, and the commit still writes nothing.
    past.read_current(&old_item).unwrap();
    past.commit().unwrap();
    assert_eq!(db.storage().last_transaction().unwrap(), last);
}
