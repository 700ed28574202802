//! Objects belong to one connection: adding another connection's object, or committing a
//! reference to it, is `Error::ForeignObject`; nothing is written, and after `abort` both
//! connections go on normally. Encoding a reference outside any connection is
//! `Error::NoCodecContext`.

use persistent::prelude::*;
use persistent::storage::MemoryStorage;
use persistent::Error;
use persistent_tests::{Item, Node};

#[test]
fn another_connections_object_is_refused() {
    let db = Database::open(MemoryStorage::default()).unwrap();
    let (a, b) = (db.connect().unwrap(), db.connect().unwrap());
    let item = P::new(Item::numbered(1));
    let oid = a.add(&item).unwrap();
    let error = b.add(&item).unwrap_err();
    assert!(
        matches!(error, Error::ForeignObject { oid: Some(found) } if found == oid),
        "{error:?}"
    );
    assert!(error.to_string().contains("another connection"), "{error}");
    assert_eq!(item.p_oid(), Some(oid), "the object is untouched");
    assert_eq!(a.add(&item).unwrap(), oid, "adding it again to its own connection is a no-op");
}

#[test]
fn committing_a_reference_to_another_connections_object_writes_nothing() {
    let db = Database::open(MemoryStorage::default()).unwrap();
    let (a, b) = (db.connect().unwrap(), db.connect().unwrap());
    let foreign = P::new(Item::numbered(7));
    a.add(&foreign).unwrap();
    let root = b.root::<Node>().unwrap();
    root.update(|n| n.items.push(foreign.clone())).unwrap();
    let before = db.storage().last_transaction().unwrap();
    let error = b.commit().unwrap_err();
    assert!(matches!(error, Error::ForeignObject { .. }), "{error:?}");
    assert_eq!(db.storage().last_transaction().unwrap(), before, "nothing was written");
    // Nothing reached the storage, so the transaction stays usable: remove the foreign
    // reference and commit again.
    root.update(|n| n.items.clear()).unwrap();
    root.update(|n| n.value = 3).unwrap();
    b.commit().unwrap();
    let other = db.connect().unwrap();
    assert_eq!(other.root::<Node>().unwrap().with(|n| (n.value, n.items.len())).unwrap(), (3, 0));
    a.commit().unwrap();
    assert_eq!(a.get::<Item>(foreign.p_oid().unwrap()).unwrap().with(|i| i.n).unwrap(), 7);
}

#[test]
fn a_reference_outside_a_connection_cannot_be_encoded() {
    let node = P::new(Node { children: vec![P::new(Node::default())], ..Node::default() });
    let error = node.p_getstate().unwrap_err();
    assert!(matches!(error, Error::NoCodecContext), "{error:?}");
    assert!(error.to_string().contains("connection"), "{error}");
}
