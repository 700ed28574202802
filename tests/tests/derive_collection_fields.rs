//! A derived struct with collection fields: the generated getter returns the same
//! collection (shared by identity), so changes through it reach the stored object; a plain
//! field's getter returns a clone.

use persistent_collections::{PersistentList, PersistentMapping};
use persistent_core::prelude::*;
use persistent_core::storage::MemoryStorage;

#[derive(Persistent, Default)]
struct Shelf {
    label: String,
    titles: PersistentList<String>,
    counts: PersistentMapping<String, u32>,
}

#[test]
fn collection_getters_share_plain_getters_clone() {
    let db = Database::open(MemoryStorage::default()).unwrap();
    let conn = db.connect().unwrap();
    let shelf = conn.root::<Shelf>().unwrap();
    shelf.titles().unwrap().push("Dune".to_string()).unwrap();
    shelf.counts().unwrap().insert("Dune".to_string(), 2).unwrap();
    let mut label = shelf.label().unwrap();
    label.push_str("changed only in the copy");
    assert_eq!(shelf.label().unwrap(), "");
    assert_eq!(shelf.titles().unwrap().len().unwrap(), 1, "the same list, not a copy");
    assert!(shelf.titles().unwrap().handle() == shelf.titles().unwrap().handle());
    // A copy (try_clone; collections have no Clone) is a new unsaved list.
    let copy = shelf.titles().unwrap().try_clone().unwrap();
    assert!(copy.p_jar().is_none());
    assert_eq!(*copy.read().unwrap(), ["Dune"]);
    // `.clone()` on a collection reaches the `P` handle through Deref: the same object.
    let handle = shelf.titles().unwrap().clone();
    assert!(handle == *shelf.titles().unwrap().handle());
    conn.commit().unwrap();

    let other = db.connect().unwrap();
    let shelf = other.root::<Shelf>().unwrap();
    assert_eq!(shelf.titles().unwrap().to_vec().unwrap(), vec!["Dune".to_string()]);
    assert_eq!(shelf.counts().unwrap().get(&"Dune".to_string()).unwrap(), Some(2));
}
