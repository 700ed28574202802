//! What generated getters return: a `Copy` field by value, any other field as a read guard
//! on the stored field, so a collection reached through a getter (directly or nested in an
//! `Option`) is the stored collection and changes through it are committed; writing through
//! a getter's result does not compile (see `persistent-derive/tests/compile_fail`).

use persistent::prelude::*;
use persistent::storage::MemoryStorage;
use persistent::Error;

#[derive(Persistent, Default)]
struct Shelf {
    label: String,
    size: u32,
    titles: PersistentList<String>,
    counts: PersistentMapping<String, u32>,
    later: Option<PersistentList<u32>>,
}

#[test]
fn changes_through_getters_reach_the_stored_collections() {
    let db = Database::open(MemoryStorage::default()).unwrap();
    let conn = db.connect().unwrap();
    let shelf = conn.root::<Shelf>().unwrap();
    shelf.set_later(Some(PersistentList::new())).unwrap();
    conn.commit().unwrap();

    shelf.titles().unwrap().push("Dune".to_string()).unwrap();
    shelf.counts().unwrap().insert("Dune".to_string(), 2).unwrap();
    shelf.later().unwrap().as_ref().unwrap().push(7).unwrap();
    let size: u32 = shelf.size().unwrap(); // a Copy field comes back by value
    assert_eq!(size, 0);
    assert_eq!(shelf.label().unwrap(), "");
    assert!(shelf.titles().unwrap().handle() == shelf.titles().unwrap().handle());
    conn.commit().unwrap();

    let other = db.connect().unwrap();
    let shelf = other.root::<Shelf>().unwrap();
    assert_eq!(shelf.titles().unwrap().to_vec().unwrap(), vec!["Dune".to_string()]);
    assert_eq!(shelf.counts().unwrap().get(&"Dune".to_string()).unwrap(), Some(2));
    assert_eq!(shelf.later().unwrap().as_ref().unwrap().to_vec().unwrap(), vec![7]);
}

#[test]
fn a_live_field_guard_refuses_writes_to_its_object_and_changes_nothing() {
    let db = Database::open(MemoryStorage::default()).unwrap();
    let conn = db.connect().unwrap();
    let shelf = conn.root::<Shelf>().unwrap();
    conn.commit().unwrap();
    let label = shelf.label().unwrap();
    assert_eq!(shelf.p_status(), "sticky", "a borrowed object is sticky");
    assert!(matches!(shelf.set_label("new".into()), Err(Error::AlreadyBorrowed)));
    drop(label);
    assert_eq!(shelf.p_status(), "saved", "the refused write marked nothing");
    shelf.set_label("new".into()).unwrap();
    assert_eq!(shelf.label().unwrap(), "new");
}
