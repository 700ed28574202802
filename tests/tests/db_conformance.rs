//! Database conformance (docs/spec.md §6), each scenario run against `MemoryStorage` and
//! `SqliteStorage`: the root, reloading through a new `Database`, references as ghosts with
//! identity, reachability, commit serials, abort. History, sizes and sweeps are in
//! `db_bookkeeping.rs`.

#![allow(
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    reason = "test code: small test values"
)]

use persistent::prelude::*;
use persistent::Error;
use persistent_tests::{for_each_backend, Backend, Item, Node};

for_each_backend!(
    root_is_created_on_first_use_and_stored_by_commit,
    committed_values_reload_in_a_new_database,
    references_load_as_ghosts_with_identity,
    objects_reachable_from_committed_ones_are_stored,
    commit_returns_the_tid_of_every_written_object,
    abort_ghostifies_changes_and_forgets_new_objects,
    two_connections_creating_the_root_conflict,
);

fn root_is_created_on_first_use_and_stored_by_commit(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    assert_eq!(root.p_oid(), Some(Oid::ROOT));
    assert!(root.p_jar().is_some_and(|jar| jar.ptr_eq(conn.jar())));
    assert!(
        matches!(db.storage().load(Oid::ROOT), Err(Error::NotFound(Oid::ROOT))),
        "the root is not stored before the commit"
    );
    assert!(P::ptr_eq(&root, &conn.root::<Node>().unwrap()), "same root");
    root.update(|r| r.label = "root".into()).unwrap();
    let tid = conn.commit().unwrap();
    assert_eq!(db.storage().load(Oid::ROOT).unwrap().serial, tid);

    let reopened = backend.open().connect().unwrap();
    let again = reopened.root::<Node>().unwrap();
    assert_eq!(again.with(|r| r.label.clone()).unwrap(), "root");
    assert_eq!(again.p_serial(), tid);
}

fn committed_values_reload_in_a_new_database(backend: &Backend) {
    let tid = {
        let db = backend.open();
        let conn = db.connect().unwrap();
        let root = conn.root::<Node>().unwrap();
        let item = P::new(Item::numbered(42));
        let oid = conn.add(&item).unwrap();
        root.update(|r| {
            r.value = oid.0 as i64;
            r.items.push(item.clone());
        })
        .unwrap();
        conn.commit().unwrap()
    };
    let conn = backend.open().connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let oid = Oid(root.with(|r| r.value).unwrap() as u64);
    let item = conn.get::<Item>(oid).unwrap();
    assert_eq!(item.with(Item::clone).unwrap(), Item::numbered(42));
    assert_eq!(item.p_serial(), tid);
    assert_eq!(item.p_state(), PState::UpToDate);
    let via_root = root.with(|r| r.items[0].clone()).unwrap();
    assert!(P::ptr_eq(&item, &via_root), "get and the reference agree");
}

fn references_load_as_ghosts_with_identity(backend: &Backend) {
    {
        let conn = backend.open().connect().unwrap();
        let root = conn.root::<Node>().unwrap();
        let shared = P::new(Node::new("shared", 7));
        let left = P::new(Node { children: vec![shared.clone()], ..Node::new("left", 1) });
        let right = P::new(Node { children: vec![shared.clone()], ..Node::new("right", 2) });
        root.update(|r| r.children = vec![left, right]).unwrap();
        conn.commit().unwrap();
    }
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let (left, right) = root.with(|r| (r.children[0].clone(), r.children[1].clone())).unwrap();
    assert_eq!(left.p_state(), PState::Ghost, "children come back as ghosts");
    assert_eq!(right.p_state(), PState::Ghost);
    assert!(left.p_oid().is_some() && left.p_oid() != right.p_oid());
    assert_eq!(left.with(|n| n.label.clone()).unwrap(), "left");
    assert_eq!(left.p_state(), PState::UpToDate);
    let shared_left = left.with(|n| n.children[0].clone()).unwrap();
    assert_eq!(shared_left.p_state(), PState::Ghost);
    let shared_right = right.with(|n| n.children[0].clone()).unwrap();
    assert!(P::ptr_eq(&shared_left, &shared_right), "one oid reached twice gives one object");
    let by_oid = conn.get::<Node>(shared_left.p_oid().unwrap()).unwrap();
    assert!(P::ptr_eq(&by_oid, &shared_left));
    assert_eq!(shared_right.with(|n| n.value).unwrap(), 7);
    let ghost_again = conn.get::<Node>(left.p_oid().unwrap()).unwrap();
    assert!(P::ptr_eq(&ghost_again, &left));
}

fn objects_reachable_from_committed_ones_are_stored(backend: &Backend) {
    let (child_oid, grandchild_oid) = {
        let db = backend.open();
        let conn = db.connect().unwrap();
        let root = conn.root::<Node>().unwrap();
        conn.commit().unwrap();
        let grandchild = P::new(Item::numbered(3));
        let child = P::new(Node { items: vec![grandchild.clone()], ..Node::new("child", 2) });
        root.update(|r| r.children.push(child.clone())).unwrap();
        assert_eq!(child.p_oid(), None, "not added before the commit");
        let tid = conn.commit().unwrap();
        for (oid, serial) in
            [(child.p_oid(), child.p_serial()), (grandchild.p_oid(), grandchild.p_serial())]
        {
            let oid = oid.expect("a reachable object gets an oid");
            assert_ne!(oid, Oid::ROOT);
            assert_eq!(serial, tid);
            assert_eq!(db.storage().load(oid).unwrap().serial, tid);
        }
        assert!(child.p_jar().is_some_and(|jar| jar.ptr_eq(conn.jar())));
        assert_eq!(grandchild.p_state(), PState::UpToDate);
        (child.p_oid().unwrap(), grandchild.p_oid().unwrap())
    };
    let conn = backend.open().connect().unwrap();
    let child = conn.get::<Node>(child_oid).unwrap();
    assert_eq!(child.with(|n| n.label.clone()).unwrap(), "child");
    let grandchild = conn.get::<Item>(grandchild_oid).unwrap();
    assert_eq!(grandchild.with(|i| i.n).unwrap(), 3);
    assert!(P::ptr_eq(&grandchild, &child.with(|n| n.items[0].clone()).unwrap()));
}

