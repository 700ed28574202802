//! Runs the storage conformance suite of persistent-core against `SqliteStorage`, each check
//! on a fresh database file.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use persistent_core::storage::{conformance, Storage};
use persistent_sqlite::SqliteStorage;

#[test]
fn sqlite_storage_passes_the_conformance_suite() {
    let dir = common::TempDir::new();
    let counter = AtomicUsize::new(0);
    let factory = || {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        let storage = SqliteStorage::open(dir.file(&format!("check-{n}.db"))).expect("open");
        Box::new(storage) as Box<dyn Storage>
    };
    conformance::run_all(&factory);
}

#[test]
fn sqlite_storage_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<SqliteStorage>();
}
