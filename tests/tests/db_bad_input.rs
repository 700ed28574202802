//! Bad input through a connection, on `MemoryStorage` and `SqliteStorage`: records of
//! another or an unknown type, undecodable states, broken envelopes, corrupt ghosts,
//! missing oids. Each is a typed error with a useful message, and the connection works
//! normally after `abort()`. Closed connections and non-database files are in
//! `db_closed.rs`.

#![allow(clippy::cast_possible_truncation, reason = "test code: small test values")]

use persistent::prelude::*;
use persistent::Error;
use persistent_tests::{for_each_backend, format1_record, write_raw, Backend, Item, Node, Other};

for_each_backend!(
    a_record_of_another_type_is_a_type_mismatch,
    an_unknown_type_name_is_a_type_mismatch,
    undecodable_states_are_decode_errors,
    broken_envelopes_are_corrupt_records,
    a_corrupt_ghost_stays_a_ghost_until_fixed,
    a_missing_oid_is_not_found,
);

/// The encoded state of `value`.
fn state_of<T: Persistent>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.encode_state(&mut out).unwrap();
    out
}

/// Stores `record` under a new oid, straight through the storage.
fn store_raw(db: &Database, record: Vec<u8>) -> Oid {
    let oid = db.storage().new_oid().unwrap();
    write_raw(&**db.storage(), oid, record);
    oid
}

/// After an error: `abort`, then the connection loads and commits as usual.
fn still_usable(conn: &Connection) {
    conn.abort().unwrap();
    let root = conn.root::<Node>().unwrap();
    let before = root.with(|r| r.value).unwrap();
    root.update(|r| r.value += 1).unwrap();
    let tid = conn.commit().unwrap();
    assert_eq!(root.p_serial(), tid);
    let fresh = conn.database().connect().unwrap();
    let again = fresh.root::<Node>().unwrap();
    assert_eq!(again.with(|r| r.value).unwrap(), before + 1);
}

/// A database whose root is stored, and one connection to it.
fn open(backend: &Backend) -> (Database, Connection) {
    let db = backend.open();
    let conn = db.connect().unwrap();
    conn.root::<Node>().unwrap();
    conn.commit().unwrap();
    (db, conn)
}

/// Checks that `message` names the oid and each of `words`.
fn says(message: &str, oid: Oid, words: &[&str]) {
    assert!(message.contains(&oid.to_string()), "{message}");
    for word in words {
        assert!(message.contains(word), "{message} (missing {word})");
    }
}

fn a_record_of_another_type_is_a_type_mismatch(backend: &Backend) {
    let (db, conn) = open(backend);
    let item = P::new(Item::numbered(1));
    let oid = conn.add(&item).unwrap();
    conn.commit().unwrap();

    let other_conn = db.connect().unwrap();
    let error = other_conn.get::<Other>(oid).unwrap_err();
    match &error {
        Error::TypeMismatch { oid: at, expected, found } => {
            assert_eq!(*at, oid);
            assert_eq!(expected, Other::TYPE_NAME);
            assert_eq!(found, Item::TYPE_NAME);
        }
        other => panic!("expected TypeMismatch, got {other:?}"),
    }
    says(&error.to_string(), oid, &[Other::TYPE_NAME, Item::TYPE_NAME]);
    assert!(!other_conn.cache().contains(oid), "no ghost left behind");
    let loaded = other_conn.get::<Item>(oid).unwrap();
    assert_eq!(loaded.with(|i| i.n).unwrap(), 1);
    still_usable(&other_conn);

    // The same through the cache of the connection that holds the object.
    assert!(matches!(conn.get::<Other>(oid), Err(Error::TypeMismatch { .. })));
    assert!(P::ptr_eq(&conn.get::<Item>(oid).unwrap(), &item));
    still_usable(&conn);
}

fn an_unknown_type_name_is_a_type_mismatch(backend: &Backend) {
    let (db, conn) = open(backend);
    let oid = store_raw(&db, format1_record("no::Such", &state_of(&Item::numbered(2))));
    conn.abort().unwrap();
    let error = conn.get::<Item>(oid).unwrap_err();
    assert!(
        matches!(&error, Error::TypeMismatch { found, .. } if found == "no::Such"),
        "{error:?}"
    );
    says(&error.to_string(), oid, &["no::Such", Item::TYPE_NAME]);
    still_usable(&conn);
}

fn undecodable_states_are_decode_errors(backend: &Backend) {
    let (db, conn) = open(backend);
    let good = state_of(&Item::numbered(3));
    let mut trailing = good.clone();
    trailing.push(0);
    let bad_states = [
        ("truncated", good[..good.len() - 3].to_vec()),
        ("garbage", vec![0xff; 12]),
        ("empty", Vec::new()),
        ("trailing byte", trailing),
    ];
    for (what, state) in bad_states {
        let oid = store_raw(&db, format1_record(Item::TYPE_NAME, &state));
        conn.abort().unwrap();
        let error = conn.get::<Item>(oid).unwrap_err();
        assert!(
            matches!(&error, Error::Decode { type_name, .. } if type_name == Item::TYPE_NAME),
            "{what}: {error:?}"
        );
        assert!(error.to_string().contains(Item::TYPE_NAME), "{error}");
        assert!(!conn.cache().contains(oid), "{what}: no ghost left behind");
        still_usable(&conn);
    }
}

