//! Closed and dropped connections, and files that are not databases: every call on a
//! closed connection and every load of its ghosts is `Error::ConnectionClosed`, a dropped
//! connection's ghosts fail the same way, and opening a text file as a SQLite storage is
//! `Error::Storage` naming the path.

use persistent::prelude::*;
use persistent::SqliteStorage;
use persistent::{Error, StorageErrorKind};
use persistent_tests::{for_each_backend, Backend, Item, Node, TempDir};

for_each_backend!(
    a_closed_connection_refuses_everything,
    a_dropped_connection_leaves_unloadable_ghosts,
);

/// Stores a root with one item; returns the item's oid.
fn setup(db: &Database) -> Oid {
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let item = P::new(Item::numbered(1));
    root.update(|r| r.items.push(item.clone())).unwrap();
    conn.commit().unwrap();
    item.p_oid().unwrap()
}

fn is_closed<T: std::fmt::Debug>(result: persistent::Result<T>) -> bool {
    match result {
        Err(error @ Error::ConnectionClosed) => {
            assert!(error.to_string().contains("closed"), "{error}");
            true
        }
        other => panic!("expected ConnectionClosed, got {other:?}"),
    }
}

fn a_closed_connection_refuses_everything(backend: &Backend) {
    let db = backend.open();
    let oid = setup(&db);
    let conn = db.connect().unwrap();
    let root = conn.root::<Node>().unwrap();
    let ghost = root.with(|r| r.items[0].clone()).unwrap();
    assert_eq!(ghost.p_state(), PState::Ghost);
    root.update(|r| r.value = 99).unwrap();
    conn.close().unwrap();
    assert!(conn.is_closed());

    assert!(is_closed(conn.get::<Item>(oid)));
    assert!(is_closed(conn.root::<Node>()));
    assert!(is_closed(conn.commit()));
    assert!(is_closed(conn.add(&P::new(Item::numbered(2)))));
    assert!(is_closed(conn.history(&root, 10)));
    assert!(is_closed(ghost.with(|i| i.n)));
    assert_eq!(ghost.p_state(), PState::Ghost);
    assert!(is_closed(root.with(|r| r.value)), "close aborted the change");
    assert!(conn.close().is_ok(), "closing twice is harmless");

    let fresh = db.connect().unwrap();
    let root = fresh.root::<Node>().unwrap();
    assert_eq!(root.with(|r| r.value).unwrap(), 0, "the change was not stored");
    assert_eq!(fresh.get::<Item>(oid).unwrap().with(|i| i.n).unwrap(), 1);
}

fn a_dropped_connection_leaves_unloadable_ghosts(backend: &Backend) {
    let db = backend.open();
    setup(&db);
    let (root, ghost) = {
        let conn = db.connect().unwrap();
        let root = conn.root::<Node>().unwrap();
        let ghost = root.with(|r| r.items[0].clone()).unwrap();
        (root, ghost)
    };
    assert_eq!(ghost.p_state(), PState::Ghost);
    assert!(is_closed(ghost.with(|i| i.n)));
    assert_eq!(ghost.p_state(), PState::Ghost);
    assert!(is_closed(ghost.update(|i| i.n = 3)));
    // The loaded root became a ghost too when the connection's cache went away (its state
    // is freed, cycles included), so it cannot load or register either.
    assert_eq!(root.p_state(), PState::Ghost, "loaded states are freed with the connection");
    assert!(is_closed(root.with(|r| r.items.len())));
    assert!(is_closed(root.update(|r| r.value = 3)), "cannot register");
}

#[test]
fn a_text_file_is_not_a_database() {
    let dir = TempDir::new("notdb");
    let path = dir.join("readme.txt");
    std::fs::write(&path, "Just some notes, certainly not SQLite.\n".repeat(200)).unwrap();
    let message = match SqliteStorage::open(&path) {
        Err(error @ Error::Storage { .. }) => {
            assert_eq!(error.storage_kind(), Some(StorageErrorKind::NotAStorage));
            assert!(std::error::Error::source(&error).is_some(), "the SQLite error is kept");
            error.to_string()
        }
        Err(other) => panic!("expected Error::Storage, got {other:?}"),
        Ok(_) => panic!("a text file opened as a storage"),
    };
    assert!(message.contains(&path.display().to_string()), "{message}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("Just some notes"), "the file is untouched");
}
