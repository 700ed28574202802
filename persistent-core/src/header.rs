//! `Header`: the persistence metadata every object carries (state, size, oid, serial, jar,
//! cache slot), and the touch that moves an object in its cache's ring, the one place where
//! an object calls into its cache. What does not live here: the protocol on top of it
//! (`object.rs`) and the cache itself (`cache/`).
//!
//! Layout: 32 bytes. The state, whether the object has an oid, and its estimated size
//! (24 bits of 64-byte units) share one 32-bit word (`StateWord`); the oid is a plain `u64`
//! beside it (an `Option<Oid>` would take 16 bytes), the slot key is 32 bits.

use std::cell::Cell;
use std::rc::Rc;

use crate::cache::{recent, CacheKey, CacheShared};
use crate::jar::Jar;
use crate::oid::Oid;
use crate::state::PState;
use crate::timestamp::TimeStamp;

/// Bits of `StateWord` holding the state.
const STATE_BITS: u32 = 0b11;
/// Bit of `StateWord` telling that the header's `oid` is set.
const HAS_OID: u32 = 0b100;
/// Where the size units start in `StateWord` (24 bits up to the top).
const SIZE_SHIFT: u32 = 8;

/// The object's state, packed in one word with two other header fields: whether the object
/// has an oid and its estimated size in 64-byte units. `get` and `set` read and write the
/// state only; the other bits are reached through `Header`'s methods.
pub(crate) struct StateWord(Cell<u32>);

impl StateWord {
    /// The state.
    #[inline]
    pub(crate) fn get(&self) -> PState {
        match self.0.get() & STATE_BITS {
            0 => PState::Ghost,
            1 => PState::UpToDate,
            2 => PState::Changed,
            _ => PState::Sticky,
        }
    }

    /// Sets the state, keeping the other bits.
    #[inline]
    pub(crate) fn set(&self, state: PState) {
        let code = match state {
            PState::Ghost => 0,
            PState::UpToDate => 1,
            PState::Changed => 2,
            PState::Sticky => 3,
        };
        self.0.set((self.0.get() & !STATE_BITS) | code);
    }
}

/// Persistence metadata of an object. Reading any of it never loads or touches the object.
#[doc(hidden)]
pub struct Header {
    /// The state as kept (`p_state()` reports `UpToDate` for objects without a jar), with
    /// the oid flag and the size units.
    pub(crate) state: StateWord,
    /// The object's slot in its jar's cache, while it is cached.
    pub(crate) cache_key: Cell<Option<CacheKey>>,
    /// The oid, meaningful only while `StateWord`'s oid bit is set (see `oid`).
    oid_value: Cell<u64>,
    pub(crate) serial: Cell<TimeStamp>,
    /// Read by `with_jar` (take, use, put back): a `Cell` has no borrow flag to check on
    /// the hot path. Nothing called while the jar is taken reads it.
    pub(crate) jar: Cell<Option<Jar>>,
}

impl Header {
    pub(crate) fn new(state: PState) -> Header {
        let header = Header {
            state: StateWord(Cell::new(0)),
            cache_key: Cell::new(None),
            oid_value: Cell::new(0),
            serial: Cell::new(TimeStamp::ZERO),
            jar: Cell::new(None),
        };
        header.state.set(state);
        header
    }

    /// The oid, if one was assigned.
    #[inline]
    pub(crate) fn oid(&self) -> Option<Oid> {
        (self.state.0.get() & HAS_OID != 0).then(|| Oid(self.oid_value.get()))
    }

    /// Sets or clears the oid.
    pub(crate) fn set_oid(&self, oid: Option<Oid>) {
        let word = self.state.0.get() & !HAS_OID;
        let (value, flag) = oid.map_or((0, 0), |oid| (oid.0, HAS_OID));
        self.oid_value.set(value);
        self.state.0.set(word | flag);
    }

    /// The estimated size in 64-byte units (0: never set).
    pub(crate) fn size_units(&self) -> u32 {
        self.state.0.get() >> SIZE_SHIFT
    }

