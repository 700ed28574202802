//! Runs the storage conformance suite of persistent-testkit against `SqliteStorage`, each check
//! on a fresh database file.

mod common;

use persistent_testkit::TempDir;
use std::sync::atomic::{AtomicUsize, Ordering};

use persistent_core::storage::Storage;
use persistent_sqlite::SqliteStorage;
use persistent_testkit::conformance;

#[test]
fn sqlite_storage_passes_the_conformance_suite() {
    let dir = TempDir::new("sqlite");
    let counter = AtomicUsize::new(0);
    let factory = || {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        let storage = SqliteStorage::open(dir.join(&format!("check-{n}.db"))).expect("open");
        Box::new(storage) as Box<dyn Storage>
    };
    conformance::run_all(&factory);
}

#[test]
fn sqlite_storage_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<SqliteStorage>();
}
