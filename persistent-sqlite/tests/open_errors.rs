//! Opening files that are not storages of this library gives `Error::Storage` with a
//! message naming the path, never a panic: random text, a foreign SQLite schema, a newer
//! schema version, a directory.

mod common;

use persistent_core::{Error, StorageErrorKind};
use persistent_sqlite::SqliteStorage;
use persistent_testkit::TempDir;

/// The message of the `Error::Storage` that opening `path` gives; every such failure is
/// classified as "not a storage" or a disk problem, never as transient.
fn open_error(path: &std::path::Path) -> String {
    match SqliteStorage::open(path) {
        Err(error @ Error::Storage { .. }) => {
            let kind = error.storage_kind();
            assert!(
                matches!(kind, Some(StorageErrorKind::NotAStorage | StorageErrorKind::Io)),
                "{kind:?}: {error}"
            );
            assert!(!error.is_transient());
            error.to_string()
        }
        Err(other) => panic!("expected Error::Storage, got {other:?}"),
        Ok(_) => panic!("opening {} should fail", path.display()),
    }
}

#[test]
fn a_text_file_is_not_a_database() {
    let dir = TempDir::new("sqlite");
    let path = dir.join("notes.txt");
    let mut rng = common::XorShift::from_time();
    let text: String = (0..5000).map(|_| char::from(b' ' + (rng.next() % 95) as u8)).collect();
    std::fs::write(&path, format!("This is not a database.\n{text}")).unwrap();
    let message = open_error(&path);
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("not an SQLite database"), "{message}");
    let original = std::fs::read_to_string(&path).unwrap();
    assert!(original.starts_with("This is not a database."), "the file was left alone");
}

#[test]
fn a_foreign_schema_is_refused() {
    let dir = TempDir::new("sqlite");
    let path = dir.join("other.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);").unwrap();
    drop(conn);
    let message = open_error(&path);
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("not a persistent-sqlite storage"), "{message}");
    assert!(message.contains("customers"), "{message}");
}

#[test]
fn a_newer_schema_version_is_refused() {
    let dir = TempDir::new("sqlite");
    let path = dir.join("future.db");
    drop(SqliteStorage::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute("UPDATE schema_info SET value = '99' WHERE key = 'version'", []).unwrap();
    drop(conn);
    let message = open_error(&path);
    assert!(message.contains("schema version 99"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
}

#[test]
fn a_directory_cannot_be_opened() {
    let dir = TempDir::new("sqlite");
    let message = open_error(dir.path());
    assert!(message.contains(&dir.path().display().to_string()), "{message}");
}

#[test]
fn an_empty_file_becomes_a_storage() {
    let dir = TempDir::new("sqlite");
    let path = dir.join("empty.db");
    std::fs::write(&path, b"").unwrap();
    let storage = SqliteStorage::open(&path).expect("an empty file is an empty database");
    assert!(storage.integrity_check().unwrap());
}