    /// Sets the estimated size in 64-byte units (at most 24 bits: `size::size_to_units`).
    pub(crate) fn set_size_units(&self, units: u32) {
        debug_assert!(units < 1 << (32 - SIZE_SHIFT), "size units are 24 bits");
        let low = self.state.0.get() & ((1 << SIZE_SHIFT) - 1);
        self.state.0.set(low | (units << SIZE_SHIFT));
    }

    /// Runs `f` on the jar; `f` must not read or write this header's jar.
    #[inline]
    pub(crate) fn with_jar<R>(&self, f: impl FnOnce(Option<&Jar>) -> R) -> R {
        let jar = self.jar.take();
        let result = f(jar.as_ref());
        self.jar.set(jar);
        result
    }

    #[inline]
    pub(crate) fn has_jar(&self) -> bool {
        self.with_jar(|jar| jar.is_some())
    }

    #[allow(
        clippy::redundant_closure_for_method_calls,
        reason = "`Option::cloned` is ambiguous here (`Option<&T>` and `Option<&mut T>`)"
    )]
    pub(crate) fn jar(&self) -> Option<Jar> {
        self.with_jar(|jar| jar.cloned())
    }

    /// Replaces the jar, returning the old one.
    pub(crate) fn replace_jar(&self, jar: Option<Jar>) -> Option<Jar> {
        self.jar.replace(jar)
    }

    /// The cache this object sits in, with its slot.
    pub(crate) fn cache_link(&self) -> Option<(Rc<CacheShared>, CacheKey)> {
        let key = self.cache_key.get()?;
        let cache = self.with_jar(|jar| jar?.cache().cloned())?;
        Some((cache, key))
    }

    /// Whether the object is noted as its cache's MRU member (`cache::recent`). If so it
    /// is a loaded member of its ring (the note is cleared whenever a ring changes) and
    /// already at the MRU end: an access has nothing to do, not even the ghost check.
    #[inline]
    pub(crate) fn is_recent(&self) -> bool {
        recent::is_noted(self.address())
    }

    /// Moves the object to the most recently used end of its cache's ring.
    /// The fast path: the object noted as its cache's MRU member (see `cache::recent`)
    /// needs no visit to the cache at all (checked first: the one compare of a hot read).
    #[inline]
    pub(crate) fn touch(&self) {
        if !self.is_recent() {
            self.touch_not_recent();
        }
    }

    /// `touch` of an object that `is_recent` just reported as not noted.
    #[inline]
    pub(crate) fn touch_not_recent(&self) {
        if let Some(key) = self.cache_key.get() {
            self.touch_cached(key, self.address());
        }
    }

    #[inline]
    fn address(&self) -> usize {
        std::ptr::from_ref::<Header>(self) as usize
    }

    #[cold]
    #[inline(never)]
    fn touch_cached(&self, key: CacheKey, address: usize) {
        self.with_jar(|jar| {
            if let Some(cache) = jar.and_then(Jar::cache) {
                cache.touch(key, address);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Header>(), 32);
    }

    #[test]
    fn state_oid_and_size_are_kept_apart_in_the_packed_word() {
        let header = Header::new(PState::Ghost);
        assert_eq!(
            (header.state.get(), header.oid(), header.size_units()),
            (PState::Ghost, None, 0)
        );
        header.set_size_units(16_777_215);
        header.set_oid(Some(Oid(u64::MAX)));
        for state in [PState::UpToDate, PState::Changed, PState::Sticky, PState::Ghost] {
            header.state.set(state);
            assert_eq!(header.state.get(), state);
            assert_eq!(header.oid(), Some(Oid(u64::MAX)));
            assert_eq!(header.size_units(), 16_777_215);
        }
        header.set_oid(None);
        header.set_size_units(3);
        assert_eq!(
            (header.state.get(), header.oid(), header.size_units()),
            (PState::Ghost, None, 3)
        );
        header.set_oid(Some(Oid(0)));
        assert_eq!(header.oid(), Some(Oid(0)));
    }
}