fn commit_returns_the_tid_of_every_written_object(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let a = P::new(Item::numbered(1));
    let b = P::new(Item::numbered(2));
    conn.add(&a).unwrap();
    root.update(|r| r.items = vec![a.clone(), b.clone()]).unwrap();
    let first = conn.commit().unwrap();
    assert!(first > TimeStamp::ZERO);
    for serial in [root.p_serial(), a.p_serial(), b.p_serial()] {
        assert_eq!(serial, first);
    }
    for state in [root.p_state(), a.p_state(), b.p_state()] {
        assert_eq!(state, PState::UpToDate);
    }
    assert!(!conn.has_changes());
    b.update(|i| i.n = 20).unwrap();
    assert_eq!(b.p_state(), PState::Changed);
    let second = conn.commit().unwrap();
    assert!(second > first, "tids increase");
    assert_eq!(b.p_serial(), second);
    assert_eq!(a.p_serial(), first, "an unchanged object keeps its serial");
    assert_eq!(root.p_serial(), first);
    assert_eq!(db.storage().last_transaction().unwrap(), second);
    assert_eq!(
        conn.commit().unwrap(),
        second,
        "an empty commit writes nothing and returns the snapshot"
    );
    assert_eq!(db.storage().last_transaction().unwrap(), second);
}

fn abort_ghostifies_changes_and_forgets_new_objects(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let kept = P::new(Item::numbered(5));
    let read_only = P::new(Item::numbered(6));
    root.update(|r| r.items = vec![kept.clone(), read_only.clone()]).unwrap();
    let tid = conn.commit().unwrap();

    kept.update(|i| i.n = 500).unwrap();
    assert_eq!(read_only.with(|i| i.n).unwrap(), 6);
    let added = P::new(Item::numbered(7));
    let added_oid = conn.add(&added).unwrap();
    let reached = P::new(Node::new("reached", 8));
    root.update(|r| r.children.push(reached.clone())).unwrap();
    conn.abort().unwrap();

    assert_eq!(kept.p_state(), PState::Ghost, "a changed object is a ghost");
    assert_eq!(root.p_state(), PState::Ghost);
    assert_eq!(read_only.p_state(), PState::UpToDate, "read-only stays");
    assert_eq!(kept.with(|i| i.n).unwrap(), 5, "reloads the committed value");
    assert_eq!(kept.p_serial(), tid);
    assert!(root.with(|r| r.children.is_empty()).unwrap());
    for (oid, jar) in [(added.p_oid(), added.p_jar()), (reached.p_oid(), reached.p_jar())] {
        assert_eq!(oid, None, "a new object loses its oid");
        assert!(jar.is_none(), "and its jar");
    }
    assert!(!conn.cache().contains(added_oid));
    assert_eq!(added.with(|i| i.n).unwrap(), 7, "its value is kept");
    assert!(matches!(
        conn.get::<Item>(added_oid),
        Err(Error::NotFound(oid)) if oid == added_oid
    ));
    // The forgotten object can be added again and committed.
    root.update(|r| r.items.push(added.clone())).unwrap();
    let later = conn.commit().unwrap();
    assert_eq!(added.p_serial(), later);
    assert!(added.p_oid().is_some());
}

fn two_connections_creating_the_root_conflict(backend: &Backend) {
    let db = backend.open();
    let first = db.connect().unwrap();
    let second = db.connect().unwrap();
    first.root::<Node>().unwrap().update(|r| r.value = 1).unwrap();
    let late = second.root::<Node>().unwrap();
    let orphan = P::new(Node::new("orphan", 3));
    late.update(|r| {
        r.value = 2;
        r.children.push(orphan.clone());
    })
    .unwrap();
    first.commit().unwrap();
    let error = second.commit().unwrap_err();
    assert!(matches!(error, Error::Conflict { oid: Oid::ROOT, .. }), "{error:?}");
    second.abort().unwrap();
    assert_eq!(late.p_oid(), None, "the unstored root is forgotten");
    assert_eq!(orphan.p_oid(), None, "so is what the failed commit reached");
    assert!(orphan.p_jar().is_none());
    let root = second.root::<Node>().unwrap();
    assert!(!P::ptr_eq(&root, &late));
    assert_eq!(root.with(|r| r.value).unwrap(), 1, "the first root won");
}

/// The storage conformance suite of persistent-testkit (pack included) on `MemoryStorage`;
/// the sqlite crate runs it on `SqliteStorage`.
#[test]
fn memory_storage_passes_the_storage_conformance_suite() {
    persistent_testkit::conformance::run_all(&|| {
        Box::new(persistent::storage::MemoryStorage::new()) as Box<dyn persistent::storage::Storage>
    });
}
