//! Runs the storage conformance suite of persistent-testkit against `MemoryStorage`, each
//! check on a fresh storage (SQLite runs it in `persistent-sqlite/tests/conformance.rs`).

use persistent::storage::{MemoryStorage, Storage};
use persistent_testkit::conformance;

#[test]
fn memory_storage_passes_the_conformance_suite() {
    conformance::run_all(&|| Box::new(MemoryStorage::new()) as Box<dyn Storage>);
}
