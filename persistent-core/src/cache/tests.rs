//! Unit tests of the borrowing rule of `cache` (module comment of `cache/mod.rs`): with the
//! table borrowed, which no user code can observe, an update is never skipped silently.

use std::cell::{Cell, RefCell};

use super::ring::Table;
use super::{CacheKey, CacheLimits, CacheShared};
use crate::oid::Oid;

fn shared() -> CacheShared {
    CacheShared {
        table: RefCell::new(Table::default()),
        limits: Cell::new(CacheLimits::default()),
        sweeping: Cell::new(false),
        dropped: RefCell::new(Vec::new()),
    }
}

#[test]
#[should_panic(expected = "cache table is borrowed")]
fn touch_with_the_table_borrowed_is_not_skipped() {
    let shared = shared();
    let _held = shared.table.borrow_mut();
    shared.touch(CacheKey::default(), 0);
}

#[test]
#[should_panic(expected = "cache table is borrowed")]
fn join_ring_with_the_table_borrowed_is_not_skipped() {
    let shared = shared();
    let _held = shared.table.borrow_mut();
    shared.join_ring(CacheKey::default(), 64);
}

#[test]
#[should_panic(expected = "cache table is borrowed")]
fn resize_with_the_table_borrowed_is_not_skipped() {
    let shared = shared();
    let _held = shared.table.borrow_mut();
    shared.resize(CacheKey::default(), 64);
}

#[test]
#[should_panic(expected = "cache table is borrowed")]
fn leave_ring_with_the_table_borrowed_is_not_skipped() {
    let shared = shared();
    let _held = shared.table.borrow_mut();
    drop(shared.leave_ring(CacheKey::default()));
}

#[test]
fn an_object_dropped_with_the_table_borrowed_is_forgotten_at_the_next_operation() {
    let shared = shared();
    {
        let _held = shared.table.borrow_mut();
        shared.forget_dropped(Oid(1), CacheKey::default());
    }
    assert_eq!(shared.dropped.borrow().len(), 1, "queued, not skipped");
    drop(shared.table());
    assert!(shared.dropped.borrow().is_empty(), "applied by the next operation");
}
