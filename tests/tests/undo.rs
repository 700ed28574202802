//! Undo (docs/spec.md §11), on `MemoryStorage` and `SqliteStorage`: undoing the last and an
//! older transaction, the typed refusal when an object changed since (nothing written),
//! undoing a creation, the undo log, `read_current` conflicts, and dangling references.

use persistent::prelude::*;
use persistent::{Error, Tid, TimeStamp, TransactionNote};
use persistent_tests::{for_each_backend, write_raw, Backend, Item, Node};

for_each_backend!(
    undo_of_the_last_transaction,
    undo_of_an_older_transaction,
    undo_refused_when_an_object_changed_since,
    undo_of_a_creation_makes_the_object_absent,
    undo_of_an_unknown_tid_is_refused,
    undo_log_lists_newest_first,
    read_current_conflicts_when_the_object_changed,
    read_current_passes_when_the_object_did_not_change,
    dangling_reference_names_the_oid_and_referrer,
);

/// A root holding two children `a` and `b` (values 1 and 2), committed; returns the tid.
fn two_children(conn: &Connection) -> (P<Node>, P<Node>, P<Node>, Tid) {
    let root = conn.root::<Node>().unwrap();
    let (a, b) = (P::new(Node::new("a", 1)), P::new(Node::new("b", 2)));
    root.update(|r| r.children.extend([a.clone(), b.clone()])).unwrap();
    let tid = conn.commit().unwrap();
    (root, a, b, tid)
}

fn value(conn: &Connection, oid: Oid) -> i64 {
    conn.get::<Node>(oid).unwrap().with(|n| n.value).unwrap()
}

fn undo_of_the_last_transaction(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let (_root, a, _b, _) = two_children(&conn);
    a.update(|n| n.value = 10).unwrap();
    let t2 = conn.commit().unwrap();
    let undo = db.undo(t2).unwrap();
    assert!(undo > t2, "the undo is a new transaction");
    assert_eq!(a.with(|n| n.value).unwrap(), 10, "seen at the next transaction start");
    conn.abort().unwrap();
    assert_eq!(a.with(|n| n.value).unwrap(), 1, "restored after the abort");
    assert_eq!(a.p_serial(), undo);
    let fresh = backend.open().connect().unwrap();
    assert_eq!(value(&fresh, a.p_oid().unwrap()), 1, "a new database sees the undo");
}

fn undo_of_an_older_transaction(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let (_root, a, b, _) = two_children(&conn);
    a.update(|n| n.value = 10).unwrap();
    let t2 = conn.commit().unwrap();
    b.update(|n| n.value = 20).unwrap();
    conn.commit().unwrap();
    db.undo(t2).unwrap();
    conn.abort().unwrap();
    assert_eq!(a.with(|n| n.value).unwrap(), 1, "t2's write of a is undone");
    assert_eq!(b.with(|n| n.value).unwrap(), 20, "the later write of b stays");
}

fn undo_refused_when_an_object_changed_since(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let (_root, a, b, _) = two_children(&conn);
    a.update(|n| n.value = 10).unwrap();
    b.update(|n| n.value = 20).unwrap();
    let t2 = conn.commit().unwrap();
    b.update(|n| n.value = 30).unwrap();
    let t3 = conn.commit().unwrap();
    let last = db.storage().last_transaction().unwrap();
    let error = db.undo(t2).unwrap_err();
    match &error {
        Error::UndoConflict { tid, oid, current } => {
            assert_eq!((*tid, *oid, *current), (t2, b.p_oid().unwrap(), t3));
        }
        other => panic!("expected UndoConflict, got {other:?}"),
    }
    assert!(error.to_string().contains(&b.p_oid().unwrap().to_string()), "{error}");
    assert_eq!(db.storage().last_transaction().unwrap(), last, "nothing written");
    conn.abort().unwrap();
    assert_eq!(a.with(|n| n.value).unwrap(), 10, "a is not restored either");
    // Undoing the later transaction first makes the earlier one undoable (b holds again
    // exactly what t2 wrote).
    db.undo(t3).unwrap();
    db.undo(t2).unwrap();
    conn.abort().unwrap();
    assert_eq!((a.with(|n| n.value).unwrap(), b.with(|n| n.value).unwrap()), (1, 2));
}

fn undo_of_a_creation_makes_the_object_absent(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    root.update(|r| r.value = 1).unwrap();
    conn.commit().unwrap();
    let item = P::new(Item::numbered(7));
    root.update(|r| r.items.push(item.clone())).unwrap();
    let t2 = conn.commit().unwrap();
    let oid = item.p_oid().unwrap();
    let undo = db.undo(t2).unwrap();
    assert!(matches!(db.storage().load(oid), Err(Error::NotFound(missing)) if missing == oid));
    assert_eq!(db.storage().load_serial(oid, undo).unwrap(), b"", "an empty revision");
    let fresh = backend.open().connect().unwrap();
    assert!(fresh.root::<Node>().unwrap().with(|r| r.items.is_empty()).unwrap());
    let error = fresh.get::<Item>(oid).unwrap_err();
    assert!(matches!(error, Error::NotFound(missing) if missing == oid), "{error:?}");
    // Undoing the undo brings it back.
    db.undo(undo).unwrap();
    let again = backend.open().connect().unwrap();
    let back = again.get::<Item>(oid).unwrap();
    assert_eq!(back.with(|i| i.n).unwrap(), 7);
}