fn broken_envelopes_are_corrupt_records(backend: &Backend) {
    let (db, conn) = open(backend);
    let mut future = format1_record(Item::TYPE_NAME, &state_of(&Item::numbered(4)));
    future[0] = 9;
    let records = [
        ("future version", future, "version 9"),
        ("header cut", vec![1], "truncated"),
        ("name cut", vec![1, 30, b'p', b'e'], "truncated"),
    ];
    for (what, record, words) in records {
        let oid = store_raw(&db, record);
        conn.abort().unwrap();
        let error = conn.get::<Item>(oid).unwrap_err();
        assert!(
            matches!(&error, Error::CorruptRecord { oid: at, .. } if *at == oid),
            "{what}: {error:?}"
        );
        says(&error.to_string(), oid, &[words]);
        still_usable(&conn);
    }
    // An empty record is not corrupt: it says the object does not exist (an undone
    // creation, docs/spec.md §11).
    let oid = store_raw(&db, Vec::new());
    conn.abort().unwrap();
    let error = conn.get::<Item>(oid).unwrap_err();
    assert!(matches!(error, Error::NotFound(missing) if missing == oid), "{error:?}");
}

fn a_corrupt_ghost_stays_a_ghost_until_fixed(backend: &Backend) {
    let (db, conn) = open(backend);
    let root = conn.root::<Node>().unwrap();
    let item = P::new(Item::numbered(5));
    root.update(|r| r.items.push(item)).unwrap();
    conn.commit().unwrap();
    let oid = root.with(|r| r.items[0].p_oid().unwrap()).unwrap();
    write_raw(&**db.storage(), oid, format1_record(Item::TYPE_NAME, &[0xff, 0xff]));

    let reader = db.connect().unwrap();
    let ghost = reader.root::<Node>().unwrap().with(|r| r.items[0].clone()).unwrap();
    assert_eq!(ghost.p_state(), PState::Ghost);
    let error = ghost.with(|i| i.n).unwrap_err();
    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    assert_eq!(ghost.p_state(), PState::Ghost, "a failed load leaves a ghost");
    assert!(matches!(ghost.update(|i| i.n = 0), Err(Error::Decode { .. })));
    assert_eq!(ghost.p_state(), PState::Ghost);
    assert!(!reader.has_changes(), "a failed update registers nothing");

    write_raw(
        &**db.storage(),
        oid,
        format1_record(Item::TYPE_NAME, &state_of(&Item::numbered(50))),
    );
    assert!(ghost.with(|i| i.n).is_err(), "the fix is after this transaction's snapshot");
    reader.abort().unwrap();
    assert_eq!(ghost.with(|i| i.n).unwrap(), 50);
    assert_eq!(ghost.p_state(), PState::UpToDate);
    still_usable(&reader);
}

fn a_missing_oid_is_not_found(backend: &Backend) {
    let (_db, conn) = open(backend);
    let missing = Oid(999);
    let error = conn.get::<Item>(missing).unwrap_err();
    assert!(matches!(error, Error::NotFound(oid) if oid == missing), "{error:?}");
    says(&error.to_string(), missing, &[]);
    assert!(!conn.cache().contains(missing));
    still_usable(&conn);
}

/// A commit refused because an object's data is borrowed writes nothing and leaves the
/// transaction usable: once the guard is dropped, the same commit stores everything.
#[test]
fn a_commit_refused_by_a_live_write_guard_leaves_the_transaction_usable() {
    let db = Database::open(persistent::storage::MemoryStorage::default()).unwrap();
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    root.update(|n| n.value = 1).unwrap();
    let before = db.storage().last_transaction().unwrap();
    let guard = root.write().unwrap();
    assert!(matches!(conn.commit(), Err(Error::AlreadyBorrowed)));
    assert_eq!(db.storage().last_transaction().unwrap(), before, "nothing was written");
    drop(guard);
    conn.commit().unwrap();
    let other = db.connect().unwrap();
    assert_eq!(other.root::<Node>().unwrap().with(|n| n.value).unwrap(), 1);
}

/// A stored list names its element type: a list of references is refused as a list of
/// numbers (it read back its oids as values before), and the other way round.
#[test]
fn a_collection_of_one_element_type_is_never_read_as_another() {
    use persistent::{ListState, Persistent, PersistentList};
    let db = Database::open(persistent::storage::MemoryStorage::default()).unwrap();
    let conn = db.connect().unwrap();
    let refs: PersistentList<P<Item>> =
        [P::new(Item::numbered(1)), P::new(Item::numbered(2))].into_iter().collect();
    let oid = conn.add(refs.handle()).unwrap();
    conn.commit().unwrap();
    assert_eq!(
        <ListState<P<Item>> as Persistent>::stored_type_name(),
        "persistent::PersistentList<P<persistent_tests::Item>>"
    );
    let other = db.connect().unwrap();
    let error = other.get::<ListState<u64>>(oid).unwrap_err();
    assert!(
        matches!(&error, Error::TypeMismatch { expected, found, .. }
            if expected == "persistent::PersistentList<u64>"
                && found == "persistent::PersistentList<P<persistent_tests::Item>>"),
        "{error:?}"
    );
    let list = other.get::<ListState<P<Item>>>(oid).unwrap();
    assert_eq!(list.read().unwrap().len(), 2);
}

/// Lists written before element types were named (under the plain list name) still load.
#[test]
fn a_list_stored_under_the_older_name_still_loads() {
    use persistent::{ListState, Persistent};
    let db = Database::open(persistent::storage::MemoryStorage::default()).unwrap();
    let mut state = Vec::new();
    ListState::from(vec![1u64, 2, 3]).encode_state(&mut state).unwrap();
    let oid = db.storage().new_oid().unwrap();
    write_raw(
        &**db.storage(),
        oid,
        format1_record("persistent_collections::PersistentList", &state),
    );
    let conn = db.connect().unwrap();
    let list = conn.get::<ListState<u64>>(oid).unwrap();
    assert_eq!(**list.read().unwrap(), vec![1, 2, 3]);
}
