//! The thread's note of the most recently touched object: one word that lets a read of the
//! object that is already the most recently used member of its cache skip the cache.
//!
//! Rule kept: the note is 0 or the header address of an object that is, at this moment, the
//! tail (MRU end) of its cache's ring. Every change to the links of any ring clears it, and
//! only a touch that leaves its object at the tail sets it. An object cannot be freed while
//! it is in a ring, so a noted address never belongs to a freed or reused allocation.

use std::cell::Cell;

thread_local! {
    static LAST_TOUCHED: Cell<usize> = const { Cell::new(0) };
}

/// Whether the object with this header address is noted as its cache's MRU member.
#[inline]
pub(crate) fn is_noted(address: usize) -> bool {
    LAST_TOUCHED.with(|noted| noted.get() == address)
}

/// Notes the object with this header address as its cache's MRU member.
#[inline]
pub(crate) fn note(address: usize) {
    LAST_TOUCHED.with(|noted| noted.set(address));
}

/// Clears the note (a ring changed).
#[inline]
pub(crate) fn clear() {
    LAST_TOUCHED.with(|noted| noted.set(0));
}
