//! Database bookkeeping, on `MemoryStorage` and `SqliteStorage`: history and old values,
//! estimated sizes from record lengths, cache sweeps at transaction boundaries, and the
//! thread-safety of `Database`.

#![allow(clippy::cast_possible_wrap, reason = "test code: small test values")]

use persistent::prelude::*;
use persistent::{DatabaseConfig, Tid, TransactionNote};
use persistent_tests::{for_each_backend, Backend, Item, Node};

for_each_backend!(
    history_lists_revisions_newest_first_with_old_values,
    estimated_size_comes_from_the_record_length,
    incrgc_runs_at_transaction_boundaries,
);

fn history_lists_revisions_newest_first_with_old_values(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let item = P::new(Item::numbered(0));
    root.update(|r| r.items.push(item.clone())).unwrap();
    let mut tids = vec![conn.commit().unwrap()];
    for n in 1..=3 {
        item.update(|i| i.n = n).unwrap();
        conn.set_note(TransactionNote { user: "tester".into(), description: format!("set {n}") });
        tids.push(conn.commit().unwrap());
    }
    let history = conn.history(&item, 10).unwrap();
    let listed: Vec<Tid> = history.iter().map(|h| h.tid).collect();
    let mut newest_first = tids.clone();
    newest_first.reverse();
    assert_eq!(listed, newest_first);
    assert_eq!(history[0].user, "tester");
    assert_eq!(history[0].description, "set 3");
    let current = db.storage().load(item.p_oid().unwrap()).unwrap();
    assert_eq!(history[0].size, current.data.len());
    for (n, tid) in tids.iter().enumerate() {
        let old = conn.old_value(&item, *tid).unwrap();
        assert_eq!(old.n, n as i64, "value written by {tid:?}");
        assert_eq!(old.name, "item-0");
    }
    assert_eq!(conn.history(&item, 2).unwrap().len(), 2, "limit");
    assert_eq!(item.with(|i| i.n).unwrap(), 3, "the object is untouched");
    assert_eq!(conn.history(&root, 10).unwrap().len(), 1);

    let unsaved = P::new(Item::numbered(9));
    assert!(conn.history(&unsaved, 10).is_err());
}

fn estimated_size_comes_from_the_record_length(backend: &Backend) {
    let oid = {
        let conn = backend.open().connect().unwrap();
        let root = conn.root::<Node>().unwrap();
        let big = P::new(Item { name: "x".repeat(1000), ..Item::numbered(1) });
        root.update(|r| r.items.push(big.clone())).unwrap();
        conn.commit().unwrap();
        let stored = conn.database().storage().load(big.p_oid().unwrap());
        let expected = (stored.unwrap().data.len() as u64 / 64 + 1) * 64;
        assert_eq!(big.p_estimated_size(), expected, "set by commit");
        big.p_oid().unwrap()
    };
    let db = backend.open();
    let conn = db.connect().unwrap();
    let item = conn.get::<Item>(oid).unwrap();
    let length = db.storage().load(oid).unwrap().data.len() as u64;
    assert!(length > 1000);
    let size = item.p_estimated_size();
    assert!(size > 0 && size.is_multiple_of(64), "size {size}");
    assert_eq!(size, (length / 64 + 1) * 64, "record of {length} bytes");
    assert!(conn.cache().total_estimated_size() >= size);
}

fn incrgc_runs_at_transaction_boundaries(backend: &Backend) {
    {
        let conn = backend.open().connect().unwrap();
        let root = conn.root::<Node>().unwrap();
        let children = (0..100).map(|i| P::new(Node::new("n", i))).collect();
        root.update(|r| r.children = children).unwrap();
        conn.commit().unwrap();
    }
    let config =
        DatabaseConfig::default().with_cache(DatabaseConfig::default().cache.with_cache_size(10));
    let db = backend.open_with(config);
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let children = root.with(|r| r.children.clone()).unwrap();
    let load_all = || {
        let sum: i64 = children.iter().map(|c| c.with(|n| n.value).unwrap()).sum();
        assert_eq!(sum, (0..100).sum::<i64>());
        assert!(conn.cache().non_ghost_count() > 10, "no sweep within a transaction");
    };
    load_all();
    conn.abort().unwrap();
    assert!(conn.cache().non_ghost_count() <= 10, "abort sweeps");
    load_all();
    children[0].update(|n| n.value = -1).unwrap();
    conn.commit().unwrap();
    assert!(conn.cache().non_ghost_count() <= 10, "commit sweeps");
    assert_eq!(children[99].with(|n| n.value).unwrap(), 99, "ghosts reload");
}

/// `Database` is shared between threads; `Connection` (like the objects it loads, which are
/// `Rc`-based) stays in the thread that opened it, so it is not `Send`. The negative bound
/// is not asserted here: stable Rust has no direct way to check it.
#[test]
fn database_is_send_and_sync() {
    fn shareable<T: Send + Sync + Clone + 'static>() {}
    shareable::<Database>();
}
