//! `Header`: the persistence metadata every object carries (state, size, oid, serial, jar,
//! cache slot), and the touch that moves an object in its cache's ring, the one place where
//! an object calls into its cache. What does not live here: the protocol on top of it
//! (`object.rs`) and the cache itself (`cache/`).

use std::cell::Cell;
use std::rc::Rc;

use crate::cache::{recent, CacheKey, CacheShared};
use crate::jar::Jar;
use crate::oid::Oid;
use crate::state::PState;
use crate::timestamp::TimeStamp;

/// Persistence metadata of an object. Reading any of it never loads or touches the object.
#[doc(hidden)]
pub struct Header {
    /// The state as kept; `p_state()` reports `UpToDate` for objects without a jar.
    pub(crate) state: Cell<PState>,
    pub(crate) size_units: Cell<u32>,
    pub(crate) oid: Cell<Option<Oid>>,
    pub(crate) serial: Cell<TimeStamp>,
    /// Read by `with_jar` (take, use, put back): a `Cell` has no borrow flag to check on
    /// the hot path. Nothing called while the jar is taken reads it.
    pub(crate) jar: Cell<Option<Jar>>,
    /// The object's slot in its jar's cache, while it is cached.
    pub(crate) cache_key: Cell<Option<CacheKey>>,
}

impl Header {
    pub(crate) fn new(state: PState) -> Header {
        Header {
            state: Cell::new(state),
            size_units: Cell::new(0),
            oid: Cell::new(None),
            serial: Cell::new(TimeStamp::ZERO),
            jar: Cell::new(None),
            cache_key: Cell::new(None),
        }
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

    /// Moves the object to the most recently used end of its cache's ring.
    /// The fast path: the object noted as its cache's MRU member (see `cache::recent`)
    /// needs no visit to the cache at all.
    #[inline]
    pub(crate) fn touch(&self) {
        if let Some(key) = self.cache_key.get() {
            let address = std::ptr::from_ref::<Header>(self) as usize;
            if !recent::is_noted(address) {
                self.touch_cached(key, address);
            }
        }
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