fn undo_of_an_unknown_tid_is_refused(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let (_, _, _, t1) = two_children(&conn);
    let unknown = TimeStamp::from_u64(t1.as_u64() - 1);
    assert!(matches!(db.undo(unknown), Err(Error::UnknownTransaction(tid)) if tid == unknown));
    assert_eq!(db.storage().last_transaction().unwrap(), t1);
}

fn undo_log_lists_newest_first(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let mut tids = Vec::new();
    for n in 0..4 {
        root.update(|r| r.value = n).unwrap();
        conn.set_note(TransactionNote { user: "ann".into(), description: format!("set {n}") });
        tids.push(conn.commit().unwrap());
    }
    let log = db.undo_log(TimeStamp::MAX, 10).unwrap();
    let described: Vec<&str> = log.iter().map(|t| t.description.as_str()).collect();
    assert_eq!(described, ["set 3", "set 2", "set 1", "set 0"]);
    assert!(log.iter().all(|t| t.user == "ann" && t.oids.contains(&Oid::ROOT)));
    assert_eq!(log[0].tid, tids[3]);
    assert_eq!(log[0].time(), tids[3], "the time is the tid");
    let page = db.undo_log(log[1].tid, 2).unwrap();
    assert_eq!(page.iter().map(|t| t.tid).collect::<Vec<_>>(), [tids[1], tids[0]]);
    let undo = db.undo(tids[3]).unwrap();
    let newest = &db.undo_log(TimeStamp::MAX, 1).unwrap()[0];
    assert_eq!(newest.tid, undo);
    assert!(newest.description.starts_with("undo"), "{newest:?}");
    conn.abort().unwrap();
    assert_eq!(root.with(|r| r.value).unwrap(), 2);
}

/// Write skew: `first` decides from `a` and writes `b`, while `second` changes `a`.
fn read_current_conflicts_when_the_object_changed(backend: &Backend) {
    let db = backend.open();
    let first = db.connect().unwrap();
    let (_root, a, b, _) = two_children(&first);
    let second = db.connect().unwrap();
    let a2 = second.get::<Node>(a.p_oid().unwrap()).unwrap();
    first.read_current(&a).unwrap();
    let seen = a.with(|n| n.value).unwrap();
    b.update(|n| n.value = seen + 100).unwrap();
    a2.update(|n| n.value = 50).unwrap();
    second.commit().unwrap();
    let last = db.storage().last_transaction().unwrap();
    let error = first.commit().unwrap_err();
    assert!(matches!(error, Error::Conflict { oid, .. } if oid == a.p_oid().unwrap()), "{error:?}");
    assert_eq!(db.storage().last_transaction().unwrap(), last, "nothing written");
    first.abort().unwrap();
    assert_eq!(b.with(|n| n.value).unwrap(), 2);
    // The retry reads the new value and commits.
    first.read_current(&a).unwrap();
    let seen = a.with(|n| n.value).unwrap();
    b.update(|n| n.value = seen + 100).unwrap();
    first.commit().unwrap();
    assert_eq!(value(&db.connect().unwrap(), b.p_oid().unwrap()), 150);
}

fn read_current_passes_when_the_object_did_not_change(backend: &Backend) {
    let db = backend.open();
    let first = db.connect().unwrap();
    let (root, a, b, _) = two_children(&first);
    let second = db.connect().unwrap();
    let root2 = second.root::<Node>().unwrap();
    a.p_invalidate().unwrap();
    first.read_current(&a).unwrap();
    assert_eq!(a.p_state(), PState::UpToDate, "read_current loads a ghost");
    b.update(|n| n.value = 3).unwrap();
    root2.update(|r| r.value = 9).unwrap();
    second.commit().unwrap();
    first.commit().unwrap();
    assert_eq!(root.with(|r| r.value).unwrap(), 9);
    assert_eq!(value(&db.connect().unwrap(), b.p_oid().unwrap()), 3);
}

fn dangling_reference_names_the_oid_and_referrer(backend: &Backend) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let item = P::new(Item::numbered(1));
    root.update(|r| r.items.push(item.clone())).unwrap();
    conn.commit().unwrap();
    let oid = item.p_oid().unwrap();
    write_raw(&**db.storage(), oid, Vec::new());
    let reader = backend.open().connect().unwrap();
    let ghost = reader.root::<Node>().unwrap().with(|r| r.items[0].clone()).unwrap();
    let error = ghost.with(|i| i.n).unwrap_err();
    assert!(
        matches!(error, Error::Dangling { oid: missing, referrer: Some(Oid::ROOT) } if missing == oid),
        "{error:?}"
    );
    assert!(error.is_not_found());
    assert!(error.to_string().contains(&oid.to_string()), "{error}");
    assert_eq!(ghost.p_state(), PState::Ghost);
}
