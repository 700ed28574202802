//! A new database file, and the `-wal` and `-shm` files SQLite makes beside it, are readable
//! and writable by their owner only (0600) unless `SqliteOptions` asks otherwise; an
//! existing file keeps its permissions.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use persistent_core::storage::{ObjectWrite, Storage, TransactionData};
use persistent_core::Oid;
use persistent_sqlite::{SqliteOptions, SqliteStorage};
use persistent_testkit::TempDir;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn store_something(storage: &SqliteStorage) {
    let write = ObjectWrite::new(Oid(1), None, b"x".to_vec());
    storage.commit(&TransactionData { writes: vec![write], ..TransactionData::default() }).unwrap();
}

#[test]
fn new_files_are_private_to_their_owner() {
    let dir = TempDir::new("perm");
    let path = dir.join("private.db");
    let storage = SqliteStorage::open(&path).unwrap();
    store_something(&storage);
    for file in [path.clone(), dir.join("private.db-wal"), dir.join("private.db-shm")] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

#[test]
fn the_mode_of_new_files_can_be_chosen_and_existing_files_keep_theirs() {
    let dir = TempDir::new("perm");
    let path = dir.join("shared.db");
    let storage =
        SqliteStorage::open_with(&path, SqliteOptions::default().with_file_mode(0o640)).unwrap();
    store_something(&storage);
    assert_eq!(mode(&path), 0o640);
    assert_eq!(mode(&dir.join("shared.db-wal")), 0o640);
    drop(storage);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(SqliteStorage::open(&path).unwrap());
    assert_eq!(mode(&path), 0o644, "opening an existing file does not change it");
}
